"""Screens with a media link for the fault tests, on aiortc instead of a browser.

``MediaKiosk`` is a hall's (or the studio's) kiosk: the meeting stream of
``clients.StreamClient`` (frontend/js/live.js) with ``MediaLink`` on top, which follows
frontend/js/media.js's MediaLink step for step: the same timers (answer 15 s, first media 12 s,
stall 4 s, "disconnected" 3 s, watched every second), the same rebuild with a jittered, growing
backoff, the same handling of ``media.answer`` (an answer to an earlier offer is ignored, by
its ``offer_ufrag``), ``media.error`` and ``media.restarted`` (rebuild at once). Where it differs,
a comment says why:

- aiortc gathers every candidate inside ``setLocalDescription``, so there is nothing to trickle
  and no 2 s gathering wait;
- a hall that does not hold the floor offers ``recvonly`` (the browser offers ``sendrecv`` with no
  track, which the hub treats the same; aiortc's sender cannot run without a track);
- the studio gets a new test card and tone for each connection (a browser hands the same camera
  to the new connection; aiortc's test tracks would send a burst to catch up after the gap).

What arrives is kept small: per video frame its time, the connection it came on and the colour
at the centre of the picture; the last few seconds of sound.
"""

import asyncio
import collections
import contextlib
import json
import random
import re
import time
from dataclasses import dataclass
from urllib.parse import quote

import numpy as np
import requests
from aiortc import RTCConfiguration, RTCIceServer, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError

from tests.faults.clients import StreamClient, WebSocket
from tests.media.peers import RATE, ColourTrack, ToneTrack

# frontend/js/media.js
ANSWER_SECONDS = 15
FIRST_MEDIA_SECONDS = 12
STALL_SECONDS = 4
DISCONNECTED_SECONDS = 3
WATCH_EVERY_SECONDS = 1
MAX_BACKOFF_SECONDS = 30


_running: set[asyncio.Task] = set()


def spawn(coroutine) -> asyncio.Task:
    """Runs ``coroutine`` on its own, as a browser runs an async handler; kept referenced."""
    task = asyncio.ensure_future(coroutine)
    _running.add(task)
    task.add_done_callback(_running.discard)
    return task


def ice_ufrag(sdp: str | None) -> str | None:
    found = re.search(r"^a=ice-ufrag:(\S+)", sdp or "", re.MULTILINE)
    return found.group(1) if found else None


def near(colour, rgb, tolerance=40) -> bool:
    return colour is not None and all(
        abs(int(c) - v) <= tolerance for c, v in zip(colour, rgb, strict=True)
    )


@dataclass(frozen=True)
class Picture:
    at: float  # time.monotonic() when decoded
    connection: int  # the MediaLink generation it arrived on
    centre: tuple[int, int, int]


class KioskStream(StreamClient):
    """The meeting stream, passing every frame on to ``listener`` (live.js's ``on(type)``)."""

    listener = None
    open_socket: WebSocket | None = None

    async def _session(self, socket: WebSocket) -> int:
        try:
            return await super()._session(socket)
        finally:
            self.open_socket = None

    async def _receive(self, socket: WebSocket, frame: dict) -> None:
        if frame["type"] == "welcome":
            self.open_socket = socket
        await super()._receive(socket, frame)
        if self.listener is not None:
            self.listener(frame)

    def is_open(self) -> bool:
        return self.open_socket is not None and not self.open_socket.closing

    def send(self, frame: dict) -> bool:
        if not self.is_open():
            return False
        spawn(self._send(self.open_socket, json.dumps(frame)))
        return True

    @staticmethod
    async def _send(socket: WebSocket, text: str) -> None:
        with contextlib.suppress(ConnectionError, OSError):
            await socket.send_text(text)


