"""The meeting websocket: ``/ws/meetings/<slug>/``.

Thin by design: it authenticates the connection, validates each frame, and passes events from
the record to the client in order. Delivery guarantee: every event the viewer may see reaches
it exactly once, in ``seq`` order, even when the channel layer drops doorbells; each event
frame names the previous event of the viewer's stream (``prev``) so the client can check.
"""

import json
import logging
import time
from collections import deque
from urllib.parse import parse_qs

from channels.consumer import get_handler_name
from channels.db import database_sync_to_async
from channels.exceptions import ChannelFull
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from pydantic import ValidationError

from meetings.locale_choice import chosen_language
from meetings.rooms.errors import DomainError
from meetings.rooms.models import BridgePoint, Meeting
from meetings.rooms.realtime import frames, groups, stream
from meetings.rooms.realtime.media_frames import MediaFrames
from meetings.rooms.record import format_time
from meetings.rooms.services import presence
from meetings.rooms.services.join_links import JoinLinkRefused, join_link_resolve
from meetings.rooms.viewers import Viewer, ViewerKind, viewer_for_link, viewer_for_user

logger = logging.getLogger(__name__)

# Frames a client may send in a burst, and per second after it; beyond that each frame is
# answered with a rate_limited error, and a client that keeps going is disconnected.
FRAME_BURST = 30
FRAMES_PER_SECOND = 10
BAD_FRAMES_BEFORE_CLOSE = 50
REFUSAL_WINDOW_SECONDS = 60


