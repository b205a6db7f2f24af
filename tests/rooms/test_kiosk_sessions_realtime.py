"""Kiosk sessions on the meeting websocket: only the screen that holds its hall connects as the
hall's kiosk, and a session that ends (taken over, ended by the studio, its link replaced)
has its websocket closed at once, while staff watch it all live."""

import pytest
from channels.db import database_sync_to_async

from meetings.rooms.models import JoinLinkKind, KioskSession
from meetings.rooms.services import join_links, kiosk_sessions
from tests.factories import KIOSK_USER_AGENT, make_conference
from tests.realtime import open_live, open_socket

pytestmark = [pytest.mark.django_db(transaction=True)]

SLUG = "hn-test"
build = database_sync_to_async(make_conference)


@database_sync_to_async
def operator_link(conference, hall) -> str:
    return conference.token(hall, JoinLinkKind.OPERATOR)


@database_sync_to_async
def claim(hall, agent="Mozilla/5.0 Chrome/131.0"):
    """A screen opening the hall's operator link, as the kiosk page claims its session."""
    return kiosk_sessions.kiosk_session_claim(
        hall=hall, token=None, user_agent=agent, address="10.1.2.3"
    )


@database_sync_to_async
def allow(conference, session):
    return kiosk_sessions.kiosk_session_allow(session=session, actor=conference.actor)


@database_sync_to_async
def end(conference, session):
    return kiosk_sessions.kiosk_session_end(session=session, actor=conference.actor)


def event_of(kind):
    return lambda frame: frame["type"] == "event" and frame["event"]["type"] == kind


async def test_a_screen_that_does_not_hold_its_hall_cannot_open_the_kiosk_socket():
    conference = await build()
    hall = conference.halls[0]
    link = await operator_link(conference, hall)
    holder = await claim(hall)
    asking = await claim(hall, agent="Mozilla/5.0 Firefox/128.0")
    assert (holder.session.state, asking.session.state) == ("holding", "asking")
    for session in (asking.token, "made-up", None):
        refused = await open_socket(SLUG, link=link, session=session)
        assert await refused.closed_with() == 4409, session
    # The holder connects, and counts as the hall's kiosk.
    kiosk, _ = await open_live(SLUG, link=link, session=holder.token)
    await kiosk.send({"type": "ping", "id": "p"})
    assert (await kiosk.receive_type("pong"))["id"] == "p"
    await kiosk.close()


async def test_a_takeover_closes_the_old_screens_socket_at_once_and_staff_see_it_live():
    conference = await build()
    hall = conference.halls[0]
    link = await operator_link(conference, hall)
    old = await claim(hall)
    chair, snapshot = await open_live(SLUG, user=conference.chair)
    assert snapshot["state"]["kiosk_sessions"][str(old.session.pk)]["state"] == "holding"
    old_socket, _ = await open_live(SLUG, link=link, session=old.token)

    new = await claim(hall, agent="Mozilla/5.0 (Linux; Android 14) Chrome/130.0")
    asked = await chair.receive_until(event_of("kiosk.session_started"))
    assert asked["event"]["payload"]["state"] == "asking"
    assert asked["event"]["audience"] == "staff"

    await allow(conference, new.session)
    assert await old_socket.closed_with(timeout=5) == 4409
    allowed = await chair.receive_until(event_of("kiosk.takeover_allowed"))
    assert allowed["event"]["payload"]["replaced"] == old.session.pk
    new_socket, _snapshot = await open_live(SLUG, link=link, session=new.token)
    # The old screen cannot come back with its token.
    again = await open_socket(SLUG, link=link, session=old.token)
    assert await again.closed_with() == 4409
    await new_socket.close()
    await chair.close()


async def test_a_session_ended_by_the_studio_has_its_socket_closed():
    conference = await build()
    hall = conference.halls[1]
    link = await operator_link(conference, hall)
    holder = await claim(hall)
    kiosk, _ = await open_live(SLUG, link=link, session=holder.token)
    await end(conference, holder.session)
    assert await kiosk.closed_with(timeout=5) == 4409
    assert (
        await database_sync_to_async(
            lambda: KioskSession.objects.get(pk=holder.session.pk).end_reason
        )()
        == "ended_by_staff"
    )


async def test_a_replaced_operator_link_closes_its_screen_with_4403():
    conference = await build()
    hall = conference.halls[2]
    link = await operator_link(conference, hall)
    holder = await claim(hall)
    kiosk, _ = await open_live(SLUG, link=link, session=holder.token)
    await database_sync_to_async(join_links.join_link_rotate)(
        hall=hall, kind=JoinLinkKind.OPERATOR, actor=conference.actor
    )
    assert await kiosk.closed_with(timeout=5) == 4403


async def test_an_operator_account_watches_the_programme_but_is_not_the_halls_screen(monkeypatch):
    from meetings.rooms.realtime import media_frames

    conference = await build()
    sent = []

    class Gateway:
        async def send(self, meeting_id, message):
            sent.append(message)

    monkeypatch.setattr(media_frames, "gateway", Gateway)
    account, _ = await open_live(SLUG, user=conference.operator_user)
    await account.send({"type": "thumbnail", "image": "data:image/jpeg;base64,AAAA"})
    assert (await account.receive_type("error"))["code"] == "forbidden"
    await account.send({"type": "media.offer", "sdp": "v=0 an offer", "send": True})
    await account.send({"type": "ping", "id": "after"})
    await account.receive_until(lambda f: f["type"] == "pong")
    assert [message["role"] for message in sent] == ["monitor"]
    await account.close()


async def test_a_copied_token_opening_the_stream_directly_shows_on_the_staff_record():
    """A token copied to another device can open the kiosk's stream without claiming over HTTP:
    its address and browser still reach the record, as a resume over HTTP would put them."""
    conference = await build()
    hall = conference.halls[0]
    link = await operator_link(conference, hall)
    holder = await claim(hall)  # from 10.1.2.3, in Chrome
    chair, _snapshot = await open_live(SLUG, user=conference.chair)
    copy, _ = await open_live(SLUG, link=link, session=holder.token)  # another device
    resumed = await chair.receive_until(event_of("kiosk.session_resumed"))
    assert resumed["event"]["payload"]["session"] == holder.session.pk
    session = await database_sync_to_async(KioskSession.objects.get)(pk=holder.session.pk)
    assert (session.address, session.user_agent) == ("127.0.0.1", KIOSK_USER_AGENT)
    await copy.close()
    await chair.close()
