"""With Redis, hubs run in a separate media worker process reached over the channel layer."""

import os
import signal
import subprocess
import sys
import uuid

import pytest
from channels.db import database_sync_to_async
from django.db import connection

from meetings.rooms.media import gateway as gateway_module
from meetings.rooms.models import JoinLinkKind
from tests.factories import make_conference
from tests.media.peers import Browser, ColourTrack
from tests.media.test_hub import STUDIO_RGB, near, wait_for
from tests.realtime import open_live

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def media_worker(settings):
    redis_prefix = f"test-media-{uuid.uuid4().hex[:8]}"
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [os.environ["REDIS_URL"]], "prefix": f"{redis_prefix}:asgi"},
        }
    }
    settings.MEDIA_WORKER = "worker"
    gateway_module._gateway = None
    database = connection.settings_dict
    env = dict(
        os.environ,
        DATABASE_URL=f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/{database['NAME']}",
        REDIS_PREFIX=redis_prefix,
        MEDIA_HOST_ADDRESSES="127.0.0.1",
    )
    worker = subprocess.Popen(
        [sys.executable, "manage.py", "media_worker"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert "listening on media.0" in worker.stdout.readline()
    yield worker
    worker.send_signal(signal.SIGTERM)
    try:
        worker.wait(timeout=10)
    except subprocess.TimeoutExpired:
        worker.kill()
    gateway_module._gateway = None


async def test_kiosks_reach_a_hub_in_the_worker_process(media_worker):
    conference = await database_sync_to_async(make_conference)("worker-test")
    studio_link = await database_sync_to_async(conference.token)(
        conference.studio, JoinLinkKind.OPERATOR
    )
    hall_link = await database_sync_to_async(conference.token)(
        conference.halls[0], JoinLinkKind.OPERATOR
    )
    studio_socket, _ = await open_live("worker-test", link=studio_link)
    hall_socket, _ = await open_live("worker-test", link=hall_link)
    studio, hall = Browser(ColourTrack(STUDIO_RGB)), Browser()
    try:
        for socket, browser in ((studio_socket, studio), (hall_socket, hall)):
            await socket.send({"type": "media.offer", "sdp": await browser.offer()})
            answer = await socket.receive_type("media.answer", timeout=20)
            await browser.accept(answer["sdp"])
        await wait_for(lambda: near(hall.receiver.colour_at(320, 180), STUDIO_RGB), timeout=15)
        assert media_worker.poll() is None
    finally:
        await studio_socket.close()
        await hall_socket.close()
        await studio.close()
        await hall.close()
