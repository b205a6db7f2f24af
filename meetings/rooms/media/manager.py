"""The hubs of one process and the messages that drive them.

Runs on one asyncio loop: a thread of its own in the single-process default, or the media
worker's main loop. Messages (gateway.py builds them):

    media.offer      {meeting, peer, reply_to, role, hall, sdp}  -> media.answer to reply_to
    media.candidate  {meeting, peer, candidate}
    media.leave      {meeting, peer}
    meeting.event    {meeting, event_type, ...}   the meeting's doorbell (realtime/groups.py)

Each hub follows its meeting's record: the entries in FOLLOWED, read from the database after
the last one it acted on, when the doorbell rings for one of them and every FOLLOW_SECONDS
whatever the doorbell did (it may drop messages). A question on air (a keyframe for every
hall, the start of its clip), answered (the clip's end) or returned; the floor, the layout,
a hall's pinned tier or the meeting's status changed (the hub reads its settings again). No
other message tells a hub what happened, so nothing is lost with one.

A media worker that starts (or starts again after a crash) calls ``resume``: see there.
"""

import asyncio
import logging
import re
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC

from channels.db import database_sync_to_async

from meetings import metrics
from meetings.rooms.media.compositor import Layout
from meetings.rooms.media.hub import HubSettings, MeetingHub, Role
from meetings.rooms.media.session import RecordingSession
from meetings.rooms.media.tiers import Tier

logger = logging.getLogger(__name__)

IDLE_SECONDS = 300  # a hub with no peer for this long is closed
FIGURES_EVERY_SECONDS = 2.0
FOLLOW_SECONDS = 0.5  # the catch-up with the record, for doorbells that did not ring
RESUBSCRIBE_SECONDS = 30  # Redis may have restarted empty; a membership expires after a day
# One pool of encoding threads for all the hubs of a process (PyAV releases the GIL while it
# encodes, so tiers and conferences encode side by side).
ENCODE_THREADS = 4

# The record's entries a hub acts on.
MARKS = {"public.on_air": "on_air", "public.answered": "answered", "public.returned": "returned"}
RELOADS = frozenset(
    {
        "meeting.status_changed",
        "floor.granted",
        "floor.revoked",
        "programme.layout_set",
        "hall.tier_pinned",
    }
)
FOLLOWED = frozenset(MARKS) | RELOADS
HUB_RESTARTED = {"type": "media.frame", "frame": {"type": "media.restarted"}}

Send = Callable[[str, dict], Awaitable[None]]
Join = Callable[[str], Awaitable[None]]


