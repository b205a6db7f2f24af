"""Who may call what: every API endpoint and websocket action, for every kind of caller, in one
table. A caller outside an endpoint's row must get 401 or 403; a caller inside it must not (it
may still meet a 400, 404 or 409 for the state of the meeting: that is not a permission).

Every path of the OpenAPI document must have a row here, so a new endpoint cannot ship
without someone deciding who may call it."""

import uuid

import pytest
from channels.db import database_sync_to_async
from django.test import Client

from meetings.api import api
from meetings.questions.services import moderation
from meetings.rooms.models import JoinLinkKind
from meetings.rooms.services import agenda
from meetings.rooms.services.kiosk_sessions import kiosk_session_claim
from meetings.rooms.services.rounds import round_organiser_grant
from tests.factories import hold_hall, make_round, make_user
from tests.questions.helpers import ask, open_conference, phone
from tests.realtime import open_socket

pytestmark = pytest.mark.django_db

CALLERS = [
    "anonymous",
    "voter",
    "operator",
    "second_screen",
    "candidate",
    "observer",
    "organiser",
    "secretary",
    "chair",
    "foreign_voter",
    "foreign_operator",
    "foreign_organiser",
]
# "operator": the screen that holds its hall (its kiosk session); "second_screen": another
# screen with the same operator link, which only asks to take over: it may read what the link
# shows, and act for the hall in nothing. "organiser": an organiser of the conference's round,
# with exactly the observer's rights; "foreign_organiser": of another round, with none here.
ADMITTED = {
    "voter",
    "operator",
    "second_screen",
    "candidate",
    "observer",
    "organiser",
    "secretary",
    "chair",
}
SCREENS = {"operator", "second_screen"}
STAFF = {"observer", "organiser", "secretary", "chair"}
MODERATORS = {"secretary", "chair"}
CHAIR = {"chair"}