class MeetingConsumer(MediaFrames, AsyncWebsocketConsumer):
    viewer: Viewer | None = None
    _hall_is_studio = False

    async def connect(self):
        self.cursor = 0  # every visible event up to here has been sent
        self.held: dict[int, dict] = {}  # doorbells that came early, by the seq before theirs
        self.gap_check_pending = False
        self.check_sent_at: float | None = None  # the newest stream.check not yet back
        self.joined: list[str] = []
        self.refusals: deque[float] = deque()
        self.tokens = float(FRAME_BURST)
        self.tokens_at = time.monotonic()
        self.last_reap = 0.0
        self.language = _language_of(self.scope)
        # Accept before checking, so that the client learns why it is refused: a refusal
        # during the handshake reaches browsers only as a bare failure.
        await self.accept()
        meeting = await _meeting(self.scope["url_route"]["kwargs"]["slug"])
        if meeting is None:
            await self.close(code=int(frames.CloseCode.UNKNOWN_MEETING))
            return
        viewer, refusal = await _authenticate(self.scope, meeting)
        if viewer is None:
            await self.close(code=int(refusal))
            return
        self.meeting_id = meeting.pk
        self.viewer = viewer
        self.joined.append(groups.meeting_stream(meeting.pk, viewer.audience))
        if viewer.link_id is not None:
            self.joined.append(groups.join_link(viewer.link_id))
        for group in self.joined:
            await self.channel_layer.group_add(group, self.channel_name)
        # Read the head after joining the groups, so no event falls between the two.
        self.cursor = await database_sync_to_async(stream.visible_head)(meeting.pk, viewer.audience)
        if self._is_kiosk:
            self._hall_is_studio = await database_sync_to_async(_kiosk_connected)(
                viewer.hall_id, self.channel_name
            )
        await self.send(
            text_data=frames.welcome_frame(
                seq=self.cursor,
                viewer=viewer.describe(),
                heartbeat=settings.HEARTBEAT_SECONDS,
                server_time=format_time(timezone.now()),
            )
        )

    async def disconnect(self, code):
        if self.viewer is not None:
            await self.on_media_leave()
        for group in self.joined:
            await self.channel_layer.group_discard(group, self.channel_name)
        if self.viewer is not None and self._is_kiosk:
            await database_sync_to_async(presence.kiosk_disconnected)(
                channel_name=self.channel_name
            )

    @property
    def _is_kiosk(self) -> bool:
        return (
            self.viewer is not None
            and self.viewer.kind == ViewerKind.OPERATOR
            and self.viewer.hall_id is not None
        )

    async def dispatch(self, message):
        """As Channels' own, without its trip to the database thread before every message to
        close stale connections. Our handlers reach the database only through
        ``database_sync_to_async``, which does that itself, and most messages (an event on its
        way to this screen) need no database: with 2,000 screens connected, each event cost
        2,000 turns of that one thread, and queued every screen's event behind them."""
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    # --- frames from the client -------------------------------------------------------------

    async def receive(self, text_data=None, bytes_data=None):
        if self.viewer is None:
            return
        # Error messages in the language the page is in.
        with translation.override(self.language):
            await self._receive(text_data, bytes_data)

    async def _receive(self, text_data, bytes_data):
        if not self._take_token():
            await self._refuse(frames.ErrorCode.RATE_LIMITED, _("Too many messages; slow down."))
            return
        if text_data is None:
            await self._refuse(frames.ErrorCode.BAD_FRAME, _("Frames must be JSON text."))
            return
        if len(text_data) > frames.MAX_FRAME_CHARS:
            await self._refuse(frames.ErrorCode.TOO_LARGE, _("This message is too large."))
            return
        try:
            frame = frames.client_frame_adapter.validate_python(json.loads(text_data))
        except (json.JSONDecodeError, ValidationError) as error:
            detail = (
                error.errors(include_url=False, include_input=False)
                if isinstance(error, ValidationError)
                else None
            )
            await self._refuse(
                frames.ErrorCode.BAD_FRAME,
                _("This message is not a valid frame; see docs/protocol.md."),
                detail=detail,
            )
            return
        try:
            await getattr(self, "on_" + frame.type.replace(".", "_"))(frame)
        except DomainError as error:
            await self.send(
                text_data=frames.error_frame(
                    code=error.code, message=error.message, detail=error.detail
                )
            )

    async def on_hello(self, frame: frames.HelloFrame):
        if frame.since is None:
            await self._send_snapshot()
            return
        replay = await database_sync_to_async(stream.events_after)(
            self.meeting_id, self.viewer.audience, frame.since
        )
        if replay.events is None:
            await self._send_snapshot()
            return
        self.cursor = frame.since
        await self._send_events(replay.events)
        await self.send(text_data=frames.synced_frame(seq=self.cursor))

    async def on_ping(self, frame: frames.PingFrame):
        # Kiosks and moderators also end the sessions of kiosks on web nodes that died.
        reap = (
            self._is_kiosk or self.viewer.can_moderate
        ) and time.monotonic() - self.last_reap > settings.HEARTBEAT_SECONDS
        if reap:
            self.last_reap = time.monotonic()
        head = await _ping_work(
            self.scope, self.viewer, self.channel_name, kiosk=self._is_kiosk, reap=reap
        )
        if head is None:
            await self.close(code=int(frames.CloseCode.FORBIDDEN))
            return
        # A doorbell dropped at the end of a burst would leave the client behind until the next
        # event; the ping closes that gap. Usually, though, the doorbells of the newer events
        # are only queued for this connection: check again once they have been read, through
        # the same queue, and answer then. Reading the record at once made most screens that
        # pinged during a burst read it (three pings in five, under load in bench/realtime).
        if self._check_lost():
            # The layer dropped a stream.check (it drops what waits too long): read the record
            # now, or held doorbells would wait for the next event.
            self.check_sent_at, self.gap_check_pending = None, False
            await self._catch_up()
        elif head > self.cursor:
            await self._check_stream(head=head, ping_id=frame.id, pong=True)
            return
        await self._pong(frame.id)

    # --- messages from the channel layer ----------------------------------------------------

    async def meeting_event(self, message):
        seq, prev = message["seq"], message["prev"]
        if self.viewer is None or seq <= self.cursor:
            return  # already sent, by catch-up or an earlier copy
        if prev > self.cursor:
            # A doorbell is missing. Most often it rang a moment later: two events committed
            # by different threads were published in the other order, and it is already
            # queued. Hold this one and look again behind what is queued now; reading the
            # record at once cost every screen a read for each such pair under load.
            self.held[prev] = message
            await self._check_stream(head=prev, ping_id=None, pong=False)
            return
        await self.send(text_data=message["frame"])
        self.cursor = seq
        await self._release_held()

    async def stream_check(self, message):
        """A second look, behind the doorbells that were queued when a ping came or a doorbell
        was found missing: whatever is still missing was lost, and is read from the record."""
        if self.viewer is None:
            return
        if self.check_sent_at is not None and message["sent_at"] >= self.check_sent_at:
            self.check_sent_at = None
        if message["pong"]:
            if message["head"] > self.cursor:
                await self._catch_up()
            await self._pong(message["ping_id"])
            return
        self.gap_check_pending = False
        if self.held:  # the doorbells they wait for were lost
            await self._catch_up()

    async def link_revoked(self, message):
        await self.close(code=int(frames.CloseCode.FORBIDDEN))

    # --- helpers ----------------------------------------------------------------------------

    async def _check_stream(self, *, head: int, ping_id: str | None, pong: bool):
        """Queue a ``stream.check`` for this connection, behind the messages already queued
        for it; at once if its queue is full. One gap check at a time is enough."""
        if not pong:
            if self.gap_check_pending:
                return
            self.gap_check_pending = True
        sent_at = time.monotonic()
        check = {
            "type": "stream.check",
            "head": head,
            "ping_id": ping_id,
            "pong": pong,
            "sent_at": sent_at,
        }
        try:
            await self.channel_layer.send(self.channel_name, check)
        except ChannelFull:
            await self.stream_check(check)
            return
        self.check_sent_at = sent_at

    def _check_lost(self) -> bool:
        return (
            self.check_sent_at is not None
            and time.monotonic() - self.check_sent_at > settings.HEARTBEAT_SECONDS
        )

    async def _release_held(self):
        """Send the held doorbells that now follow on, in order; forget those caught up."""
        for prev in [prev for prev, held in self.held.items() if held["seq"] <= self.cursor]:
            del self.held[prev]
        while (held := self.held.pop(self.cursor, None)) is not None:
            await self.send(text_data=held["frame"])
            self.cursor = held["seq"]

    async def _pong(self, ping_id: str | None):
        await self.send(
            text_data=frames.pong_frame(
                seq=self.cursor, ping_id=ping_id, server_time=format_time(timezone.now())
            )
        )

    async def _catch_up(self):
        replay = await database_sync_to_async(stream.events_after)(
            self.meeting_id, self.viewer.audience, self.cursor
        )
        if replay.events is None:
            await self._send_snapshot()
        else:
            await self._send_events(replay.events)

    async def _send_events(self, events):
        for event in events:
            await self.send(
                text_data=frames.event_frame(seq=event["seq"], prev=self.cursor, event=event)
            )
            self.cursor = event["seq"]
        await self._release_held()

    async def _send_snapshot(self):
        seq, state = await database_sync_to_async(stream.snapshot)(
            self.meeting_id, self.viewer.audience
        )
        self.cursor = seq
        await self.send(text_data=frames.snapshot_frame(seq=seq, state=state))
        await self._release_held()

    def _take_token(self) -> bool:
        now = time.monotonic()
        self.tokens = min(FRAME_BURST, self.tokens + (now - self.tokens_at) * FRAMES_PER_SECOND)
        self.tokens_at = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True

    async def _refuse(self, code: str, message: str, detail=None):
        now = time.monotonic()
        self.refusals.append(now)
        while self.refusals and self.refusals[0] < now - REFUSAL_WINDOW_SECONDS:
            self.refusals.popleft()
        if len(self.refusals) > BAD_FRAMES_BEFORE_CLOSE:
            self.viewer = None  # ignore whatever else arrives before the close completes
            await self.close(code=int(frames.CloseCode.TOO_MANY_BAD_FRAMES))
            return
        await self.send(text_data=frames.error_frame(code=code, message=message, detail=detail))


