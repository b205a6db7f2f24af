"""How a frame reaches one websocket: written straight to its socket under Daphne, through
ASGI anywhere else.

A public event goes to every phone and kiosk of a conference, 2,150 writes per event. Through
ASGI each write passes Daphne's reply path and autobahn's framing, then Twisted buffers it and
asks the event loop to say when the socket is writable (two epoll calls and a callback per
write): about 50 µs per frame on the machine of docs/benchmarks.md, four times a bare asyncio
server. Here the websocket frame is encoded once per event (``Frame.wire``) and written to each
socket with one ``send`` when nothing is queued before it, which costs what the bare server's
write costs; anything queued (a socket that is backed up, a frame autobahn is still sending)
keeps its place, because then the frame is appended behind it.

``DaphneOutlet`` relies on Daphne 4.2, autobahn and Twisted internals (the reply callable Daphne
passes to the application, the protocol's send queue, the transport's buffers): they are
pinned exactly, and tests/rooms/test_wire.py checks the frames on a real Daphne.
"""

import asyncio
import contextlib
import errno
import functools
import logging
import socket
import struct
from collections import deque
from typing import Protocol

logger = logging.getLogger(__name__)

# The ASGI scope extension under which Daphne's websocket protocol object is passed on.
PROTOCOL_EXTENSION = "meetings.daphne_websocket"

# A socket with more than this many bytes still to go is backed up: it leaves the fast path and
# catches up from the stream's copy once it is back under LOW_WATER, so one slow screen neither
# holds the others up nor piles every event up in memory.
HIGH_WATER = 256 * 1024
LOW_WATER = 32 * 1024
# The kernel's own send buffer per websocket. Linux grows it up to 4 MiB by itself, out of our
# sight: a phone whose link stalls would hold megabytes of events there, stale by the time they
# arrive, instead of catching up from the stream's copy. 128 KiB (the kernel doubles it) still
# carries 10 Mbit/s over a 200 ms round trip.
KERNEL_SEND_BUFFER = 128 * 1024


# send() errors that mean "not now" rather than "gone" (as Twisted's own writes read them).
_TRY_LATER = {errno.EAGAIN, errno.EWOULDBLOCK, errno.ENOBUFS, errno.EINTR}


class Frame:
    """A server frame: its text, and its bytes on the wire (encoded once, when first needed)."""

    __slots__ = ("_wire", "text")

    def __init__(self, text: str):
        self.text = text
        self._wire: bytes | None = None

    @property
    def wire(self) -> bytes:
        if self._wire is None:
            self._wire = encode_text_frame(self.text)
        return self._wire


def encode_text_frame(text: str) -> bytes:
    """A complete, unfragmented, unmasked websocket text frame (RFC 6455, 5.2)."""
    payload = text.encode()
    size = len(payload)
    if size < 126:
        header = struct.pack("!BB", 0x81, size)
    elif size < 1 << 16:
        header = struct.pack("!BBH", 0x81, 126, size)
    else:
        header = struct.pack("!BBQ", 0x81, 127, size)
    return header + payload


class Outlet(Protocol):
    def write(self, frame: Frame) -> bool:
        """Send the frame after everything sent before it; False (and nothing sent) when the
        socket is backed up and the frame is not urgent."""

    def send(self, frame: Frame) -> None:
        """Send the frame after everything sent before it, however backed up the socket is."""

    def backlog(self) -> int:
        """Bytes accepted but not yet handed to the kernel."""

    async def drain(self) -> None:
        """Wait until what was sent so far has left this process's queues."""


