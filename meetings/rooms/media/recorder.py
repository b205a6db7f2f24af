"""Recording the programme, and cutting answer clips from it.

The hub hands the recorder the packets it already encoded for the high tier and the programme
sound; they are remuxed, never encoded again, into a WebM (Matroska) file whose clusters close
at least every half second and which is flushed after every packet, so a crash loses at most about
one second (tests/media/test_recording.py kills a recording to check it). Writing happens in a
thread of its own: the hub's loop only queues packets.

A clip is cut by stream copy from a part, starting on the keyframe the hub forced when the
question went on air, with timestamps shifted to zero.
"""

import collections
import logging
import queue
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import av

from meetings.rooms.checksums import sha256_of
from meetings.rooms.media.encoders import AUDIO_TIME_BASE, VIDEO_TIME_BASE
from meetings.rooms.media.tiers import PROGRAMME

logger = logging.getLogger(__name__)

# The Matroska muxer holds a cluster in memory until it closes, so a crash loses the open one:
# up to this limit, plus the packets until the next that may start a cluster. With a whole
# second that came to 1.04 s in tests/media/test_recording.py's SIGKILL test, about one run in
# three; half a second keeps the loss under a second.
CLUSTER_MILLISECONDS = 500

# How far back media_seconds_at can place a moment: past the hub's catch-up with the record.
RECENT_SECONDS = 30


class PartWriter:
    """Writes one recording part. ``write`` is called on the hub's loop; ``close`` waits for
    the writer thread and returns the part's length in seconds."""

    def __init__(self, path: Path, *, audio_extradata: bytes | None):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._queue: queue.Queue = queue.Queue(maxsize=2000)
        self._audio_extradata = audio_extradata
        self._first_video_pts: int | None = None
        self.last_video_pts: int | None = None
        # (wall clock, pts) of the recent pictures: where the recording was at a moment just
        # past, which the media clock (slower than the wall's on a busy machine) cannot say.
        self._recent: collections.deque[tuple[float, int]] = collections.deque(
            maxlen=RECENT_SECONDS * PROGRAMME.fps
        )
        self._thread = threading.Thread(target=self._run, name=f"recorder {path.name}", daemon=True)
        self._thread.start()

    def write(self, kind: str, packet: av.Packet) -> None:
        if kind == "video":
            if self._first_video_pts is None:
                if not packet.is_keyframe:
                    return  # a part starts on a picture
                self._first_video_pts = packet.pts
            self.last_video_pts = packet.pts
            self._recent.append((time.time(), packet.pts))
        elif self._first_video_pts is None:
            return  # and its sound with it
        try:
            self._queue.put_nowait((kind, packet))
        except queue.Full:
            logger.error("recorder %s: the disk is too slow, a packet was dropped", self.path.name)

    def media_seconds(self) -> float | None:
        """Where the recording is now, in seconds into this part (for answer clips)."""
        if self._first_video_pts is None or self.last_video_pts is None:
            return None
        return (self.last_video_pts - self._first_video_pts) / PROGRAMME.fps

    def media_seconds_at(self, when: float) -> float | None:
        """Where the recording was at ``when`` (a wall-clock timestamp of the last
        RECENT_SECONDS): the last picture written by then; the first one kept if ``when`` is
        older, and now if it is later."""
        if self._first_video_pts is None:
            return None
        pts = next((p for at, p in reversed(self._recent) if at <= when), None)
        if pts is None:
            pts = self._recent[0][1]
        return (pts - self._first_video_pts) / PROGRAMME.fps

    def close(self) -> float | None:
        self._queue.put(None)
        self._thread.join(timeout=30)
        return self.media_seconds()

    def _run(self) -> None:
        container = av.open(
            str(self.path),
            "w",
            format="webm",
            options={"cluster_time_limit": str(CLUSTER_MILLISECONDS), "flush_packets": "1"},
        )
        video = container.add_stream("vp8", rate=PROGRAMME.fps)
        video.width, video.height = PROGRAMME.width, PROGRAMME.height
        video.time_base = VIDEO_TIME_BASE
        audio = container.add_stream("opus", rate=48_000)
        audio.layout = "mono"
        audio.time_base = AUDIO_TIME_BASE
        if self._audio_extradata:
            audio.codec_context.extradata = self._audio_extradata
        video_zero = audio_zero = None
        try:
            while (item := self._queue.get()) is not None:
                kind, packet = item
                copy = av.Packet(bytes(packet))
                copy.is_keyframe = packet.is_keyframe
                if kind == "video":
                    video_zero = packet.pts if video_zero is None else video_zero
                    copy.pts = copy.dts = packet.pts - video_zero
                    copy.time_base, copy.stream = VIDEO_TIME_BASE, video
                else:
                    audio_zero = packet.pts if audio_zero is None else audio_zero
                    copy.pts = copy.dts = packet.pts - audio_zero
                    copy.time_base, copy.stream = AUDIO_TIME_BASE, audio
                container.mux(copy)
        except Exception:
            logger.exception("recorder %s failed", self.path.name)
        finally:
            container.close()


@dataclass(frozen=True)
class CutClip:
    seconds: float
    size: int
    sha256: str
    starts_on_keyframe: bool


def cut_clip(source: Path, target: Path, *, start: float, end: float) -> CutClip:
    """Copy [start, end] seconds of ``source`` into ``target``, from the first keyframe at or
    after ``start`` (less a frame), with timestamps from zero. No decoding, no encoding."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(source)) as given, av.open(str(target), "w", format="webm") as clip:
        in_video, in_audio = given.streams.video[0], given.streams.audio[0]
        out_video = clip.add_stream_from_template(in_video)
        out_audio = clip.add_stream_from_template(in_audio)
        tolerance = 1 / PROGRAMME.fps
        zero = None  # seconds into the source where the clip begins
        first_keyframe = False
        for packet in given.demux(in_video, in_audio):
            if packet.pts is None or packet.size == 0:
                continue
            at = float(packet.pts * packet.time_base)
            if packet.stream is in_video:
                if zero is None:
                    if at + tolerance < start or not packet.is_keyframe:
                        continue
                    if at > end + tolerance:
                        break  # the first keyframe after the start comes after the end
                    zero, first_keyframe = at, True
                if at > end + tolerance:
                    break
                packet.stream = out_video
            else:
                if zero is None or at < zero or at > end + tolerance:
                    continue
                packet.stream = out_audio
            shift = round(zero / packet.time_base)
            packet.pts -= shift
            packet.dts = packet.pts
            clip.mux(packet)
    if zero is None:
        raise ValueError(f"no keyframe between {start:.2f} and {end:.2f} s in {source.name}")
    with av.open(str(target)) as check:
        duration = float(check.duration / av.time_base) if check.duration else end - zero
    return CutClip(duration, target.stat().st_size, sha256_of(target), first_keyframe)
