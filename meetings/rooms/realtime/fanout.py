"""The web process's fan-out: each event comes into the process once, and the process writes it
to its own sockets.

One ``Fanout`` per process (per event loop). It holds a channel of its own on the channel
layer; for each meeting it serves, that channel joins the meeting's group, so the meeting's
events arrive once per process whatever the number of screens, and go to the meeting's
``MeetingFeed`` (feed.py), which delivers them. A web process of a multi-process or
multi-node deployment does the same beside the others (Redis carries the events to each).

It also runs the process's housekeeping (housekeeping.py) and applies the events that change
who may stay connected (admission.py): those close the affected sockets at once, so a ping
needs no database.
"""

import asyncio
import logging
import time
import uuid
import weakref

from channels.db import database_sync_to_async
from channels.layers import get_channel_layer

from meetings.rooms.media import gateway as media
from meetings.rooms.models import Audience
from meetings.rooms.realtime import admission, groups, housekeeping, stream
from meetings.rooms.realtime.connection import Connection
from meetings.rooms.realtime.feed import RING_SIZE, MeetingFeed
from meetings.rooms.realtime.stream import LoggedEvent

logger = logging.getLogger(__name__)

# A meeting's feed outlives its last connection this long: screens that reconnect (a web node
# restarting, a hall's network coming back) find it still current.
FEED_LINGER_SECONDS = 120
RECEIVE_RETRY_SECONDS = 1.0
STOP_SECONDS = 10

_fanouts: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Fanout]" = (
    weakref.WeakKeyDictionary()
)


def being_cancelled() -> bool:
    """Whether this task was asked to stop. redis-py may turn the cancellation of a read in
    progress into a ConnectionError; a loop that retries on errors must not retry that."""
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0


async def close_fanout() -> None:
    """Stop this event loop's fan-out, if it has one (tests, before their loop closes)."""
    instance = _fanouts.pop(asyncio.get_running_loop(), None)
    if instance is not None:
        await instance.close()


def fanout() -> "Fanout":
    """This process's fan-out (one per event loop: tests run each in a loop of its own)."""
    loop = asyncio.get_running_loop()
    instance = _fanouts.get(loop)
    if instance is None:
        instance = _fanouts[loop] = Fanout()
    return instance


