"""One lock order, kept by code: every change to a conference goes through ``record_write``
(services/events.py), which opens the transaction and takes the record head's lock first.

Read in the code (an AST walk of every service module): no service opens a transaction or
locks rows but inside ``with record_write(...)``, apart from the few writes named below that
are on no record and never take the head. At run time: ``event_append`` refuses to run
outside ``record_write``, and a conference run to its end through the services writes nothing
in a transaction before taking the head. tests/rooms/test_lock_order_postgres.py shows on
PostgreSQL the deadlock that two orders made.
"""

import ast
import re
from pathlib import Path

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from meetings.rooms.actors import Actor
from meetings.rooms.models import Audience, Event
from meetings.rooms.services.events import (
    event_append,
    record_write,
    record_writing,
    records_write,
)
from tests.factories import make_conference

ROOT = Path(__file__).resolve().parents[2]
SERVICES = sorted(ROOT.glob("meetings/*/services/*.py"))
ENTRY_POINT = ROOT / "meetings/rooms/services/events.py"

# Writes on no conference's record that lock rows without the head. Each never asks for the
# head while holding its rows (nor for anything a record writer holds while waiting for the
# head), so it cannot close a cycle with a record writer; and the votes must not queue behind
# every change of the conference (a hundred a second at a busy one).
OFF_THE_RECORD = {
    ("meetings/questions/services/votes.py", "_question_vote_unlimited"): "a phone's vote",
    ("meetings/questions/services/votes.py", "question_votes"): "a batch of votes",
    ("meetings/questions/services/devices.py", "_issue_within_hall_bound"): "a phone's id",
    ("meetings/questions/services/concerns.py", "suggestion_dismiss"): "a suggestion dismissed",
}

LOCKING = {"atomic", "select_for_update"}


def violations(source: str, path: str) -> list[str]:
    """Where ``source`` opens a transaction or locks rows outside ``with record_write(...)``,
    or takes a lock on an aggregate (which locks nothing)."""
    tree = ast.parse(source)
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}

    def ancestors(node):
        while node in parents:
            node = parents[node]
            yield node

    def calls(node, name: str) -> bool:
        return isinstance(node, ast.Call) and (
            getattr(node.func, "attr", None) == name or getattr(node.func, "id", None) == name
        )

    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or getattr(node.func, "attr", None) not in LOCKING:
            continue
        where = f"{path}:{node.lineno} {node.func.attr}"
        if node.func.attr == "select_for_update":
            outer = parents.get(parents.get(node))
            if calls(outer, "aggregate") or calls(outer, "count") or calls(outer, "exists"):
                found.append(f"{where}: FOR UPDATE on an aggregate locks nothing")
        inside = any(
            isinstance(a, ast.With)
            and any(
                calls(i.context_expr, "record_write") or calls(i.context_expr, "records_write")
                for i in a.items
            )
            for a in ancestors(node)
        )
        function = next(
            (
                a.name
                for a in ancestors(node)
                if isinstance(a, ast.FunctionDef | ast.AsyncFunctionDef)
            ),
            None,
        )
        if not inside and (path, function) not in OFF_THE_RECORD:
            found.append(f"{where} outside record_write (in {function})")
    return found


def test_no_service_opens_a_transaction_or_locks_rows_outside_record_write():
    assert len(SERVICES) > 20
    found = []
    for module in SERVICES:
        if module == ENTRY_POINT:
            continue
        found += violations(module.read_text(), str(module.relative_to(ROOT)))
    assert found == []


def test_the_writes_off_the_record_take_no_record_lock():
    for path, function in OFF_THE_RECORD:
        tree = ast.parse((ROOT / path).read_text())
        body = next(n for n in ast.walk(tree) if getattr(n, "name", None) == function)
        names = {getattr(n, "attr", getattr(n, "id", None)) for n in ast.walk(body)}
        assert not names & {"record_write", "event_append"}, (path, function)


def test_no_code_outside_the_services_locks_rows():
    for module in ROOT.glob("meetings/**/*.py"):
        if "/services/" in str(module) or "/migrations/" in str(module):
            continue
        assert "select_for_update" not in module.read_text(), module


def test_the_walk_finds_what_it_forbids():
    source = """
def by_hand(meeting):
    with transaction.atomic():
        Meeting.objects.select_for_update().get(pk=meeting.pk)

def aggregate(meeting):
    with record_write(meeting=meeting):
        meeting.recordings.select_for_update().aggregate(last=Max("part"))

def fine(meeting):
    with record_write(meeting=meeting):
        with transaction.atomic():
            Question.objects.select_for_update().get(pk=1)
"""
    found = violations(source, "example.py")
    assert [re.sub(r"^example.py:\d+ ", "", f) for f in found] == [
        "atomic outside record_write (in by_hand)",
        "select_for_update outside record_write (in by_hand)",
        "select_for_update: FOR UPDATE on an aggregate locks nothing",
    ]


