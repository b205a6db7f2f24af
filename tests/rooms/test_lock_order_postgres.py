"""Lock order on PostgreSQL: two writers that touch the same rows in opposite orders.

Starting a conference updates its row; closing its questions updates the same row. Each also
appends to the record, under the record head's lock. When one locked the conference's row first
and the other the head, each waited for the other: PostgreSQL's deadlock detector killed one.
With every writer taking the head first (services/events.py, ``record_write``), the second
waits for the first and both succeed.

The interleaving is forced, not hoped for: the first writer is held (Django's execute_wrapper on
its connection) just before it asks for the head, until the second writer holds the head.
"""

import threading
import time
from contextlib import contextmanager

import pytest
from django.db import connection

from meetings.rooms.models import Event, Meeting, MeetingStatus
from meetings.rooms.services import meetings
from tests.factories import make_conference

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

# Only ever waited on for a state another thread reaches; never a measure of time.
STUCK = 60


def locks_head(sql: str) -> bool:
    return 'FROM "rooms_eventloghead"' in sql and "FOR UPDATE" in sql


@contextmanager
def before_head_lock(reached: threading.Event, go_on: threading.Event):
    """On this thread's connection: before its first request for a record head's lock, say so
    and wait until ``go_on``."""

    def wrapper(execute, sql, params, many, context):
        if locks_head(sql) and not reached.is_set():
            reached.set()
            assert go_on.wait(STUCK), "the other writer never took the record's lock"
        return execute(sql, params, many, context)

    with connection.execute_wrapper(wrapper):
        yield


@contextmanager
def after_head_lock(taken: threading.Event):
    def wrapper(execute, sql, params, many, context):
        result = execute(sql, params, many, context)
        if locks_head(sql):
            taken.set()
        return result

    with connection.execute_wrapper(wrapper):
        yield


def in_thread(action, results: dict, name: str) -> threading.Thread:
    def run():
        try:
            results[name] = action()
        except Exception as error:  # the test reports it
            results[name] = error
        finally:
            connection.close()

    thread = threading.Thread(target=run, name=name)
    thread.start()
    return thread


def test_starting_and_closing_questions_at_once_do_not_deadlock():
    conference = make_conference("lock-order", status=MeetingStatus.SCHEDULED)
    meeting = conference.meeting
    meetings.meeting_set_questions_open(meeting=meeting, open=True, actor=conference.actor)
    first_at_head, second_holds_head = threading.Event(), threading.Event()
    results: dict[str, object] = {}

    def start():
        with before_head_lock(first_at_head, second_holds_head):
            return meetings.meeting_transition(
                meeting=meeting, to_status=MeetingStatus.LIVE, actor=conference.actor
            )

    def close_questions():
        with after_head_lock(second_holds_head):
            return meetings.meeting_set_questions_open(
                meeting=meeting, open=False, actor=conference.actor
            )

    starting = in_thread(start, results, "start")
    assert first_at_head.wait(STUCK), "the start never asked for the record's lock"
    closing = in_thread(close_questions, results, "close")
    for thread in (starting, closing):
        thread.join(STUCK)
        assert not thread.is_alive(), f"{thread.name} is stuck"

    assert isinstance(results["start"], Meeting), results["start"]
    assert isinstance(results["close"], Meeting), results["close"]
    meeting.refresh_from_db()
    assert (meeting.status, meeting.questions_open) == (MeetingStatus.LIVE, False)
    assert Event.objects.filter(
        meeting=meeting, type="meeting.status_changed", payload__to=MeetingStatus.LIVE
    ).exists()
    assert Event.objects.filter(meeting=meeting, type="meeting.questions_closed").exists()


def waiting_for_a_lock(pid: int) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_locks WHERE pid = %s AND NOT granted", [pid])
        return cursor.fetchone()[0] > 0


def test_two_recording_parts_started_at_once_get_the_next_numbers():
    """Numbering a part reads the highest number so far: FOR UPDATE on that aggregate locked
    nothing, so two starts read the same number and the second failed on the unique part."""
    from meetings.rooms.models import Recording
    from meetings.rooms.services import recordings

    conference = make_conference("lock-parts")
    meeting = conference.meeting
    first_read, go_on, second_read = threading.Event(), threading.Event(), threading.Event()
    second_pid: list[int] = []
    results: dict[str, object] = {}

    def reads_parts(sql: str) -> bool:
        return 'FROM "rooms_recording"' in sql and "MAX(" in sql

    def first():
        def wrapper(execute, sql, params, many, context):
            result = execute(sql, params, many, context)
            if reads_parts(sql):
                first_read.set()
                assert go_on.wait(STUCK), "the second start never came"
            return result

        with connection.execute_wrapper(wrapper):
            return recordings.recording_start(meeting=meeting)

    def second():
        connection.ensure_connection()
        second_pid.append(connection.connection.info.backend_pid)

        def wrapper(execute, sql, params, many, context):
            result = execute(sql, params, many, context)
            if reads_parts(sql):
                second_read.set()
            return result

        with connection.execute_wrapper(wrapper):
            return recordings.recording_start(meeting=meeting)

    starting = in_thread(first, results, "first")
    assert first_read.wait(STUCK)
    other = in_thread(second, results, "second")
    # The first start holds on after reading until the second has read too, or waits for a
    # lock the first holds.
    gave_up = time.monotonic() + STUCK
    while not (
        second_read.is_set()
        or not other.is_alive()
        or (second_pid and waiting_for_a_lock(second_pid[0]))
    ):
        assert time.monotonic() < gave_up, "the second start neither read nor waited"
        time.sleep(0.01)
    go_on.set()
    for thread in (starting, other):
        thread.join(STUCK)
        assert not thread.is_alive(), f"{thread.name} is stuck"
    assert all(isinstance(results[name], Recording) for name in results), results
    assert sorted(results[name].part for name in results) == [1, 2]
