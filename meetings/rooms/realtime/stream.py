"""Reading a meeting's record for one audience: the part of the stream that comes from the
database (replays, catch-up after a missed doorbell, snapshots)."""

from dataclasses import dataclass
from typing import Any

from django.conf import settings

from meetings.rooms.models import Audience, Event, EventLogHead, Meeting
from meetings.rooms.services.events import event_for_client
from meetings.rooms.state import meeting_snapshot


@dataclass(frozen=True)
class Replay:
    """Events after a point, or None when the client should take a snapshot instead."""

    events: list[dict[str, Any]] | None
    head: int


def visible_head(meeting_id: int, audience: Audience) -> int:
    return EventLogHead.objects.get(meeting_id=meeting_id).last_visible_to(audience)


def events_after(meeting_id: int, audience: Audience, since: int) -> Replay:
    """Every event after ``since`` this audience may see, oldest first.

    A ``since`` beyond the head (a client that remembers another database, or a forged
    number) or further behind than EVENT_REPLAY_LIMIT visible events gets None: snapshot.
    """
    limit = settings.EVENT_REPLAY_LIMIT
    head = EventLogHead.objects.get(meeting_id=meeting_id).seq
    if since > head:
        return Replay(None, head)
    rows = list(
        Event.objects.filter(
            meeting_id=meeting_id,
            seq__gt=since,
            audience__in=[visible.value for visible in audience.visible_audiences()],
        ).order_by("seq")[: limit + 1]
    )
    if len(rows) > limit:
        return Replay(None, head)
    return Replay([event_for_client(row) for row in rows], head)


def snapshot(meeting_id: int, audience: Audience) -> tuple[int, dict[str, Any]]:
    return meeting_snapshot(Meeting.objects.get(pk=meeting_id), audience)
