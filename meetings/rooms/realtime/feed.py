"""A web process's copy of one meeting's stream, and its delivery to the process's sockets.

The process receives each committed event of the meeting once (fanout.py) and hands it to this
feed, which keeps the stream in order and complete, and writes it out:

- **In order, complete.** Events are taken strictly by ``seq`` (the record has no gaps). One
  that comes early waits a moment for the one before it; what is still missing then is read
  from the record, once for the whole process (``repair``). The process also compares its copy
  with the record's head every second (``check_head``), which catches a doorbell lost at the
  end of a burst.
- **Fast path.** For each audience that may see an event, its frame is encoded once and written
  to every connection of that audience that is up to date (``Delivery.LIVE``): the per-socket
  work is a comparison and a write. Staff, candidates and kiosks are written first, as each
  event comes; phones (audience ``public``) get events in batches, at most one frame per
  PHONE_BATCH_MS.
- **Catching up.** A connection that is behind (it just said hello, it resumed with ``since``,
  or its socket backed up) leaves the fast path and is sent what it lacks from the copy kept
  here (the newest RING_SIZE entries and a snapshot per audience), or from the record when the
  copy does not reach back far enough; then it rejoins. That never holds up the others.

The frames and the seq/prev rule are those of docs/protocol.md.
"""

import asyncio
import json
import logging
import time
from collections.abc import Callable

from channels.db import database_sync_to_async
from django.conf import settings

from meetings import metrics
from meetings.rooms.models import Audience
from meetings.rooms.realtime import frames, stream
from meetings.rooms.realtime.connection import Connection, Delivery
from meetings.rooms.realtime.stream import LoggedEvent, Origin
from meetings.rooms.realtime.wire import LOW_WATER, Frame

logger = logging.getLogger(__name__)

RING_SIZE = 1000  # newest entries kept for replays (of every audience)
HOLD_SECONDS = 0.05  # how long an early doorbell waits for the one before it
REPAIR_CHUNK = 1000  # entries read from the record at a time when repairing
SNAPSHOT_MAX_LAG = 200  # entries a kept snapshot may be behind before it is read again
DRAIN_POLL_SECONDS = 0.1  # how often a backed-up socket is looked at again

# Kiosks and the studio are written first, each event as it commits; phones come after.
FIRST_AUDIENCES = (Audience.STAFF, Audience.CANDIDATES, Audience.HALLS)
VISIBLE = {audience: frozenset(audience.visible_audiences()) for audience in Audience}


