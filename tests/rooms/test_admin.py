"""The admin sets conferences up through the services: what it does is on the record."""

import pytest
from django.test import Client

from meetings.rooms.models import BridgePoint, Event, Meeting, RoleGrant
from tests.factories import make_conference, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client():
    client = Client()
    client.force_login(make_user("root", is_staff=True, is_superuser=True))
    return client


def test_admin_pages_are_in_vietnamese(admin_client):
    make_conference()
    for path in (
        "/admin/",
        "/admin/rooms/meeting/",
        "/admin/rooms/meeting/add/",
        "/admin/rooms/bridgepoint/",
        "/admin/rooms/event/",
    ):
        response = admin_client.get(path)
        assert response.status_code == 200, path
        assert '<html lang="vi"' in response.content.decode(), path
    add_form = admin_client.get("/admin/rooms/meeting/add/").content.decode()
    assert "tên điểm cầu trung tâm" in add_form.lower()


def test_creating_a_meeting_in_the_admin_goes_through_the_service(admin_client):
    response = admin_client.post(
        "/admin/rooms/meeting/add/",
        {
            "title": "Hội nghị phường Hòa Bình",
            "electoral_unit": "Đơn vị bầu cử số 7",
            "scheduled_start_0": "2026-12-01",
            "scheduled_start_1": "08:00:00",
            "presentation_minutes": "12",
            "slug": "hoa-binh",
            "studio_name": "Hội trường UBND phường",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    meeting = Meeting.objects.get(slug="hoa-binh")
    assert BridgePoint.objects.get(meeting=meeting, is_studio=True).name == "Hội trường UBND phường"
    types = list(Event.objects.filter(meeting=meeting).values_list("type", flat=True))
    assert types == ["meeting.created", "hall.added", "topics.created"]
    assert Event.objects.filter(meeting=meeting).first().actor.username == "root"


def test_record_entries_cannot_be_changed_or_deleted_in_the_admin(admin_client):
    conference = make_conference()
    event = Event.objects.filter(meeting=conference.meeting).first()
    page = admin_client.get(f"/admin/rooms/event/{event.pk}/change/")
    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()
    assert admin_client.post(f"/admin/rooms/event/{event.pk}/delete/").status_code == 403
    assert admin_client.get("/admin/rooms/meeting/1/delete/").status_code == 403


def test_setting_attendance_in_the_admin_is_on_the_record(admin_client):
    conference = make_conference()
    hall = conference.halls[0]
    response = admin_client.post(
        f"/admin/rooms/bridgepoint/{hall.pk}/change/",
        {
            "name": hall.name,
            "address": "Số 1",
            "operator_name": "",
            "operator_phone": "",
            "attendance": "88",
        },
    )
    assert response.status_code == 302
    types = list(
        Event.objects.filter(meeting=conference.meeting)
        .order_by("-seq")
        .values_list("type", flat=True)[:2]
    )
    assert set(types) == {"hall.updated", "hall.attendance_set"}


def grant_form(conference, user, role: str, **extra) -> dict:
    return {"meeting": conference.meeting.pk, "user": user.pk, "role": role, **extra}


def grants_on_record(meeting) -> list[dict]:
    return list(
        Event.objects.filter(meeting=meeting, type="role.granted")
        .order_by("seq")
        .values_list("payload", flat=True)
    )


def test_granting_a_role_in_the_admin_is_on_the_record(admin_client):
    conference = make_conference()
    newcomer = make_user("thu_ky_moi", first_name="Phạm Thị", last_name="Lan")
    before = len(grants_on_record(conference.meeting))
    page = admin_client.get("/admin/rooms/rolegrant/add/")
    assert page.status_code == 200
    # The form's account picker searches the accounts as one types.
    found = admin_client.get(
        "/admin/autocomplete/",
        {"app_label": "rooms", "model_name": "rolegrant", "field_name": "user", "term": "thu_ky"},
    )
    assert [row["text"] for row in found.json()["results"]] == ["thu_ky_moi"]
    response = admin_client.post(
        "/admin/rooms/rolegrant/add/", grant_form(conference, newcomer, "secretary")
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    grant = RoleGrant.objects.get(meeting=conference.meeting, user=newcomer)
    assert grant.role == "secretary"
    granted = grants_on_record(conference.meeting)
    assert len(granted) == before + 1
    assert granted[-1]["role"] == "secretary" and granted[-1]["user"] == "Phạm Thị Lan"
    assert admin_client.get("/meetings/").status_code == 200


def test_the_admin_grants_an_operator_its_hall_and_a_candidate_account_its_candidate(
    admin_client,
):
    conference = make_conference()
    operator, candidate = make_user("van_hanh"), make_user("ung_cu_vien")
    hall, person = conference.halls[1], conference.candidates[0]
    for user, role, extra in (
        (operator, "bridge_operator", {"hall": hall.pk}),
        (candidate, "candidate", {"candidate": person.pk}),
    ):
        response = admin_client.post(
            "/admin/rooms/rolegrant/add/",
            grant_form(conference, user, role, **extra, _addanother="1"),
        )
        assert response.status_code == 302, response.content.decode()[:2000]
        assert response["Location"].endswith("/admin/rooms/rolegrant/add/")
    assert RoleGrant.objects.get(user=operator).hall == hall
    assert RoleGrant.objects.get(user=candidate).candidate == person
    granted = grants_on_record(conference.meeting)[-2:]
    assert [(g["role"], g["hall"], g["candidate"]) for g in granted] == [
        ("bridge_operator", hall.pk, None),
        ("candidate", None, person.pk),
    ]


def test_revoking_a_role_in_the_admin_is_on_the_record(admin_client):
    conference = make_conference()
    grant = RoleGrant.objects.get(meeting=conference.meeting, user=conference.secretary)
    response = admin_client.post(f"/admin/rooms/rolegrant/{grant.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not RoleGrant.objects.filter(pk=grant.pk).exists()
    revoked = Event.objects.filter(meeting=conference.meeting, type="role.revoked").get()
    assert revoked.payload["role"] == "secretary"


def test_a_grant_the_rules_refuse_shows_why_on_the_form(admin_client):
    conference = make_conference()
    other = make_conference("hn-other")
    user = make_user("nguoi_moi")
    count = RoleGrant.objects.count()
    admin_client.cookies["django_language"] = "en"
    # An operator without a hall: the form says so, with what was entered kept.
    response = admin_client.post(
        "/admin/rooms/rolegrant/add/", grant_form(conference, user, "bridge_operator")
    )
    assert response.status_code == 200
    assert "names exactly one hall" in response.content.decode()
    # A hall of another conference: refused by the service, said on the page.
    response = admin_client.post(
        "/admin/rooms/rolegrant/add/",
        grant_form(conference, user, "bridge_operator", hall=other.halls[0].pk),
        follow=True,
    )
    assert response.status_code == 200
    assert "That hall belongs to another conference." in response.content.decode()
    # The same role twice.
    response = admin_client.post(
        "/admin/rooms/rolegrant/add/",
        grant_form(conference, conference.secretary, "secretary"),
        follow=True,
    )
    assert response.status_code == 200
    assert "already" in response.content.decode()
    # A role that does not exist.
    response = admin_client.post(
        "/admin/rooms/rolegrant/add/", grant_form(conference, user, "president")
    )
    assert response.status_code == 200
    assert "errorlist" in response.content.decode()
    assert RoleGrant.objects.count() == count


def test_a_hall_s_commune_and_district_are_set_in_the_admin_and_on_the_record(admin_client):
    conference = make_conference()
    response = admin_client.post(
        "/admin/rooms/bridgepoint/add/",
        {
            "meeting": conference.meeting.pk,
            "name": "Nhà văn hóa thôn Bản Vược",
            "address": "",
            "commune": "Xã Bản Vược",
            "district": "Huyện Bát Xát",
            "operator_name": "",
            "operator_phone": "",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    hall = BridgePoint.objects.get(name="Nhà văn hóa thôn Bản Vược")
    assert (hall.commune, hall.district) == ("Xã Bản Vược", "Huyện Bát Xát")
    added = Event.objects.filter(meeting=conference.meeting, type="hall.added").last()
    value = added.payload["patch"][0]["value"]
    assert (value["commune"], value["district"]) == ("Xã Bản Vược", "Huyện Bát Xát")
