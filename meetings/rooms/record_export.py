"""The whole record of a conference as one JSON document, streamed: what an outside verifier
needs and nothing else (docs/record.md, "The export").

The head is read first and the entries up to it are sent in pages of ``PAGE`` by seq, so the
document is consistent however long the record is and whatever is appended meanwhile (an
entry at or below a committed head never changes), and memory stays flat.
"""

import json
from collections.abc import AsyncIterator, Callable
from typing import Any

from asgiref.sync import sync_to_async

from meetings.rooms.checkpoints import checkpoint_for_client, public_key_for_client
from meetings.rooms.models import Event, EventLogHead, Meeting, RecordCheckpoint
from meetings.rooms.record import RECORD_FORMAT
from meetings.rooms.services.events import record_entry

# The export's own format name: its layout, and the newest entry format it may hold.
EXPORT_FORMAT = f"tiepxuc-record/{RECORD_FORMAT}"
PAGE = 1000


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def checkpoints_document(meeting: Meeting, *, since: int = 0) -> dict[str, Any]:
    """The conference's signed checkpoints after ``since`` (its seq), with the key that signed
    them and the head as it stands: what an observer polls and keeps."""
    head = EventLogHead.objects.get(meeting=meeting)
    checkpoints = RecordCheckpoint.objects.filter(
        meeting=meeting, seq__gt=since, seq__lte=head.seq
    ).order_by("seq", "pk")
    return {
        "format": EXPORT_FORMAT,
        "meeting": meeting.slug,
        "head": {"seq": head.seq, "hash": head.hash},
        "signing_key": public_key_for_client(),
        "checkpoints": [checkpoint_for_client(c, meeting.slug) for c in checkpoints],
    }


async def record_document(
    meeting: Meeting, *, readable: Callable[[Event], bool]
) -> AsyncIterator[str]:
    """The export, in pieces: the head, the key, the checkpoints, then every entry from seq 1 to
    the head. ``readable`` says which entries' payloads (and salts) the reader may have."""
    opening = await sync_to_async(checkpoints_document)(meeting)
    last_seq = opening["head"]["seq"]
    yield _dumps(opening)[:-1] + ',"entries":['
    after, first = 0, True
    while after < last_seq:
        rows = await sync_to_async(_page)(meeting, after, last_seq)
        if not rows:
            break  # a gap at the end of a damaged record: the verifier will say so
        piece = ",".join(_dumps(record_entry(row, readable=readable(row))) for row in rows)
        yield piece if first else "," + piece
        after, first = rows[-1].seq, False
    yield "]}"


def _page(meeting: Meeting, after: int, last_seq: int) -> list[Event]:
    return list(
        Event.objects.filter(meeting=meeting, seq__gt=after, seq__lte=last_seq).order_by("seq")[
            :PAGE
        ]
    )