class HubManager:
    """``subscribe``/``unsubscribe`` join and leave a channel-layer group with the channel
    whose messages reach ``handle`` (a media worker's); without them, doorbells are handed to
    ``handle`` by whoever hears them (gateway.doorbell, in the single-process default)."""

    def __init__(
        self,
        *,
        send: Send,
        group_send: Send,
        encode_threads: int = ENCODE_THREADS,
        subscribe: Join | None = None,
        unsubscribe: Join | None = None,
    ):
        self.send = send
        self.group_send = group_send
        self.subscribe, self.unsubscribe = subscribe, unsubscribe
        self.cursors: dict[int, int] = {}  # per meeting, the last seq of its record acted on
        self._follow_locks: dict[int, asyncio.Lock] = {}
        self._catching_up: asyncio.Task | None = None
        self.executor = ThreadPoolExecutor(
            max_workers=encode_threads, thread_name_prefix="media-encode"
        )
        self.hubs: dict[int, MeetingHub] = {}
        self.sessions: dict[int, RecordingSession] = {}
        self.idle_since: dict[int, float] = {}
        self._peer_locks: dict[str, asyncio.Lock] = {}
        self._hub_locks: dict[int, asyncio.Lock] = {}
        self._housekeeping: asyncio.Task | None = None
        metrics.watch_media(self)  # its hubs' figures at /metrics

    async def handle(self, message: dict) -> None:
        """Handle one message. Messages of one peer are handled in the order they came (a
        candidate must not overtake its offer); different peers' run side by side."""
        peer = message.get("peer")
        if peer is None:
            await self._handle(message)
            return
        lock = self._peer_locks.setdefault(peer, asyncio.Lock())
        async with lock:
            await self._handle(message)
        if message.get("type") == "media.leave" and not lock.locked():
            self._peer_locks.pop(peer, None)

    async def _handle(self, message: dict) -> None:
        kind = message.get("type")
        meeting_id = message.get("meeting")
        try:
            if kind == "media.offer":
                await self._offer(message)
            elif kind == "media.candidate":
                hub = self.hubs.get(meeting_id)
                if hub:
                    await hub.add_candidate(message["peer"], message["candidate"])
            elif kind == "media.leave":
                hub = self.hubs.get(meeting_id)
                if hub:
                    await hub.leave(message["peer"])
            elif kind == "meeting.event":
                if meeting_id in self.hubs and message.get("event_type") in FOLLOWED:
                    await self.follow(meeting_id)
            else:
                logger.warning("media: unknown message %r", kind)
        except Exception:
            logger.exception("media: handling %s for meeting %s failed", kind, meeting_id)
            if kind == "media.offer":
                await self.send(
                    message["reply_to"],
                    {"type": "media.frame", "frame": {"type": "media.error", "code": "hub_failed"}},
                )

    async def _offer(self, message: dict) -> None:
        hub = await self._hub(message["meeting"])
        answer = await hub.offer(
            peer_id=message["peer"],
            role=Role(message["role"]),
            hall_id=message.get("hall"),
            reply_to=message["reply_to"],
            sdp=message["sdp"],
        )
        # The offer's ICE ufrag goes back with the answer: a screen that has offered again
        # since (after a restart it may have two offers on the way) ignores a stale answer.
        frame = {"type": "media.answer", "sdp": answer, "offer_ufrag": ice_ufrag(message["sdp"])}
        await self.send(message["reply_to"], {"type": "media.frame", "frame": frame})

    async def resume(self, *, index: int, workers: int) -> None:
        """On a worker's start: bring back at once what a killed predecessor left.

        The screens of a dead worker's meetings would only notice by themselves when frames
        stop (a few seconds) or ICE gives up (much longer), and would then back off. So each
        meeting of this worker that shows a programme (scheduled or live) is told
        ``media.restarted``, and its screens offer again at once; a live meeting's hub starts
        now rather than with the first offer, which closes the part the crash interrupted and
        records the programme in a new one."""
        from meetings.rooms.models import Audience
        from meetings.rooms.realtime.groups import screens

        # The audiences whose screens connect to the hub (voters' phones never do).
        audiences = (Audience.HALLS, Audience.CANDIDATES, Audience.STAFF)
        for meeting_id, live in await meetings_with_programme(index=index, workers=workers):
            try:
                for audience in audiences:
                    await self.group_send(screens(meeting_id, audience), HUB_RESTARTED)
                if live:
                    await self._hub(meeting_id)
            except Exception:
                logger.exception("media: resuming meeting %s failed", meeting_id)

    async def _hub(self, meeting_id: int) -> MeetingHub:
        # One hub per meeting, even when its screens all offer at once (after a restart they
        # do): without the lock each would start a hub of its own while the first loads.
        async with self._hub_locks.setdefault(meeting_id, asyncio.Lock()):
            hub = self.hubs.get(meeting_id)
            return hub if hub is not None else await self._start_hub(meeting_id)

    async def follow(self, meeting_id: int) -> None:
        """Act on the meeting's record after the last entry acted on, in order, once each."""
        async with self._follow_locks.setdefault(meeting_id, asyncio.Lock()):
            cursor = self.cursors.get(meeting_id)
            if cursor is None:
                return
            reloaded = False
            for seq, kind, question_id, at in await record_after(meeting_id, cursor):
                hub, session = self.hubs.get(meeting_id), self.sessions.get(meeting_id)
                if hub is None or session is None:
                    return  # closed meanwhile
                try:
                    if kind in RELOADS:
                        if not reloaded:  # the settings read are the latest: once is enough
                            settings = await load_settings(meeting_id)
                            hub.apply(settings)
                            await self._follow_recording(meeting_id, settings)
                            reloaded = True
                    elif question_id is not None:
                        await session.mark(question_id, MARKS[kind], at=at)
                except Exception:
                    logger.exception(
                        "media: acting on entry %s of meeting %s failed", seq, meeting_id
                    )
                self.cursors[meeting_id] = seq

    async def _start_hub(self, meeting_id: int) -> MeetingHub:
        # Where the hub starts following: before its settings are read, so that a change
        # made between the two is acted on (again).
        cursor = await record_head(meeting_id)
        settings = await load_settings(meeting_id)
        hub = MeetingHub(
            meeting_id,
            reply=self._reply_to_peer,
            executor=self.executor,
            settings=settings,
            on_floor_time_up=lambda hall_id, m=meeting_id: floor_time_up(m, hall_id),
        )
        hub.start()
        self.hubs[meeting_id] = hub
        self.sessions[meeting_id] = RecordingSession(hub)
        await close_interrupted_parts(meeting_id)
        await self._follow_recording(meeting_id, settings)
        self.cursors[meeting_id] = cursor
        if self.subscribe is not None:
            await self.subscribe(meeting_events(meeting_id))
        if self._housekeeping is None:
            self._housekeeping = asyncio.ensure_future(self._keep_house())
        if self._catching_up is None:
            self._catching_up = asyncio.ensure_future(self._catch_up())
        return hub

    async def _follow_recording(self, meeting_id: int, settings: HubSettings) -> None:
        session = self.sessions[meeting_id]
        if settings.recording:
            await session.start()
        else:
            await session.stop()

    async def _close_hub(self, meeting_id: int) -> None:
        self.cursors.pop(meeting_id, None)
        if self.unsubscribe is not None:
            try:
                await self.unsubscribe(meeting_events(meeting_id))
            except Exception:
                logger.warning("media: leaving the events of meeting %s failed", meeting_id)
        hub = self.hubs.pop(meeting_id)
        session = self.sessions.pop(meeting_id, None)
        if session is not None:
            await session.stop()
        await hub.close()

    async def _reply_to_peer(self, channel: str, frame: dict) -> None:
        await self.send(channel, {"type": "media.frame", "frame": frame})

    async def _keep_house(self) -> None:
        """Send each meeting's link figures to its moderators; close hubs left idle."""
        from meetings.rooms.models import Audience
        from meetings.rooms.realtime.groups import screens

        while True:
            await asyncio.sleep(FIGURES_EVERY_SECONDS)
            now = time.monotonic()
            for meeting_id, hub in list(self.hubs.items()):
                try:
                    if hub.peers:
                        self.idle_since.pop(meeting_id, None)
                        await self.group_send(
                            screens(meeting_id, Audience.STAFF),
                            {
                                "type": "media.frame",
                                "frame": {"type": "media.halls", "halls": hub.hall_figures()},
                            },
                        )
                    elif now - self.idle_since.setdefault(meeting_id, now) > IDLE_SECONDS:
                        await self._close_hub(meeting_id)
                except Exception:
                    logger.exception("media: housekeeping of meeting %s failed", meeting_id)

    async def _catch_up(self) -> None:
        """Every FOLLOW_SECONDS, each hub acts on what its meeting's record has that no
        doorbell announced; now and then the doorbells' groups are joined again."""
        subscribed = time.monotonic()
        while True:
            await asyncio.sleep(FOLLOW_SECONDS)
            resubscribe = time.monotonic() - subscribed > RESUBSCRIBE_SECONDS
            if resubscribe:
                subscribed = time.monotonic()
            for meeting_id in list(self.hubs):
                try:
                    if resubscribe and self.subscribe is not None:
                        await self.subscribe(meeting_events(meeting_id))
                    await self.follow(meeting_id)
                except Exception:
                    logger.exception("media: following the record of meeting %s failed", meeting_id)

    async def close(self) -> None:
        if self._housekeeping:
            self._housekeeping.cancel()
        if self._catching_up:
            self._catching_up.cancel()
        for meeting_id in list(self.hubs):
            await self._close_hub(meeting_id)
        self.executor.shutdown(wait=False)