# (method, path, body) -> who may call it. {q}: a submitted question; {a}: an approved one;
# {h}: the operator's own hall; {i}: an agenda item; {s}: the second screen's kiosk session.
MATRIX = [
    ("GET", "/api/meetings/{slug}/snapshot", None, ADMITTED),
    ("GET", "/api/meetings/{slug}/events", None, ADMITTED),
    ("GET", "/api/meetings/{slug}/record", None, ADMITTED),
    ("GET", "/api/meetings/{slug}/checkpoints", None, ADMITTED),
    ("GET", "/api/meetings/{slug}/tally", None, ADMITTED),
    ("GET", "/api/meetings/{slug}/speaking-time", None, ADMITTED),
    ("GET", "/api/meetings/{slug}/programme", None, ADMITTED),
    ("GET", "/api/meetings/{slug}/questions", None, ADMITTED),
    ("POST", "/api/meetings/{slug}/questions", "question", {"voter", "operator"} | MODERATORS),
    ("POST", "/api/meetings/{slug}/device", {}, {"voter"}),
    ("GET", "/api/meetings/{slug}/questions/mine", None, {"voter"}),
    ("POST", "/api/meetings/{slug}/questions/{q}/withdraw", {}, {"voter"}),
    ("POST", "/api/meetings/{slug}/questions/{a}/vote", {}, {"voter"}),
    ("GET", "/api/meetings/{slug}/media/ice", None, ADMITTED - {"voter", "second_screen"}),
    ("GET", "/api/meetings/{slug}/follow-ups", None, STAFF),
    ("GET", "/api/meetings/{slug}/thumbnails", None, STAFF),
    ("POST", "/api/meetings/{slug}/halls/{h}/attendance", {"count": 50}, {"operator"} | MODERATORS),
    ("POST", "/api/meetings/{slug}/halls/{h}/floor/request", {}, {"operator"} | MODERATORS),
    ("POST", "/api/meetings/{slug}/halls/{h}/floor/withdraw", {}, {"operator"} | MODERATORS),
    ("POST", "/api/meetings/{slug}/halls/{h}/floor/grant", {}, MODERATORS),
    ("POST", "/api/meetings/{slug}/floor/revoke", {}, MODERATORS),
    ("POST", "/api/meetings/{slug}/programme/layout", {"layout": "inset"}, MODERATORS),
    ("POST", "/api/meetings/{slug}/halls/{h}/tier", {"tier": "low"}, MODERATORS),
    ("GET", "/api/meetings/{slug}/halls/{h}/links", None, MODERATORS),
    ("POST", "/api/meetings/{slug}/halls/{h}/links/{kind}/rotate", {}, MODERATORS),
    ("POST", "/api/meetings/{slug}/agenda/default", {}, MODERATORS),
    ("POST", "/api/meetings/{slug}/agenda/{item_id}/{action}", {}, MODERATORS),
    ("POST", "/api/meetings/{slug}/questions/intake", {"open": True}, MODERATORS),
    ("POST", "/api/meetings/{slug}/questions/{q}/approve", {}, MODERATORS),
    ("POST", "/api/meetings/{slug}/questions/{q}/reject", {"reason": "unclear"}, MODERATORS),
    ("POST", "/api/meetings/{slug}/questions/{q}/edit", {"text": "Sửa"}, MODERATORS),
    ("POST", "/api/meetings/{slug}/questions/{q}/topic", {"topic": "land"}, MODERATORS),
    ("POST", "/api/meetings/{slug}/questions/{q}/address", {"candidate_id": None}, MODERATORS),
    # No such question to merge into (0 is no id at all: refused by the schema, before roles).
    ("POST", "/api/meetings/{slug}/questions/{q}/merge", {"into": 999_999_999}, MODERATORS),
    ("POST", "/api/meetings/{slug}/questions/{q}/unmerge", {}, MODERATORS),
    ("POST", "/api/meetings/{slug}/questions/{a}/on-air", {}, MODERATORS),
    ("POST", "/api/meetings/{slug}/questions/{a}/back-to-queue", {}, MODERATORS),
    ("POST", "/api/meetings/{slug}/questions/{a}/answer", {"kind": "live"}, MODERATORS),
    ("POST", "/api/meetings/{slug}/questions/{a}/move", {"index": 0}, MODERATORS),
    ("POST", "/api/meetings/{slug}/questions/{a}/written-answer", {"text": "x"}, MODERATORS),
    (
        "POST",
        "/api/meetings/{slug}/questions/{a}/due-date",
        {"due_date": "2027-01-31", "reason": "x"},
        MODERATORS,
    ),
    ("GET", "/api/meetings/{slug}/questions/{q}/similar", None, MODERATORS),
    ("GET", "/api/meetings/{slug}/queue/round-robin", None, MODERATORS),
    ("POST", "/api/meetings/{slug}/queue/order", {"order": []}, MODERATORS),
    ("POST", "/api/meetings/{slug}/kiosk/session", {}, SCREENS),
    ("GET", "/api/meetings/{slug}/kiosk/session", None, SCREENS),
    ("POST", "/api/meetings/{slug}/kiosk-sessions/{s}/allow", {}, MODERATORS),
    ("POST", "/api/meetings/{slug}/kiosk-sessions/{s}/end", {}, MODERATORS),
    ("POST", "/api/meetings/{slug}/status", {"status": "ended"}, CHAIR),
    ("POST", "/api/meetings/{slug}/publish", {"published": True}, CHAIR),
]


def _template(path: str) -> str:
    """The OpenAPI spelling of a matrix path."""
    return (
        path.replace("{q}", "{question_id}")
        .replace("{a}", "{question_id}")
        .replace("{h}", "{hall_id}")
        .replace("{s}", "{session_id}")
    )


def test_every_endpoint_has_a_row():
    documented = {
        (method.upper(), path)
        for path, operations in api.get_openapi_schema()["paths"].items()
        for method in operations
    }
    classified = {(method, _template(path)) for method, path, _body, _allowed in MATRIX}
    assert documented - classified == set(), "endpoints nobody decided about"
    assert classified - documented == set(), "rows for endpoints that no longer exist"


def organisers(conference, other):
    """An organiser of the conference's round, and one of the other conference's round."""
    mine = make_user("organiser")
    theirs = make_user("foreign_organiser")
    round_organiser_grant(round=conference.meeting.round, user=mine, actor=conference.actor)
    round_organiser_grant(round=other.meeting.round, user=theirs, actor=other.actor)
    return mine, theirs


