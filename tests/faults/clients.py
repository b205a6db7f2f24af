"""Clients that behave as the platform's real screens do, for the fault tests.

- ``WebSocket``: a small RFC 6455 client over asyncio streams (text frames, the server's pings
  answered, close codes kept), so the tests need no websocket package beyond the pinned ones.
- ``StreamClient``: the meeting stream's client rule of docs/protocol.md and frontend/js/live.js:
  hello (with ``since`` after a reconnect), gaps repaired by asking again, a ping every
  ``heartbeat_seconds``, a silent socket abandoned after three heartbeats, reconnecting with
  live.js's growing, jittered delays.
- ``VoterPhone``: a phone's outbox (frontend/js/outbox.js): each question gets its client id
  before the first attempt and keeps it through every retry, with the outbox's backoff.
- ``Balancer``: what stands in front of several web nodes in production: round robin, and a node
  that refused a connection is left out for a while (nginx's ``max_fails=1 fail_timeout=30s``).
- ``Account``: a signed-in account (session cookie and CSRF token), for moderators' actions.
"""

import asyncio
import base64
import contextlib
import hashlib
import itertools
import json
import os
import random
import socket
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlsplit

import requests

from meetings.rooms.models import Audience
from meetings.rooms.patch import apply_patch

WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
PERMANENT_CLOSE = {4401, 4403, 4404}


class HandshakeRefused(ConnectionError):
    pass


USER_AGENT = "faults client"  # what these clients send as their browser


class WebSocket:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        self.reader = reader
        self.writer = writer
        self.close_code: int | None = None
        self.closing = False

    @classmethod
    async def connect(
        cls,
        url: str,
        *,
        origin: str,
        headers: dict[str, str] | None = None,
        timeout=10,
        receive_buffer: int | None = None,
    ) -> "WebSocket":
        parts = urlsplit(url)
        port = parts.port or 80
        if receive_buffer is None:
            opened = asyncio.open_connection(parts.hostname, port, limit=2**24)
        else:
            # A small receive window that stays small: a client that stops reading backs the
            # server's socket up quickly, as a phone on a stalled mobile link does.
            raw = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
            raw.setblocking(False)
            await asyncio.get_running_loop().sock_connect(raw, (parts.hostname, port))
            opened = asyncio.open_connection(sock=raw, limit=receive_buffer)
        reader, writer = await asyncio.wait_for(opened, timeout)
        try:
            key = base64.b64encode(os.urandom(16)).decode()
            target = parts.path + (f"?{parts.query}" if parts.query else "")
            lines = [
                f"GET {target} HTTP/1.1",
                f"Host: {parts.hostname}:{port}",
                "Upgrade: websocket",
                "Connection: Upgrade",
                f"Sec-WebSocket-Key: {key}",
                "Sec-WebSocket-Version: 13",
                f"Origin: {origin}",
                f"User-Agent: {USER_AGENT}",
                *(f"{name}: {value}" for name, value in (headers or {}).items()),
            ]
            writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout)
            status = head.split(b"\r\n", 1)[0].decode(errors="replace")
            if " 101 " not in status + " ":
                raise HandshakeRefused(status)
            accept = base64.b64encode(hashlib.sha1((key + WS_GUID).encode()).digest())
            if b"sec-websocket-accept: " + accept.lower() not in head.lower():
                raise HandshakeRefused("bad Sec-WebSocket-Accept")
        except BaseException:
            writer.transport.abort()
            raise
        return cls(reader, writer)

    async def send_text(self, text: str) -> None:
        await self._send(0x1, text.encode())

    async def _send(self, opcode: int, payload: bytes) -> None:
        mask = os.urandom(4)
        length = len(payload)
        if length < 126:
            header = bytes([0x80 | opcode, 0x80 | length])
        elif length < 2**16:
            header = bytes([0x80 | opcode, 0x80 | 126]) + length.to_bytes(2, "big")
        else:
            header = bytes([0x80 | opcode, 0x80 | 127]) + length.to_bytes(8, "big")
        masked = bytes(byte ^ mask[index & 3] for index, byte in enumerate(payload))
        self.writer.write(header + mask + masked)
        await self.writer.drain()

    async def recv(self) -> str | None:
        """The next text message; None once the connection is closed (see ``close_code``)."""
        message = bytearray()
        try:
            while True:
                first, second = await self.reader.readexactly(2)
                fin, opcode = first & 0x80, first & 0x0F
                length = second & 0x7F
                if length == 126:
                    length = int.from_bytes(await self.reader.readexactly(2), "big")
                elif length == 127:
                    length = int.from_bytes(await self.reader.readexactly(8), "big")
                mask = await self.reader.readexactly(4) if second & 0x80 else None
                payload = await self.reader.readexactly(length)
                if mask:
                    payload = bytes(byte ^ mask[i & 3] for i, byte in enumerate(payload))
                if opcode == 0x8:
                    self.close_code = int.from_bytes(payload[:2], "big") if payload else 1005
                    if not self.closing:
                        self.closing = True
                        await self._send(0x8, payload[:2])
                    self.writer.close()
                    return None
                if opcode == 0x9:
                    await self._send(0xA, payload)
                    continue
                if opcode == 0xA:
                    continue
                message += payload
                if fin:
                    return message.decode()
        except (asyncio.IncompleteReadError, ConnectionError, OSError):
            self.close_code = self.close_code or 1006
            self.writer.transport.abort()
            return None

    async def close(self, code: int = 1000) -> None:
        if self.closing:
            return
        self.closing = True
        with contextlib.suppress(ConnectionError, OSError):
            await self._send(0x8, code.to_bytes(2, "big"))
        self.writer.close()

    def abort(self) -> None:
        self.writer.transport.abort()


