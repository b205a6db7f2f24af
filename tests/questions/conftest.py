import asyncio
import threading
from contextlib import contextmanager

import pytest

from meetings.questions.services.counts import publisher


class ServerLoop:
    """An event loop running in its own thread, handed to the counts publisher as Daphne's loop
    is (meetings/asgi.py): a change arms a timer on it instead of announcing the counts at once."""

    def __init__(self):
        self.loop = asyncio.new_event_loop()
        running = threading.Event()
        self.loop.call_soon(running.set)
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        running.wait()

    @contextmanager
    def busy(self):
        """The loop runs nothing else meanwhile, like a server busy with other work: what is
        scheduled on it waits until the block ends."""
        started, release = threading.Event(), threading.Event()

        def hold():
            started.set()
            release.wait()

        self.loop.call_soon_threadsafe(hold)
        started.wait()
        try:
            yield
        finally:
            release.set()

    def caught_up(self, timeout: float = 60) -> None:
        """Wait until the loop has run what was scheduled on it so far (callbacks run in order)."""
        asyncio.run_coroutine_threadsafe(asyncio.sleep(0), self.loop).result(timeout)

    def settle(self, timeout: float = 60) -> None:
        """Wait until no timer is armed and every task the loop runs has finished."""

        async def settled():
            while publisher.armed or len(asyncio.all_tasks()) > 1:
                await asyncio.sleep(0.01)

        asyncio.run_coroutine_threadsafe(settled(), self.loop).result(timeout)

    def stop(self) -> None:
        if self.loop.is_closed():
            return

        async def shut_down():
            await self.loop.shutdown_default_executor()
            self.loop.stop()

        asyncio.run_coroutine_threadsafe(shut_down(), self.loop)
        self.thread.join(30)
        self.loop.close()


@pytest.fixture
def server_loop():
    """The counts publisher on a server's loop; its timers wait COUNTS_PUBLISH_SECONDS (set it
    with the settings fixture)."""
    server = ServerLoop()
    publisher.attach(server.loop)
    yield server
    publisher.attach(None)
    server.stop()
