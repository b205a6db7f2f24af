"""One screen holds a hall (issue 11): a hall's operator link admits one kiosk session at a time.

The attack: a stranger with a hall's operator link (typed on a hall PC in front of people)
opened it on another device and, unnoticed, entered paper questions while phone intake was
closed, set the hall's attendance to 99,999, raised its hand, and (over the websocket) replaced
its picture and was mixed into the programme. Here every screen claims its hall the way the
kiosk page does, over the API, and only the screen that holds the hall acts for it."""

import uuid
from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.test import Client
from django.utils import timezone

from meetings.questions.models import Question
from meetings.rooms.models import (
    BridgePoint,
    Event,
    FloorRequest,
    JoinLinkKind,
    KioskSession,
)
from meetings.rooms.services import join_links, kiosk_sessions
from meetings.rooms.services.meetings import meeting_set_questions_open
from tests.factories import make_conference, make_user

pytestmark = pytest.mark.django_db

SLUG = "hn-test"
API = f"/api/meetings/{SLUG}"


@pytest.fixture
def conference():
    return make_conference()


def screen(conference, hall, *, agent: str = "Mozilla/5.0 (Windows NT 10.0) Chrome/131.0"):
    """A browser that opened the hall's operator link: the kiosk page claims its session
    first, then sends the session's token with every call."""
    link = conference.token(hall, JoinLinkKind.OPERATOR)
    client = Client(headers={"X-Join-Link": link, "User-Agent": agent})
    answer = client.post(f"{API}/kiosk/session", {}, content_type="application/json")
    body = (
        answer.json()
        if answer.headers.get("content-type", "").startswith("application/json")
        else {}
    )
    client.claim = body
    token = body.get("token")
    if token:
        client.defaults["HTTP_X_KIOSK_SESSION"] = token
    return client


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    client.get("/meetings/")
    client.defaults["HTTP_X_CSRFTOKEN"] = client.cookies["csrftoken"].value
    return client


def post(client, path, body=None):
    return client.post(f"{API}{path}", body or {}, content_type="application/json")


def paper_question(client, text="Phiếu giấy: đường liên xã bao giờ làm?"):
    return post(client, "/questions", {"client_id": str(uuid.uuid4()), "text": text})


# --- the attack ---------------------------------------------------------------------------------


def test_a_second_screen_with_the_operator_link_cannot_act_for_the_hall(conference):
    hall = conference.halls[0]
    hall_screen = screen(conference, hall)
    stranger = screen(conference, hall, agent="Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0")
    meeting_set_questions_open(meeting=conference.meeting, open=False, actor=conference.actor)
    before = Event.objects.count()

    refusals = {
        "paper question": paper_question(stranger),
        "attendance": post(stranger, f"/halls/{hall.pk}/attendance", {"count": 99_999}),
        "hand raised": post(stranger, f"/halls/{hall.pk}/floor/request"),
        "media": stranger.get(f"{API}/media/ice"),
    }
    for what, answer in refusals.items():
        assert answer.status_code == 403, (what, answer.status_code, answer.content[:200])
        assert answer.json()["code"] == "hall_held_elsewhere", what
    # Nothing of it happened: no question, no attendance, no hand, nothing on the record.
    assert not Question.objects.exists()
    assert BridgePoint.objects.get(pk=hall.pk).attendance is None
    assert not FloorRequest.objects.exists()
    assert Event.objects.count() == before

    # The hall's own screen does all of it (paper questions even with phone intake closed).
    assert paper_question(hall_screen).status_code == 201
    assert post(hall_screen, f"/halls/{hall.pk}/attendance", {"count": 57}).status_code == 200
    assert post(hall_screen, f"/halls/{hall.pk}/floor/request").status_code == 200
    assert post(stranger, f"/halls/{hall.pk}/floor/withdraw").status_code == 403
    assert FloorRequest.objects.filter(hall=hall).exists()
    assert hall_screen.get(f"{API}/media/ice").status_code == 200


def test_the_link_alone_without_a_session_acts_for_nobody(conference):
    hall = conference.halls[0]
    screen(conference, hall)  # the hall's screen holds it
    bare = Client(headers={"X-Join-Link": conference.token(hall, JoinLinkKind.OPERATOR)})
    forged = Client(
        headers={
            "X-Join-Link": conference.token(hall, JoinLinkKind.OPERATOR),
            "X-Kiosk-Session": "made-up",
        }
    )
    for client in (bare, forged):
        answer = post(client, f"/halls/{hall.pk}/attendance", {"count": 99_999})
        assert answer.status_code == 403 and answer.json()["code"] == "hall_held_elsewhere"
    # Reading stays open to the link: the snapshot, the record.
    assert bare.get(f"{API}/snapshot").status_code == 200


# --- holding, resuming, asking ------------------------------------------------------------------


