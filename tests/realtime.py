"""Helpers for websocket tests over the full ASGI application, as a browser would connect."""

import asyncio
import json
from collections import deque
from urllib.parse import quote

from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client

from meetings.asgi import application
from tests.factories import KIOSK_USER_AGENT, screen_token_for_link

ORIGIN = b"http://127.0.0.1:8000"


def session_cookie(user) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies["sessionid"].value


def unfold(frame: dict) -> list[dict]:
    """A batch frame as the run of event frames it stands for (docs/protocol.md); any other
    frame as itself."""
    if frame["type"] != "batch":
        return [frame]
    runs, prev = [], frame["prev"]
    for event in frame["events"]:
        runs.append({"type": "event", "seq": event["seq"], "prev": prev, "event": event})
        prev = event["seq"]
    assert prev == frame["seq"], "a batch's seq is its last event's"
    return runs


class Socket:
    """A websocket client that remembers what it was sent, like the page's MeetingStream.
    Batches (phones get events close together in one frame) are read as their events."""

    def __init__(self, communicator: WebsocketCommunicator):
        self.communicator = communicator
        self.finished = False
        _open.add(self)
        self.frames: list[dict] = []
        self.batches: list[dict] = []
        self.unread: deque[dict] = deque()
        self.cursor = -1  # the newest seq taken, as the page's stream keeps it

    async def send(self, frame) -> None:
        text = frame if isinstance(frame, str) else json.dumps(frame)
        await self.communicator.send_to(text_data=text)

    async def receive(self, timeout: float = 3) -> dict:
        if not self.unread:
            self._take(json.loads(await self.communicator.receive_from(timeout=timeout)))
        frame = self.unread.popleft()
        self.frames.append(frame)
        return frame

    def _take(self, frame: dict) -> None:
        runs = unfold(frame)
        if frame["type"] == "batch":
            self.batches.append(frame)
            # A batch may start with events this client already has: they are skipped.
            runs = [run for run in runs if run["seq"] > self.cursor]
        if frame["type"] in ("snapshot", "event", "batch"):
            self.cursor = (
                max(self.cursor, frame["seq"]) if frame["type"] != "snapshot" else frame["seq"]
            )
        self.unread.extend(runs)

    async def receive_until(self, predicate, timeout: float = 5) -> dict:
        async with asyncio.timeout(timeout):
            while True:
                frame = await self.receive(timeout=timeout)
                if predicate(frame):
                    return frame

    async def receive_type(self, frame_type: str, timeout: float = 5) -> dict:
        return await self.receive_until(lambda f: f["type"] == frame_type, timeout)

    async def nothing_more(self, timeout: float = 0.3) -> bool:
        return not self.unread and await self.communicator.receive_nothing(timeout=timeout)

    async def closed_with(self, timeout: float = 3) -> int | None:
        """The close code the server sent, skipping frames sent before it."""
        async with asyncio.timeout(timeout):
            while True:
                output = await self.communicator.receive_output(timeout=timeout)
                if output["type"] == "websocket.close":
                    code = output.get("code")
                    await self._finish(code)
                    return code
                if output["type"] == "websocket.send":
                    self._take(json.loads(output["text"]))
                    self.frames.extend(self.unread)
                    self.unread.clear()

    def events(self) -> list[dict]:
        return [frame for frame in self.frames if frame["type"] == "event"]

    def event_types(self) -> list[str]:
        return [frame["event"]["type"] for frame in self.events()]

    async def close(self) -> None:
        self.finished = True
        _open.discard(self)
        await self.communicator.disconnect()

    async def _finish(self, code: int | None) -> None:
        """Tell the consumer the connection is gone, as Daphne does once a websocket closes,
        and give it FINISH_SECONDS to end. Left running, it would be cancelled with the test's
        event loop in the middle of its channel-layer read on Redis, which redis-py can
        swallow: the loop would then wait for it forever. It is not cancelled here either: one
        that does not end is left to the fixture that closes the layer's connections first."""
        if self.finished:
            return
        self.finished = True
        _open.discard(self)
        future = self.communicator.future
        await self.communicator.send_input({"type": "websocket.disconnect", "code": code or 1000})
        await asyncio.wait({future}, timeout=FINISH_SECONDS)
        if future.done() and not future.cancelled():
            future.exception()  # retrieved: a consumer that failed has had its test say so


# How long a consumer is given to end once told the connection is gone.
FINISH_SECONDS = 2

# The sockets of the running test whose consumer has not been told that they closed.
_open: set[Socket] = set()


async def finish_open_sockets() -> None:
    """At the end of a test, end every consumer still connected (tests/conftest.py)."""
    for socket in list(_open):
        await socket._finish(1000)


def count_calls(monkeypatch, module, name: str) -> list[tuple]:
    """Watch a function of a module: the arguments of every call to it from now on."""
    calls, real = [], getattr(module, name)

    def watched(*args, **kwargs):
        calls.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, watched)
    return calls


@sync_to_async
def record_head(conference) -> int:
    from meetings.rooms.models import EventLogHead

    return EventLogHead.objects.get(meeting=conference.meeting).seq


async def stream_taken(conference, timeout: float = 5) -> None:
    """Wait until this process's copy of the meeting's stream has taken the whole record."""
    from meetings.rooms.realtime.fanout import fanout

    head = await record_head(conference)
    async with asyncio.timeout(timeout):
        while True:
            feed = fanout().feeds.get(conference.meeting.pk)
            if feed is not None and feed.seq >= head:
                return
            await asyncio.sleep(0.01)


HOLD = "hold"  # open_socket's default kiosk session: the screen that holds the link's hall


async def open_socket(
    slug: str,
    *,
    user=None,
    link: str | None = None,
    origin=ORIGIN,
    session: str | None = HOLD,
    cookie_session: str | None = None,
) -> Socket:
    """A websocket as a browser opens it. ``user``: a new session of that account;
    ``cookie_session``: an existing session's cookie. With a hall's operator link, ``session``
    is the kiosk session's token: by default the screen that holds the hall (made if none, as
    the kiosk page claims it); None sends none."""
    path = f"/ws/meetings/{slug}/"
    if link is not None:
        path += f"?link={quote(link)}"
        if session == HOLD:
            session = await sync_to_async(screen_token_for_link)(link)
        if session is not None:
            path += f"&session={quote(session)}"
    # As a browser on this machine would: the kiosks' sessions were claimed from here, with
    # this browser (tests/factories.hold_hall), so a kiosk's stream is the same device.
    headers = [(b"user-agent", KIOSK_USER_AGENT.encode())]
    if origin:
        headers.append((b"origin", origin))
    if user is not None:
        cookie_session = await sync_to_async(session_cookie)(user)
    if cookie_session is not None:
        headers.append((b"cookie", f"sessionid={cookie_session}".encode()))
    communicator = WebsocketCommunicator(application, path, headers=headers)
    communicator.scope["client"] = ["127.0.0.1", 50000]
    connected, _subprotocol = await communicator.connect(timeout=5)
    assert connected, "the handshake was refused"
    return Socket(communicator)


async def open_live(slug: str, **kwargs) -> tuple[Socket, dict]:
    """Connect, take the welcome and a snapshot: the socket is then live."""
    socket = await open_socket(slug, **kwargs)
    welcome = await socket.receive_type("welcome")
    await socket.send({"type": "hello"})
    snapshot = await socket.receive_type("snapshot")
    assert snapshot["seq"] == welcome["seq"]
    return socket, snapshot
