"""An organiser of a round sees every conference of the round as an observer does, and acts in
none of them; the grant and its revocation are on each conference's record, and a revoked
organiser's screens close. tests/security/test_role_matrix.py checks every endpoint."""

import pytest
from channels.db import database_sync_to_async
from django.test import Client

from meetings.rooms.models import Audience, Event, Round, RoundGrant
from meetings.rooms.services.rounds import round_organiser_grant, round_organiser_revoke
from tests.factories import make_conference, make_round, make_user
from tests.questions.helpers import ask, open_conference, signed_in
from tests.realtime import open_socket
from tests.rooms.test_revocation import CLOSE_WAIT_SECONDS, Watched, taken_away

pytestmark = pytest.mark.django_db


@pytest.fixture
def round_of_two():
    round = make_round("dot-1")
    first = open_conference("dot-1-a", round=round)
    second = make_conference("dot-1-b", round=round)
    elsewhere = make_conference("khac")
    organiser = make_user("organiser", first_name="Hà", last_name="Thu")
    round_organiser_grant(round=round, user=organiser, actor=first.actor)
    return round, first, second, elsewhere, organiser


def test_the_organiser_sees_every_conference_of_the_round_as_an_observer(round_of_two):
    _round, first, second, elsewhere, organiser = round_of_two
    client = signed_in(organiser)
    for conference in (first, second):
        snapshot = client.get(f"/api/meetings/{conference.meeting.slug}/snapshot").json()
        assert snapshot["viewer"]["kind"] == "observer"
        assert snapshot["viewer"]["audience"] == Audience.STAFF
        assert snapshot["viewer"]["roles"] == ["organiser"]
        assert snapshot["viewer"]["can_moderate"] is False
        # What only staff see: the operators' contacts, the moderation queue.
        assert "hall_contacts" in snapshot["state"]
        observer = signed_in(conference.observer)
        observed = observer.get(f"/api/meetings/{conference.meeting.slug}/snapshot").json()
        assert snapshot["state"] == observed["state"]
    assert client.get(f"/api/meetings/{elsewhere.meeting.slug}/snapshot").status_code == 403


def test_the_organiser_acts_in_nothing(round_of_two):
    _round, first, _second, _elsewhere, organiser = round_of_two
    client = signed_in(organiser)
    question = ask(first, "Bao giờ làm đường?", device=1)
    slug = first.meeting.slug
    hall = first.halls[0]
    for path, body in (
        (f"/api/meetings/{slug}/questions/{question.pk}/approve", {}),
        (f"/api/meetings/{slug}/questions/{question.pk}/reject", {"reason": "unclear"}),
        (f"/api/meetings/{slug}/halls/{hall.pk}/floor/grant", {}),
        (f"/api/meetings/{slug}/agenda/default", {}),
        (f"/api/meetings/{slug}/questions/intake", {"open": False}),
        (f"/api/meetings/{slug}/status", {"status": "ended"}),
    ):
        response = client.post(path, body, content_type="application/json")
        assert response.status_code == 403, (path, response.status_code)
    question.refresh_from_db()
    assert question.status == "submitted"


def test_grant_and_revocation_are_on_each_conference_record(round_of_two):
    round, first, second, elsewhere, organiser = round_of_two

    def entries(conference, type):
        return list(
            Event.objects.filter(meeting=conference.meeting, type=type).values_list(
                "payload", flat=True
            )
        )

    for conference in (first, second):
        granted = [p for p in entries(conference, "role.granted") if p["role"] == "organiser"]
        assert [p["user"] for p in granted] == ["Hà Thu"]
    assert not [p for p in entries(elsewhere, "role.granted") if p["role"] == "organiser"]
    grant = RoundGrant.objects.get(round=round, user=organiser)
    round_organiser_revoke(grant=grant, actor=first.actor)
    for conference in (first, second):
        assert [p["role"] for p in entries(conference, "role.revoked")] == ["organiser"]
    client = signed_in(organiser)
    assert client.get(f"/api/meetings/{first.meeting.slug}/snapshot").status_code == 403


@pytest.mark.django_db(transaction=True)
async def test_a_revoked_organiser_screen_closes():
    round = await database_sync_to_async(make_round)("dot-1")
    conference = await database_sync_to_async(make_conference)("hn-test", round=round)
    organiser = await database_sync_to_async(make_user)("organiser")
    grant = await database_sync_to_async(round_organiser_grant)(
        round=round, user=organiser, actor=conference.actor
    )
    watched = await Watched.open(organiser)
    revoke = database_sync_to_async(round_organiser_revoke)(grant=grant, actor=conference.actor)
    assert await taken_away("organiser revoked", watched.socket, revoke) == 4403
    socket = await open_socket("hn-test", cookie_session=watched.session)
    assert await socket.closed_with(timeout=CLOSE_WAIT_SECONDS) == 4403


def test_the_organiser_has_the_round_s_conferences_on_its_list_and_their_screens(round_of_two):
    _round, first, second, elsewhere, organiser = round_of_two
    client = Client()
    client.force_login(organiser)
    listing = client.get("/meetings/")
    rows = {row["meeting"].slug: row for row in listing.context["rows"]}
    assert set(rows) == {first.meeting.slug, second.meeting.slug}
    for slug, row in rows.items():
        assert row["roles"] == "Người tổ chức của đợt"
        assert row["meeting"].halls == 4  # the studio and three halls, each counted once
        assert row["is_staff"]
        assert client.get(f"/meetings/{slug}/").status_code == 200
        assert client.get(f"/meetings/{slug}/queue/").status_code == 200
    hall = first.halls[0]
    assert client.get(f"/meetings/{first.meeting.slug}/halls/{hall.pk}/poster/").status_code == 403
    assert client.get(f"/meetings/{elsewhere.meeting.slug}/").status_code == 403


def test_the_admin_sets_a_round_up_and_grants_and_revokes_organisers_through_the_services():
    root = make_user("root", is_staff=True, is_superuser=True)
    admin = Client()
    admin.force_login(root)
    response = admin.post(
        "/admin/rooms/round/add/",
        {
            "slug": "dot-2",
            "title": "Tiếp xúc cử tri sau kỳ họp",
            "election": "HĐND huyện",
            "level": "district",
            "starts_on": "2026-07-01",
            "ends_on": "2026-06-30",
        },
    )
    assert response.status_code == 200  # ends before it starts: the form says so
    assert "Đợt tiếp xúc không thể kết thúc trước khi bắt đầu." in response.content.decode()
    response = admin.post(
        "/admin/rooms/round/add/",
        {
            "slug": "dot-2",
            "title": "Tiếp xúc cử tri sau kỳ họp",
            "election": "HĐND huyện",
            "level": "district",
            "starts_on": "2026-07-01",
            "ends_on": "2026-07-05",
        },
    )
    assert response.status_code == 302
    round = Round.objects.get(slug="dot-2")
    conference = make_conference("dot-2-a", round=round)
    organiser = make_user("organiser")
    response = admin.post("/admin/rooms/roundgrant/add/", {"round": round.pk, "user": organiser.pk})
    assert response.status_code == 302
    grant = RoundGrant.objects.get(round=round, user=organiser)
    granted = Event.objects.filter(meeting=conference.meeting, type="role.granted").last()
    assert granted.payload["role"] == "organiser" and granted.actor_label == "root"
    response = admin.post(f"/admin/rooms/roundgrant/{grant.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not RoundGrant.objects.exists()
    revoked = Event.objects.get(meeting=conference.meeting, type="role.revoked")
    assert revoked.payload == {"user": "organiser", "role": "organiser"}
