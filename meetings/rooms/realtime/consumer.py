"""The meeting websocket: ``/ws/meetings/<slug>/``.

Thin by design: it admits the connection, validates each frame the client sends, and hands the
connection to its web process's fan-out (fanout.py), which sends it every event it may see,
exactly once and in ``seq`` order, each frame naming the previous one (``prev``). Pings are
answered from memory; what ends a connection's admission arrives as an event (admission.py).
"""

import json
import logging
import time
from collections import deque
from urllib.parse import parse_qs

from channels.consumer import get_handler_name
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from pydantic import ValidationError

from meetings.client_address import websocket_client_address
from meetings.locale_choice import chosen_language
from meetings.logs import CONFERENCE
from meetings.rooms.errors import DomainError
from meetings.rooms.models import Audience, KioskSession, KioskSessionState, Meeting
from meetings.rooms.realtime import admission, frames, groups
from meetings.rooms.realtime.connection import Connection
from meetings.rooms.realtime.fanout import fanout
from meetings.rooms.realtime.handlers import frame_handlers
from meetings.rooms.realtime.media_frames import MediaFrames
from meetings.rooms.realtime.wire import outlet_for
from meetings.rooms.record import format_time
from meetings.rooms.services import presence
from meetings.rooms.services.kiosk_sessions import kiosk_session_connected
from meetings.rooms.viewers import Viewer

logger = logging.getLogger(__name__)

# Frames a client may send in a burst, and per second after it; beyond that each frame is
# answered with a rate_limited error, and a client that keeps going is disconnected.
FRAME_BURST = 30
FRAMES_PER_SECOND = 10
BAD_FRAMES_BEFORE_CLOSE = 50
REFUSAL_WINDOW_SECONDS = 60


class MeetingConsumer(MediaFrames, AsyncWebsocketConsumer):
    viewer: Viewer | None = None
    connection: Connection | None = None
    _hall_is_studio = False
    _closing = False

    async def connect(self):
        self.screens_group: str | None = None
        self.refusals: deque[float] = deque()
        self.tokens = float(FRAME_BURST)
        self.tokens_at = time.monotonic()
        self.language = _language_of(self.scope)
        # Accept before checking, so that the client learns why it is refused: a refusal
        # during the handshake reaches browsers only as a bare failure.
        await self.accept()
        # Every line this socket's task logs names its conference (meetings/logs.py).
        CONFERENCE.set(self.scope["url_route"]["kwargs"]["slug"])
        link_token = _query_value(self.scope, "link")
        kiosk_token = _query_value(self.scope, "session")
        meeting, viewer, refusal, expires_at = await database_sync_to_async(_admit)(
            self.scope["url_route"]["kwargs"]["slug"],
            link_token,
            self.scope.get("user"),
            kiosk_token,
        )
        if viewer is None:
            await self.close(code=int(refusal))
            return
        self.meeting, self.meeting_id = meeting, meeting.pk
        by_account = viewer.link_id is None
        connection = Connection(
            viewer=viewer,
            outlet=outlet_for(self.scope, self.base_send),
            channel_name=self.channel_name,
            close=self._close_from_fanout,
            link_token=link_token or None,
            kiosk_token=kiosk_token if viewer.is_hall_screen else None,
            link_expires_at=expires_at,
            session_key=_session_key(self.scope) if by_account else None,
            account_stamp=admission.account_stamp(self.scope.get("user")) if by_account else None,
        )
        try:
            self.feed = await fanout().join(connection)
        except Exception:
            logger.exception("could not open the stream of meeting %s", meeting.pk)
            await self.close(code=1011)
            return
        self.viewer, self.connection = viewer, connection
        if viewer.audience != Audience.PUBLIC:
            # Frames outside the record (the media hub's, the halls' thumbnails) for screens
            # that use the hub: a few per meeting, each joined on its own.
            self.screens_group = groups.screens(meeting.pk, viewer.audience)
            await self.channel_layer.group_add(self.screens_group, self.channel_name)
        if connection.is_kiosk:
            # Read after joining the fan-out: a session that ended before this point is seen
            # ended here, one that ends after it reaches the fan-out as an event.
            is_studio = await database_sync_to_async(_kiosk_connected)(
                viewer.hall_id, viewer.kiosk_session_id, self.channel_name, self.scope
            )
            if is_studio is None:
                await self._close_from_fanout(int(frames.CloseCode.KIOSK_NOT_HOLDING))
                return
            self._hall_is_studio = is_studio
        connection.send_text(
            frames.welcome_frame(
                seq=self.feed.last_visible[viewer.audience],
                viewer=viewer.describe(),
                heartbeat=settings.HEARTBEAT_SECONDS,
                server_time=format_time(timezone.now()),
            )
        )

    async def disconnect(self, code):
        connection = self.connection
        if connection is None:
            return
        self.viewer = self.connection = None
        fanout().leave(connection)
        await self.on_media_leave()
        if self.screens_group is not None:
            await self.channel_layer.group_discard(self.screens_group, self.channel_name)
        if connection.is_kiosk:
            await database_sync_to_async(presence.kiosk_disconnected)(
                channel_name=self.channel_name
            )

    async def _close_from_fanout(self, code: int) -> None:
        """The fan-out found the connection no longer admitted (or broken): close it, once
        (a message and the stream check may both find it refused)."""
        if self.connection is None or self._closing:
            return
        self._closing = True
        self.viewer = None  # ignore whatever else the client sends meanwhile
        await self.connection.outlet.drain()
        await self.close(code=code)

    async def dispatch(self, message):
        """As Channels' own, without its trip to the database thread before every message to
        close stale connections: our handlers reach the database only through
        ``database_sync_to_async``, which does that itself."""
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def send(self, text_data=None, bytes_data=None, close=False):
        """Every frame goes out through the connection's outlet, behind the stream's frames."""
        if self.connection is not None and text_data is not None and not close:
            self.connection.send_text(text_data)
            return
        await super().send(text_data=text_data, bytes_data=bytes_data, close=close)

    # --- frames from the client -------------------------------------------------------------

    async def receive(self, text_data=None, bytes_data=None):
        if self.viewer is None:
            return
        self.connection.heard()
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
                    code=error.code,
                    message=error.message,
                    detail=error.detail,
                    frame_id=getattr(frame, "id", None),
                )
            )

    async def on_hello(self, frame: frames.HelloFrame):
        self.feed.hello(self.connection, frame.since)

    async def on_vote(self, frame: frames.VoteFrame):
        await frame_handlers["vote"](self, frame)

    async def on_ping(self, frame: frames.PingFrame):
        # Answered from memory: the connection is sent every event as it comes (or is being
        # caught up), so the pong's seq is what it has been sent so far.
        await self.send(
            text_data=frames.pong_frame(
                seq=max(self.connection.cursor, 0),
                ping_id=frame.id,
                server_time=format_time(timezone.now()),
            )
        )

    # --- helpers ----------------------------------------------------------------------------

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
            await self._close_from_fanout(int(frames.CloseCode.TOO_MANY_BAD_FRAMES))
            return
        await self.send(text_data=frames.error_frame(code=code, message=message, detail=detail))


