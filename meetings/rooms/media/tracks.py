"""What travels on a peer connection.

Outgoing: a track whose ``recv()`` returns packets the hub already encoded (aiortc then only
packetizes them), taken from a bounded queue that the hub fills once per packet for every
subscriber. A subscriber starts on a keyframe, and one that falls behind (its queue full)
drops what it had and waits for the next keyframe: a weak link never slows the others.

Incoming: every received track is read to the end (aiortc keeps unread tracks'
frames in memory); the hub keeps the latest picture and the sound of each source.
"""

import asyncio
import logging
from collections.abc import Callable

import av
from aiortc import MediaStreamTrack
from aiortc.mediastreams import MediaStreamError

from meetings.rooms.media.mixer import AudioInput

logger = logging.getLogger(__name__)

QUEUE_PACKETS = 60  # about 2 s of video at 25 fps; beyond that the subscriber resyncs


class PacketTrack(MediaStreamTrack):
    """Sends shared packets. ``source`` names the stream it follows (a tier, or a mix-minus);
    the hub moves it between sources by calling ``follow``."""

    def __init__(self, kind: str, source: str, on_resync: Callable[[str], None]):
        super().__init__()
        self.kind = kind
        self.source = source
        self._on_resync = on_resync
        self._queue: asyncio.Queue[av.Packet] = asyncio.Queue(maxsize=QUEUE_PACKETS)
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

    def offer(self, packet: av.Packet) -> None:
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

    async def recv(self) -> av.Packet:
        if self.readyState != "live":
            raise MediaStreamError
        packet = await self._queue.get()
        self.delivered += 1
        return packet


class InputReader:
    """Reads one received track until it ends, keeping what the hub needs from it."""

    def __init__(self, track: MediaStreamTrack):
        self.track = track
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
                    self.audio.push(frame)
                else:
                    self.latest_frame = frame
        except MediaStreamError:
            pass
        except Exception:
            logger.exception("reading a %s track failed", self.track.kind)

    def stop(self) -> None:
        self.task.cancel()
        self.track.stop()
