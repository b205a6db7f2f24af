"""The admin sets conferences up through the services: what it does is on the record."""

import pytest
from django.test import Client

from meetings.rooms.models import BridgePoint, Event, Meeting
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
