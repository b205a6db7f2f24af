"""The in-thread gateway's life cycle: stopping it leaves no thread and no open loop behind."""

import asyncio

from channels.layers import get_channel_layer

from meetings.rooms.media.gateway import ThreadGateway


async def _use_the_channel_layer() -> None:
    # With REDIS_URL set this opens a Redis connection bound to the hubs' loop, which
    # channels-redis then flushes when that loop closes.
    await get_channel_layer().group_send("gateway-test", {"type": "nothing"})


def test_stopping_closes_the_hubs_loop_in_its_own_thread():
    gateway = ThreadGateway()
    loop = gateway._start()
    thread = gateway._thread
    asyncio.run_coroutine_threadsafe(_use_the_channel_layer(), loop).result(timeout=10)
    # Something still waiting on the loop when it stops, as a hub's tasks are.
    pending = asyncio.run_coroutine_threadsafe(asyncio.sleep(3600), loop)

    gateway.stop()

    assert not thread.is_alive()
    assert loop.is_closed()
    assert pending.cancelled()
    gateway.stop()  # a second stop is harmless
