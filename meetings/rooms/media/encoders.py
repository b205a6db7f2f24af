"""Encoders: each runs once per programme frame (or 20 ms of sound), whatever the number of
halls that receive its packets. PyAV releases the GIL while encoding, so tiers encode in
parallel threads."""

import fractions
import threading
import time

import av
import numpy as np

from meetings.rooms.media.cpu import native_threads
from meetings.rooms.media.tiers import (
    AUDIO_FRAME_SAMPLES,
    AUDIO_RATE,
    KEYFRAME_EVERY_SECONDS,
    KEYFRAME_MIN_INTERVAL,
    PROGRAMME,
    VideoSpec,
)

VIDEO_TIME_BASE = fractions.Fraction(1, PROGRAMME.fps)
AUDIO_TIME_BASE = fractions.Fraction(1, AUDIO_RATE)

# One encoder opens at a time in the process: the threads that start while it opens are its.
_OPENING = threading.Lock()


class VideoEncoder:
    """VP8 (libvpx, realtime) for one tier. ``pts`` is the programme tick, the same on every
    tier, so a hall moved between tiers keeps one timeline."""

    def __init__(self, spec: VideoSpec):
        self.spec = spec
        self.calls = 0
        self._lock = threading.Lock()
        self._keyframe_wanted = True
        self._keyframe_deferred = False  # asked for too soon after the last: due at the limit
        self._last_keyframe = 0.0
        # The native ids of the threads libvpx starts when the codec opens (at the first
        # frame), which do part of the encoding: their CPU is the hub's (cpu.py).
        self.threads: frozenset[int] = frozenset()
        self._open()

    def _open(self) -> None:
        context = av.CodecContext.create("libvpx", "w")
        context.width, context.height = self.spec.width, self.spec.height
        context.pix_fmt = "yuv420p"
        context.time_base = VIDEO_TIME_BASE
        context.framerate = fractions.Fraction(self.spec.fps, 1)
        context.bit_rate = self.spec.bitrate
        context.options = {
            "deadline": "realtime",
            "cpu-used": "8",
            "lag-in-frames": "0",
            "error-resilient": "1",
            "kf-max-dist": str(KEYFRAME_EVERY_SECONDS * self.spec.fps * 4),
            "undershoot-pct": "95",
            "buf-initial-sz": "500",
            "buf-optimal-sz": "600",
            "buf-sz": "1000",
        }
        self.context = context

    def _open_codec(self) -> None:
        with _OPENING:
            before = native_threads()
            self.context.open()
            # Threads Python started meanwhile (an executor's, aiortc's decoders) are not
            # libvpx's; one that some other library started at that very moment would be
            # counted with this encoder.
            python = {thread.native_id for thread in threading.enumerate()}
            self.threads = frozenset(native_threads() - before - python)

    def request_keyframe(self, *, force: bool = False) -> bool:
        """Ask for the next frame to be a keyframe; rate-limited unless ``force``. Returns
        whether the request was taken at once. One that comes too soon is deferred, not
        dropped: a screen that joined just after a keyframe (as all of them do together after
        a worker restart) starts on one within KEYFRAME_MIN_INTERVAL, not at the periodic one
        seconds later."""
        now = time.monotonic()
        with self._lock:
            if not force and now - self._last_keyframe < KEYFRAME_MIN_INTERVAL:
                self._keyframe_deferred = True
                return False
            self._keyframe_wanted = True
            return True

    def encode(self, frame: av.VideoFrame, tick: int) -> list[av.Packet]:
        if not self.context.is_open:
            self._open_codec()
        now = time.monotonic()
        with self._lock:
            since = now - self._last_keyframe
            keyframe = (
                self._keyframe_wanted
                or (self._keyframe_deferred and since >= KEYFRAME_MIN_INTERVAL)
                or since >= KEYFRAME_EVERY_SECONDS
            )
            self._keyframe_wanted = False
            if keyframe:
                self._keyframe_deferred = False
                self._last_keyframe = now
        frame.pts = tick
        frame.time_base = VIDEO_TIME_BASE
        frame.pict_type = (
            av.video.frame.PictureType.I if keyframe else av.video.frame.PictureType.NONE
        )
        self.calls += 1
        packets = self.context.encode(frame)
        for packet in packets:
            packet.pts = packet.dts = tick
            packet.time_base = VIDEO_TIME_BASE
        return packets


class AudioEncoder:
    """Opus, mono, 20 ms frames, in-band FEC."""

    def __init__(self, bitrate: int):
        self.bitrate = bitrate
        self.calls = 0
        context = av.CodecContext.create("libopus", "w")
        context.sample_rate = AUDIO_RATE
        context.layout = "mono"
        context.format = "s16"
        context.bit_rate = bitrate
        context.time_base = AUDIO_TIME_BASE
        context.options = {
            "application": "voip",
            "frame_duration": "20",
            "fec": "1",
            "packet_loss": "10",
            "vbr": "on",
        }
        context.open()
        self.context = context

    def encode(self, samples: np.ndarray, tick: int) -> list[av.Packet]:
        """``samples``: 960 int16 mono samples; ``tick``: the 20 ms tick."""
        frame = av.AudioFrame.from_ndarray(samples.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = AUDIO_RATE
        frame.pts = tick * AUDIO_FRAME_SAMPLES
        frame.time_base = AUDIO_TIME_BASE
        self.calls += 1
        packets = self.context.encode(frame)
        for packet in packets:
            # Opus reports its look-ahead as a negative first pts; our clock is the timeline.
            packet.pts = packet.dts = tick * AUDIO_FRAME_SAMPLES
            packet.time_base = AUDIO_TIME_BASE
        return packets


class SilencePackets:
    """Opus packets of silence at one bitrate, encoded once: a stream that carries silence
    (a mix-minus while its peer alone speaks, the programme while nobody does) sends the same
    bytes every 20 ms, restamped, instead of running an encoder on zeros."""

    WARM_UP = 10  # frames: past the encoder's start, its packets of silence are all alike

    def __init__(self, bitrate: int):
        encoder = AudioEncoder(bitrate)
        silence = np.zeros(AUDIO_FRAME_SAMPLES, np.int16)
        packets = [p for tick in range(self.WARM_UP) for p in encoder.encode(silence, tick)]
        self.payload = bytes(packets[-1])

    def at(self, tick: int) -> list[av.Packet]:
        packet = av.Packet(self.payload)
        packet.pts = packet.dts = tick * AUDIO_FRAME_SAMPLES
        packet.time_base = AUDIO_TIME_BASE
        return [packet]