class Fanout:
    def __init__(self):
        self.layer = get_channel_layer()
        self.channel: str | None = None
        self.feeds: dict[int, MeetingFeed] = {}
        self.tasks: set[asyncio.Task] = set()
        self._started: asyncio.Task | None = None
        self._receiver: asyncio.Task | None = None
        self._housekeeper: asyncio.Task | None = None

    # --- connections ------------------------------------------------------------------------

    async def join(self, connection: Connection) -> MeetingFeed:
        """Register a connection; its meeting's feed is read first if this process had none."""
        failed = (
            self._started is not None
            and self._started.done()
            and (self._started.cancelled() or self._started.exception() is not None)
        )
        if self._started is None or failed:  # the first connection, or Redis was down then
            self._started = asyncio.ensure_future(self._start())
        await asyncio.shield(self._started)
        feed = self.feeds.get(connection.meeting_id)
        if feed is None:
            feed = self.feeds[connection.meeting_id] = MeetingFeed(
                connection.meeting_id, on_event=self._on_event
            )
            self._spawn(self._open(feed))
        await asyncio.shield(feed.ready)
        feed.add(connection)
        return feed

    def leave(self, connection: Connection) -> None:
        feed = self.feeds.get(connection.meeting_id)
        if feed is not None:
            feed.remove(connection)

    def connections(self) -> list[Connection]:
        return [c for feed in self.feeds.values() for c in feed.all_connections()]

    # --- the process's subscription -----------------------------------------------------------

    async def _start(self) -> None:
        # A channel of its own, read by this process alone, rather than one of the layer's
        # process-local channels ("…!…"): channels-redis reads those through one shared loop
        # and lock with the consumers' own channels (media replies), and the events would wait
        # their turn behind them.
        self.channel = f"fanout.{uuid.uuid4().hex}"
        await self.layer.group_add(groups.accounts(), self.channel)
        self._receiver = self._spawn(self._receive())
        self._housekeeper = self._spawn(housekeeping.run(self))

    async def _open(self, feed: MeetingFeed) -> None:
        """Join the meeting's group, then read where its stream stands: joined first, so that
        no event falls between the two (an event in both is taken once)."""
        try:
            await self.layer.group_add(groups.meeting_events(feed.meeting_id), self.channel)
            origin = await database_sync_to_async(stream.origin)(feed.meeting_id, recent=RING_SIZE)
        except Exception as error:
            self.feeds.pop(feed.meeting_id, None)
            feed.ready.set_exception(error)
            raise
        feed.start(origin)

    async def _receive(self) -> None:
        while True:
            try:
                message = await self.layer.receive(self.channel)
            except asyncio.CancelledError:
                raise
            except Exception:
                if being_cancelled():
                    raise asyncio.CancelledError from None
                # Redis restarting: keep trying; the feeds repair what passes meanwhile.
                logger.warning("fan-out: receiving failed; trying again", exc_info=True)
                await asyncio.sleep(RECEIVE_RETRY_SECONDS)
                continue
            if message["type"] == "fanout.stop":
                return
            try:
                self._dispatch(message)
            except Exception:
                logger.exception("fan-out: could not handle %s", message.get("type"))

    def _dispatch(self, message: dict) -> None:
        if message["type"] == "meeting.event":
            media.doorbell(message)
            feed = self.feeds.get(message["meeting"])
            if feed is not None:
                feed.receive(
                    LoggedEvent(
                        seq=message["seq"],
                        type=message["event_type"],
                        audience=Audience(message["audience"]),
                        json=message["event"],
                    )
                )
        elif message["type"] == "account.changed":
            self._spawn(admission.apply_account_change(self.connections(), message))

    async def close(self) -> None:
        """Stop receiving and drop every feed (the process is stopping). The receiving task is
        woken by a message of its own rather than cancelled: redis-py can swallow the
        cancellation of a blocking read, and the task would then never end."""
        if self._receiver is not None and not self._receiver.done():
            try:
                await self.layer.send(self.channel, {"type": "fanout.stop"})
                await asyncio.wait_for(asyncio.shield(self._receiver), STOP_SECONDS)
            except Exception:
                logger.warning("fan-out: the receiving task did not stop", exc_info=True)
        for meeting_id in list(self.feeds):
            self.feeds.pop(meeting_id).close()
        for task in list(self.tasks):
            if task is not self._receiver:
                task.cancel()

    async def resubscribe(self) -> None:
        """Join every group again: after Redis restarts they are gone, and channels-redis lets
        a membership expire after a day."""
        await self.layer.group_add(groups.accounts(), self.channel)
        for meeting_id in list(self.feeds):
            await self.layer.group_add(groups.meeting_events(meeting_id), self.channel)

    def close_idle_feeds(self) -> None:
        now = time.monotonic()
        for meeting_id, feed in list(self.feeds.items()):
            if feed.idle_since is not None and now - feed.idle_since > FEED_LINGER_SECONDS:
                del self.feeds[meeting_id]
                feed.close()
                self._spawn(
                    self.layer.group_discard(groups.meeting_events(meeting_id), self.channel)
                )

    def _on_event(self, feed: MeetingFeed, event: LoggedEvent) -> None:
        affected = admission.affected_by(feed, event)
        if affected:
            self._spawn(admission.recheck(affected))

    def _spawn(self, coroutine) -> asyncio.Task:
        task = asyncio.ensure_future(coroutine)
        self.tasks.add(task)
        task.add_done_callback(self._done)
        return task

    def _done(self, task: asyncio.Task) -> None:
        self.tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            logger.error("fan-out task failed", exc_info=task.exception())
