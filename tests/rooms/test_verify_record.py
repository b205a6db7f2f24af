"""verify_record: exit 0 and the final hash when intact; exit 1 naming the first broken seq."""

from contextlib import contextmanager

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from meetings.rooms.models import Event, EventLogHead
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


def verify(slug):
    from io import StringIO

    out = StringIO()
    call_command("verify_record", slug, stdout=out)
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
