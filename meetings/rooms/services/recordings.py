"""Recording parts and answer clips, on the record with their checksums.

Called by the media hub (in its thread or worker process) through database_sync_to_async.
Files live under MEDIA_ROOT (docs/storage.md):

    meetings/<slug>/recording/part-0001.webm
    meetings/<slug>/clips/question-<id>-<clip id>.webm
"""

from pathlib import Path

from django.conf import settings
from django.db.models import Max
from django.utils import timezone

from meetings.rooms import patch
from meetings.rooms.actors import Actor
from meetings.rooms.checksums import sha256_of
from meetings.rooms.models import (
    Audience,
    Clip,
    ClipStatus,
    Meeting,
    Recording,
    RecordingStatus,
)
from meetings.rooms.services.events import event_append, record_write

RECORDER = Actor.system("recorder")


def media_path(relative: str) -> Path:
    return Path(settings.MEDIA_ROOT) / relative


def recording_start(*, meeting: Meeting) -> Recording:
    """A new part, numbered after the last one."""
    # The head's lock serialises the parts' numbering: FOR UPDATE on an aggregate locks
    # nothing (Django drops it), and there may be no row to lock yet.
    with record_write(meeting=meeting):
        last = meeting.recordings.aggregate(last=Max("part"))["last"] or 0
        part = last + 1
        recording = Recording.objects.create(
            meeting=meeting,
            part=part,
            file=f"meetings/{meeting.slug}/recording/part-{part:04d}.webm",
            started_at=timezone.now(),
        )
        event_append(
            meeting=meeting,
            type="recording.part_started",
            audience=Audience.STAFF,
            payload={"part": part},
            actor=RECORDER,
        )
    return recording


def recording_close(
    *, recording: Recording, seconds: float | None, interrupted: bool = False
) -> Recording:
    """Checksum a finished (or interrupted) part and put it on the record."""
    path = media_path(recording.file)
    exists = path.exists()
    # Read before the record's lock: hashing a part takes a while, and the lock holds up
    # every change to the conference.
    size, sha256 = (path.stat().st_size, sha256_of(path)) if exists else (0, "")
    with record_write(meeting=recording.meeting):
        recording = Recording.objects.get(pk=recording.pk)
        if recording.status != RecordingStatus.RECORDING:
            return recording
        recording.status = RecordingStatus.INTERRUPTED if interrupted else RecordingStatus.COMPLETE
        recording.ended_at = timezone.now()
        recording.seconds = round(seconds, 3) if seconds is not None else None
        recording.size, recording.sha256 = size, sha256
        recording.save()
        event_append(
            meeting=recording.meeting,
            type="recording.part_closed",
            audience=Audience.PUBLIC,
            payload={
                "part": recording.part,
                "status": recording.status,
                "seconds": str(recording.seconds) if recording.seconds is not None else None,
                "size": recording.size,
                "sha256": recording.sha256,
            },
            actor=RECORDER,
        )
    return recording


def recordings_close_interrupted(*, meeting: Meeting) -> list[Recording]:
    """Parts a crashed hub left open: closed as interrupted, with what reached the disk."""
    return [
        recording_close(recording=recording, seconds=None, interrupted=True)
        for recording in meeting.recordings.filter(status=RecordingStatus.RECORDING)
    ]


def clip_open(*, question_id: int, recording: Recording, start: float) -> Clip:
    return Clip.objects.create(
        meeting=recording.meeting, question_id=question_id, recording=recording, start_seconds=start
    )


def clip_end(*, question_id: int, end: float) -> Clip | None:
    clip = (
        Clip.objects.filter(question_id=question_id, status=ClipStatus.OPEN).order_by("-pk").first()
    )
    if clip is not None:
        clip.end_seconds = end
        clip.save(update_fields=["end_seconds"])
    return clip


def clip_abandon(*, question_id: int) -> None:
    """The question left the air without an answer (back to the queue): no clip."""
    Clip.objects.filter(
        question_id=question_id, status=ClipStatus.OPEN, end_seconds__isnull=True
    ).delete()


def clip_view(clip: Clip) -> dict:
    """A question's answer clip, as screens and the public page see it."""
    return {"clip": clip.pk, "seconds": str(clip.seconds), "sha256": clip.sha256}


def clip_path(clip: Clip) -> str:
    return f"meetings/{clip.meeting.slug}/clips/question-{clip.question_id}-{clip.pk}.webm"


def clip_ready(*, clip: Clip, seconds: float, size: int, sha256: str) -> Clip:
    with record_write(meeting=clip.meeting):
        clip.file = clip_path(clip)
        clip.status = ClipStatus.READY
        clip.seconds, clip.size, clip.sha256 = round(seconds, 3), size, sha256
        clip.save()
        event_append(
            meeting=clip.meeting,
            type="clip.ready",
            audience=Audience.PUBLIC,
            payload={
                "question": clip.question_id,
                "clip": clip.pk,
                "part": clip.recording.part,
                "seconds": str(clip.seconds),
                "size": size,
                "sha256": sha256,
                "patch": [patch.merge("clips", clip.question_id, value=clip_view(clip))],
            },
            actor=RECORDER,
        )
    return clip


def clip_failed(*, clip: Clip) -> None:
    Clip.objects.filter(pk=clip.pk).update(status=ClipStatus.FAILED)
