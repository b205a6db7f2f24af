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
    on the same stale state. Appends take it too, which keeps ``seq`` gapless.
    """
    return EventLogHead.objects.select_for_update().get(meeting=meeting)


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
    head = event_log_lock(meeting=meeting)
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