def _language_of(scope) -> str:
    """The language the client chose with the switcher, else Vietnamese (as for pages)."""
    return chosen_language(scope.get("cookies", {}).get(settings.LANGUAGE_COOKIE_NAME))


# --- database work, run in the thread pool --------------------------------------------------


@database_sync_to_async
def _meeting(slug: str) -> Meeting | None:
    return Meeting.objects.filter(slug=slug).first()


def _link_token(scope) -> str | None:
    values = parse_qs(scope.get("query_string", b"").decode("latin1")).get("link")
    return values[0] if values else None


@database_sync_to_async
def _authenticate(scope, meeting: Meeting) -> tuple[Viewer | None, int]:
    token = _link_token(scope)
    if token:
        try:
            return viewer_for_link(join_link_resolve(token, meeting=meeting)), 0
        except JoinLinkRefused as refusal:
            logger.info("refused join link for %s: %s", meeting.slug, refusal.reason)
            return None, frames.CloseCode.FORBIDDEN
    user = scope.get("user")
    if user is None or not user.is_authenticated:
        return None, frames.CloseCode.NOT_AUTHENTICATED
    viewer = viewer_for_user(user, meeting)
    if viewer is None:
        return None, frames.CloseCode.FORBIDDEN
    return viewer, 0


def _admission_unchanged(scope, viewer: Viewer) -> bool:
    meeting = Meeting.objects.get(pk=viewer.meeting_id)
    if viewer.link_id is not None:
        try:
            return (
                viewer_for_link(join_link_resolve(_link_token(scope) or "", meeting=meeting))
                == viewer
            )
        except JoinLinkRefused:
            return False
    user = get_user_model().objects.filter(pk=viewer.actor.user_id).first()
    return user is not None and viewer_for_user(user, meeting) == viewer


@database_sync_to_async
def _ping_work(scope, viewer: Viewer, channel_name: str, *, kiosk: bool, reap: bool) -> int | None:
    """A ping's database work in one turn of the database thread: whether the viewer is still
    admitted (a rotated link, a revoked role or a deactivated account ends the connection; the
    client reconnects and is admitted, or not, with what it may see now), a kiosk's heartbeat,
    the reaping of dead web nodes' kiosks, and the stream's head. None when no longer admitted."""
    if not _admission_unchanged(scope, viewer):
        return None
    if kiosk:
        _kiosk_heartbeat(viewer.hall_id, channel_name)
    if reap:
        _reap(viewer.meeting_id)
    return stream.visible_head(viewer.meeting_id, viewer.audience)


def _kiosk_heartbeat(hall_id: int, channel_name: str) -> None:
    if not presence.kiosk_heartbeat(channel_name=channel_name):
        # Reaped while its web node was unreachable, but alive after all: count it again.
        _kiosk_connected(hall_id, channel_name)


def _kiosk_connected(hall_id: int, channel_name: str) -> bool:
    """Count the kiosk as connected; returns whether its hall is the studio."""
    hall = BridgePoint.objects.select_related("meeting").get(pk=hall_id)
    presence.kiosk_connected(hall=hall, channel_name=channel_name)
    return hall.is_studio


def _reap(meeting_id: int) -> None:
    presence.kiosk_reap_stale(meeting=Meeting.objects.get(pk=meeting_id))