def _language_of(scope) -> str:
    """The language the client chose with the switcher, else Vietnamese (as for pages)."""
    return chosen_language(scope.get("cookies", {}).get(settings.LANGUAGE_COOKIE_NAME))


def _session_key(scope) -> str | None:
    session = scope.get("session")
    return session.session_key if session is not None else None


def _query_value(scope, name: str) -> str | None:
    values = parse_qs(scope.get("query_string", b"").decode("latin1")).get(name)
    return values[0] if values else None


def _admit(slug: str, link_token: str | None, user, kiosk_token: str | None):
    """(meeting, viewer, 0, the link's expiry), or (…, None, close code, None): one turn of
    the database thread for the whole admission."""
    meeting = Meeting.objects.filter(slug=slug).first()
    if meeting is None:
        return None, None, frames.CloseCode.UNKNOWN_MEETING, None
    viewer, refusal, expires_at = admission.admit(
        meeting=meeting, link_token=link_token, user=user, kiosk_token=kiosk_token
    )
    return meeting, viewer, refusal, expires_at


def _kiosk_connected(hall_id: int, session_id: int, channel_name: str, scope) -> bool | None:
    """Count the hall's screen as connected; returns whether its hall is the studio, or None
    if its session no longer holds the hall."""
    session = (
        KioskSession.objects.select_related("hall__meeting")
        .filter(pk=session_id, hall_id=hall_id, state=KioskSessionState.HOLDING)
        .first()
    )
    if session is None:
        return None
    kiosk_session_connected(
        session=session,
        user_agent=_header(scope, b"user-agent"),
        address=websocket_client_address(scope) or "",
    )
    presence.kiosk_connected(hall=session.hall, channel_name=channel_name)
    return session.hall.is_studio


def _header(scope, name: bytes) -> str:
    return next((v.decode("latin1") for n, v in scope.get("headers", ()) if n == name), "")