def test_the_organiser_is_an_observer():
    """The table's premise: the organiser's rights are the observer's, row by row."""
    for _method, _path, _body, allowed in MATRIX:
        assert ("organiser" in allowed) == ("observer" in allowed)
        assert "foreign_organiser" not in allowed
    for allowed in WEBSOCKET.values():
        assert ("organiser" in allowed) == ("observer" in allowed)


@pytest.fixture
def world():
    conference = open_conference("matrix", round=make_round("matrix-round"))
    other = open_conference("other", round=make_round("other-round"))
    organiser, foreign_organiser = organisers(conference, other)
    submitted = ask(conference, "Câu hỏi chờ duyệt", device=1)
    approved = moderation.question_approve(
        question=ask(conference, "Đã duyệt", device=2), actor=conference.actor
    )
    item = agenda.agenda_build_default(meeting=conference.meeting, actor=conference.actor)[0]
    hall = conference.halls[0]

    def signed_in(user):
        client = Client()
        client.force_login(user)
        client.get("/meetings/")
        client.defaults["HTTP_X_CSRFTOKEN"] = client.cookies["csrftoken"].value
        return client

    def link(conf, kind):
        headers = {"X-Join-Link": conf.token(conf.halls[0], kind), "X-Device-Id": phone(conf, 1)}
        if kind == JoinLinkKind.OPERATOR:
            headers["X-Kiosk-Session"] = hold_hall(conf.halls[0])
        return Client(headers=headers)

    hold_hall(hall)  # the hall's own screen holds it; a second screen asks
    second = kiosk_session_claim(hall=hall, token=None, user_agent="stranger", address="10.0.0.9")
    assert second.session.state == "asking"

    clients = {
        "anonymous": Client(),
        "voter": link(conference, JoinLinkKind.VOTER),
        "operator": link(conference, JoinLinkKind.OPERATOR),
        "second_screen": Client(
            headers={
                "X-Join-Link": conference.token(hall, JoinLinkKind.OPERATOR),
                "X-Kiosk-Session": second.token,
            }
        ),
        "candidate": signed_in(conference.candidate_user),
        "observer": signed_in(conference.observer),
        "organiser": signed_in(organiser),
        "secretary": signed_in(conference.secretary),
        "chair": signed_in(conference.chair),
        "foreign_voter": link(other, JoinLinkKind.VOTER),
        "foreign_operator": link(other, JoinLinkKind.OPERATOR),
        "foreign_organiser": signed_in(foreign_organiser),
    }
    values = {
        "slug": "matrix",
        "q": submitted.pk,
        "a": approved.pk,
        "h": hall.pk,
        "item_id": item.pk,
        "action": "start",
        "kind": "voter",
        "s": second.session.pk,
    }
    return clients, values


@pytest.mark.parametrize(
    ("method", "path", "body", "allowed"), MATRIX, ids=[f"{m} {p}" for m, p, _b, _a in MATRIX]
)
def test_each_caller_is_allowed_or_refused_as_the_table_says(world, method, path, body, allowed):
    clients, values = world
    url = path.format(**values)
    # Refusals first: an allowed call may change the meeting, a refused one must not.
    for caller in sorted(CALLERS, key=lambda c: c in allowed):
        client = clients[caller]
        payload = body
        if body == "question":
            payload = {"client_id": str(uuid.uuid4()), "text": "Câu hỏi", "hall_id": values["h"]}
        if method == "GET":
            response = client.get(url)
        else:
            response = client.post(url, payload or {}, content_type="application/json")
        if caller in allowed:
            assert response.status_code not in (401, 403), (
                caller,
                response.status_code,
                response.content[:200],
            )
        else:
            assert response.status_code in (401, 403), (
                caller,
                response.status_code,
                response.content[:200],
            )
            if caller == "anonymous":
                assert response.status_code == 401


WEBSOCKET = {
    "connect": ADMITTED - {"second_screen"},
    "media.offer": ADMITTED - {"voter"},
    "thumbnail": {"operator"},
}


