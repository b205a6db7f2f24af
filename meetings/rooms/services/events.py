"""Appending to a meeting's record, and ringing the doorbell once the change is committed."""

import json
import logging
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction
from django.utils import timezone

from meetings.rooms.actors import Actor
from meetings.rooms.models import Audience, Event, EventLogHead, Meeting
from meetings.rooms.realtime import frames, groups
from meetings.rooms.record import canonical_json, event_digest, format_time, payload_digest

logger = logging.getLogger(__name__)


def event_log_lock(*, meeting: Meeting) -> EventLogHead:
    """Lock the meeting's record for the rest of the transaction.

    Services that decide something from the current state (is this the first kiosk of the
    hall? is another item running?) take this lock first, so two requests cannot both decide
    on the same stale state. Appends take it too, which keeps ``seq`` gapless. Within one
    transaction the lock is taken once: later calls, and the appends, reuse the locked head.
    """
    head = _held_head(meeting.pk)
    if head is None:
        head = EventLogHead.objects.select_for_update().get(meeting=meeting)
        _hold(head, marker=_HeadReleased(head.pk))
    return head


class _HeadReleased:
    """A no-op commit callback that marks the transaction (or savepoint) holding a head."""

    def __init__(self, meeting_id: int):
        self.meeting_id = meeting_id

    def __call__(self) -> None:
        pass


def _hold(head: EventLogHead, *, marker) -> None:
    """Remember the locked head for the rest of this transaction. ``marker`` is a callback
    registered with on_commit at the current savepoint: Django drops it when that savepoint
    or the transaction rolls back, and when the transaction commits, so the head is trusted
    only while its marker is still waiting (see _held_head)."""
    connection = transaction.get_connection()
    if not connection.in_atomic_block:
        return
    if isinstance(marker, _HeadReleased):
        transaction.on_commit(marker)
    held = connection.__dict__.setdefault("_meetings_held_heads", {})
    held[head.pk] = (head, marker)


def _held_head(meeting_id: int) -> EventLogHead | None:
    connection = transaction.get_connection()
    held = connection.__dict__.get("_meetings_held_heads")
    if not held or meeting_id not in held:
        return None
    head, marker = held[meeting_id]
    # Django's list of commit callbacks (sids, func, robust): the marker is there exactly as
    # long as the changes made with this head may still commit.
    if connection.in_atomic_block and any(
        func is marker for _sids, func, _robust in connection.run_on_commit
    ):
        return head
    del held[meeting_id]
    return None


def event_append(
    *,
    meeting: Meeting,
    type: str,
    audience: Audience,
    payload: dict[str, Any],
    actor: Actor,
) -> Event:
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("event_append must run inside the transaction of the change it records")
    payload = _normalised(payload)
    head = _held_head(meeting.pk) or EventLogHead.objects.select_for_update().get(meeting=meeting)
    seq = head.seq + 1
    created_at = timezone.now()
    digest = event_digest(
        meeting_slug=meeting.slug,
        seq=seq,
        type=type,
        audience=audience.value,
        actor_id=actor.user_id,
        actor_kind=actor.kind.value,
        actor_label=actor.label,
        payload=payload,
        created_at=created_at,
        prev_hash=head.hash,
    )
    event = Event.objects.create(
        meeting=meeting,
        seq=seq,
        type=type,
        audience=audience.value,
        actor=actor.user,
        actor_kind=actor.kind.value,
        actor_label=actor.label,
        payload=payload,
        created_at=created_at,
        prev_hash=head.hash,
        hash=digest,
    )
    EventLogHead.objects.filter(pk=head.pk).update(
        seq=seq, hash=digest, **{f"last_{audience.value}": seq}
    )
    transaction.on_commit(lambda: publish_event(event))
    # The head as it is now, held until the end of the transaction; the publishing callback
    # just registered is the marker: it is dropped with this savepoint if it rolls back.
    head.seq, head.hash = seq, digest
    setattr(head, f"last_{audience.value}", seq)
    _hold(head, marker=transaction.get_connection().run_on_commit[-1][1])
    return event


def event_for_client(event: Event) -> dict[str, Any]:
    """An event as frames and the HTTP API give it: everything needed to recompute its hash."""
    return {
        "seq": event.seq,
        "type": event.type,
        "audience": event.audience,
        "created": format_time(event.created_at),
        "actor": event.actor_label,
        "actor_kind": event.actor_kind,
        "actor_id": event.actor_id,
        "payload": event.payload,
        "prev_hash": event.prev_hash,
        "hash": event.hash,
    }


def record_entry(event: Event, *, readable: bool) -> dict[str, Any]:
    """An entry of the record for someone checking the chain: the payload only if ``readable``,
    its digest always."""
    entry = event_for_client(event)
    entry["payload_sha256"] = payload_digest(event.payload)
    if not readable:
        entry["payload"] = None
    return entry


def publish_event(event: Event) -> None:
    """Ring the meeting's doorbell: one message per event, to every web process that serves
    the meeting (realtime/fanout.py), which works out who may see it. Runs after commit; a
    failure only delays clients, whose process repairs its copy of the stream from the record."""
    layer = get_channel_layer()
    if layer is None:
        return
    message = groups.event_message(
        meeting_id=event.meeting_id,
        seq=event.seq,
        type=event.type,
        audience=event.audience,
        event_json=frames.dumps(event_for_client(event)),
    )
    try:
        async_to_sync(layer.group_send)(groups.meeting_events(event.meeting_id), message)
    except Exception:
        logger.exception("could not publish event %s of meeting %s", event.seq, event.meeting_id)


def _normalised(payload: dict[str, Any]) -> dict[str, Any]:
    """The payload exactly as it will read back from the database, so the hash computed now
    matches the one recomputed later: string keys only, and no floats (whose text form
    PostgreSQL's jsonb may change)."""
    _refuse_floats(payload)
    return json.loads(canonical_json(payload))


def _refuse_floats(value: Any) -> None:
    if isinstance(value, float):
        raise TypeError("event payloads hold no floats; use integers or strings")
    if isinstance(value, dict):
        for item in value.values():
            _refuse_floats(item)
    elif isinstance(value, list | tuple):
        for item in value:
            _refuse_floats(item)
