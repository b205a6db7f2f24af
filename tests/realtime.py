"""Helpers for websocket tests over the full ASGI application, as a browser would connect."""

import asyncio
import json
from urllib.parse import quote

from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client

from meetings.asgi import application

ORIGIN = b"http://127.0.0.1:8000"


def session_cookie(user) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies["sessionid"].value


class Socket:
    """A websocket client that remembers what it was sent, like the page's MeetingStream."""

    def __init__(self, communicator: WebsocketCommunicator):
        self.communicator = communicator
        self.frames: list[dict] = []

    async def send(self, frame) -> None:
        text = frame if isinstance(frame, str) else json.dumps(frame)
        await self.communicator.send_to(text_data=text)

    async def receive(self, timeout: float = 3) -> dict:
        frame = json.loads(await self.communicator.receive_from(timeout=timeout))
        self.frames.append(frame)
        return frame

    async def receive_until(self, predicate, timeout: float = 5) -> dict:
        async with asyncio.timeout(timeout):
            while True:
                frame = await self.receive(timeout=timeout)
                if predicate(frame):
                    return frame

    async def receive_type(self, frame_type: str, timeout: float = 5) -> dict:
        return await self.receive_until(lambda f: f["type"] == frame_type, timeout)

    async def nothing_more(self, timeout: float = 0.3) -> bool:
        return await self.communicator.receive_nothing(timeout=timeout)

    async def closed_with(self, timeout: float = 3) -> int | None:
        """The close code the server sent, skipping frames sent before it."""
        async with asyncio.timeout(timeout):
            while True:
                output = await self.communicator.receive_output(timeout=timeout)
                if output["type"] == "websocket.close":
                    return output.get("code")
                if output["type"] == "websocket.send":
                    self.frames.append(json.loads(output["text"]))

    def events(self) -> list[dict]:
        return [frame for frame in self.frames if frame["type"] == "event"]

    def event_types(self) -> list[str]:
        return [frame["event"]["type"] for frame in self.events()]

    async def close(self) -> None:
        await self.communicator.disconnect()


async def open_socket(slug: str, *, user=None, link: str | None = None, origin=ORIGIN) -> Socket:
    path = f"/ws/meetings/{slug}/"
    if link is not None:
        path += f"?link={quote(link)}"
    headers = [(b"origin", origin)] if origin else []
    if user is not None:
        cookie = await sync_to_async(session_cookie)(user)
        headers.append((b"cookie", f"sessionid={cookie}".encode()))
    communicator = WebsocketCommunicator(application, path, headers=headers)
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