class DaphneOutlet:
    """Writes to the socket of one of Daphne's websocket connections."""

    def __init__(self, protocol):
        self.protocol = protocol
        self.transport = transport = protocol.transport
        # Only a plain TCP transport has a socket we may write to ourselves; TLS in Daphne
        # (not how we deploy: a proxy terminates it) goes through the transport.
        self.socket = getattr(transport, "socket", None)
        self.direct = self.socket is not None and hasattr(transport, "_tempDataLen")
        if self.direct:
            with contextlib.suppress(OSError):
                self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, KERNEL_SEND_BUFFER)

    def backlog(self) -> int:
        transport = self.transport
        queued = sum(len(data) for data, _sync in self.protocol.send_queue)
        if not self.direct:
            return queued
        return len(transport.dataBuffer) - transport.offset + transport._tempDataLen + queued

    def write(self, frame: Frame) -> bool:
        # The fast path's one question per socket: is anything queued before this frame?
        if self._idle():
            self._send_now(frame.wire)
            return True
        if self.backlog() > HIGH_WATER:
            return False
        self.send(frame)
        return True

    def send(self, frame: Frame) -> None:
        protocol = self.protocol
        if protocol.state != protocol.STATE_OPEN:
            return  # closing: the close handshake is under way, nothing more goes out
        if self._idle():
            self._send_now(frame.wire)
        elif protocol.send_queue:
            # autobahn is trickling earlier data out (it writes a queue over several turns of
            # the loop): behind it.
            protocol.sendData(frame.wire)
        else:
            self.transport.write(frame.wire)

    def _idle(self) -> bool:
        transport = self.transport
        return (
            self.direct
            and not transport.dataBuffer
            and not transport._tempDataLen
            and not self.protocol.send_queue
            and self.protocol.state == self.protocol.STATE_OPEN
            and not transport.disconnecting
        )

    def _send_now(self, data: bytes) -> None:
        """Nothing is queued: straight to the kernel; what it does not take, Twisted queues."""
        try:
            sent = self.socket.send(data)
        except OSError as error:
            if error.errno not in _TRY_LATER:
                return  # the connection is lost: Twisted sees it on its side and closes
            sent = 0
        if sent < len(data):
            self.transport.write(data[sent:])

    async def drain(self) -> None:
        return


class AsgiOutlet:
    """Sends through the ASGI ``send`` callable, one frame at a time, in order: for servers
    other than Daphne and for Channels' test communicator. Never backed up."""

    def __init__(self, send):
        self._send = send
        self._queue: deque[Frame] = deque()
        self._sending: asyncio.Task | None = None

    def backlog(self) -> int:
        return sum(len(frame.text) for frame in self._queue)

    def write(self, frame: Frame) -> bool:
        self.send(frame)
        return True

    def send(self, frame: Frame) -> None:
        self._queue.append(frame)
        if self._sending is None or self._sending.done():
            self._sending = asyncio.ensure_future(self._send_queued())

    async def _send_queued(self) -> None:
        while self._queue:
            frame = self._queue.popleft()
            try:
                await self._send({"type": "websocket.send", "text": frame.text})
            except Exception:
                # The connection is gone (its close is on the way to the consumer).
                self._queue.clear()
                logger.debug("could not send a frame", exc_info=True)

    async def drain(self) -> None:
        while self._sending is not None and not self._sending.done():
            await asyncio.shield(self._sending)


def outlet_for(scope, send) -> Outlet:
    protocol = (scope.get("extensions") or {}).get(PROTOCOL_EXTENSION)
    if protocol is not None:
        return DaphneOutlet(protocol)
    return AsgiOutlet(send)


class DaphneWebsocketAccess:
    """ASGI middleware, outermost: under Daphne, puts the websocket's protocol object into the
    scope's extensions, where ``outlet_for`` finds it. Daphne hands each application instance
    ``send=functools.partial(server.handle_reply, protocol)``; middleware further in wraps
    ``send``, so it is read here, before any of them."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] == "websocket":
            protocol = _daphne_protocol(send)
            if protocol is not None:
                extensions = dict(scope.get("extensions") or {})
                extensions[PROTOCOL_EXTENSION] = protocol
                scope = dict(scope, extensions=extensions)
        return await self.app(scope, receive, send)


def _daphne_protocol(send):
    from daphne.server import Server
    from daphne.ws_protocol import WebSocketProtocol

    if not isinstance(send, functools.partial) or len(send.args) != 1:
        return None
    if not isinstance(getattr(send.func, "__self__", None), Server):
        return None
    protocol = send.args[0]
    return protocol if isinstance(protocol, WebSocketProtocol) else None
