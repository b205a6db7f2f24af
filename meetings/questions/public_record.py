"""What the public page says of a conference's record: the checkpoint the platform signed when
the conference ended (the record as the conference left it: the minutes' checkpoint), the head
now and its own checkpoint if it is signed, the site's public key, and every entry appended
after the end, each explained, so a reader sees why the head now differs from the end."""

from dataclasses import dataclass
from datetime import datetime

from meetings.rooms.checkpoints import (
    checkpoint_at,
    checkpoint_note,
    end_checkpoint,
    public_key_for_client,
)
from meetings.rooms.event_types import describe
from meetings.rooms.models import Audience, Event, EventLogHead, Meeting, RecordCheckpoint
from meetings.rooms.state import consistent_read


@dataclass(frozen=True)
class SignedCheckpoint:
    checkpoint: RecordCheckpoint
    note: str  # the signed statement and its signature line, as an observer keeps it


@dataclass(frozen=True)
class LaterEntry:
    """An entry appended after the end checkpoint."""

    seq: int
    created: datetime
    type: str
    description: str  # what such an entry means, in the active language
    question: int | None  # the question a public entry is about, if it names one


@dataclass(frozen=True)
class RecordSummary:
    head: EventLogHead
    head_checkpoint: SignedCheckpoint | None  # the head's own, if the head is signed
    end: SignedCheckpoint | None  # None until the conference has ended
    later: list[LaterEntry]  # every entry after the end checkpoint, in order
    public_key: dict[str, str]  # the key the site signs with now


def record_summary(meeting: Meeting) -> RecordSummary:
    """Read at one moment, so that the entries listed lead exactly from the end to the head."""
    with consistent_read():
        head = EventLogHead.objects.get(meeting=meeting)
        end = end_checkpoint(meeting)
        at_head = checkpoint_at(meeting, head.seq)
        later = []
        if end is not None:
            entries = Event.objects.filter(meeting=meeting, seq__gt=end.seq).order_by("seq")
            later = [
                _later(entry)
                for entry in entries.only("seq", "type", "created_at", "audience", "payload")
            ]
    return RecordSummary(
        head=head,
        head_checkpoint=_signed(at_head, meeting),
        end=_signed(end, meeting),
        later=later,
        public_key=public_key_for_client(),
    )


def _signed(checkpoint: RecordCheckpoint | None, meeting: Meeting) -> SignedCheckpoint | None:
    if checkpoint is None:
        return None
    return SignedCheckpoint(checkpoint, checkpoint_note(checkpoint, meeting.slug))


def _later(entry: Event) -> LaterEntry:
    # Only a public entry's payload may be read here; a staff entry is told by its type alone.
    question = entry.payload.get("question") if entry.audience == Audience.PUBLIC else None
    return LaterEntry(
        seq=entry.seq,
        created=entry.created_at,
        type=entry.type,
        description=describe(entry.type),
        question=question if isinstance(question, int) else None,
    )
