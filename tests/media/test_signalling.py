"""Signalling over the meeting websocket, through the gateway to the hubs' thread, as a kiosk's
browser does it: offer, answer, then the programme arrives."""

import asyncio

import pytest
from channels.db import database_sync_to_async

from meetings.rooms.media import gateway as gateway_module
from meetings.rooms.models import JoinLinkKind
from tests.factories import make_conference
from tests.media.peers import Browser, ColourTrack, ToneTrack
from tests.media.test_hub import STUDIO_RGB, near, wait_for
from tests.realtime import open_live

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def hub_thread(settings):
    settings.MEDIA_WORKER = "thread"
    settings.MEDIA_HOST_ADDRESSES = ["127.0.0.1"]
    gateway_module._gateway = None
    yield
    if gateway_module._gateway is not None:
        gateway_module._gateway.stop()
    gateway_module._gateway = None


async def join(socket, browser: Browser, *, send=False):
    await socket.send({"type": "media.offer", "sdp": await browser.offer(), "send": send})
    answer = await socket.receive_type("media.answer", timeout=15)
    await browser.accept(answer["sdp"])


async def test_studio_and_hall_kiosks_connect_through_the_websocket(hub_thread):
    conference = await database_sync_to_async(make_conference)()
    studio_link = await database_sync_to_async(conference.token)(
        conference.studio, JoinLinkKind.OPERATOR
    )
    hall_link = await database_sync_to_async(conference.token)(
        conference.halls[0], JoinLinkKind.OPERATOR
    )
    studio_socket, _ = await open_live("hn-test", link=studio_link)
    hall_socket, _ = await open_live("hn-test", link=hall_link)
    chair_socket, _ = await open_live("hn-test", user=conference.chair)
    studio = Browser(ColourTrack(STUDIO_RGB), ToneTrack(440))
    hall = Browser()
    try:
        await join(studio_socket, studio)
        await join(hall_socket, hall)
        await wait_for(lambda: near(hall.receiver.colour_at(320, 180), STUDIO_RGB), timeout=10)
        # The hub reports the hall's link to its kiosk and the halls' figures to the staff.
        status = await hall_socket.receive_type("media.status", timeout=10)
        assert status["tier"] == "high"
        figures = await chair_socket.receive_type("media.halls", timeout=10)
        assert str(conference.halls[0].pk) in figures["halls"]
    finally:
        for socket in (studio_socket, hall_socket, chair_socket):
            await socket.close()
        await studio.close()
        await hall.close()


async def test_voters_phones_get_no_media(hub_thread):
    conference = await database_sync_to_async(make_conference)()
    voter_link = await database_sync_to_async(conference.token)(
        conference.halls[0], JoinLinkKind.VOTER
    )
    voter, _ = await open_live("hn-test", link=voter_link)
    browser = Browser()
    await voter.send({"type": "media.offer", "sdp": await browser.offer()})
    error = await voter.receive_type("error")
    assert error["code"] == "forbidden"
    await browser.close()
    await voter.close()


async def test_thumbnails_reach_the_moderators_not_the_voters(hub_thread):
    conference = await database_sync_to_async(make_conference)()
    kiosk_link = await database_sync_to_async(conference.token)(
        conference.halls[1], JoinLinkKind.OPERATOR
    )
    voter_link = await database_sync_to_async(conference.token)(
        conference.halls[1], JoinLinkKind.VOTER
    )
    kiosk, _ = await open_live("hn-test", link=kiosk_link)
    voter, _ = await open_live("hn-test", link=voter_link)
    chair, _ = await open_live("hn-test", user=conference.chair)
    image = "data:image/jpeg;base64," + "A" * 400
    await kiosk.send({"type": "thumbnail", "image": image})
    thumbnail = await chair.receive_type("thumbnail")
    assert thumbnail["hall"] == conference.halls[1].pk and thumbnail["image"] == image
    await kiosk.send({"type": "thumbnail", "image": "data:text/html;base64,PGI+"})
    assert (await kiosk.receive_type("error"))["code"] == "bad_frame"
    await voter.send({"type": "thumbnail", "image": image})
    assert (await voter.receive_type("error"))["code"] == "forbidden"
    assert not any(frame["type"] == "thumbnail" for frame in voter.frames)
    await asyncio.gather(kiosk.close(), voter.close(), chair.close())


async def test_the_studios_screen_reconnecting_replaces_its_peer_at_the_hub(hub_thread):
    """The same screen (the same kiosk session) on a new websocket offers again before the old
    socket is gone: the hub takes the new peer and drops the old one, never keeps both."""
    conference = await database_sync_to_async(make_conference)()
    studio_link = await database_sync_to_async(conference.token)(
        conference.studio, JoinLinkKind.OPERATOR
    )
    old_socket, _ = await open_live("hn-test", link=studio_link)
    new_socket, _ = await open_live("hn-test", link=studio_link)  # the same screen's session
    old, new = Browser(ColourTrack(STUDIO_RGB), ToneTrack(440)), Browser(ColourTrack(STUDIO_RGB))
    try:
        await join(old_socket, old, send=True)
        await join(new_socket, new, send=True)
        replaced = await old_socket.receive_type("media.replaced", timeout=15)
        assert replaced["hall"] == conference.studio.pk
        hub = gateway_module._gateway._manager.hubs[conference.meeting.pk]
        studio_peers = [p for p in list(hub.peers.values()) if p.hall_id == conference.studio.pk]
        assert len(studio_peers) == 1  # the new one: the old socket was told it was replaced
    finally:
        for socket in (old_socket, new_socket):
            await socket.close()
        await old.close()
        await new.close()