def test_the_first_screen_holds_the_same_device_resumes_and_another_asks(conference):
    hall = conference.halls[0]
    first = screen(conference, hall)
    assert first.claim["session"]["state"] == "holding" and first.claim["token"]
    # The same device again (a reload, a reboot with its storage kept): the same session.
    again = post(first, "/kiosk/session")
    assert again.status_code == 200
    assert again.json()["session"]["id"] == first.claim["session"]["id"]
    assert again.json()["token"] is None  # the token is given once
    assert again.json()["session"]["state"] == "holding"

    second = screen(conference, hall, agent="Mozilla/5.0 (Linux; Android 14) Chrome/130.0")
    assert second.claim["session"]["state"] == "asking"
    own = second.get(f"{API}/kiosk/session")
    assert own.status_code == 200 and own.json()["state"] == "asking"
    assert "token" not in own.json()

    # Staff see both, with device, address and since when; the record has both starts.
    snapshot = signed_in(conference.chair).get(f"{API}/snapshot").json()["state"]
    sessions = {s["id"]: s for s in snapshot["kiosk_sessions"].values()}
    assert sessions[first.claim["session"]["id"]]["state"] == "holding"
    asking = sessions[second.claim["session"]["id"]]
    assert asking["state"] == "asking" and "Android" in asking["device"]
    assert asking["address"] == "127.0.0.1" and asking["since"]
    started = Event.objects.filter(type="kiosk.session_started").order_by("seq")
    assert [(e.audience, e.payload["state"]) for e in started] == [
        ("staff", "holding"),
        ("staff", "asking"),
    ]
    # Only the digest of a token is kept.
    assert not KioskSession.objects.filter(token_hash=first.claim["token"]).exists()


def test_the_database_refuses_a_second_holding_session_for_a_hall(conference):
    hall = conference.halls[0]
    screen(conference, hall)
    now = timezone.now()
    with pytest.raises(IntegrityError), transaction.atomic():
        KioskSession.objects.create(
            hall=hall,
            token_hash="0" * 64,
            state="holding",
            created_at=now,
            since=now,
            last_seen_at=now,
        )


def test_too_many_screens_asking_for_one_hall_are_refused(conference):
    hall = conference.halls[0]
    screen(conference, hall)
    for _n in range(kiosk_sessions.MAX_ASKING_PER_HALL):
        assert screen(conference, hall).claim["session"]["state"] == "asking"
    flood = screen(conference, hall)
    assert flood.claim["code"] == "rate_limited"
    assert KioskSession.objects.filter(state="asking").count() == kiosk_sessions.MAX_ASKING_PER_HALL


# --- the studio decides -------------------------------------------------------------------------


def test_a_moderator_lets_a_screen_take_over_and_the_old_one_ends(conference):
    hall = conference.halls[0]
    old = screen(conference, hall)
    new = screen(conference, hall)
    new_id, old_id = new.claim["session"]["id"], old.claim["session"]["id"]
    allowed = post(signed_in(conference.secretary), f"/kiosk-sessions/{new_id}/allow")
    assert allowed.status_code == 200 and allowed.json()["state"] == "holding"

    assert new.get(f"{API}/kiosk/session").json()["state"] == "holding"
    ended = old.get(f"{API}/kiosk/session").json()
    assert (ended["state"], ended["end_reason"]) == ("ended", "taken_over")
    assert post(new, f"/halls/{hall.pk}/attendance", {"count": 40}).status_code == 200
    refused = post(old, f"/halls/{hall.pk}/attendance", {"count": 41})
    assert refused.status_code == 403 and refused.json()["code"] == "hall_held_elsewhere"

    event = Event.objects.get(type="kiosk.takeover_allowed")
    assert event.audience == "staff"
    assert (event.payload["session"], event.payload["replaced"]) == (new_id, old_id)
    assert event.actor_id == conference.secretary.pk
    ended_row = KioskSession.objects.get(pk=old_id)
    assert ended_row.ended_by == conference.secretary and ended_row.ended_at is not None
    # Allowing twice is a conflict, not a second takeover.
    again = post(signed_in(conference.chair), f"/kiosk-sessions/{new_id}/allow")
    assert again.status_code == 409


def test_only_moderators_allow_or_end(conference):
    hall = conference.halls[0]
    holder = screen(conference, hall)
    asking = screen(conference, hall)
    asking_id = asking.claim["session"]["id"]
    operator_account = signed_in(conference.operator_user)
    callers = [
        holder,
        asking,
        operator_account,
        signed_in(conference.observer),
        signed_in(conference.candidate_user),
    ]
    for client in callers:
        for action in ("allow", "end"):
            answer = post(client, f"/kiosk-sessions/{asking_id}/{action}")
            assert answer.status_code == 403, (action, answer.content[:200])
    assert KioskSession.objects.get(pk=asking_id).state == "asking"
    assert not Event.objects.filter(type__in=["kiosk.takeover_allowed", "kiosk.session_ended"])