@pytest.mark.django_db(transaction=True)
async def test_websocket_actions_by_caller(settings):
    from meetings.rooms.media import gateway

    settings.MEDIA_WORKER = "thread"
    gateway._gateway = None
    conference = await database_sync_to_async(open_conference)(
        "matrix", round=await database_sync_to_async(make_round)("matrix-round")
    )
    other = await database_sync_to_async(open_conference)(
        "other", round=await database_sync_to_async(make_round)("other-round")
    )
    organiser, foreign_organiser = await database_sync_to_async(organisers)(conference, other)
    token = database_sync_to_async(lambda conf, kind: conf.token(conf.halls[0], kind))

    @database_sync_to_async
    def second_screen(conf):
        hold_hall(conf.halls[0])
        return kiosk_session_claim(
            hall=conf.halls[0], token=None, user_agent="stranger", address="10.0.0.9"
        ).token

    callers = {
        "anonymous": {},
        "voter": {"link": await token(conference, JoinLinkKind.VOTER)},
        "operator": {"link": await token(conference, JoinLinkKind.OPERATOR)},
        "second_screen": {
            "link": await token(conference, JoinLinkKind.OPERATOR),
            "session": await second_screen(conference),
        },
        "candidate": {"user": conference.candidate_user},
        "observer": {"user": conference.observer},
        "organiser": {"user": organiser},
        "secretary": {"user": conference.secretary},
        "chair": {"user": conference.chair},
        "foreign_voter": {"link": await token(other, JoinLinkKind.VOTER)},
        "foreign_operator": {"link": await token(other, JoinLinkKind.OPERATOR)},
        "foreign_organiser": {"user": foreign_organiser},
    }
    for caller, credentials in callers.items():
        socket = await open_socket("matrix", **credentials)
        first = await socket.communicator.receive_output(timeout=3)
        if caller not in WEBSOCKET["connect"]:
            assert first["type"] == "websocket.close"
            expected = {"anonymous": 4401, "second_screen": 4409}.get(caller, 4403)
            assert first["code"] == expected, caller
            continue
        for action, frame in (
            ("thumbnail", {"type": "thumbnail", "image": "data:image/jpeg;base64,AAAA"}),
            ("media.offer", {"type": "media.offer", "sdp": "v=0 not a real offer"}),
        ):
            # Refused: an error "forbidden"; accepted: anything else (the hub may well fail
            # on a fake offer, which is not a permission).
            await socket.send(frame)
            await socket.send({"type": "ping", "id": action})
            replies = [await socket.receive()]
            while replies[-1].get("id") != action:
                replies.append(await socket.receive())
            refused = any(r["type"] == "error" and r["code"] == "forbidden" for r in replies)
            assert refused == (caller not in WEBSOCKET[action]), (caller, action, replies)
        await socket.close()
    if gateway._gateway is not None:
        gateway._gateway.stop()
    gateway._gateway = None


# The round's pages, outside the API: the organisers' follow-through page (its GET, and its
# forms' POST) is theirs alone, in their round; the public page is everyone's (docs/rounds.md,
# "Follow-through in public"). An organiser acts there, never in a conference's queue (above).
SIGNED_IN = {"candidate", "observer", "organiser", "secretary", "chair", "foreign_organiser"}
ROUND_PAGES = [
    ("GET", "/rounds/{round}/follow-through/", {"organiser"}),
    ("POST", "/rounds/{round}/follow-through/", {"organiser"}),
    ("GET", "/archive/rounds/{round}/", set(CALLERS)),
]


@pytest.mark.parametrize(("method", "path", "allowed"), ROUND_PAGES)
def test_the_round_pages_by_caller(world, method, path, allowed):
    from meetings.rooms.models import Round
    from meetings.rooms.services.meetings import meeting_publish
    from tests.factories import make_conference

    clients, _values = world
    # A published conference of the round, for its public page.
    published = make_conference("matrix-published", round=Round.objects.get(slug="matrix-round"))
    meeting_publish(meeting=published.meeting, actor=published.actor)
    url = path.format(round="matrix-round")
    for caller in CALLERS:
        client = clients[caller]
        if method == "GET":
            response = client.get(url)
        else:  # an action on no question: refused as a permission, or an error on the page
            response = client.post(url, {"action": "due_date", "question": "0"})
        if caller in allowed:
            assert response.status_code in (200, 302), (caller, response.status_code)
            if response.status_code == 302:
                assert "/accounts/login/" not in response["Location"], caller
        elif caller not in SIGNED_IN:  # a join link is no account: asked to sign in
            assert response.status_code == 302 and "/accounts/login/" in response["Location"]
        else:
            assert response.status_code == 403, (caller, response.status_code)
