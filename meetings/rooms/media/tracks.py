"""What travels on a peer connection.

Outgoing: a track whose ``recv()`` returns packets the hub already encoded and packetized
(``Packed``: the RTP payloads of one packet, made once per stream, not once per hall), taken
from a bounded queue that the hub fills once per packet for every subscriber; aiortc then
only numbers, encrypts and sends them (``SenderPacker`` stands in for its per-sender
packetizer). A subscriber starts on a keyframe, and one that falls behind (its queue full)
drops what it had and waits for the next keyframe: a weak link never slows the others.

Incoming: every received track is read to the end (aiortc keeps unread tracks'
frames in memory); the hub keeps the latest picture and the sound of each source.
"""

import asyncio
import logging
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass

import av
from aiortc import MediaStreamTrack, RTCRtpSender
from aiortc.codecs.vpx import Vp8Encoder
from aiortc.mediastreams import MediaStreamError

from meetings.rooms.media.cpu import HubCpu
from meetings.rooms.media.mixer import AudioInput

logger = logging.getLogger(__name__)

QUEUE_PACKETS = 60  # about 2 s of video at 25 fps; beyond that the subscriber resyncs


PICTURE_IDS = 1 << 15  # VP8's picture id, in the payload descriptor of every RTP packet


@dataclass(slots=True, frozen=True)
class Packed:
    """One encoded packet as RTP payloads, for every peer of its stream."""

    stream: str
    payloads: list[bytes]
    timestamp: int  # RTP clock units from the programme's start (90 kHz video, 48 kHz sound)
    is_keyframe: bool
    picture_id: int | None  # VP8 only; in bytes 2-3 of each payload


class StreamPacketizer:
    """Packetizes one stream's packets (a tier, a mix-minus) once, as aiortc's sender would
    for each peer: VP8 split at aiortc's payload size with a picture id per picture; Opus one
    payload per packet."""

    def __init__(self, stream: str, kind: str):
        self.stream, self.kind = stream, kind
        self.picture_id = 0

    def pack(self, packet: av.Packet) -> Packed:
        clock = 90_000 if self.kind == "video" else 48_000
        time_base = packet.time_base
        timestamp = packet.pts * clock * time_base.numerator // time_base.denominator
        if self.kind != "video":
            return Packed(self.stream, [bytes(packet)], timestamp, packet.is_keyframe, None)
        picture_id = self.picture_id
        self.picture_id = (picture_id + 1) % PICTURE_IDS
        payloads = Vp8Encoder._packetize(bytes(packet), picture_id)
        return Packed(self.stream, payloads, timestamp, packet.is_keyframe, picture_id)


class SenderPacker:
    """aiortc's per-sender packetizer, replaced: the payloads come made. A peer's picture ids
    stay continuous when it moves to another stream (its packets then carry that stream's ids
    shifted by a constant, rewritten in place); a peer that stays on the stream it started on
    sends the shared payloads as they are."""

    def __init__(self) -> None:
        self.stream: str | None = None
        self.offset = 0
        self.last: int | None = None

    def pack(self, packed: Packed) -> tuple[list[bytes], int]:
        if packed.picture_id is None:
            return packed.payloads, packed.timestamp
        if packed.stream != self.stream:
            self.stream = packed.stream
            self.offset = 0 if self.last is None else (self.last + 1 - packed.picture_id)
        picture_id = (packed.picture_id + self.offset) % PICTURE_IDS
        self.last = picture_id
        if picture_id == packed.picture_id:
            return packed.payloads, packed.timestamp
        field = struct.pack("!H", 0x8000 | picture_id)
        return [p[:2] + field + p[4:] for p in packed.payloads], packed.timestamp

    @staticmethod
    def install(sender: RTCRtpSender) -> None:
        """In place of the packetizer aiortc would make at the first packet (a private
        attribute: aiortc is pinned exactly, and tests/media cover it)."""
        sender._RTCRtpSender__encoder = SenderPacker()


class PacketTrack(MediaStreamTrack):
    """Sends shared packets. ``source`` names the stream it follows (a tier, or a mix-minus);
    the hub moves it between sources by calling ``follow``."""

    def __init__(self, kind: str, source: str, on_resync: Callable[[str], None]):
        super().__init__()
        self.kind = kind
        self.source = source
        self._on_resync = on_resync
        self._queue: asyncio.Queue[Packed] = asyncio.Queue(maxsize=QUEUE_PACKETS)
        self._needs_keyframe = kind == "video"
        self.delivered = 0
        self.sent = False  # on a peer connection (the peer's offer had a track of this kind)

    def follow(self, source: str) -> None:
        if source == self.source:
            return
        self.source = source
        self._drain()
        self._needs_keyframe = self.kind == "video"
        self._on_resync(source)

    def offer(self, packet: Packed) -> None:
        """Called by the hub for each packet of the source this track follows."""
        if self._needs_keyframe:
            if not packet.is_keyframe:
                return
            self._needs_keyframe = False
        try:
            self._queue.put_nowait(packet)
        except asyncio.QueueFull:
            # Too far behind: start again from the next keyframe.
            self._drain()
            if self.kind == "video":
                self._needs_keyframe = True
                self._on_resync(self.source)

    def _drain(self) -> None:
        while not self._queue.empty():
            self._queue.get_nowait()

    async def recv(self) -> Packed:
        if self.readyState != "live":
            raise MediaStreamError
        packet = await self._queue.get()
        self.delivered += 1
        return packet


class InputReader:
    """Reads one received track until it ends, keeping what the hub needs from it (the CPU
    time of resampling its sound counted in ``cpu``)."""

    def __init__(self, track: MediaStreamTrack, cpu: HubCpu | None = None):
        self.track = track
        self.cpu = cpu
        self.latest_frame: av.VideoFrame | None = None
        self.frames = 0
        self.audio = AudioInput() if track.kind == "audio" else None
        self.task = asyncio.ensure_future(self._read())

    async def _read(self) -> None:
        try:
            while True:
                frame = await self.track.recv()
                self.frames += 1
                if self.audio is not None:
                    started = time.thread_time()
                    self.audio.push(frame)  # resampled: the one cost of reading
                    if self.cpu is not None:
                        self.cpu.add(started)
                else:
                    self.latest_frame = frame
        except MediaStreamError:
            pass
        except Exception:
            logger.exception("reading a %s track failed", self.track.kind)

    def stop(self) -> None:
        self.task.cancel()
        self.track.stop()
