import itertools
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from meetings.rooms import patch
from meetings.rooms.actors import Actor
from meetings.rooms.models import (
    GENESIS_HASH,
    Audience,
    CheckpointReason,
    Event,
    EventLogHead,
    MeetingStatus,
    RecordCheckpoint,
)
from meetings.rooms.record import chain_digest, payload_commitment
from meetings.rooms.services import meetings
from meetings.rooms.services.events import event_append, record_write
from meetings.rooms.services.halls import hall_set_attendance
from tests.factories import make_conference

pytestmark = pytest.mark.django_db


def test_seq_is_gapless_and_every_row_chains_to_the_one_before():
    conference = make_conference()
    events = list(Event.objects.filter(meeting=conference.meeting).order_by("seq"))
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert events[0].prev_hash == GENESIS_HASH
    for before, after in itertools.pairwise(events):
        assert after.prev_hash == before.hash
    head = EventLogHead.objects.get(meeting=conference.meeting)
    assert (head.seq, head.hash) == (events[-1].seq, events[-1].hash)


def test_hash_covers_the_row_and_the_previous_hash():
    conference = make_conference()
    hall = conference.halls[0]
    hall_set_attendance(hall=hall, count=120, actor=conference.actor)
    event = Event.objects.filter(meeting=conference.meeting).latest("seq")
    assert event.type == "hall.attendance_set"
    assert event.payload["count"] == 120
    assert event.payload_salt is not None and len(event.payload_salt) == 32

    def digest(payload):
        return chain_digest(
            meeting_slug=conference.meeting.slug,
            seq=event.seq,
            type=event.type,
            audience=event.audience,
            actor_id=event.actor_id,
            actor_kind=event.actor_kind,
            actor_label=event.actor_label,
            seal=payload_commitment(payload, event.payload_salt),
            format=2,
            created_at=event.created_at,
            prev_hash=event.prev_hash,
        )

    assert digest(event.payload) == event.hash
    assert digest(dict(event.payload, count=121)) != event.hash


def test_every_entry_has_its_own_salt():
    conference = make_conference()
    salts = list(
        Event.objects.filter(meeting=conference.meeting).values_list("payload_salt", flat=True)
    )
    assert len(salts) > 3 and len(set(salts)) == len(salts)


@pytest.mark.django_db(transaction=True)
def test_append_outside_a_transaction_is_refused():
    conference = make_conference()
    with pytest.raises(RuntimeError, match="inside record_write"):
        event_append(
            meeting=conference.meeting,
            type="role.revoked",
            audience=Audience.STAFF,
            payload={},
            actor=Actor.system(),
        )


def test_payloads_with_floats_are_refused_and_nothing_is_appended():
    conference = make_conference()
    before = Event.objects.filter(meeting=conference.meeting).count()
    with pytest.raises(TypeError), record_write(meeting=conference.meeting):
        event_append(
            meeting=conference.meeting,
            type="role.revoked",
            audience=Audience.STAFF,
            payload={"ratio": 0.5},
            actor=Actor.system(),
        )
    assert Event.objects.filter(meeting=conference.meeting).count() == before


def test_orm_refuses_to_update_or_delete_rows():
    conference = make_conference()
    event = Event.objects.filter(meeting=conference.meeting).first()
    event.type = "tampered"
    with pytest.raises(TypeError):
        event.save()
    with pytest.raises(TypeError):
        event.delete()
    with pytest.raises(TypeError):
        Event.objects.filter(pk=event.pk).update(type="tampered")
    with pytest.raises(TypeError):
        Event.objects.filter(pk=event.pk).delete()


def test_database_trigger_refuses_updates_made_behind_the_orm():
    conference = make_conference()
    event = Event.objects.filter(meeting=conference.meeting).first()
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("UPDATE rooms_event SET type = 'tampered' WHERE id = %s", [event.pk])
    event.refresh_from_db()
    assert event.type != "tampered"


def test_event_is_published_only_after_commit(django_capture_on_commit_callbacks):
    conference = make_conference()
    with (
        django_capture_on_commit_callbacks(execute=False) as callbacks,
        record_write(meeting=conference.meeting),
    ):
        event_append(
            meeting=conference.meeting,
            type="meeting.updated",
            audience=Audience.PUBLIC,
            payload={"patch": [patch.merge("meeting", value={"x": 1})]},
            actor=Actor.system(),
        )
    assert len(callbacks) == 1
    with (
        django_capture_on_commit_callbacks(execute=False) as callbacks,
        pytest.raises(ValueError),
        record_write(meeting=conference.meeting),
    ):
        event_append(
            meeting=conference.meeting,
            type="meeting.updated",
            audience=Audience.PUBLIC,
            payload={"mark": "rolled_back"},
            actor=Actor.system(),
        )
        raise ValueError("roll back")
    assert callbacks == []
    assert not Event.objects.filter(payload__mark="rolled_back").exists()


