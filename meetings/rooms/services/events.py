"""Appending to a meeting's record, and ringing the doorbell once the change is committed."""

import json
import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction
from django.utils import timezone

from meetings.rooms.actors import Actor
from meetings.rooms.checkpoints import checkpoint_reason, checkpoint_sign
from meetings.rooms.errors import MeetingEnded
from meetings.rooms.event_types import event_type
from meetings.rooms.models import Audience, Event, EventLogHead, Meeting, MeetingStatus
from meetings.rooms.realtime import frames, groups
from meetings.rooms.record import (
    canonical_json,
    chain_digest,
    entry_format,
    format_time,
    new_salt,
    payload_commitment,
    payload_digest,
)

logger = logging.getLogger(__name__)


@contextmanager
def record_write(*, meeting: Meeting) -> Iterator[EventLogHead]:
    """The one way into a change of a conference's state: opens the transaction and takes the
    lock of the conference's record head before anything else, and yields the head.

    Every writer takes the head first, so no two can each hold a row the other waits for (a
    conference's row, a question's, a hall's) while waiting for the head: there is one lock
    order, and this is where it is kept. It also serialises the decisions taken from current
    state (is this the first kiosk of the hall? is another question on air?), and keeps ``seq``
    gapless. ``event_append`` runs only inside it.

    A service called by another joins the caller's write (in a savepoint, so an error it
    raises and the caller catches undoes only its part); the lock is the caller's. One
    transaction writes one conference's record: opening another's inside it is refused,
    since two heads taken in different orders would deadlock. An unsaved conference is saved
    here with its new head, as the first write of its record.
    """
    connection = transaction.get_connection()
    current = connection.__dict__.get(_WRITE)
    if current is not None:
        if current.meeting_id != meeting.pk:
            raise RuntimeError(
                "one transaction writes one conference's record: "
                f"meeting {meeting.pk} inside a write of meeting {current.meeting_id}"
            )
        with transaction.atomic():
            yield current.head()
        return
    several = connection.__dict__.get(_SEVERAL)
    if several is not None and meeting.pk not in several:
        # Its head would be taken after the others, out of their order.
        raise RuntimeError(
            f"records_write locked meetings {sorted(several)}; meeting {meeting.pk} is not one"
        )
    with transaction.atomic():
        write = connection.__dict__[_WRITE] = _Write(meeting.pk)
        try:
            if meeting.pk is None:
                meeting.save()
                write.meeting_id = meeting.pk
                head = EventLogHead.objects.create(meeting=meeting)
            else:
                head = EventLogHead.objects.select_for_update().get(meeting=meeting)
            write.locked(head)
            yield head
        finally:
            del connection.__dict__[_WRITE]


# The connection's attribute holding its open _Write, if any.
_WRITE = "_meetings_record_write"
# The ids of the conferences whose heads an open records_write holds, if any.
_SEVERAL = "_meetings_records_write"


@contextmanager
def records_write(*, meetings: Iterable[Meeting]) -> Iterator[None]:
    """One change written on several conferences' records at once (a concern linked across a
    round's conferences), all or nothing: opens the transaction and takes the conferences'
    head locks first, one by one in the order of their ids, before anything else.

    Inside it, each conference's part is a ``record_write`` of its own (which finds its head
    already held); one of a conference not named here is refused. Every other writer holds
    one head at most, so with the heads taken in one order no cycle can form."""
    connection = transaction.get_connection()
    if connection.__dict__.get(_WRITE) is not None or connection.__dict__.get(_SEVERAL):
        raise RuntimeError("records_write runs outside any other record write")
    ids = sorted({meeting.pk for meeting in meetings})
    with transaction.atomic():
        for meeting_id in ids:
            EventLogHead.objects.select_for_update().get(meeting_id=meeting_id)
        connection.__dict__[_SEVERAL] = frozenset(ids)
        try:
            yield
        finally:
            del connection.__dict__[_SEVERAL]


class _Write:
    """An open record_write: its conference, and the head it locked, as the appends left it.

    The head's lock lasts as long as the record_write (it was taken at its level, so a nested
    savepoint's rollback cannot release it), but an append made in a savepoint that rolls
    back leaves the copy ahead of the database. Each append names its publishing callback,
    which Django drops from the list of commit callbacks when that savepoint rolls back:
    while it is there, the copy is the database's."""

    def __init__(self, meeting_id: int | None):
        self.meeting_id = meeting_id
        self._head: EventLogHead | None = None
        self._marker = None
        # The conference's status as this write read or set it (note_meeting_status), if it
        # did: meeting_has_ended follows it rather than the head's ``closed``.
        self.status: str | None = None

    def locked(self, head: EventLogHead) -> None:
        self._head = head

    def head(self) -> EventLogHead:
        if self._marker is not None and not any(
            func is self._marker
            for _sids, func, _robust in transaction.get_connection().run_on_commit
        ):
            self._head = EventLogHead.objects.get(pk=self.meeting_id)
            self._marker = None
        return self._head

    def appended(self, marker) -> None:
        self._marker = marker