@database_sync_to_async
def close_interrupted_parts(meeting_id: int) -> None:
    from meetings.rooms.models import Meeting
    from meetings.rooms.services.recordings import recordings_close_interrupted

    recordings_close_interrupted(meeting=Meeting.objects.get(pk=meeting_id))


def ice_ufrag(sdp: str) -> str | None:
    found = re.search(r"^a=ice-ufrag:(\S+)", sdp, re.MULTILINE)
    return found.group(1) if found else None


@database_sync_to_async
def meetings_with_programme(*, index: int, workers: int) -> list[tuple[int, bool]]:
    """(id, live) of this worker's meetings whose screens show the programme: scheduled (the
    halls' technical checks) or live (recorded)."""
    from meetings.rooms.models import Meeting, MeetingStatus

    statuses = (MeetingStatus.SCHEDULED, MeetingStatus.LIVE)
    return [
        (meeting_id, status == MeetingStatus.LIVE)
        for meeting_id, status in Meeting.objects.filter(status__in=statuses).values_list(
            "pk", "status"
        )
        if meeting_id % workers == index
    ]


def meeting_events(meeting_id: int) -> str:
    from meetings.rooms.realtime.groups import meeting_events as group

    return group(meeting_id)


@database_sync_to_async
def record_head(meeting_id: int) -> int:
    from meetings.rooms.models import EventLogHead

    return EventLogHead.objects.values_list("seq", flat=True).get(meeting_id=meeting_id)


