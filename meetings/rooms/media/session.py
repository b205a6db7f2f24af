"""A hub's recording session: the part being written, and the clips of answers given while it
runs. Lives beside a MeetingHub in the hub manager; every database write goes through the
recordings services, off the hub's loop."""

import asyncio
import logging

from channels.db import database_sync_to_async

from meetings.rooms.media.hub import MeetingHub
from meetings.rooms.media.recorder import PartWriter, cut_clip
from meetings.rooms.media.tiers import Tier

logger = logging.getLogger(__name__)

# A clip is cut once the recording has closed the cluster holding its end.
CLIP_DELAY_SECONDS = 1.5


class RecordingSession:
    def __init__(self, hub: MeetingHub):
        self.hub = hub
        self.recording = None
        self.writer: PartWriter | None = None
        self.pending: set[asyncio.Task] = set()

    @property
    def active(self) -> bool:
        return self.writer is not None

    async def start(self) -> None:
        from meetings.rooms.models import Meeting
        from meetings.rooms.services import recordings

        if self.active:
            return
        meeting = await database_sync_to_async(Meeting.objects.get)(pk=self.hub.meeting_id)
        self.recording = await database_sync_to_async(recordings.recording_start)(meeting=meeting)
        extradata = self.hub.audio_encoders[Tier.HIGH].context.extradata
        writer = PartWriter(recordings.media_path(self.recording.file), audio_extradata=extradata)
        self.writer = writer

        def tap(source: str, packet) -> None:
            if source == "video:high":
                writer.write("video", packet)
            elif source == "audio:high":
                writer.write("audio", packet)

        self.hub.tap = tap
        self.hub.request_keyframes()  # the part starts on a picture

    async def stop(self) -> None:
        from meetings.rooms.services import recordings

        if not self.active:
            return
        self.hub.tap = None
        writer, self.writer = self.writer, None
        for task in list(self.pending):
            await task
        seconds = await asyncio.get_running_loop().run_in_executor(None, writer.close)
        await database_sync_to_async(recordings.recording_close)(
            recording=self.recording, seconds=seconds
        )

    async def mark(self, question_id: int, mark: str, *, at: float) -> None:
        """A question went on air, was answered, or went back to the queue, at ``at`` (the
        wall-clock time of its entry on the record): the clip's ends are where the recording
        was then, however late the hub learned of it."""
        from meetings.rooms.services import recordings

        if mark == "on_air":
            self.hub.request_keyframes()  # every screen gets a picture with the question
            if self.active:
                start = self.writer.media_seconds_at(at) or 0.0
                await database_sync_to_async(recordings.clip_open)(
                    question_id=question_id, recording=self.recording, start=start
                )
        elif mark == "answered" and self.active:
            end = self.writer.media_seconds_at(at)
            clip = await database_sync_to_async(recordings.clip_end)(
                question_id=question_id, end=end
            )
            if clip is not None:
                task = asyncio.ensure_future(self._cut(clip))
                self.pending.add(task)
                task.add_done_callback(self.pending.discard)
        elif mark == "returned":
            await database_sync_to_async(recordings.clip_abandon)(question_id=question_id)

    async def _cut(self, clip) -> None:
        from meetings.rooms.services import recordings

        await asyncio.sleep(CLIP_DELAY_SECONDS)
        source = recordings.media_path(self.recording.file)
        target = recordings.media_path(await database_sync_to_async(recordings.clip_path)(clip))
        try:
            cut = await asyncio.get_running_loop().run_in_executor(
                None,
                lambda: cut_clip(source, target, start=clip.start_seconds, end=clip.end_seconds),
            )
        except Exception:
            logger.exception("cutting the clip of question %s failed", clip.question_id)
            await database_sync_to_async(recordings.clip_failed)(clip=clip)
            return
        await database_sync_to_async(recordings.clip_ready)(
            clip=clip, seconds=cut.seconds, size=cut.size, sha256=cut.sha256
        )