# --- the meeting stream -------------------------------------------------------------------


@dataclass
class StreamClient:
    """One screen's stream. ``urls`` are tried in turn on each (re)connection, as a load
    balancer would spread them; ``cookie`` is a session cookie for an account's screen."""

    name: str
    urls: list[str]
    cookie: str | None = None
    state: dict | None = None
    cursor: int | None = None
    audience: str | None = None
    applied: list[int] = field(default_factory=list)
    snapshots: list[int] = field(default_factory=list)
    welcomes: int = 0
    batches: int = 0
    closes: list[int] = field(default_factory=list)
    connect_failures: int = 0
    errors: list[dict] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def __post_init__(self):
        self.socket: WebSocket | None = None
        self.task: asyncio.Task | None = None
        self.stopped = False
        self.resyncing = False
        self.heartbeat = 20
        self.retries = 0
        self.attempts = itertools.count()
        self.changed = asyncio.Event()

    # --- life ---------------------------------------------------------------------------

    def start(self) -> None:
        self.task = asyncio.ensure_future(self._run())

    async def stop(self) -> None:
        self.stopped = True
        if self.socket is not None:
            self.socket.abort()
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self.task

    async def _run(self) -> None:
        while not self.stopped:
            url = self.urls[next(self.attempts) % len(self.urls)]
            origin = "http://" + urlsplit(url).netloc
            headers = {"Cookie": self.cookie} if self.cookie else None
            try:
                self.socket = await WebSocket.connect(url, origin=origin, headers=headers)
            except (OSError, TimeoutError):
                self.connect_failures += 1
            else:
                code = await self._session(self.socket)
                self.closes.append(code)
                if code in PERMANENT_CLOSE:
                    self.problems.append(f"refused with {code}")
                    self.stopped = True
                    return
            # live.js: min(30 s, 1 s x 2^attempt) x random(0.5 ... 1.5)
            delay = min(30.0, 2.0**self.retries) * (0.5 + random.random())
            self.retries += 1
            await asyncio.sleep(delay)

    async def _session(self, socket: WebSocket) -> int:
        pinger = None
        last_heard = time.monotonic()
        try:
            while True:
                # A silent connection is abandoned after three heartbeats (live.js).
                timeout = 3 * self.heartbeat - (time.monotonic() - last_heard)
                try:
                    text = await asyncio.wait_for(socket.recv(), max(timeout, 0.1))
                except TimeoutError:
                    socket.abort()
                    return 1006
                if text is None:
                    return socket.close_code or 1006
                last_heard = time.monotonic()
                frame = json.loads(text)
                if frame["type"] == "welcome" and pinger is None:
                    pinger = asyncio.ensure_future(self._ping(socket))
                await self._receive(socket, frame)
        finally:
            if pinger is not None:
                pinger.cancel()

    async def _ping(self, socket: WebSocket) -> None:
        try:
            while True:
                await asyncio.sleep(self.heartbeat)
                await socket.send_text(json.dumps({"type": "ping"}))
        except (ConnectionError, OSError):
            pass

    async def _hello(self, socket: WebSocket) -> None:
        self.resyncing = True
        frame = (
            {"type": "hello"} if self.cursor is None else {"type": "hello", "since": self.cursor}
        )
        with contextlib.suppress(ConnectionError, OSError):
            await socket.send_text(json.dumps(frame))

    # --- the client rule of docs/protocol.md --------------------------------------------

    async def _receive(self, socket: WebSocket, frame: dict[str, Any]) -> None:
        kind = frame["type"]
        if kind == "welcome":
            self.welcomes += 1
            self.retries = 0
            self.heartbeat = frame["heartbeat_seconds"]
            self.audience = frame["viewer"]["audience"]
            await self._hello(socket)
        elif kind == "snapshot":
            self.state = frame["state"]
            self.cursor = frame["seq"]
            self.snapshots.append(frame["seq"])
            self.resyncing = False
        elif kind == "synced":
            self.resyncing = False
        elif kind in ("event", "batch"):
            if self.state is None or frame["seq"] <= self.cursor:
                return
            if frame["prev"] > self.cursor:
                if not self.resyncing:
                    await self._hello(socket)
                return
            # A batch (phones) is a run of events; those already held are skipped.
            events = frame["events"] if kind == "batch" else [frame["event"]]
            for event in events:
                if event["seq"] <= self.cursor:
                    continue
                apply_patch(self.state, event["payload"].get("patch") or [])
                self.cursor = event["seq"]
                self.applied.append(event["seq"])
            self.batches += kind == "batch"
        elif kind == "pong":
            if self.cursor is not None and frame["seq"] > self.cursor and not self.resyncing:
                await self._hello(socket)
        elif kind == "error":
            self.errors.append(frame)
        self.changed.set()

    # --- what the tests ask -------------------------------------------------------------

    def sees(self, event_audience: str) -> bool:
        return Audience(self.audience).sees(event_audience)

    def missing(self, visible: list[int]) -> list[int]:
        """Of ``visible`` (every seq of the record this client may see), those it does not
        hold: after its first snapshot, neither applied one by one nor included in a later
        snapshot (one the server sends instead of a long replay)."""
        if not self.snapshots:
            return list(visible)
        held = set(self.applied)
        return [
            seq
            for seq in visible
            if seq > self.snapshots[0]
            and seq not in held
            and not any(seq <= snapshot for snapshot in self.snapshots[1:])
        ]

    @property
    def first_snapshot(self) -> int | None:
        return self.snapshots[0] if self.snapshots else None