def record_writing() -> bool:
    """Whether this thread's transaction is inside record_write."""
    return transaction.get_connection().__dict__.get(_WRITE) is not None


# Once a conference is in one of these, its record is closed (docs/record.md, "After the end").
ENDED_STATUSES = frozenset({MeetingStatus.ENDED, MeetingStatus.ARCHIVED})


def meeting_has_ended(meeting: Meeting) -> bool:
    """Whether the conference has ended (or is archived), as its record's head, locked by
    this write, says: no end can commit between this answer and the write's own commit. The
    caller's copy of the meeting may be older than that; it is not trusted. Within the write
    that ends the conference, it is ended from the moment meeting_transition notes it."""
    write = _open_write(meeting.pk)
    if write is None:
        raise RuntimeError("meeting_has_ended runs inside record_write(meeting=...)")
    if write.status is not None:
        return write.status in ENDED_STATUSES
    return write.head().closed


def refuse_after_end(meeting: Meeting, message: str | None = None) -> None:
    """Raise MeetingEnded if the conference has ended: the service changes nothing. Called
    first thing inside a service's record_write, before anything is changed."""
    if meeting_has_ended(meeting):
        raise MeetingEnded(message)


def note_meeting_status(meeting: Meeting, status: str) -> None:
    """The conference's status as this write read it under the lock, or as it just changed it
    (meeting_transition): meeting_has_ended follows it, and the next append closes the head
    if it is an end."""
    write = _open_write(meeting.pk)
    if write is not None:
        write.status = status


def _open_write(meeting_id: int) -> _Write | None:
    connection = transaction.get_connection()
    write = connection.__dict__.get(_WRITE)
    if write is None or write.meeting_id != meeting_id or not connection.in_atomic_block:
        return None
    return write


def event_append(
    *,
    meeting: Meeting,
    type: str,
    audience: Audience,
    payload: dict[str, Any],
    actor: Actor,
) -> Event:
    """Append one entry to the conference's record, in the transaction of the change it
    records: only inside ``record_write`` for this conference, which holds the head's lock.

    ``type`` must be registered (rooms/event_types.py) with this audience: RuntimeError
    otherwise, a bug. Once the conference has ended, a type not allowed after the end is
    refused with MeetingEnded (the write is rolled back as a whole): services refuse such
    changes themselves before making them; this is the rule's last line."""
    write = _open_write(meeting.pk)
    if write is None:
        raise RuntimeError(
            "event_append runs inside record_write(meeting=...) of the conference it records"
        )
    kind = event_type(type)
    if audience not in kind.audiences:
        raise RuntimeError(f"event type {type} is not for the {audience.value} audience")
    if not kind.after_end and meeting_has_ended(meeting):
        raise MeetingEnded(detail={"type": type})
    payload = _normalised(payload)
    head = write.head()
    seq = head.seq + 1
    created_at = timezone.now()
    salt = new_salt()
    digest = chain_digest(
        meeting_slug=meeting.slug,
        seq=seq,
        type=type,
        audience=audience.value,
        actor_id=actor.user_id,
        actor_kind=actor.kind.value,
        actor_label=actor.label,
        seal=payload_commitment(payload, salt),
        format=entry_format(salt),
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
        payload_salt=salt,
        created_at=created_at,
        prev_hash=head.hash,
        hash=digest,
    )
    moved = {"seq": seq, "hash": digest, f"last_{audience.value}": seq}
    ended = meeting_has_ended(meeting)
    if ended and not head.closed:
        moved["closed"] = True
    reason = checkpoint_reason(type=type, payload=payload, ended=ended, head=head, now=created_at)
    if reason is not None:
        moved["checkpointed_at"] = created_at
    EventLogHead.objects.filter(pk=head.pk).update(**moved)
    transaction.on_commit(lambda: publish_event(event))
    # The head as it is now; the publishing callback just registered tells whether it still
    # is (_Write.head).
    for field, value in moved.items():
        setattr(head, field, value)
    write.appended(transaction.get_connection().run_on_commit[-1][1])
    if reason is not None:
        checkpoint_sign(meeting=meeting, head=head, reason=reason, now=created_at)
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
    """An entry of the record for someone checking the chain: its format and the seal its hash
    covers always; the payload, and the salt that opens its commitment, only if ``readable``."""
    entry = event_for_client(event)
    salt = event.payload_salt
    entry["format"] = entry_format(salt)
    entry["payload_commitment"] = None if salt is None else payload_commitment(event.payload, salt)
    entry["payload_salt"] = salt if readable else None
    entry["payload_sha256"] = payload_digest(event.payload) if salt is None else None
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
