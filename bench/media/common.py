"""Shared by the media benchmark's processes: the test card with a timestamp in it, and the
line-based signalling between the hub process and the peers."""

import asyncio
import fractions
import json
import os
import time

import av
import numpy as np
from aiortc import MediaStreamTrack

BITS = 32
BLOCK = 16  # each bit a 16x16 block on the top row: survives two VP8 encodes
RATE = 48_000


def setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "meetings.settings")
    os.environ.setdefault("VAR_DIR", "/tmp/meetings-bench")
    import django

    django.setup()


def now_ms() -> int:
    return int(time.monotonic() * 1000) % (1 << BITS)


def stamp(image: np.ndarray, value: int) -> None:
    for bit in range(BITS):
        on = (value >> bit) & 1
        image[0:BLOCK, bit * BLOCK : (bit + 1) * BLOCK] = 235 if on else 16


def read_stamp(rgb: np.ndarray) -> int:
    row = rgb[BLOCK // 2, :, 0].astype(int)
    value = 0
    for bit in range(BITS):
        if row[bit * BLOCK + BLOCK // 2] > 128:
            value |= 1 << bit
    return value


class StampedCard(MediaStreamTrack):
    """640x360 at 25 fps, a moving bar (so the encoder has work, as with a real camera) and
    the send time in the top row."""

    kind = "video"

    def __init__(self, fps: int = 25):
        super().__init__()
        self.fps, self.count, self.start = fps, 0, None

    async def recv(self) -> av.VideoFrame:
        if self.start is None:
            self.start = time.monotonic()
        await asyncio.sleep(max(0, self.start + self.count / self.fps - time.monotonic()))
        image = np.full((360, 640, 3), 90, np.uint8)
        x = (self.count * 8) % 600
        image[120:300, x : x + 40] = (200, 60, 60)
        stamp(image, now_ms())
        frame = av.VideoFrame.from_ndarray(image, format="rgb24")
        frame.pts, frame.time_base = self.count, fractions.Fraction(1, self.fps)
        self.count += 1
        return frame


class Tone(MediaStreamTrack):
    kind = "audio"

    def __init__(self, hz: float = 440):
        super().__init__()
        self.hz, self.sent, self.start = hz, 0, None

    async def recv(self) -> av.AudioFrame:
        if self.start is None:
            self.start = time.monotonic()
        await asyncio.sleep(max(0, self.start + self.sent / RATE - time.monotonic()))
        t = (np.arange(960) + self.sent) / RATE
        samples = (np.sin(2 * np.pi * self.hz * t) * 8000).astype(np.int16)
        frame = av.AudioFrame.from_ndarray(
            np.repeat(samples, 2).reshape(1, -1), format="s16", layout="stereo"
        )
        frame.sample_rate, frame.pts = RATE, self.sent
        frame.time_base = fractions.Fraction(1, RATE)
        self.sent += 960
        return frame


async def ask(port: int, request: dict) -> dict:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(json.dumps(request).encode() + b"\n")
    await writer.drain()
    line = await reader.readline()
    writer.close()
    return json.loads(line)


def light_receivers() -> None:
    """Halls that only count the frames they receive, without decoding them: the benchmark
    measures the hub, and 40 decoding halls would take the machine's two cores from it."""
    import aiortc.rtcrtpreceiver as receiver

    def count_only(loop, input_q, output_q, decode_error):
        while True:
            task = input_q.get()
            if task is None:
                asyncio.run_coroutine_threadsafe(output_q.put(None), loop)
                return
            receiver.COUNTED = getattr(receiver, "COUNTED", 0) + 1

    receiver.decoder_worker = count_only