def append(meeting) -> Event:
    return event_append(
        meeting=meeting,
        type="role.revoked",
        audience=Audience.STAFF,
        payload={},
        actor=Actor.system(),
    )


@pytest.mark.django_db(transaction=True)
def test_event_append_refuses_a_transaction_that_did_not_take_the_lock_through_record_write():
    conference = make_conference()
    with pytest.raises(RuntimeError, match="record_write"), transaction.atomic():
        append(conference.meeting)
    with record_write(meeting=conference.meeting):
        pass
    with pytest.raises(RuntimeError, match="record_write"), transaction.atomic():
        append(conference.meeting)  # after a record_write of the same transaction closed
    with record_write(meeting=conference.meeting):
        event = append(conference.meeting)
    assert Event.objects.filter(pk=event.pk).exists()


@pytest.mark.django_db(transaction=True)
def test_one_transaction_writes_one_conference():
    first, second = make_conference("lock-one"), make_conference("lock-two")
    with record_write(meeting=first.meeting):
        with (
            pytest.raises(RuntimeError, match="one conference's record"),
            record_write(meeting=second.meeting),
        ):
            pass
        with pytest.raises(RuntimeError, match="record_write"):
            append(second.meeting)


@pytest.mark.django_db(transaction=True)
def test_a_nested_write_joins_the_callers_lock():
    conference = make_conference()
    with CaptureQueriesContext(connection) as queries, record_write(meeting=conference.meeting):
        first = append(conference.meeting)
        with record_write(meeting=conference.meeting):
            second = append(conference.meeting)
    heads = [q["sql"] for q in queries.captured_queries if "rooms_eventloghead" in q["sql"]]
    assert heads[0].startswith("SELECT")  # the lock (FOR UPDATE where the database has it)
    assert len([sql for sql in heads if sql.startswith("SELECT")]) == 1
    first_statement = next(
        q["sql"]
        for q in queries.captured_queries
        if not q["sql"].startswith(("SAVEPOINT", "BEGIN"))
    )
    assert "rooms_eventloghead" in first_statement
    assert second.seq == first.seq + 1


WRITES = re.compile(r"^\s*(INSERT|UPDATE|DELETE)\b", re.IGNORECASE)
# The writes off the record (OFF_THE_RECORD above): votes and phones' ids.
OFF_THE_RECORD_TABLES = ("questions_vote", "questions_issueddevice")


@pytest.mark.django_db(transaction=True)
def test_a_conference_run_through_the_services_writes_in_transactions_only_under_the_lock():
    """Every statement that writes inside a transaction runs inside record_write (whose first
    statement is the head's lock); single statements in autocommit are their own transaction
    and hold nothing while waiting."""
    from tests.questions.meeting_script import run_meeting

    outside: list[str] = []

    def watch(execute, sql, params, many, context):
        if (
            WRITES.match(sql)
            and connection.in_atomic_block
            and not record_writing()
            and not any(f'"{table}"' in sql for table in OFF_THE_RECORD_TABLES)
        ):
            outside.append(sql[:120])
        return execute(sql, params, many, context)

    with connection.execute_wrapper(watch):
        run_meeting("lock-script")
    assert Event.objects.filter(meeting__slug="lock-script").count() > 50
    assert outside == []


@pytest.mark.django_db(transaction=True)
def test_a_write_on_several_records_holds_their_heads_and_refuses_another():
    first, second, third = (make_conference(f"several-{n}") for n in range(3))
    actor = first.actor
    with records_write(meetings=[second.meeting, first.meeting]):
        for conference in (first, second):
            with record_write(meeting=conference.meeting):
                event_append(
                    meeting=conference.meeting,
                    type="concern.linked",
                    audience=Audience.STAFF,
                    payload={"concern": 1, "round": "r", "questions": [], "conferences": []},
                    actor=actor,
                )
        with pytest.raises(RuntimeError, match="is not one"), record_write(meeting=third.meeting):
            pass
    with (
        pytest.raises(RuntimeError, match="outside any other record write"),
        record_write(meeting=first.meeting),
        records_write(meetings=[second.meeting]),
    ):
        pass
    assert Event.objects.filter(type="concern.linked").count() == 2