def test_head_remembers_the_last_seq_per_audience():
    conference = make_conference()
    head = EventLogHead.objects.get(meeting=conference.meeting)
    for audience in Audience:
        last = (
            Event.objects.filter(meeting=conference.meeting, audience=audience.value)
            .order_by("-seq")
            .values_list("seq", flat=True)
            .first()
        )
        assert getattr(head, f"last_{audience.value}") == (last or 0)
    # A voter (public) sees only public events; staff see every event.
    assert head.last_visible_to(Audience.STAFF) == head.seq
    assert head.last_visible_to(Audience.PUBLIC) == head.last_public


def chain_is_whole(meeting) -> bool:
    events = list(Event.objects.filter(meeting=meeting).order_by("seq"))
    head = EventLogHead.objects.get(meeting=meeting)
    return (
        [e.seq for e in events] == list(range(1, len(events) + 1))
        and all(after.prev_hash == before.hash for before, after in itertools.pairwise(events))
        and (head.seq, head.hash, head.last_staff) == (events[-1].seq, events[-1].hash, head.seq)
    )


def append(meeting, mark: str) -> Event:
    """A staff entry of a registered type (any would do), told apart by ``mark``."""
    return event_append(
        meeting=meeting,
        type="role.revoked",
        audience=Audience.STAFF,
        payload={"mark": mark},
        actor=Actor.system(),
    )


@pytest.mark.django_db(transaction=True)
def test_one_transaction_reads_the_head_once_however_many_appends():
    conference = make_conference()
    with CaptureQueriesContext(connection) as queries, record_write(meeting=conference.meeting):
        for n in range(3):
            append(conference.meeting, f"append_{n}")
    head_reads = [q for q in queries.captured_queries if 'FROM "rooms_eventloghead"' in q["sql"]]
    assert len(head_reads) == 1
    assert chain_is_whole(conference.meeting)


@pytest.mark.django_db(transaction=True)
def test_an_append_rolled_back_with_its_savepoint_leaves_the_chain_whole():
    conference = make_conference()
    with record_write(meeting=conference.meeting):
        kept = append(conference.meeting, "kept")
        with pytest.raises(ValueError), transaction.atomic():
            append(conference.meeting, "rolled_back")
            raise ValueError("roll back")
        after = append(conference.meeting, "after")
    assert after.seq == kept.seq + 1 and after.prev_hash == kept.hash
    assert not Event.objects.filter(payload__mark="rolled_back").exists()
    assert chain_is_whole(conference.meeting)


@pytest.mark.django_db(transaction=True)
def test_a_transaction_rolled_back_after_appending_leaves_the_chain_whole():
    conference = make_conference()
    last = Event.objects.filter(meeting=conference.meeting).latest("seq")
    with pytest.raises(ValueError), record_write(meeting=conference.meeting):
        append(conference.meeting, "rolled_back")
        raise ValueError("roll back")
    with record_write(meeting=conference.meeting):
        after = append(conference.meeting, "after")
    assert after.seq == last.seq + 1 and after.prev_hash == last.hash
    assert chain_is_whole(conference.meeting)


# The triggers that keep the record append-only and its head moving forward (migrations 0002,
# 0010), by database, as (table, trigger).
RECORD_GUARDS = {
    "postgresql": {
        ("rooms_event", "rooms_event_no_update"),
        ("rooms_event", "rooms_event_no_delete"),
        ("rooms_eventloghead", "rooms_eventloghead_forward_only"),
        ("rooms_eventloghead", "rooms_eventloghead_no_delete"),
        ("rooms_recordcheckpoint", "rooms_recordcheckpoint_no_update"),
        ("rooms_recordcheckpoint", "rooms_recordcheckpoint_no_delete"),
    },
}
RECORD_GUARDS["sqlite"] = RECORD_GUARDS["postgresql"]


def record_guards() -> set[tuple[str, str]]:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT tgrelid::regclass::text, tgname FROM pg_trigger "
                "WHERE NOT tgisinternal AND tgenabled <> 'D'"
            )
        else:
            cursor.execute("SELECT tbl_name, name FROM sqlite_master WHERE type = 'trigger'")
        return {(table, name) for table, name in cursor.fetchall() if table.startswith("rooms_")}


def test_the_record_guards_are_in_place_after_migrating():
    assert record_guards() == RECORD_GUARDS[connection.vendor]


@pytest.mark.services
def test_the_record_guards_are_in_place_on_postgresql():
    """The services tier runs the test above on PostgreSQL; this one makes sure it did."""
    assert connection.vendor == "postgresql"
    assert record_guards() == RECORD_GUARDS["postgresql"]


def refused(sql: str, params=(), match: str = "") -> None:
    """The statement, run behind the ORM, is refused by the database and changes nothing."""
    with (
        pytest.raises(DatabaseError, match=match),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql, list(params))


