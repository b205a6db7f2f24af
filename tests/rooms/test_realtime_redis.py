"""The stream over real Redis (channels-redis) and PostgreSQL."""

import asyncio
import os
import subprocess
import sys
import uuid

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.db import connection

from meetings.rooms.models import JoinLinkKind
from meetings.rooms.realtime import groups
from tests.factories import make_conference
from tests.realtime import open_live

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

BURST = 30


@pytest.fixture
def redis_layer(settings):
    """A layer of our own in Redis with capacity 1; returns its REDIS_PREFIX for subprocesses."""
    redis_prefix = f"test-{uuid.uuid4().hex[:8]}"
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                "hosts": [os.environ["REDIS_URL"]],
                "prefix": f"{redis_prefix}:asgi",  # as meetings/settings.py builds it
                "capacity": 1,
            },
        }
    }
    return redis_prefix


def other_node_env(redis_prefix: str, **extra: str) -> dict[str, str]:
    """The environment of another web node on the same PostgreSQL test database and Redis."""
    database = connection.settings_dict
    return dict(
        os.environ,
        DATABASE_URL=(
            f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/{database['NAME']}"
        ),
        REDIS_PREFIX=redis_prefix,
        **extra,
    )


def _append_burst_in_another_process(redis_prefix: str, hall_id: int) -> None:
    """Another web node appends BURST events, each rung through Redis with capacity 1.

    Runs synchronously, so this process's event loop is blocked meanwhile and nothing here
    drains the queue: every doorbell after the first is dropped by channels-redis.
    """
    script = (
        "from meetings.rooms.models import BridgePoint\n"
        "from meetings.rooms.actors import Actor\n"
        "from meetings.rooms.services.halls import hall_set_attendance\n"
        f"hall = BridgePoint.objects.select_related('meeting').get(pk={hall_id})\n"
        f"for count in range(1, {BURST + 1}):\n"
        "    hall_set_attendance(hall=hall, count=count, actor=Actor.system('burst'))\n"
    )
    subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", script],
        env=other_node_env(redis_prefix, CHANNEL_CAPACITY="1"),
        check=True,
        timeout=120,
    )


async def test_capacity_one_drops_doorbells_and_every_client_still_gets_every_event(redis_layer):
    conference = await database_sync_to_async(make_conference)("redis-drop")
    hall = conference.halls[0]
    voter_link = await database_sync_to_async(conference.token)(hall, JoinLinkKind.VOTER)
    voter, _ = await open_live("redis-drop", link=voter_link)
    chair, _ = await open_live("redis-drop", user=conference.chair)

    # A bystander in the meeting's group (as a web process is) that reads nothing until the
    # burst is over: it shows what the layer kept.
    layer = get_channel_layer()
    bystander = await layer.new_channel()
    await layer.group_add(groups.meeting_events(conference.meeting.pk), bystander)

    _append_burst_in_another_process(redis_layer, hall.pk)

    kept = 0
    while True:
        try:
            async with asyncio.timeout(0.5):
                await layer.receive(bystander)
            kept += 1
        except TimeoutError:
            break
    assert kept < BURST, "the layer delivered every doorbell: nothing was dropped"

    for socket in (voter, chair):
        # Whatever doorbells survived, the web process reads the rest from the record (a gap
        # shows, or its next check of the record's head finds it behind): no ping needed.
        await socket.receive_until(
            lambda frame: (
                frame["type"] == "event" and frame["event"]["payload"].get("count") == BURST
            ),
            timeout=15,
        )
        counts = [
            frame["event"]["payload"]["count"]
            for frame in socket.events()
            if frame["event"]["type"] == "hall.attendance_set"
        ]
        assert counts == list(range(1, BURST + 1))
        seqs = [frame["seq"] for frame in socket.events()]
        assert seqs == sorted(set(seqs))
        await socket.close()


async def test_events_published_by_another_web_node_reach_clients_live(redis_layer, settings):
    settings.CHANNEL_LAYERS["default"]["CONFIG"]["capacity"] = 1000
    conference = await database_sync_to_async(make_conference)("redis-live")
    voter_link = await database_sync_to_async(conference.token)(
        conference.halls[1], JoinLinkKind.VOTER
    )
    voter, _ = await open_live("redis-live", link=voter_link)
    script = (
        "from meetings.rooms.models import BridgePoint\n"
        "from meetings.rooms.actors import Actor\n"
        "from meetings.rooms.services.halls import hall_set_attendance\n"
        f"hall = BridgePoint.objects.select_related('meeting').get(pk={conference.halls[1].pk})\n"
        "hall_set_attendance(hall=hall, count=64, actor=Actor.system('other node'))\n"
    )
    await database_sync_to_async(subprocess.run)(
        [sys.executable, "manage.py", "shell", "-c", script],
        env=other_node_env(redis_layer),
        check=True,
        timeout=120,
    )
    frame = await voter.receive_type("event", timeout=10)
    assert frame["event"]["payload"]["count"] == 64
    await voter.close()


async def test_a_quiet_socket_over_the_configured_redis_layer_stays_open():
    """With the layer exactly as settings.py builds it: nothing happens in the meeting for
    longer than channels-redis's 5 s blocking read, and the socket still answers."""
    from django.conf import settings

    assert settings.CHANNEL_LAYERS["default"]["BACKEND"] == "channels_redis.core.RedisChannelLayer"
    conference = await database_sync_to_async(make_conference)("redis-quiet")
    voter_link = await database_sync_to_async(conference.token)(
        conference.halls[1], JoinLinkKind.VOTER
    )
    voter, _ = await open_live("redis-quiet", link=voter_link)
    await asyncio.sleep(7)
    await voter.send({"type": "ping", "id": "still-there"})
    pong = await voter.receive_type("pong")
    assert pong["id"] == "still-there"
    await voter.close()


async def test_a_kiosk_session_ended_on_another_web_node_closes_its_socket_here(
    redis_layer, settings
):
    """The studio ends a hall's screen through another web node: the kiosk's socket on this one
    is closed at once (4409), from the event alone."""
    settings.CHANNEL_LAYERS["default"]["CONFIG"]["capacity"] = 1000
    conference = await database_sync_to_async(make_conference)("redis-kiosk")
    hall = conference.halls[0]
    link = await database_sync_to_async(conference.token)(hall, JoinLinkKind.OPERATOR)
    kiosk, _ = await open_live("redis-kiosk", link=link)  # the screen that holds the hall
    script = (
        "from meetings.rooms.models import KioskSession\n"
        "from meetings.rooms.actors import Actor\n"
        "from meetings.rooms.services.kiosk_sessions import kiosk_session_end\n"
        "session = KioskSession.objects.select_related('hall__meeting')"
        f".get(hall_id={hall.pk}, state='holding')\n"
        "kiosk_session_end(session=session, actor=Actor.system('other node'))\n"
    )
    await database_sync_to_async(subprocess.run)(
        [sys.executable, "manage.py", "shell", "-c", script],
        env=other_node_env(redis_layer),
        check=True,
        timeout=120,
    )
    assert await kiosk.closed_with(timeout=10) == 4409
