"""The JSON API: who may read and do what, and how refusals look."""

import pytest
from django.test import Client

from meetings.rooms.models import Event, JoinLinkKind, MeetingStatus
from meetings.rooms.services import agenda
from tests.factories import make_conference, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def conference():
    return make_conference(status=MeetingStatus.LIVE)


def signed_in(user) -> Client:
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    client.get("/meetings/")  # any page with a form sets the CSRF cookie
    return client


def post(client: Client, path: str, body: dict | None = None, **headers):
    token = client.cookies["csrftoken"].value if "csrftoken" in client.cookies else ""
    return client.post(
        path, body or {}, content_type="application/json", headers={"X-CSRFToken": token, **headers}
    )


def test_snapshot_is_shaped_by_the_caller(conference):
    from meetings.rooms.services import join_links

    join_links.join_link_rotate(
        hall=conference.halls[2], kind=JoinLinkKind.OPERATOR, actor=conference.actor
    )  # a staff-only event last
    staff = signed_in(conference.chair).get("/api/meetings/hn-test/snapshot").json()
    assert staff["viewer"]["kind"] == "moderator"
    assert "presence" in staff["state"]
    voter_link = conference.token(conference.halls[0], JoinLinkKind.VOTER)
    voter = Client().get("/api/meetings/hn-test/snapshot", headers={"X-Join-Link": voter_link})
    assert voter.status_code == 200
    assert voter.json()["viewer"]["kind"] == "voter"
    assert "presence" not in voter.json()["state"]
    # The voter's stream position is its newest visible event, before the staff-only one.
    assert voter.json()["seq"] == staff["seq"] - 1


def test_events_endpoint_filters_by_audience_and_pages(conference):
    chair = signed_in(conference.chair)
    everything = chair.get("/api/meetings/hn-test/events?limit=500").json()
    assert {e["audience"] for e in everything["events"]} >= {"public", "staff"}
    voter_link = conference.token(conference.halls[0], JoinLinkKind.VOTER)
    public = Client().get(
        "/api/meetings/hn-test/events?limit=500", headers={"X-Join-Link": voter_link}
    )
    assert {e["audience"] for e in public.json()["events"]} == {"public"}
    page = chair.get("/api/meetings/hn-test/events?limit=3").json()
    assert [e["seq"] for e in page["events"]] == [1, 2, 3] and page["more"] is True
    newest = chair.get("/api/meetings/hn-test/events?limit=2&newest=true").json()
    assert [e["seq"] for e in newest["events"]] == [e["seq"] for e in everything["events"][-2:]]


def test_unknown_meeting_is_404_and_anonymous_is_401(conference):
    chair = signed_in(conference.chair)
    response = chair.get("/api/meetings/nope/snapshot")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert Client().get("/api/meetings/hn-test/snapshot").status_code == 401
    # An unknown address is 404 whatever the credentials: a good link, a bad one, no role.
    good = conference.token(conference.halls[0], JoinLinkKind.VOTER)
    for link in (good, "garbage"):
        by_link = Client().get("/api/meetings/nope/snapshot", headers={"X-Join-Link": link})
        assert by_link.status_code == 404 and by_link.json()["code"] == "not_found"
    stranger = signed_in(make_user("stranger"))
    assert stranger.get("/api/meetings/nope/snapshot").status_code == 404
    assert stranger.get("/api/meetings/hn-test/snapshot").status_code == 403


def test_foreign_rotated_or_garbage_links_are_403_and_change_nothing(conference):
    other = make_conference("hn-other")
    foreign = other.token(other.halls[0], JoinLinkKind.OPERATOR)
    before = Event.objects.count()
    for link in (foreign, "garbage"):
        response = Client().post(
            f"/api/meetings/hn-test/halls/{conference.halls[0].pk}/attendance",
            {"count": 5},
            content_type="application/json",
            headers={"X-Join-Link": link},
        )
        assert response.status_code == 403
        assert response.json()["code"] == "forbidden"
    assert Event.objects.count() == before


def test_kiosk_sets_its_own_hall_attendance_but_not_another_halls(conference):
    kiosk = Client(headers=conference.kiosk_headers(conference.halls[0]))
    own = kiosk.post(
        f"/api/meetings/hn-test/halls/{conference.halls[0].pk}/attendance",
        {"count": 77},
        content_type="application/json",
    )
    assert own.status_code == 200 and own.json()["attendance"] == 77
    other = kiosk.post(
        f"/api/meetings/hn-test/halls/{conference.halls[1].pk}/attendance",
        {"count": 77},
        content_type="application/json",
    )
    assert other.status_code == 403
    event = Event.objects.filter(type="hall.attendance_set").latest("seq")
    assert event.actor_kind == "operator_link"


@pytest.mark.parametrize("count", [-1, 100_001, "12", 1.5, None])
def test_bad_attendance_is_refused_and_changes_nothing(conference, count):
    chair = signed_in(conference.chair)
    before = Event.objects.count()
    response = post(
        chair, f"/api/meetings/hn-test/halls/{conference.halls[0].pk}/attendance", {"count": count}
    )
    assert response.status_code == 422
    assert Event.objects.count() == before