def test_the_database_refuses_to_cut_the_record_and_move_its_head_back():
    """The outside reviewers' attack, in two ordinary statements: remove the last entries, then
    move the head back to the entry that is now last. Each is refused, on either database."""
    conference = make_conference()
    meeting = conference.meeting
    hall_set_attendance(hall=conference.halls[0], count=10, actor=conference.actor)
    hall_set_attendance(hall=conference.halls[0], count=20, actor=conference.actor)
    head = EventLogHead.objects.get(meeting=meeting)
    kept = Event.objects.get(meeting=meeting, seq=head.seq - 2)
    refused(
        "DELETE FROM rooms_event WHERE meeting_id = %s AND seq > %s",
        [meeting.pk, kept.seq],
        match="append-only",
    )
    refused(
        "UPDATE rooms_eventloghead SET seq = %s, hash = %s WHERE meeting_id = %s",
        [kept.seq, kept.hash, meeting.pk],
        match="only moves forward",
    )
    # Nor can the head be removed and made again where the attacker wants it.
    refused(
        "DELETE FROM rooms_eventloghead WHERE meeting_id = %s",
        [meeting.pk],
        match="never deleted",
    )
    assert Event.objects.filter(meeting=meeting).count() == head.seq
    assert EventLogHead.objects.get(meeting=meeting).seq == head.seq
    call_command("verify_record", meeting.slug, stdout=StringIO())


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (f"hash = '{'f' * 64}'", "only moves forward"),
        ("seq = seq - 1", "only moves forward"),
        ("last_staff = last_staff - 1", "only moves forward"),
        ("last_public = 0", "only moves forward"),
        ("meeting_id = meeting_id + 1000", "stays with its conference"),
    ],
)
def test_the_head_never_moves_back_nor_changes_its_hash_in_place(change, match):
    conference = make_conference()
    head = EventLogHead.objects.get(meeting=conference.meeting)
    assert head.last_public > 0
    assert head.last_staff > 0
    refused(
        f"UPDATE rooms_eventloghead SET {change} WHERE meeting_id = %s",
        [conference.meeting.pk],
        match=match,
    )
    after = EventLogHead.objects.get(meeting=conference.meeting)
    assert (after.seq, after.hash, after.last_public, after.last_staff) == (
        head.seq,
        head.hash,
        head.last_public,
        head.last_staff,
    )


def test_a_closed_record_is_never_reopened():
    conference = make_conference()
    meetings.meeting_transition(
        meeting=conference.meeting, to_status=MeetingStatus.ENDED, actor=conference.actor
    )
    assert EventLogHead.objects.get(meeting=conference.meeting).closed
    refused(
        "UPDATE rooms_eventloghead SET closed = %s WHERE meeting_id = %s",
        [False, conference.meeting.pk],
        match="only moves forward",
    )
    assert EventLogHead.objects.get(meeting=conference.meeting).closed


def test_the_head_moves_forward_with_every_append():
    """What the application does never trips the guards: each append moves the head on."""
    conference = make_conference()
    before = EventLogHead.objects.get(meeting=conference.meeting)
    hall_set_attendance(hall=conference.halls[0], count=33, actor=conference.actor)
    after = EventLogHead.objects.get(meeting=conference.meeting)
    assert after.seq == before.seq + 1
    assert after.hash == Event.objects.get(meeting=conference.meeting, seq=after.seq).hash


def test_signed_checkpoints_are_never_changed_nor_deleted():
    conference = make_conference()
    head = EventLogHead.objects.get(meeting=conference.meeting)
    checkpoint = RecordCheckpoint.objects.create(
        meeting=conference.meeting,
        seq=head.seq,
        hash=head.hash,
        reason=CheckpointReason.LIVE,
        signed_at=timezone.now(),
        key_id="test-key",
        signature="00" * 64,
    )
    refused(
        "UPDATE rooms_recordcheckpoint SET hash = %s WHERE id = %s",
        ["f" * 64, checkpoint.pk],
        match="never changed",
    )
    refused(
        "DELETE FROM rooms_recordcheckpoint WHERE id = %s",
        [checkpoint.pk],
        match="never deleted",
    )
    assert RecordCheckpoint.objects.get(pk=checkpoint.pk).hash == head.hash


@pytest.mark.django_db(transaction=True)
def test_flush_still_empties_the_record_and_keeps_its_guards():
    """Test runs empty every table after each transactional test (TRUNCATE on PostgreSQL, and
    on SQLite our flush, which lifts the DELETE guards for its one transaction)."""
    make_conference()
    call_command("flush", interactive=False, verbosity=0)
    assert not Event.objects.exists()
    assert not EventLogHead.objects.exists()
    assert record_guards() == RECORD_GUARDS[connection.vendor]
