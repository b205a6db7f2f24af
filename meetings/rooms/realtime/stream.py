"""Reading a meeting's record for the stream: what the web process's copy of the stream starts
from and repairs itself with, replays for one audience, and snapshots. Plain functions that run
in the database thread (``database_sync_to_async``)."""

from dataclasses import dataclass
from typing import Any

from django.conf import settings

from meetings.rooms.models import Audience, Event, EventLogHead, Meeting
from meetings.rooms.realtime import frames
from meetings.rooms.services.events import event_for_client
from meetings.rooms.state import consistent_read, meeting_snapshot


@dataclass(frozen=True)
class LoggedEvent:
    """One entry of the record as the stream carries it: the event object encoded once."""

    seq: int
    type: str
    audience: Audience
    json: str

    @classmethod
    def from_row(cls, event: Event) -> "LoggedEvent":
        return cls(
            seq=event.seq,
            type=event.type,
            audience=Audience(event.audience),
            json=frames.dumps(event_for_client(event)),
        )


@dataclass(frozen=True)
class Origin:
    """Where a process's copy of a meeting's stream starts: the head of the record, the newest
    seq each audience may see, and the newest entries (oldest first)."""

    seq: int
    last_visible: dict[Audience, int]
    recent: list[LoggedEvent]


def origin(meeting_id: int, *, recent: int) -> Origin:
    with consistent_read():
        head = EventLogHead.objects.get(meeting_id=meeting_id)
        rows = list(Event.objects.filter(meeting_id=meeting_id).order_by("-seq")[:recent])
    return Origin(
        seq=head.seq,
        last_visible={audience: head.last_visible_to(audience) for audience in Audience},
        recent=[LoggedEvent.from_row(row) for row in reversed(rows)],
    )


def entries_after(meeting_id: int, since: int, *, limit: int) -> list[LoggedEvent]:
    """Every entry after ``since``, of every audience, oldest first: at most ``limit``."""
    rows = Event.objects.filter(meeting_id=meeting_id, seq__gt=since).order_by("seq")[:limit]
    return [LoggedEvent.from_row(row) for row in rows]


def heads(meeting_ids: list[int]) -> dict[int, int]:
    return dict(
        EventLogHead.objects.filter(meeting_id__in=meeting_ids).values_list("meeting_id", "seq")
    )


def events_after(meeting_id: int, audience: Audience, since: int) -> list[LoggedEvent] | None:
    """Every entry after ``since`` this audience may see, oldest first.

    A ``since`` beyond the head (a client that remembers another database, or a forged
    number) or further behind than EVENT_REPLAY_LIMIT visible events gets None: snapshot.
    """
    limit = settings.EVENT_REPLAY_LIMIT
    if since > EventLogHead.objects.get(meeting_id=meeting_id).seq:
        return None
    rows = list(
        Event.objects.filter(
            meeting_id=meeting_id,
            seq__gt=since,
            audience__in=[visible.value for visible in audience.visible_audiences()],
        ).order_by("seq")[: limit + 1]
    )
    if len(rows) > limit:
        return None
    return [LoggedEvent.from_row(row) for row in rows]


def snapshot(meeting_id: int, audience: Audience) -> tuple[int, dict[str, Any]]:
    return meeting_snapshot(Meeting.objects.get(pk=meeting_id), audience)