async def wait_until(condition, *, timeout: float, what, every: float = 0.25):
    """Polls ``condition()`` (a plain function) until it is true; after ``timeout`` seconds
    fails, saying ``what`` (a string, or a function giving one then)."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            message = what() if callable(what) else what
            raise AssertionError(f"not within {timeout:.0f}s: {message}")
        await asyncio.sleep(every)


def ws_url(base_ws: str, slug: str, link: str | None = None, session: str | None = None) -> str:
    """The meeting websocket's address; ``session``: a kiosk's session token (claim_kiosk)."""
    query = f"?link={quote(link, safe='')}" if link else ""
    if link and session:
        query += f"&session={quote(session, safe='')}"
    return f"{base_ws}/ws/meetings/{slug}/{query}"


def claim_kiosk(base_url: str, slug: str, link: str, *, token: str | None = None) -> str:
    """As the kiosk page does on opening its hall's operator link: claim (or resume, with
    ``token``) the kiosk session that holds the hall; returns its token."""
    # The same browser as the stream's (WebSocket.connect): the kiosk is one device.
    headers = {"X-Join-Link": link, "User-Agent": USER_AGENT}
    if token:
        headers["X-Kiosk-Session"] = token
    response = requests.post(
        f"{base_url}/api/meetings/{slug}/kiosk/session", json={}, headers=headers, timeout=30
    )
    response.raise_for_status()
    body = response.json()
    assert body["session"]["state"] == "holding", f"the hall is held by another screen: {body}"
    return body["token"] or token


# --- HTTP ---------------------------------------------------------------------------------


class Balancer:
    """Round robin over the web nodes; a node that refused a connection (or broke one off)
    is left out for ``fail_timeout`` seconds, as nginx does with ``max_fails=1``."""

    def __init__(self, base_urls: list[str], fail_timeout: float = 30):
        self.base_urls = list(base_urls)
        self.fail_timeout = fail_timeout
        self.down_until: dict[str, float] = {}
        self.turn = itertools.count()
        self.lock = threading.Lock()

    def pick(self) -> str:
        with self.lock:
            now = time.monotonic()
            up = [url for url in self.base_urls if self.down_until.get(url, 0) <= now]
            choices = up or self.base_urls
            return choices[next(self.turn) % len(choices)]

    def failed(self, base_url: str) -> None:
        with self.lock:
            self.down_until[base_url] = time.monotonic() + self.fail_timeout


# frontend/js/outbox.js
SEND_TIMEOUT_SECONDS = 30
RETRY_MIN_SECONDS = 2
RETRY_MAX_SECONDS = 60


@dataclass
class Attempt:
    client_id: str
    base_url: str
    outcome: str  # the HTTP status, or the exception's class name
    started: float  # time.monotonic()
    ended: float


@dataclass
class VoterPhone:
    """A voter's phone, sending through its outbox. ``send_all`` returns when every question
    it was given has been received by the server (or was refused for good)."""

    name: str
    slug: str
    link: str
    balancer: Balancer
    device_id: str = ""  # from the server, asked for before the first question
    items: list[dict] = field(default_factory=list)
    attempts: list[Attempt] = field(default_factory=list)
    received: dict[str, int] = field(default_factory=dict)  # client id -> 201 or 200
    failed: dict[str, str] = field(default_factory=dict)

    def __post_init__(self):
        self.http = requests.Session()
        self.failures = 0

    def add(self, text: str) -> str:
        """Stored with its client id before any attempt, as the outbox does."""
        client_id = str(uuid.uuid4())
        self.items.append({"client_id": client_id, "text": text, "retry_at": 0.0})
        return client_id

    def send_all(self, *, deadline: float, pause: float = 0.0) -> None:
        while self.items and time.monotonic() < deadline:
            wait = self._flush(pause)
            if wait is not None:
                time.sleep(min(wait, max(0.0, deadline - time.monotonic())))

    def _flush(self, pause: float) -> float | None:
        """One pass over the pending items, in order; the seconds to wait, or None."""
        for item in list(self.items):
            if item["retry_at"] > time.monotonic():
                continue
            wait = self._send(item)
            if wait is not None:
                return wait  # the network or the server is down: the rest would fail alike
            if pause:
                time.sleep(pause)
        later = [item["retry_at"] - time.monotonic() for item in self.items]
        return max(0.0, min(later)) if later else None

    def _device(self, base_url: str) -> requests.Response | None:
        """Asks the server for the phone's device id if it has none (or one it refused), as the
        page does; the answer when that failed, None once the phone has its id."""
        if self.device_id:
            return None
        response = self.http.post(
            f"{base_url}/api/meetings/{self.slug}/device",
            headers={"X-Join-Link": self.link},
            timeout=(5, SEND_TIMEOUT_SECONDS),
        )
        if response.status_code != 201:
            return response
        self.device_id = response.json()["device"]
        return None

    def _send(self, item: dict) -> float | None:
        base_url = self.balancer.pick()
        started = time.monotonic()
        try:
            refused = self._device(base_url)
            response = (
                refused
                if refused is not None
                else self.http.post(
                    f"{base_url}/api/meetings/{self.slug}/questions",
                    json={"client_id": item["client_id"], "text": item["text"]},
                    headers={"X-Join-Link": self.link, "X-Device-Id": self.device_id},
                    timeout=(5, SEND_TIMEOUT_SECONDS),
                )
            )
        except requests.RequestException as error:
            self._note(item, base_url, type(error).__name__, started)
            if isinstance(error, requests.ConnectionError):
                self.balancer.failed(base_url)
            return self._backoff()
        self._note(item, base_url, str(response.status_code), started)
        status = response.status_code
        if status in (200, 201):
            self.failures = 0
            self.items.remove(item)
            self.received[item["client_id"]] = status
            return None
        if status in (408,) or status >= 500:
            return self._backoff()
        if status == 403 and response.json().get("code") == "unknown_device":
            self.device_id = ""  # the page gets a new one and sends again
            return self._backoff()
        if status == 429:
            detail = (response.json() or {}).get("detail") or {}
            wait = float(detail.get("retry_after", 60)) + 1
            item["retry_at"] = time.monotonic() + wait
            return wait
        self.items.remove(item)
        self.failed[item["client_id"]] = f"{status}: {response.text[:200]}"
        return None

    def _backoff(self) -> float:
        self.failures += 1
        wait = min(RETRY_MAX_SECONDS, RETRY_MIN_SECONDS * 2 ** (self.failures - 1))
        return wait * (0.5 + random.random())

    def _note(self, item: dict, base_url: str, outcome: str, started: float) -> None:
        attempt = Attempt(item["client_id"], base_url, outcome, started, time.monotonic())
        self.attempts.append(attempt)


class Account:
    """An account signed in at /accounts/login/, acting through the JSON API."""

    def __init__(self, base_url: str, username: str, password: str):
        self.http = requests.Session()
        self.username = username
        login = f"{base_url}/accounts/login/"
        self.http.get(login, timeout=30).raise_for_status()
        answer = self.http.post(
            login,
            data={
                "username": username,
                "password": password,
                "csrfmiddlewaretoken": self.http.cookies["csrftoken"],
            },
            headers={"Referer": login},
            timeout=30,
            allow_redirects=False,
        )
        if "sessionid" not in self.http.cookies:
            raise AssertionError(f"{username} could not sign in: {answer.status_code}")

    @property
    def cookie(self) -> str:
        return f"sessionid={self.http.cookies['sessionid']}"

    def post(self, base_url: str, path: str, body: dict | None = None) -> requests.Response:
        return self.http.post(
            base_url + path,
            json=body or {},
            headers={"X-CSRFToken": self.http.cookies["csrftoken"], "Referer": base_url + "/"},
            timeout=30,
        )

    def get(self, base_url: str, path: str) -> requests.Response:
        return self.http.get(base_url + path, timeout=30)
