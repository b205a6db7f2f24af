"""A lean websocket client (RFC 6455) for the load generators, on asyncio's Protocol.

The generators must read far more frames than the server under test writes per core: a client
library that hands each message through a queue and a task costs tens of microseconds a frame,
and the generators' core would saturate before the server's. Here every text frame is handed
to a callback straight from `data_received`, as bytes, with no task in between. It offers no
compression (the platform and the baseline are measured alike, on uncompressed frames),
answers the server's protocol pings, and masks what it sends, as the RFC requires of clients.
"""

import asyncio
import base64
import os
import struct
from collections.abc import Callable
from urllib.parse import urlsplit

TEXT, BINARY, CLOSE, PING, PONG, CONTINUATION = 0x1, 0x2, 0x8, 0x9, 0xA, 0x0
NO_STATUS = 1005  # a close frame without a code, or a connection lost without one
HANDSHAKE_LIMIT = 16 * 1024


class HandshakeRefused(Exception):
    def __init__(self, status: int):
        super().__init__(f"handshake refused with HTTP {status}")
        self.status = status


def _mask(payload: bytes) -> bytes:
    key = os.urandom(4)
    if not payload:
        return key
    repeated = (key * (len(payload) // 4 + 1))[: len(payload)]
    masked = int.from_bytes(payload, "big") ^ int.from_bytes(repeated, "big")
    return key + masked.to_bytes(len(payload), "big")


def encode_frame(opcode: int, payload: bytes) -> bytes:
    length = len(payload)
    if length < 126:
        head = struct.pack("!BB", 0x80 | opcode, 0x80 | length)
    elif length < 1 << 16:
        head = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, length)
    else:
        head = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, length)
    return head + _mask(payload)


class WebSocket(asyncio.Protocol):
    """One client connection. `on_text(bytes)` gets each text message; `on_close(code)` once,
    when the connection is gone (closed by either side, or lost)."""

    def __init__(self, request: bytes, on_text: Callable[[bytearray], None], on_close):
        self.request = request
        self.on_text = on_text
        self.on_close = on_close
        self.transport: asyncio.Transport | None = None
        self.opened: asyncio.Future = asyncio.get_running_loop().create_future()
        self.buffer = bytearray()
        self.fragments: list[bytes] | None = None
        self.close_code: int | None = None
        self.closed = False

    # --- asyncio.Protocol -------------------------------------------------------------------

    def connection_made(self, transport) -> None:
        self.transport = transport
        transport.write(self.request)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if not self.opened.done():
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                if len(self.buffer) > HANDSHAKE_LIMIT:
                    self._fail(HandshakeRefused(0))
                return
            status_line = bytes(self.buffer[: self.buffer.find(b"\r\n")])
            parts = status_line.split(b" ", 2)
            status = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0
            del self.buffer[: end + 4]
            if status != 101:
                self._fail(HandshakeRefused(status))
                return
            self.opened.set_result(self)
        self._read_frames()

    def connection_lost(self, exc) -> None:
        if not self.opened.done():  # the caller of connect() hears of it, not on_close
            self.opened.set_exception(ConnectionError(f"connection lost: {exc!r}"))
            self.closed = True
            return
        if not self.opened.cancelled() and self.opened.exception() is not None:
            self.closed = True
            return
        self._closed(self.close_code or NO_STATUS)

    # --- frames -----------------------------------------------------------------------------

    def _read_frames(self) -> None:
        buffer, at, size = self.buffer, 0, len(self.buffer)
        while size - at >= 2:
            first, second = buffer[at], buffer[at + 1]
            length = second & 0x7F
            head = 2
            if length == 126:
                if size - at < 4:
                    break
                length = (buffer[at + 2] << 8) | buffer[at + 3]
                head = 4
            elif length == 127:
                if size - at < 10:
                    break
                length = int.from_bytes(buffer[at + 2 : at + 10], "big")
                head = 10
            if second & 0x80:  # a server must not mask
                self.abort()
                return
            if size - at < head + length:
                break
            payload = buffer[at + head : at + head + length]  # a copy: bytes-like, as needed
            at += head + length
            self._on_frame(first & 0x80, first & 0x0F, payload)
            if self.closed:
                return
        del buffer[:at]

    def _on_frame(self, fin: int, opcode: int, payload: bytes) -> None:
        if opcode in (TEXT, BINARY):
            if fin:
                if opcode == TEXT:
                    self.on_text(payload)
            else:
                self.fragments = [payload] if opcode == TEXT else []
        elif opcode == CONTINUATION:
            if self.fragments is not None:
                self.fragments.append(payload)
                if fin:
                    message, self.fragments = b"".join(self.fragments), None
                    if message:
                        self.on_text(message)
        elif opcode == PING:
            self._write(PONG, payload)
        elif opcode == CLOSE:
            code = int.from_bytes(payload[:2], "big") if len(payload) >= 2 else NO_STATUS
            self.close_code = code
            self._write(CLOSE, payload[:2])
            if self.transport is not None:
                self.transport.close()

    def _write(self, opcode: int, payload: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(encode_frame(opcode, payload))

    def _fail(self, error: Exception) -> None:
        if not self.opened.done():
            self.opened.set_exception(error)
        if self.transport is not None:
            self.transport.close()

    def _closed(self, code: int) -> None:
        if not self.closed:
            self.closed = True
            self.close_code = code
            self.on_close(code)

    # --- the client's side ------------------------------------------------------------------

    def send_text(self, text: str) -> None:
        """Write a text message now; nothing is written once the connection is closing."""
        self._write(TEXT, text.encode())

    def close(self, code: int = 1000) -> None:
        self._write(CLOSE, code.to_bytes(2, "big"))
        if self.transport is not None:
            self.transport.close()

    def abort(self) -> None:
        if self.transport is not None:
            self.transport.abort()


async def connect(
    url: str,
    headers: dict[str, str],
    on_text: Callable[[bytes], None],
    on_close: Callable[[int], None],
    timeout: float = 60,
) -> WebSocket:
    """Open `ws://host:port/path?query` and complete the handshake; raise HandshakeRefused
    (with the HTTP status), OSError or TimeoutError."""
    parts = urlsplit(url)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    key = base64.b64encode(os.urandom(16)).decode()
    lines = [
        f"GET {path} HTTP/1.1",
        f"Host: {parts.netloc}",
        "Upgrade: websocket",
        "Connection: Upgrade",
        f"Sec-WebSocket-Key: {key}",
        "Sec-WebSocket-Version: 13",
        *(f"{name}: {value}" for name, value in headers.items()),
    ]
    request = ("\r\n".join(lines) + "\r\n\r\n").encode()
    loop = asyncio.get_running_loop()
    transport, protocol = await asyncio.wait_for(
        loop.create_connection(
            lambda: WebSocket(request, on_text, on_close), parts.hostname, parts.port
        ),
        timeout,
    )
    try:
        await asyncio.wait_for(asyncio.shield(protocol.opened), timeout)
    except BaseException:
        transport.abort()
        raise
    return protocol
