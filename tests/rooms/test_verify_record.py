"""verify_record: exit 0 and the final hash when intact; exit 1 naming the first broken seq."""

import base64
from contextlib import contextmanager
from io import StringIO

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DataError, connection, transaction
from django.utils import timezone

from meetings.rooms import checkpoints
from meetings.rooms.models import (
    GENESIS_HASH,
    Audience,
    CheckpointReason,
    Event,
    EventLogHead,
    RecordCheckpoint,
)
from meetings.rooms.record import verify_chain
from meetings.rooms.services.halls import hall_set_attendance
from tests.factories import make_conference

pytestmark = pytest.mark.django_db


@contextmanager
def tampering():
    """Act as someone with write access to the database: lift the record's triggers."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Replica mode skips triggers: what a database superuser can do.
            cursor.execute("SET session_replication_role = replica")
        else:
            cursor.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")
            triggers = cursor.fetchall()
            for name, _sql in triggers:
                cursor.execute(f'DROP TRIGGER "{name}"')
        try:
            yield cursor
        finally:
            if connection.vendor == "postgresql":
                cursor.execute("SET session_replication_role = DEFAULT")
            else:
                for _name, sql in triggers:
                    cursor.execute(sql)


@pytest.fixture
def conference():
    conference = make_conference("tamper")
    for count in (10, 20, 30, 40):
        hall_set_attendance(hall=conference.halls[0], count=count, actor=conference.actor)
    return conference


def row(conference, seq) -> Event:
    return Event.objects.get(meeting=conference.meeting, seq=seq)


def verify(slug, *arguments):
    out = StringIO()
    call_command("verify_record", slug, *arguments, stdout=out)
    return out.getvalue()


def test_intact_record_prints_the_final_hash(conference):
    output = verify("tamper")
    head = EventLogHead.objects.get(meeting=conference.meeting)
    assert f"final hash: {head.hash}" in output
    assert f"{head.seq} entries" in output


def test_altered_payload_is_named_by_its_seq(conference):
    target = row(conference, 7)
    with tampering() as cursor:
        cursor.execute(
            "UPDATE rooms_event SET payload = %s WHERE id = %s",
            ['{"count": 9999}', target.pk],
        )
    with pytest.raises(CommandError, match=r"BROKEN at seq 7\b.*altered"):
        verify("tamper")


def test_altered_actor_is_named_by_its_seq(conference):
    target = row(conference, 4)
    with tampering() as cursor:
        cursor.execute(
            "UPDATE rooms_event SET actor_label = 'someone else' WHERE id = %s", [target.pk]
        )
    with pytest.raises(CommandError, match=r"BROKEN at seq 4\b"):
        verify("tamper")


def test_deleted_row_is_named_by_its_seq(conference):
    target = row(conference, 5)
    with tampering() as cursor:
        cursor.execute("DELETE FROM rooms_event WHERE id = %s", [target.pk])
    with pytest.raises(CommandError, match=r"BROKEN at seq 5\b.*missing"):
        verify("tamper")


def test_deleted_last_row_is_caught_by_the_head(conference):
    head = EventLogHead.objects.get(meeting=conference.meeting)
    with tampering() as cursor:
        cursor.execute("DELETE FROM rooms_event WHERE id = %s", [row(conference, head.seq).pk])
    with pytest.raises(CommandError, match=rf"BROKEN at seq {head.seq}\b.*removed"):
        verify("tamper")


def test_swapped_rows_are_named_by_the_first_seq(conference):
    first, second = row(conference, 6), row(conference, 9)
    with tampering() as cursor:
        # Through a free number, since (meeting, seq) is unique.
        cursor.execute("UPDATE rooms_event SET seq = 1000000 WHERE id = %s", [first.pk])
        cursor.execute("UPDATE rooms_event SET seq = 6 WHERE id = %s", [second.pk])
        cursor.execute("UPDATE rooms_event SET seq = 9 WHERE id = %s", [first.pk])
    with pytest.raises(CommandError, match=r"BROKEN at seq 6\b"):
        verify("tamper")


def test_unknown_meeting_is_an_error():
    with pytest.raises(CommandError, match="no conference"):
        verify("nope")


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_exit_status_from_the_shell(conference):
    """The command as an operator runs it, in its own process against the same database."""
    import os
    import subprocess
    import sys

    database = connection.settings_dict
    env = dict(
        os.environ,
        DATABASE_URL=(
            f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/{database['NAME']}"
        ),
    )
    command = [sys.executable, "manage.py", "verify_record", "tamper"]
    intact = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    assert intact.returncode == 0, intact.stderr
    assert "final hash:" in intact.stdout
    with tampering() as cursor:
        cursor.execute("DELETE FROM rooms_event WHERE id = %s", [row(conference, 3).pk])
    broken = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    assert broken.returncode == 1
    assert "BROKEN at seq 3" in broken.stderr


def head_of(conference) -> EventLogHead:
    return EventLogHead.objects.get(meeting=conference.meeting)


def cut_the_record(conference, *, keep: int) -> None:
    """The outside reviewers' attack, by someone the triggers do not stop: remove the entries
    after ``keep`` and move the head back to the entry that is now last."""
    kept = row(conference, keep)
    with tampering() as cursor:
        cursor.execute(
            "DELETE FROM rooms_event WHERE meeting_id = %s AND seq > %s",
            [conference.meeting.pk, keep],
        )
        cursor.execute(
            "UPDATE rooms_eventloghead SET seq = %s, hash = %s WHERE meeting_id = %s",
            [keep, kept.hash, conference.meeting.pk],
        )
        for audience in Audience:
            cursor.execute(
                f"UPDATE rooms_eventloghead SET last_{audience.value} = COALESCE(("
                "SELECT MAX(seq) FROM rooms_event WHERE meeting_id = %s AND audience = %s"
                "), 0) WHERE meeting_id = %s",
                [conference.meeting.pk, audience.value, conference.meeting.pk],
            )


def test_a_head_hash_that_differs_at_the_same_seq_is_named_as_such(conference):
    head = head_of(conference)
    with tampering() as cursor:
        cursor.execute(
            "UPDATE rooms_eventloghead SET hash = %s WHERE meeting_id = %s",
            ["f" * 64, conference.meeting.pk],
        )
    with pytest.raises(CommandError) as broken:
        verify("tamper")
    message = str(broken.value)
    assert f"BROKEN at seq {head.seq}:" in message
    assert (
        f"the record ends at seq {head.seq} as its head says, but its last hash differs from "
        f"the head's hash ({head.hash}, the head says {'f' * 64}): "
        "the last entry or the head was rewritten"
    ) in message
    assert "removed" not in message


def test_entries_past_the_head_are_named_as_such(conference):
    head = head_of(conference)
    earlier = row(conference, head.seq - 2)
    with tampering() as cursor:
        cursor.execute(
            "UPDATE rooms_eventloghead SET seq = %s, hash = %s WHERE meeting_id = %s",
            [earlier.seq, earlier.hash, conference.meeting.pk],
        )
    with pytest.raises(CommandError) as broken:
        verify("tamper")
    message = str(broken.value)
    assert f"BROKEN at seq {earlier.seq + 1}:" in message
    assert (
        f"the record goes on to seq {head.seq} but its head says {earlier.seq}: "
        "it has 2 entries more than its head"
    ) in message
    assert f"the {earlier.seq} entries before it are intact" in message


def test_a_missing_head_is_an_error_not_a_traceback(conference):
    with tampering() as cursor:
        cursor.execute(
            "DELETE FROM rooms_eventloghead WHERE meeting_id = %s", [conference.meeting.pk]
        )
    with pytest.raises(CommandError, match="the record of tamper has no head: "):
        verify("tamper")


@pytest.mark.parametrize(
    ("column", "value", "problem"),
    [
        ("hash", "not a hash", "its hash 'not a hash' is not 64 hexadecimal digits"),
        ("hash", "F" * 64, f"its hash '{'F' * 64}' is not 64 hexadecimal digits"),
    ],
)
def test_a_damaged_head_is_an_error(conference, column, value, problem):
    with tampering() as cursor:
        cursor.execute(
            f"UPDATE rooms_eventloghead SET {column} = %s WHERE meeting_id = %s",
            [value, conference.meeting.pk],
        )
    with pytest.raises(CommandError) as damaged:
        verify("tamper")
    assert str(damaged.value) == f"the record of tamper has a damaged head: {problem}"


def test_a_cut_record_with_its_head_moved_back_passes_alone(conference):
    """Why checkpoints are kept outside: the head alone cannot catch what its owner moves."""
    cut_the_record(conference, keep=10)
    assert "intact: 10 entries" in verify("tamper")


def test_a_record_cut_before_a_kept_checkpoint_is_truncated(conference):
    head = head_of(conference)
    cut_the_record(conference, keep=10)
    with pytest.raises(CommandError) as broken:
        verify("tamper", "--checkpoint", f"{head.seq}:{head.hash}")
    assert str(broken.value) == (
        f"record of tamper is BROKEN at seq 11: the record ends at seq 10, before the "
        f"checkpoint at seq {head.seq} given with --checkpoint: it was truncated before the "
        "checkpoint; the 10 entries before it are intact"
    )


def test_a_rewritten_record_does_not_extend_a_kept_checkpoint(conference):
    """Cut and written on through the platform: a whole chain, a matching head, and yet not
    the record whose entry 12 someone kept."""
    kept = row(conference, 12)
    cut_the_record(conference, keep=10)
    for count in (11, 22, 33, 44):
        hall_set_attendance(hall=conference.halls[1], count=count, actor=conference.actor)
    assert head_of(conference).seq >= 12
    assert "intact" in verify("tamper")
    rewritten = row(conference, 12)
    with pytest.raises(CommandError) as broken:
        verify(
            "tamper",
            "--checkpoint",
            f"5:{row(conference, 5).hash}",
            "--checkpoint",
            f"12:{kept.hash}",
        )
    assert str(broken.value) == (
        "record of tamper is BROKEN at seq 12: the record does not extend the checkpoint at "
        f"seq 12 given with --checkpoint (its entry 12 has hash {rewritten.hash}, the "
        f"checkpoint says {kept.hash}); the 11 entries before it are intact"
    )


def test_an_intact_record_names_the_checkpoints_it_extends(conference):
    head = head_of(conference)
    fifth = row(conference, 5)
    output = verify(
        "tamper",
        "--checkpoint",
        f"5:{fifth.hash.upper()}",
        "--checkpoint",
        f"{head.seq}:{head.hash}",
    )
    assert f"record of tamper is intact: {head.seq} entries" in output
    assert "it extends the checkpoint at seq 5 given with --checkpoint" in output
    assert f"it extends the checkpoint at seq {head.seq} given with --checkpoint" in output


@pytest.mark.parametrize(
    "value", ["12", "twelve:" + "a" * 64, "0:" + "a" * 64, "12:abc", "12:" + "g" * 64, ":"]
)
def test_a_malformed_checkpoint_is_an_error(conference, value):
    with pytest.raises(CommandError, match=r"is not SEQ:HASH"):
        verify("tamper", "--checkpoint", value)


def store_checkpoint(conference, seq: int, *, signed: bool = True) -> RecordCheckpoint:
    """A checkpoint of entry ``seq`` as the platform signs one (or with a made-up signature)."""
    entry, now = row(conference, seq), timezone.now()
    text = checkpoints.statement(
        slug=conference.meeting.slug, seq=seq, hash=entry.hash, reason="live", signed_at=now
    )
    signature = checkpoints.signing_key().sign(text.encode()) if signed else bytes(64)
    return RecordCheckpoint.objects.create(
        meeting=conference.meeting,
        seq=seq,
        hash=entry.hash,
        reason=CheckpointReason.LIVE,
        signed_at=now,
        key_id=checkpoints.key_id(),
        signature=base64.b64encode(signature).decode(),
    )


def test_a_stored_checkpoint_not_signed_by_the_key_is_broken(conference):
    forged = store_checkpoint(conference, 12, signed=False)
    with pytest.raises(CommandError) as broken:
        verify("tamper")
    assert (
        f"record of tamper is BROKEN: the stored checkpoint #{forged.pk} at seq 12 (live) is "
        f"not signed by the key {checkpoints.key_id()}"
    ) in str(broken.value)


def test_stored_checkpoints_are_checked_against_the_key_given(conference):
    store_checkpoint(conference, 12)
    own = base64.b64encode(checkpoints.public_key_bytes()).decode()
    assert "is intact" in verify("tamper", "--public-key", own)
    other = Ed25519PrivateKey.generate().public_key().public_bytes_raw()
    with pytest.raises(CommandError, match="is not signed by the key"):
        verify("tamper", "--public-key", base64.b64encode(other).decode())
    with pytest.raises(CommandError, match="--public-key must be the base64 of 32 bytes"):
        verify("tamper", "--public-key", "c2hvcnQ=")


def test_stored_checkpoints_are_checked_by_default(conference):
    stored = store_checkpoint(conference, 14)
    assert f"it extends the stored checkpoint #{stored.pk} at seq 14 (live)" in verify("tamper")
    cut_the_record(conference, keep=10)
    with pytest.raises(CommandError) as broken:
        verify("tamper")
    assert (
        f"BROKEN at seq 11: the record ends at seq 10, before the stored checkpoint "
        f"#{stored.pk} at seq 14 (live): it was truncated before the checkpoint"
    ) in str(broken.value)


def test_verify_chain_takes_checkpoints_from_its_caller(conference):
    """Where checkpoints come from (given by hand, stored and signed) is the caller's choice:
    verify_chain matches whatever (seq, hash, label) it is given, the start of the record too."""
    head = head_of(conference)
    events = list(Event.objects.filter(meeting=conference.meeting).order_by("seq"))

    def check(*checkpoints):
        return verify_chain(
            events,
            meeting_slug="tamper",
            head_seq=head.seq,
            head_hash=head.hash,
            checkpoints=checkpoints,
        )

    assert check((0, GENESIS_HASH, "the start"), (3, events[2].hash, "a note")).intact
    wrong_start = check((0, "e" * 64, "a note of the start"))
    assert (wrong_start.intact, wrong_start.broken_seq) == (False, 0)
    assert wrong_start.problem == (
        f"the record does not extend a note of the start (it starts from hash {GENESIS_HASH}, "
        f"the checkpoint says {'e' * 64})"
    )
    wrong_third = check((3, "e" * 64, "a note"))
    assert (wrong_third.intact, wrong_third.broken_seq, wrong_third.events) == (False, 3, 2)
    assert wrong_third.final_hash == events[1].hash


def test_a_head_whose_seq_is_not_a_number_is_an_error(conference):
    """SQLite keeps text in an integer column, and verify_record names it; PostgreSQL refuses
    to store it at all."""
    damage = "UPDATE rooms_eventloghead SET seq = 'many' WHERE meeting_id = %s"
    with tampering() as cursor:
        if connection.vendor != "sqlite":
            with pytest.raises(DataError), transaction.atomic():
                cursor.execute(damage, [conference.meeting.pk])
            return
        cursor.execute(damage, [conference.meeting.pk])
    with pytest.raises(CommandError) as damaged:
        verify("tamper")
    assert str(damaged.value) == (
        "the record of tamper has a damaged head: its seq 'many' is not a whole number"
    )