def test_voters_cannot_set_attendance(conference):
    voter_link = conference.token(conference.halls[0], JoinLinkKind.VOTER)
    response = Client().post(
        f"/api/meetings/hn-test/halls/{conference.halls[0].pk}/attendance",
        {"count": 3},
        content_type="application/json",
        headers={"X-Join-Link": voter_link},
    )
    assert response.status_code == 403


def test_session_calls_need_the_csrf_token(conference):
    chair = signed_in(conference.chair)
    response = chair.post(
        "/api/meetings/hn-test/status", {"status": "ended"}, content_type="application/json"
    )
    assert response.status_code == 403
    conference.refresh()
    assert conference.meeting.status == MeetingStatus.LIVE


def test_only_the_chair_changes_the_status(conference):
    secretary = signed_in(conference.secretary)
    assert post(secretary, "/api/meetings/hn-test/status", {"status": "ended"}).status_code == 403
    chair = signed_in(conference.chair)
    response = post(chair, "/api/meetings/hn-test/status", {"status": "ended"})
    assert response.status_code == 200 and response.json()["status"] == "ended"


def test_a_forbidden_transition_is_a_conflict_with_the_current_state(conference):
    chair = signed_in(conference.chair)
    response = post(chair, "/api/meetings/hn-test/status", {"status": "draft"})
    assert response.status_code == 409
    assert response.json()["detail"] == {"status": "live"}


def test_moderators_run_the_agenda_and_others_cannot(conference):
    items = agenda.agenda_build_default(meeting=conference.meeting, actor=conference.actor)
    observer = signed_in(conference.observer)
    path = f"/api/meetings/hn-test/agenda/{items[0].pk}/start"
    assert post(observer, path).status_code == 403
    secretary = signed_in(conference.secretary)
    started = post(secretary, path)
    assert started.status_code == 200 and started.json()["started_at"]
    again = post(secretary, path)
    assert again.status_code == 409


def test_rotating_a_link_returns_the_new_links_and_the_old_one_stops(conference):
    hall = conference.halls[0]
    old = conference.token(hall, JoinLinkKind.VOTER)
    chair = signed_in(conference.chair)
    response = post(chair, f"/api/meetings/hn-test/halls/{hall.pk}/links/voter/rotate")
    assert response.status_code == 200
    assert old not in response.json()["voter_url"]
    assert Client().get(f"/v/{old}/").status_code == 403
    new_path = response.json()["voter_url"].split("testserver", 1)[1]
    assert Client().get(new_path).status_code == 200


def test_account_without_a_grant_is_403(conference):
    stranger = signed_in(make_user("stranger"))
    assert stranger.get("/api/meetings/hn-test/snapshot").status_code == 403


def test_openapi_document_lists_the_endpoints():
    document = Client().get("/api/openapi.json").json()
    assert "/api/meetings/{slug}/snapshot" in document["paths"]
    assert "/api/meetings/{slug}/halls/{hall_id}/attendance" in document["paths"]


def test_the_whole_chain_can_be_checked_from_the_record_endpoint_without_private_payloads(
    conference,
):
    """A voter gets every entry, staff payloads replaced by their digest, and can recompute
    every hash with the standard library alone (the snippet in docs/record.md)."""
    import hashlib
    import hmac
    import json

    def canonical(value):
        return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)

    voter_link = conference.token(conference.halls[0], JoinLinkKind.VOTER)
    body = Client().get("/api/meetings/hn-test/record", headers={"X-Join-Link": voter_link}).json()
    entries = body["entries"]
    assert any(e["payload"] is None for e in entries)  # staff entries stay private
    assert all(e["payload"] is not None for e in entries if e["audience"] == "public")
    assert all(e["payload_salt"] is None for e in entries if e["payload"] is None)
    prev = "0" * 64
    for entry in entries:
        assert entry["format"] == 2 and entry["payload_sha256"] is None
        if entry["payload"] is not None:
            assert (
                hmac.new(
                    bytes.fromhex(entry["payload_salt"]),
                    canonical(entry["payload"]).encode(),
                    hashlib.sha256,
                ).hexdigest()
                == entry["payload_commitment"]
            )
        digest = hashlib.sha256(
            canonical(
                {
                    "actor": {
                        "id": entry["actor_id"],
                        "kind": entry["actor_kind"],
                        "label": entry["actor"],
                    },
                    "audience": entry["audience"],
                    "created": entry["created"],
                    "format": 2,
                    "meeting": "hn-test",
                    "payload_commitment": entry["payload_commitment"],
                    "prev": prev,
                    "seq": entry["seq"],
                    "type": entry["type"],
                }
            ).encode()
        ).hexdigest()
        assert entry["prev_hash"] == prev and entry["hash"] == digest
        prev = digest
    assert (body["head_seq"], body["head_hash"]) == (entries[-1]["seq"], prev)
