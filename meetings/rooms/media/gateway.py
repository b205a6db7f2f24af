"""How a web node reaches the media hubs.

- ``thread`` (the single-process default, no REDIS_URL): the hubs run in a thread of this
  process with their own event loop, so media work never blocks the web node's loop. Replies
  come back through the in-memory channel layer, on the web loop.
- ``worker`` (REDIS_URL set): the hubs run in a media worker process
  (``manage.py media_worker``), reached over the channel layer on the channel
  ``media.<n>``, where n = meeting id modulo MEDIA_WORKERS.
"""

import asyncio
import contextvars
import logging
import threading

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings

from meetings.rooms.media.ice import configure_hub_network
from meetings.rooms.media.manager import FOLLOWED, HubManager

logger = logging.getLogger(__name__)


def _on_hub_loop(coroutine, loop: asyncio.AbstractEventLoop):
    """Schedules ``coroutine`` on the hubs' loop in a fresh context.

    A task inherits the context variables of the thread that schedules it. Called from a
    request's worker thread, those include asgiref's record of that request's executors, gone
    once the request ends: the hub's later ``database_sync_to_async`` calls then fail with
    "CurrentThreadExecutor already quit". The hubs' work belongs to no request."""
    return contextvars.Context().run(asyncio.run_coroutine_threadsafe, coroutine, loop)


def _close_loop(loop: asyncio.AbstractEventLoop) -> None:
    """Ends what is left on the hubs' loop, then closes it, in the hubs' thread.

    A loop left open is closed by the garbage collector, in whatever thread runs it then, and
    channels-redis has patched ``close`` on every loop it used to run that loop once more to
    flush its connections. In the main thread of a test run, with the hubs' stale tasks waking
    up, that can block for good (the likeliest cause of a CI run that hung until its limit)."""
    pending = asyncio.all_tasks(loop)
    for task in pending:
        task.cancel()
    loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
    loop.run_until_complete(loop.shutdown_asyncgens())
    loop.close()


def worker_channel(meeting_id: int) -> str:
    return f"media.{meeting_id % settings.MEDIA_WORKERS}"


class ThreadGateway:
    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._web_loop: asyncio.AbstractEventLoop | None = None
        self._manager: HubManager | None = None
        self._thread: threading.Thread | None = None
        self._stopping = False
        self._started = threading.Lock()

    def _start(self) -> asyncio.AbstractEventLoop:
        with self._started:
            if self._loop is None:
                ready = threading.Event()
                self._thread = threading.Thread(
                    target=self._run, args=(ready,), name="media-hubs", daemon=True
                )
                self._thread.start()
                ready.wait()
        return self._loop

    def _run(self, ready: threading.Event) -> None:
        configure_hub_network()
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        self._manager = HubManager(send=self._send_on_web, group_send=self._group_send_on_web)
        self._loop = loop
        ready.set()
        loop.run_forever()
        _close_loop(loop)

    async def _send_on_web(self, channel: str, message: dict) -> None:
        await self._on_web(get_channel_layer().send(channel, message))

    async def _group_send_on_web(self, group: str, message: dict) -> None:
        await self._on_web(get_channel_layer().group_send(group, message))

    async def _on_web(self, coroutine) -> None:
        """The in-memory layer's queues belong to the web loop: run sends there."""
        # While stopping, the web loop may be the one waiting for the hubs to close.
        if self._stopping or self._web_loop is None or self._web_loop.is_closed():
            coroutine.close()
            return
        await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coroutine, self._web_loop))

    async def send(self, meeting_id: int, message: dict) -> None:
        """From a consumer, on the web loop: starts the hubs' thread when first needed."""
        self._web_loop = asyncio.get_running_loop()
        loop = self._start()
        _on_hub_loop(self._manager.handle({**message, "meeting": meeting_id}), loop)

    def post(self, meeting_id: int, message: dict) -> None:
        """From synchronous code. No hub runs yet if the thread has not started; a hub reads
        the database when it starts, so there is nobody to tell."""
        if self._loop is not None:
            _on_hub_loop(self._manager.handle({**message, "meeting": meeting_id}), self._loop)

    def stop(self) -> None:
        """Closes the hubs, then their loop, and ends the thread (tests; a process that exits
        needs none of it)."""
        loop, thread = self._loop, self._thread
        if loop is None:
            return
        self._stopping = True
        try:
            _on_hub_loop(self._manager.close(), loop).result(timeout=10)
        finally:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(timeout=10)
            self._loop = self._thread = None


class WorkerGateway:
    async def send(self, meeting_id: int, message: dict) -> None:
        await get_channel_layer().send(
            worker_channel(meeting_id), {**message, "meeting": meeting_id}
        )

    def post(self, meeting_id: int, message: dict) -> None:
        async_to_sync(self.send)(meeting_id, message)


_gateway: ThreadGateway | WorkerGateway | None = None


def gateway() -> ThreadGateway | WorkerGateway:
    global _gateway
    if _gateway is None:
        _gateway = ThreadGateway() if settings.MEDIA_WORKER == "thread" else WorkerGateway()
    return _gateway


def doorbell(message: dict) -> None:
    """A committed event's message (``meeting.event``), as the web process's fan-out hears
    it. The hubs in this process's thread are told of those they follow; a media worker
    hears them itself, as a member of the meeting's group. Never raises: a hub also reads its
    meeting's record every FOLLOW_SECONDS."""
    if message.get("event_type") not in FOLLOWED:
        return
    hubs = gateway()
    if isinstance(hubs, ThreadGateway):
        try:
            hubs.post(message["meeting"], message)
        except Exception:
            logger.exception("could not ring the media hub of meeting %s", message["meeting"])