@database_sync_to_async
def record_after(meeting_id: int, seq: int) -> list[tuple[int, str, int | None, float]]:
    """The entries a hub acts on after ``seq``: (seq, type, question, when it was written)."""
    from meetings.rooms.models import Event

    rows = (
        Event.objects.filter(meeting_id=meeting_id, seq__gt=seq, type__in=FOLLOWED)
        .order_by("seq")
        .values_list("seq", "type", "payload__question", "created_at")[:500]
    )
    return [(seq, kind, question, at.timestamp()) for seq, kind, question, at in rows]


@database_sync_to_async
def load_settings(meeting_id: int) -> HubSettings:
    from meetings.rooms.models import BridgePoint, MeetingStatus, Programme

    programme = Programme.objects.select_related("meeting").get(meeting_id=meeting_id)
    until = programme.floor_until.astimezone(UTC).timestamp() if programme.floor_until else None
    pins = {
        hall_id: Tier(tier)
        for hall_id, tier in BridgePoint.objects.filter(meeting_id=meeting_id)
        .exclude(pinned_tier="")
        .values_list("pk", "pinned_tier")
    }
    return HubSettings(
        floor_hall_id=programme.floor_hall_id,
        floor_until=until,
        layout=Layout(programme.layout),
        pinned=pins,
        recording=programme.meeting.status == MeetingStatus.LIVE,
    )


@database_sync_to_async
def floor_time_up(meeting_id: int, hall_id: int) -> None:
    from meetings.rooms.models import Meeting
    from meetings.rooms.services.floor import floor_time_up as end_floor

    end_floor(meeting=Meeting.objects.get(pk=meeting_id), hall_id=hall_id)