class MediaLink:
    """frontend/js/media.js's MediaLink (see the module's docstring)."""

    def __init__(
        self,
        stream: KioskStream,
        *,
        base_url: str,
        slug: str,
        token: str,
        session: str,
        studio=None,
    ):
        self.stream = stream
        self.ice_url = f"{base_url}/api/meetings/{slug}/media/ice"
        self.token = token
        self.session = session
        self.studio = studio  # (rgb, hz): the studio's camera and microphone
        self.state = "off"
        self.pc: RTCPeerConnection | None = None
        self.generation = 0
        self.retries = 0
        self.rebuilds = 0
        self.retry_reasons: list[str] = []
        self.started = False
        self.offered = False
        self.timers: dict[str, asyncio.TimerHandle | asyncio.Task] = {}
        self.progress: dict | None = None
        self.pictures: list[Picture] = []
        self.sound: collections.deque = collections.deque(maxlen=150)  # (generation, samples)
        self.reading: list[asyncio.Task] = []
        self.decoded = collections.Counter()  # generation -> video frames
        self.timeline: list[tuple[float, str]] = []  # (time.monotonic(), what happened)
        stream.listener = self.on_frame

    # --- the stream's frames (media.js's stream.on(...) subscriptions) -----------------------

    def note(self, what: str) -> None:
        self.timeline.append((time.monotonic(), what))

    def on_frame(self, frame: dict) -> None:
        kind = frame["type"]
        if kind.startswith("media.") and kind != "media.status":
            self.note(f"got {kind}")
        if kind == "welcome" and self.started:
            spawn(self.build())
        elif kind == "media.answer":
            spawn(self.answered(frame))
        elif kind == "media.error":
            self.retry("the hub failed")
        elif kind == "media.restarted":
            self.hub_restarted()

    def start(self) -> None:
        self.started = True
        if self.stream.is_open():
            spawn(self.build())

    async def stop(self) -> None:
        self.started = False
        self.generation += 1
        pc = self.teardown()
        if pc is not None:
            await pc.close()
        for task in self.reading:
            task.cancel()

    # --- building the connection ---------------------------------------------------------

    async def build(self) -> None:
        self.generation += 1
        generation = self.generation
        self.teardown()
        self.rebuilds += 1
        if not self.stream.is_open():
            self.state = "retrying"
            return
        self.state = "connecting"
        try:
            # Fetched for every connection: TURN credentials expire.
            answer = await asyncio.to_thread(
                requests.get,
                self.ice_url,
                headers={"X-Join-Link": self.token, "X-Kiosk-Session": self.session},
                timeout=10,
            )
            answer.raise_for_status()
            servers = answer.json().get("ice_servers") or []
        except Exception as error:
            if generation == self.generation:
                self.retry(f"no ICE servers: {error}")
            return
        if generation != self.generation:
            return
        pc = RTCPeerConnection(
            RTCConfiguration(
                iceServers=[
                    RTCIceServer(s["urls"], s.get("username"), s.get("credential")) for s in servers
                ]
            )
        )
        self.pc = pc
        self.offered = False
        self.progress = None
        if self.studio is not None:
            rgb, hz = self.studio
            pc.addTransceiver(ToneTrack(hz), direction="sendrecv")
            pc.addTransceiver(ColourTrack(rgb), direction="sendrecv")
        else:
            pc.addTransceiver("audio", direction="recvonly")
            pc.addTransceiver("video", direction="recvonly")
        pc.on("track", lambda track: self.remote_track(pc, generation, track))
        pc.on("connectionstatechange", lambda: self.connection_changed(pc))
        try:
            await pc.setLocalDescription(await pc.createOffer())
        except Exception as error:
            if generation == self.generation:
                self.retry(f"offer failed: {error}")
            return
        if generation != self.generation:
            return
        sent = self.stream.send(
            {"type": "media.offer", "sdp": pc.localDescription.sdp, "send": True}
        )
        if not sent:
            self.teardown()
            self.state = "retrying"
            return
        self.offered = True
        self.note(f"offer {generation} sent")
        loop = asyncio.get_running_loop()
        self.timers["answer"] = loop.call_later(
            ANSWER_SECONDS, self.retry, "no answer from the hub"
        )
        self.timers["watch"] = asyncio.ensure_future(self._watch_every_second(pc))

    async def answered(self, frame: dict) -> None:
        pc = self.pc
        if pc is None or pc.signalingState != "have-local-offer":
            return
        offer_ufrag = frame.get("offer_ufrag")
        offered = pc.localDescription.sdp if pc.localDescription else None
        if offer_ufrag and offer_ufrag != ice_ufrag(offered):
            self.note("ignored the answer to an earlier offer")
            return
        self._cancel("answer")
        try:
            await pc.setRemoteDescription(RTCSessionDescription(sdp=frame["sdp"], type="answer"))
        except Exception as error:
            if pc is self.pc:
                self.retry(f"bad answer: {error}")

    def remote_track(self, pc, generation: int, track) -> None:
        if pc is not self.pc:
            return
        self.reading.append(asyncio.ensure_future(self._read(generation, track)))

    async def _read(self, generation: int, track) -> None:
        try:
            while True:
                frame = await track.recv()
                if track.kind == "video":
                    image = frame.to_ndarray(format="rgb24")
                    height, width = image.shape[:2]
                    centre = tuple(int(c) for c in image[height // 2, width // 2])
                    self.pictures.append(Picture(time.monotonic(), generation, centre))
                    if not self.decoded[generation]:
                        self.note(f"first frame on {generation}: {centre}")
                    self.decoded[generation] += 1
                else:
                    samples = frame.to_ndarray().reshape(-1, frame.layout.nb_channels)[:, 0]
                    self.sound.append((generation, samples))
        except MediaStreamError:
            return

    # --- watching it -----------------------------------------------------------------------

    def connection_changed(self, pc) -> None:
        if pc is not self.pc:
            return
        self.note(f"connection {pc.connectionState}")
        self._cancel("disconnected")
        if pc.connectionState == "failed":
            self.retry("connection failed")
        elif pc.connectionState == "disconnected":
            self.timers["disconnected"] = asyncio.get_running_loop().call_later(
                DISCONNECTED_SECONDS, self.retry, "disconnected"
            )

    async def _watch_every_second(self, pc) -> None:
        while True:
            await asyncio.sleep(WATCH_EVERY_SECONDS)
            self.watch(pc)

    def watch(self, pc) -> None:
        """Decoded frames must keep coming (media.js reads framesDecoded from getStats())."""
        if pc is not self.pc:
            return
        if pc.signalingState == "closed":
            self.retry("connection closed")
            return
        count = self.decoded[self.generation]
        now = time.monotonic()
        progress = self.progress
        if progress is None:
            self.progress = {"count": count, "at": now, "flowing": count > 0}
            if count > 0:
                self.state = "live"
            return
        if count > progress["count"]:
            progress.update(count=count, at=now, flowing=True)
            self.retries = 0
            self.state = "live"
            return
        limit = STALL_SECONDS if progress["flowing"] else FIRST_MEDIA_SECONDS
        if now - progress["at"] > limit:
            self.retry("no new frames" if progress["flowing"] else "no media arrived")

    # --- rebuilding --------------------------------------------------------------------------

    def hub_restarted(self) -> None:
        if not self.started:
            return
        self.retries = 0
        self.retry_reasons.append("the hub restarted")
        spawn(self.build())

    def retry(self, reason: str) -> None:
        if not self.started:
            return
        self.teardown()
        self.generation += 1
        delay = min(MAX_BACKOFF_SECONDS, 2.0**self.retries) * (0.5 + random.random())
        self.retries += 1
        self.retry_reasons.append(reason)
        self.state = "retrying"
        self.timers["rebuild"] = asyncio.get_running_loop().call_later(
            delay, lambda: spawn(self.build())
        )

    def _cancel(self, name: str) -> None:
        timer = self.timers.pop(name, None)
        if timer is not None:
            timer.cancel()

    def teardown(self) -> RTCPeerConnection | None:
        for name in list(self.timers):
            self._cancel(name)
        self.offered = False
        pc, self.pc = self.pc, None
        if pc is not None:
            spawn(pc.close())
        return pc

    # --- what the test asks ------------------------------------------------------------------

    def first_picture(self, *, after: float, since_connection: int, rgb) -> Picture | None:
        """The first frame decoded after ``after`` showing ``rgb`` at its centre, on a
        connection built after ``since_connection`` (not the old one's last buffered frames)."""
        return next(
            (
                picture
                for picture in self.pictures
                if picture.at > after
                and picture.connection > since_connection
                and near(picture.centre, rgb)
            ),
            None,
        )

    def tone_strength(self, hz: float, *, since_connection: int) -> float:
        """The share of the last second's sound energy within 15 Hz of ``hz`` (0..1)."""
        chunks = [samples for generation, samples in self.sound if generation > since_connection]
        if not chunks:
            return 0.0
        samples = np.concatenate(chunks)[-RATE:].astype(np.float64)
        spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples))))
        freqs = np.fft.rfftfreq(len(samples), 1 / RATE)
        band = (freqs > hz - 15) & (freqs < hz + 15)
        return float(spectrum[band].sum() / (spectrum.sum() + 1e-9))


class MediaKiosk:
    """A kiosk: its stream and its media link, started as kiosk-media.js starts them (the link
    runs while the conference is scheduled or live)."""

    def __init__(self, platform, hall: dict, *, studio=None):
        self.name = hall["name"]
        token = platform.link_token(hall["kiosk"])
        session = platform.kiosk_session(hall)
        node = platform.nodes[0]
        url = (
            f"{node.ws_url}/ws/meetings/{platform.slug}/?link={quote(token, safe='')}"
            f"&session={quote(session, safe='')}"
        )
        self.stream = KioskStream(self.name, [url])
        self.link = MediaLink(
            self.stream,
            base_url=node.base_url,
            slug=platform.slug,
            token=token,
            session=session,
            studio=studio,
        )

    async def start(self, *, timeout: float = 60) -> None:
        self.stream.start()
        deadline = time.monotonic() + timeout
        while self.stream.state is None:
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.name}: no snapshot within {timeout}s")
            await asyncio.sleep(0.1)
        if self.stream.state["meeting"]["status"] in ("scheduled", "live"):
            self.link.start()

    async def stop(self) -> None:
        await self.link.stop()
        await self.stream.stop()