class MeetingFeed:
    def __init__(self, meeting_id: int, *, on_event: Callable[["MeetingFeed", LoggedEvent], None]):
        self.meeting_id = meeting_id
        self.on_event = on_event
        loop = asyncio.get_running_loop()
        self.ready: asyncio.Future = loop.create_future()
        self.seq = 0  # the newest entry taken
        self.last_visible: dict[Audience, int] = dict.fromkeys(Audience, 0)
        self.phones_sent = 0  # the newest public entry sent in a phones' batch
        self.ring: list[LoggedEvent] = []  # the newest entries, ending at self.seq
        self.connections: dict[Audience, dict[Connection, None]] = {a: {} for a in Audience}
        self.early: list[LoggedEvent] = []  # arrived before the origin was read
        self.held: dict[int, LoggedEvent] = {}  # arrived before the entry they follow
        self.observed_head = 0  # the record's head at the last check
        self.repairing: asyncio.Task | None = None
        self.snapshots: dict[Audience, tuple[int, Frame]] = {}
        self.snapshot_builds: dict[Audience, asyncio.Future] = {}
        self.phone_batch: list[LoggedEvent] = []
        self.phone_timer: asyncio.TimerHandle | None = None
        self.phone_sent_at = float("-inf")
        self.tasks: set[asyncio.Task] = set()
        self.idle_since: float | None = time.monotonic()

    # --- the stream --------------------------------------------------------------------------

    def start(self, origin: Origin) -> None:
        self.seq = self.observed_head = origin.seq
        self.last_visible = dict(origin.last_visible)
        self.phones_sent = origin.last_visible[Audience.PUBLIC]
        self.ring = list(origin.recent)
        self.ready.set_result(None)
        early, self.early = self.early, []
        for event in early:
            self.receive(event)

    def receive(self, event: LoggedEvent) -> None:
        if not self.ready.done():
            self.early.append(event)
            return
        if event.seq <= self.seq:
            return  # already taken, from the record or an earlier copy
        if event.seq != self.seq + 1:
            # Most often the one before it is a moment behind: two events committed by
            # different threads (or web nodes) were published in the other order.
            self.held[event.seq] = event
            self.repair(after=HOLD_SECONDS, force=False)
            return
        self._take(event)
        self._release_held()

    def check_head(self, head: int) -> None:
        """The record's head now: if the copy has not reached the head seen at the previous
        check, a doorbell was lost (no later one will show the gap): read the rest."""
        if self.seq < self.observed_head:
            self.repair(after=0, force=True)
        self.observed_head = max(self.observed_head, head)

    def repair(self, *, after: float, force: bool) -> None:
        if self.repairing is None or self.repairing.done():
            metrics.repaired("lost" if force else "early")
            self.repairing = self._spawn(self._repair(after, force))

    async def _repair(self, after: float, force: bool) -> None:
        if after:
            await asyncio.sleep(after)
        if not force and not self.held:
            return  # what was missing came meanwhile
        while True:
            entries = await database_sync_to_async(stream.entries_after)(
                self.meeting_id, self.seq, limit=REPAIR_CHUNK
            )
            for event in entries:
                if event.seq == self.seq + 1:
                    metrics.REPAIRED.labels(metrics.NODE).inc()
                    self._take(event)
            self._release_held()
            if len(entries) < REPAIR_CHUNK:
                return

    def _release_held(self) -> None:
        while (event := self.held.pop(self.seq + 1, None)) is not None:
            self._take(event)
        for seq in [seq for seq in self.held if seq <= self.seq]:
            del self.held[seq]

    def _take(self, event: LoggedEvent) -> None:
        seq = event.seq
        self.seq = seq
        self.ring.append(event)
        if len(self.ring) > 2 * RING_SIZE:
            del self.ring[:-RING_SIZE]
        prevs = {}
        for audience in Audience:
            if audience.sees(event.audience):
                prevs[audience] = self.last_visible[audience]
                self.last_visible[audience] = seq
        try:
            self.on_event(self, event)
        except Exception:
            logger.exception("effects of event %s of meeting %s failed", seq, self.meeting_id)
        delivered = False
        for audience in FIRST_AUDIENCES:
            prev = prevs.get(audience)
            if prev is None:
                continue
            if self.connections[audience]:
                text = frames.event_frame_from_json(seq=seq, prev=prev, event_json=event.json)
                self._deliver(self.connections[audience], Frame(text), seq, prev)
                delivered = True
        metrics.event_taken(event.json, delivered_now=delivered)
        if Audience.PUBLIC in prevs:
            self._batch_for_phones(event)

    # --- phones: events in batches ------------------------------------------------------------

    def _batch_for_phones(self, event: LoggedEvent) -> None:
        self.phone_batch.append(event)
        if self.phone_timer is not None:
            return
        loop = asyncio.get_running_loop()
        wait = self.phone_sent_at + settings.PHONE_BATCH_MS / 1000 - loop.time()
        if wait <= 0:
            self._send_phone_batch()
        else:
            self.phone_timer = loop.call_later(wait, self._send_phone_batch)

    def _send_phone_batch(self) -> None:
        self.phone_timer = None
        batch, self.phone_batch = self.phone_batch, []
        if not batch:
            return
        self.phone_sent_at = asyncio.get_running_loop().time()
        prev, seq = self.phones_sent, batch[-1].seq
        self.phones_sent = seq
        phones = self.connections[Audience.PUBLIC]
        if not phones:
            return
        if len(batch) == 1:
            text = frames.event_frame_from_json(seq=seq, prev=prev, event_json=batch[0].json)
        else:
            text = frames.batch_frame_from_json(
                seq=seq, prev=prev, events_json=[event.json for event in batch]
            )
        self._deliver(phones, Frame(text), seq, prev)
        for event in batch:
            metrics.lag_since(event.json, "phones")

    # --- delivery -----------------------------------------------------------------------------

    def _deliver(self, connections, frame: Frame, seq: int, prev: int) -> None:
        """The fast path: one comparison and one write per up-to-date socket."""
        written = 0
        audience = None
        for connection in connections:
            audience = connection.audience
            if connection.delivery is not Delivery.LIVE:
                continue
            cursor = connection.cursor
            if cursor >= seq:
                continue  # its snapshot was newer than this process's copy
            if cursor < prev:
                self._catch_up(connection)
            elif connection.outlet.write(frame):
                connection.cursor = seq
                written += 1
            else:
                metrics.BACKED_UP.labels(metrics.NODE).inc()
                logger.debug(
                    "meeting %s: a socket is backed up (%s bytes waiting); it catches up "
                    "once it drains",
                    self.meeting_id,
                    connection.outlet.backlog(),
                )
                self._catch_up(connection)
        if audience is not None:
            metrics.frames_written(audience.value, written)

    def add(self, connection: Connection) -> None:
        if connection not in self.connections[connection.audience]:
            metrics.socket_opened(connection.audience.value)
        self.connections[connection.audience][connection] = None
        self.idle_since = None

    def remove(self, connection: Connection) -> None:
        connection.delivery = Delivery.CLOSED
        if self.connections[connection.audience].pop(connection, False) is None:
            metrics.socket_closed(connection.audience.value)
        if not any(self.connections.values()):
            self.idle_since = time.monotonic()

    def all_connections(self) -> list[Connection]:
        return [c for by_audience in self.connections.values() for c in by_audience]

    def hello(self, connection: Connection, since: int | None) -> None:
        """Start (or restart) sending: a snapshot, or everything after ``since`` then
        ``synced``; the fast path after that."""
        if connection.delivery is Delivery.CLOSED:
            return
        connection.cursor = -1 if since is None else since
        connection.owes_synced = since is not None
        connection.generation += 1
        connection.delivery = Delivery.LIVE  # so that _catch_up starts afresh
        self._catch_up(connection)

    def _catch_up(self, connection: Connection) -> None:
        if connection.delivery is not Delivery.LIVE:
            return  # waiting for hello, closed, or already catching up
        connection.delivery = Delivery.CATCHING_UP
        self._spawn(self._send_missing(connection, connection.generation))

    async def _send_missing(self, connection: Connection, generation: int) -> None:
        def current() -> bool:
            return connection.delivery is Delivery.CATCHING_UP and (
                connection.generation == generation
            )

        try:
            await self._send_missing_to(connection, current)
        except Exception:
            logger.exception("could not catch up a connection of meeting %s", self.meeting_id)
            if current():
                connection.delivery = Delivery.CLOSED
                await connection.close(1011)

    async def _send_missing_to(self, connection: Connection, current) -> None:
        audience = connection.audience
        while current():
            if connection.outlet.backlog() > LOW_WATER:
                await asyncio.sleep(DRAIN_POLL_SECONDS)
                continue
            if connection.cursor < 0:
                await self._send_snapshot(connection)
                continue
            # Up to everything taken so far: a phone caught up past a batch still waiting to
            # go skips it (or the part it has), as a client does.
            target = self.last_visible[audience]
            if connection.cursor > self.seq:
                # Ahead of this process's copy: another node was ahead, or the number is made
                # up. The record says which (a replay, or nothing: a snapshot).
                since = connection.cursor
                events = await database_sync_to_async(stream.events_after)(
                    self.meeting_id, audience, since
                )
                if not current() or connection.cursor != since:
                    continue
                if events is None:
                    connection.cursor = -1
                    continue
                self._send_events(connection, events)
                self._go_live(connection)
                return
            if connection.cursor >= target:
                self._go_live(connection)
                return
            events = self._kept_after(connection.cursor, audience, upto=target)
            if events is None:  # from before the copy: the record
                since = connection.cursor
                events = await database_sync_to_async(stream.events_after)(
                    self.meeting_id, audience, since
                )
                if not current() or connection.cursor != since:
                    continue
            if events is None or len(events) > settings.EVENT_REPLAY_LIMIT:
                connection.cursor = -1  # too far behind for a replay: a snapshot
                continue
            self._send_events(connection, events)
            if connection.cursor < target:
                connection.cursor = -1  # cannot happen while the record has no gaps
                logger.error("meeting %s: a replay fell short", self.meeting_id)

    def _send_events(self, connection: Connection, events: list[LoggedEvent]) -> None:
        for event in events:
            if event.seq <= connection.cursor:
                continue
            connection.send_text(
                frames.event_frame_from_json(
                    seq=event.seq, prev=connection.cursor, event_json=event.json
                )
            )
            connection.cursor = event.seq

    def _go_live(self, connection: Connection) -> None:
        connection.delivery = Delivery.LIVE
        if connection.owes_synced:
            connection.owes_synced = False
            connection.send_text(frames.synced_frame(seq=connection.cursor))

    async def _send_snapshot(self, connection: Connection) -> None:
        generation = connection.generation
        seq, frame = await self.snapshot(connection.audience)
        if connection.delivery is not Delivery.CATCHING_UP or connection.generation != generation:
            return
        connection.outlet.send(frame)
        connection.cursor = seq
        connection.owes_synced = False  # a snapshot answers a replay instead of "synced"

    def _kept_after(self, cursor: int, audience: Audience, *, upto: int):
        """The entries after ``cursor`` this audience may see, up to ``upto``, from the copy;
        None when the copy does not reach back to ``cursor`` (or the client is ahead of it)."""
        first = self.seq - len(self.ring) + 1
        if cursor + 1 < first or cursor > self.seq:
            return None
        visible = VISIBLE[audience]
        return [
            event
            for event in self.ring[cursor + 1 - first :]
            if event.seq <= upto and event.audience in visible
        ]

    async def snapshot(self, audience: Audience) -> tuple[int, Frame]:
        """A snapshot frame for this audience: the one kept, while it is recent enough that
        catching up from it stays short, else a new one from the record (one read for every
        connection that asks meanwhile)."""
        kept = self.snapshots.get(audience)
        first = self.seq - len(self.ring) + 1
        if kept is not None and kept[0] + 1 >= first and self.seq - kept[0] <= SNAPSHOT_MAX_LAG:
            return kept
        build = self.snapshot_builds.get(audience)
        if build is None:
            build = self._spawn(self._read_snapshot(audience))
            self.snapshot_builds[audience] = build
        return await asyncio.shield(build)

    async def _read_snapshot(self, audience: Audience) -> tuple[int, Frame]:
        try:
            seq, state = await database_sync_to_async(stream.snapshot)(self.meeting_id, audience)
            kept = (seq, Frame(frames.snapshot_frame(seq=seq, state=state)))
            self.snapshots[audience] = kept
            return kept
        finally:
            self.snapshot_builds.pop(audience, None)

    # --- helpers ------------------------------------------------------------------------------

    def payload(self, event: LoggedEvent) -> dict:
        return json.loads(event.json)["payload"]

    def _spawn(self, coroutine) -> asyncio.Task:
        task = asyncio.ensure_future(coroutine)
        self.tasks.add(task)
        task.add_done_callback(self._done)
        return task

    def _done(self, task: asyncio.Task) -> None:
        self.tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            logger.error(
                "stream task of meeting %s failed", self.meeting_id, exc_info=task.exception()
            )

    def close(self) -> None:
        if self.phone_timer is not None:
            self.phone_timer.cancel()
        for task in list(self.tasks):
            task.cancel()