def test_a_session_of_another_conference_is_not_found(conference):
    other = make_conference("hn-other")
    foreign = screen(other, other.halls[0])
    # (its claim went to hn-test's API with hn-other's link: refused)
    assert foreign.claim["code"] == "forbidden"
    session = kiosk_sessions.kiosk_session_claim(
        hall=other.halls[0], token=None, user_agent="x", address=""
    ).session
    answer = post(signed_in(conference.chair), f"/kiosk-sessions/{session.pk}/end")
    assert answer.status_code == 404


def test_ending_a_holder_frees_the_hall_and_refusing_an_asker_is_on_the_record(conference):
    hall = conference.halls[0]
    holder = screen(conference, hall)
    asking = screen(conference, hall)
    chair = signed_in(conference.chair)
    refused = post(chair, f"/kiosk-sessions/{asking.claim['session']['id']}/end")
    assert refused.status_code == 200 and refused.json()["end_reason"] == "refused"
    ended = post(chair, f"/kiosk-sessions/{holder.claim['session']['id']}/end")
    assert ended.json()["end_reason"] == "ended_by_staff"
    reasons = [
        (e.audience, e.payload["was"], e.payload["reason"])
        for e in Event.objects.filter(type="kiosk.session_ended").order_by("seq")
    ]
    assert reasons == [("staff", "asking", "refused"), ("staff", "holding", "ended_by_staff")]
    snapshot = chair.get(f"{API}/snapshot").json()["state"]
    assert snapshot["kiosk_sessions"] == {}

    # The studio's decision holds: those devices ask again rather than take the free hall...
    for client in (holder, asking):
        again = post(client, "/kiosk/session")
        assert again.status_code == 201 and again.json()["session"]["state"] == "asking"
    # ... while a new device takes a hall nobody holds or asks for.
    assert screen(conference, conference.halls[1]).claim["session"]["state"] == "holding"


def test_rotating_the_operator_link_ends_every_session_of_the_hall(conference):
    hall = conference.halls[0]
    screen(conference, hall)
    screen(conference, hall)
    join_links.join_link_rotate(hall=hall, kind=JoinLinkKind.OPERATOR, actor=conference.actor)
    assert set(KioskSession.objects.values_list("state", "end_reason")) == {
        ("ended", "link_rotated")
    }
    # The first screen on the new link holds the hall.
    assert screen(conference, hall).claim["session"]["state"] == "holding"


def test_screens_that_stop_asking_are_ended(conference, settings):
    hall = conference.halls[0]
    screen(conference, hall)
    asking = screen(conference, hall)
    asking_id = asking.claim["session"]["id"]
    assert kiosk_sessions.kiosk_sessions_reap(meeting=conference.meeting) == 0
    KioskSession.objects.filter(pk=asking_id).update(
        last_seen_at=timezone.now()
        - 3 * timedelta(seconds=settings.HEARTBEAT_SECONDS)
        - timedelta(seconds=1)
    )
    assert kiosk_sessions.kiosk_sessions_reap(meeting=conference.meeting) == 1
    assert KioskSession.objects.get(pk=asking_id).end_reason == "gone"
    assert Event.objects.filter(type="kiosk.session_ended", payload__reason="gone").exists()


# --- those who act for a hall without a screen --------------------------------------------------


def test_moderators_and_the_halls_operator_account_act_for_the_hall_without_a_screen(conference):
    hall = conference.halls[0]
    screen(conference, hall)
    screen(conference, hall)  # asking: changes nothing for them
    chair = signed_in(conference.chair)
    assert post(chair, f"/halls/{hall.pk}/attendance", {"count": 12}).status_code == 200
    assert post(chair, f"/halls/{hall.pk}/floor/request").status_code == 200
    # A bridge-point operator's account is a named person, on the record by name.
    operator = signed_in(conference.operator_user)
    assert post(operator, f"/halls/{hall.pk}/attendance", {"count": 13}).status_code == 200
    assert post(operator, f"/halls/{hall.pk}/floor/withdraw").status_code == 200
    assert paper_question(operator).status_code == 201
    assert (
        post(operator, f"/halls/{conference.halls[1].pk}/attendance", {"count": 1}).status_code
        == 403
    )
    assert Event.objects.filter(type="hall.attendance_set").latest("seq").actor == (
        conference.operator_user
    )


def test_another_user_of_the_same_browser_is_not_a_moderator(conference):
    stranger = signed_in(make_user("stranger"))
    session = screen(conference, conference.halls[0])
    answer = post(stranger, f"/kiosk-sessions/{session.claim['session']['id']}/end")
    assert answer.status_code == 403
