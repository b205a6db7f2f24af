"""aiortc peers that stand in for the browsers in media tests: a test card in one colour with
a tone at one pitch, and a receiver that decodes what the hub sends."""

import asyncio
import fractions
import time

import av
import numpy as np
from aiortc import (
    MediaStreamTrack,
    RTCConfiguration,
    RTCIceServer,
    RTCPeerConnection,
    RTCSessionDescription,
)
from aiortc.mediastreams import MediaStreamError

RATE = 48_000


class ColourTrack(MediaStreamTrack):
    """A 640x360 picture of one RGB colour at 25 fps, with the send time in its first row
    (for measuring latency)."""

    kind = "video"

    def __init__(self, rgb: tuple[int, int, int], fps: int = 25):
        super().__init__()
        self.rgb, self.fps = rgb, fps
        self.count = 0
        self.start = None

    async def recv(self) -> av.VideoFrame:
        if self.start is None:
            self.start = time.monotonic()
        due = self.start + self.count / self.fps
        await asyncio.sleep(max(0, due - time.monotonic()))
        image = np.zeros((360, 640, 3), np.uint8)
        image[:, :] = self.rgb
        frame = av.VideoFrame.from_ndarray(image, format="rgb24")
        frame.pts = self.count
        frame.time_base = fractions.Fraction(1, self.fps)
        self.count += 1
        return frame


class ToneTrack(MediaStreamTrack):
    """A sine tone in 20 ms stereo s16 frames, as browsers' microphones arrive."""

    kind = "audio"

    def __init__(self, hz: float, level: float = 0.3):
        super().__init__()
        self.hz, self.level = hz, level
        self.sent = 0
        self.start = None

    async def recv(self) -> av.AudioFrame:
        if self.start is None:
            self.start = time.monotonic()
        due = self.start + self.sent / RATE
        await asyncio.sleep(max(0, due - time.monotonic()))
        t = (np.arange(960) + self.sent) / RATE
        samples = (np.sin(2 * np.pi * self.hz * t) * self.level * 32767).astype(np.int16)
        stereo = np.repeat(samples, 2).reshape(1, -1)
        frame = av.AudioFrame.from_ndarray(stereo, format="s16", layout="stereo")
        frame.sample_rate = RATE
        frame.pts = self.sent
        frame.time_base = fractions.Fraction(1, RATE)
        self.sent += 960
        return frame


class Receiver:
    """Decodes and keeps what arrives on one peer connection."""

    def __init__(self):
        self.frames: list[tuple[float, np.ndarray]] = []
        self.audio: list[np.ndarray] = []
        self.tasks: list[asyncio.Task] = []

    def take(self, track) -> None:
        self.tasks.append(asyncio.ensure_future(self._read(track)))

    async def _read(self, track) -> None:
        try:
            while True:
                frame = await track.recv()
                if track.kind == "video":
                    self.frames.append((time.monotonic(), frame.to_ndarray(format="rgb24")))
                else:
                    self.audio.append(
                        frame.to_ndarray().reshape(-1, frame.layout.nb_channels)[:, 0]
                    )
        except MediaStreamError:
            return

    def colour_at(self, x: int, y: int) -> np.ndarray | None:
        if not self.frames:
            return None
        image = self.frames[-1][1]
        height, width = image.shape[:2]
        return image[int(y * height / 360), int(x * width / 640)]

    def audio_seconds(self) -> float:
        """How much sound has arrived, in seconds."""
        return sum(len(samples) for samples in self.audio) / RATE

    def tone_strength(self, hz: float, seconds: float = 1.0) -> float:
        """The share of the recent sound's energy at ``hz`` (0..1)."""
        if not self.audio:
            return 0.0
        samples = np.concatenate(self.audio)[-int(seconds * RATE) :].astype(np.float64)
        spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples))))
        freqs = np.fft.rfftfreq(len(samples), 1 / RATE)
        band = (freqs > hz - 15) & (freqs < hz + 15)
        return float(spectrum[band].sum() / (spectrum.sum() + 1e-9))

    def stop(self) -> None:
        for task in self.tasks:
            task.cancel()


class Browser:
    """What a kiosk does: send a camera and a microphone (or nothing), receive the programme."""

    def __init__(
        self,
        video: MediaStreamTrack | None = None,
        audio: MediaStreamTrack | None = None,
        ice_servers: list[RTCIceServer] | None = None,
    ):
        self.pc = RTCPeerConnection(RTCConfiguration(iceServers=ice_servers or []))
        self.receiver = Receiver()
        self.pc.on("track", self.receiver.take)
        self.video, self.audio = video, audio

    async def offer(self) -> str:
        for kind, track in (("audio", self.audio), ("video", self.video)):
            if track is not None:
                self.pc.addTransceiver(track, direction="sendrecv")
            else:
                self.pc.addTransceiver(kind, direction="recvonly")
        await self.pc.setLocalDescription(await self.pc.createOffer())
        return self.pc.localDescription.sdp

    async def accept(self, answer: str) -> None:
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))

    async def close(self) -> None:
        self.receiver.stop()
        await self.pc.close()
