"""The hubs of one process and the messages that drive them.

Runs on one asyncio loop: a thread of its own in the single-process default, or the media
worker's main loop. Messages (gateway.py builds them):

    media.offer      {meeting, peer, reply_to, role, hall, sdp}  -> media.answer to reply_to
    media.candidate  {meeting, peer, candidate}
    media.leave      {meeting, peer}
    media.reload     {meeting}   the floor, layout, pins or status changed in the database
    media.mark       {meeting, question, mark}   a question went on air (a keyframe for every
                     hall, the start of its clip), was answered (the clip's end) or returned

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

from meetings.rooms.media.compositor import Layout
from meetings.rooms.media.hub import HubSettings, MeetingHub, Role
from meetings.rooms.media.session import RecordingSession
from meetings.rooms.media.tiers import Tier

logger = logging.getLogger(__name__)

IDLE_SECONDS = 300  # a hub with no peer for this long is closed
FIGURES_EVERY_SECONDS = 2.0
HUB_RESTARTED = {"type": "media.frame", "frame": {"type": "media.restarted"}}

Send = Callable[[str, dict], Awaitable[None]]


class HubManager:
    def __init__(self, *, send: Send, group_send: Send, encode_threads: int = 4):
        self.send = send
        self.group_send = group_send
        self.executor = ThreadPoolExecutor(
            max_workers=encode_threads, thread_name_prefix="media-encode"
        )
        self.hubs: dict[int, MeetingHub] = {}
        self.sessions: dict[int, RecordingSession] = {}
        self.idle_since: dict[int, float] = {}
        self._peer_locks: dict[str, asyncio.Lock] = {}
        self._hub_locks: dict[int, asyncio.Lock] = {}
        self._housekeeping: asyncio.Task | None = None

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
            elif kind == "media.reload":
                hub = self.hubs.get(meeting_id)
                if hub:
                    settings = await load_settings(meeting_id)
                    hub.apply(settings)
                    await self._follow_recording(meeting_id, settings)
            elif kind == "media.mark":
                session = self.sessions.get(meeting_id)
                if session:
                    await session.mark(message["question"], message["mark"])
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

    async def _start_hub(self, meeting_id: int) -> MeetingHub:
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
        if self._housekeeping is None:
            self._housekeeping = asyncio.ensure_future(self._keep_house())
        return hub

    async def _follow_recording(self, meeting_id: int, settings: HubSettings) -> None:
        session = self.sessions[meeting_id]
        if settings.recording:
            await session.start()
        else:
            await session.stop()

    async def _close_hub(self, meeting_id: int) -> None:
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

    async def close(self) -> None:
        if self._housekeeping:
            self._housekeeping.cancel()
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
