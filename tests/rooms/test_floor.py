"""Floor control: raised hands in order, one hall at a time, time limits, all on the record."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from meetings.rooms.errors import Conflict, Invalid
from meetings.rooms.models import Event, FloorRequest, JoinLinkKind, Programme
from meetings.rooms.services import floor
from meetings.rooms.services.meetings import meeting_transition
from tests.factories import make_conference

pytestmark = pytest.mark.django_db


def kiosk(conference, hall):
    return Client(headers=conference.kiosk_headers(hall))


def moderator(conference):
    client = Client()
    client.force_login(conference.chair)
    client.get("/meetings/")
    client.defaults["HTTP_X_CSRFTOKEN"] = client.cookies["csrftoken"].value
    return client


def post(client, path, body=None):
    return client.post(f"/api/meetings/hn-test/{path}", body or {}, content_type="application/json")


def test_hands_are_raised_in_order_and_the_floor_goes_to_one_hall_at_a_time():
    conference = make_conference()
    first, second, third = conference.halls
    for hall in (second, first):
        assert post(kiosk(conference, hall), f"halls/{hall.pk}/floor/request").status_code == 200
    assert list(FloorRequest.objects.values_list("hall_id", flat=True)) == [second.pk, first.pk]
    chair = moderator(conference)
    granted = post(chair, f"halls/{second.pk}/floor/grant", {"seconds": 120})
    assert granted.status_code == 200 and granted.json()["floor_hall_id"] == second.pk
    assert granted.json()["floor_until"] is not None
    assert not FloorRequest.objects.filter(hall=second).exists()  # its hand goes down
    # Giving it to another hall takes it from the first.
    post(chair, f"halls/{first.pk}/floor/grant")
    types = list(Event.objects.order_by("-seq").values_list("type", flat=True)[:2])
    assert types == ["floor.granted", "floor.revoked"]
    revoked = Event.objects.filter(type="floor.revoked").latest("seq")
    assert revoked.payload == {
        "hall": second.pk,
        "reason": "given_to_another_hall",
        "patch": revoked.payload["patch"],
    }
    assert post(chair, "floor/revoke").json()["floor_hall_id"] is None
    assert post(chair, "floor/revoke").status_code == 409
    assert third.pk not in FloorRequest.objects.values_list("hall_id", flat=True)


def test_only_a_halls_own_kiosk_raises_its_hand_and_only_moderators_grant():
    conference = make_conference()
    hall, other = conference.halls[0], conference.halls[1]
    assert post(kiosk(conference, other), f"halls/{hall.pk}/floor/request").status_code == 403
    assert post(kiosk(conference, hall), f"halls/{hall.pk}/floor/grant").status_code == 403
    voter = Client(headers={"X-Join-Link": conference.token(hall, JoinLinkKind.VOTER)})
    assert post(voter, f"halls/{hall.pk}/floor/request").status_code == 403
    assert not FloorRequest.objects.exists() and Programme.objects.get().floor_hall_id is None


def test_the_studio_never_asks_and_the_floor_needs_a_live_meeting():
    conference = make_conference(status="scheduled")
    with pytest.raises(Invalid):
        floor.floor_request(hall=conference.studio, actor=conference.actor)
    with pytest.raises(Conflict):
        floor.floor_grant(hall=conference.halls[0], actor=conference.actor)


def test_time_up_ends_only_the_grant_it_was_for():
    conference = make_conference()
    hall = conference.halls[0]
    floor.floor_grant(hall=hall, seconds=30, actor=conference.actor)
    assert floor.floor_time_up(meeting=conference.meeting, hall_id=hall.pk) is False  # not yet
    Programme.objects.update(floor_until=timezone.now() - timedelta(seconds=1))
    assert floor.floor_time_up(meeting=conference.meeting, hall_id=conference.halls[1].pk) is False
    assert floor.floor_time_up(meeting=conference.meeting, hall_id=hall.pk) is True
    event = Event.objects.filter(type="floor.revoked").latest("seq")
    assert event.payload["reason"] == "time_up" and event.actor_label == "floor timer"


def test_ending_the_meeting_takes_the_floor_and_lowers_every_hand():
    conference = make_conference()
    floor.floor_request(hall=conference.halls[1], actor=conference.actor)
    floor.floor_grant(hall=conference.halls[0], actor=conference.actor)
    meeting_transition(meeting=conference.meeting, to_status="ended", actor=conference.actor)
    assert Programme.objects.get().floor_hall_id is None
    assert not FloorRequest.objects.exists()


def test_layout_and_tier_pins():
    conference = make_conference()
    chair = moderator(conference)
    assert (
        post(chair, "programme/layout", {"layout": "side_by_side"}).json()["layout"]
        == "side_by_side"
    )
    assert post(chair, "programme/layout", {"layout": "mosaic"}).status_code == 422
    hall = conference.halls[2]
    assert post(chair, f"halls/{hall.pk}/tier", {"tier": "audio"}).json()["tier"] == "audio"
    assert Event.objects.filter(type="hall.tier_pinned").latest("seq").audience == "staff"
    assert post(chair, f"halls/{hall.pk}/tier", {"tier": None}).json()["tier"] is None
    assert (
        post(kiosk(conference, hall), f"halls/{hall.pk}/tier", {"tier": "high"}).status_code == 403
    )


def test_ice_servers_for_screens_with_time_limited_turn_credentials(settings):
    settings.ICE_SERVERS = [{"urls": "turn:turn.example.vn:3478"}, {"urls": "stun:stun.example.vn"}]
    settings.TURN_SECRET = "s3cret"
    conference = make_conference()
    servers = kiosk(conference, conference.halls[0]).get("/api/meetings/hn-test/media/ice").json()
    turn, stun = servers["ice_servers"]
    expiry, _colon, who = turn["username"].partition(":")
    assert int(expiry) > timezone.now().timestamp() and who.startswith("operator")
    assert turn["credential"] and "s3cret" not in str(servers)
    assert "username" not in stun
    voter = Client(
        headers={"X-Join-Link": conference.token(conference.halls[0], JoinLinkKind.VOTER)}
    )
    assert voter.get("/api/meetings/hn-test/media/ice").status_code == 403
