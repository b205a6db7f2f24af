"""The registry of event types (meetings/rooms/event_types.py) against the code that appends
entries and the docs that list them: every type the code can append is registered, every
registered type is appended somewhere, docs/protocol.md lists exactly the registered ones, with
their audiences and whether they may come after the end, and docs/record.md ("After the end")
lists exactly those that may."""

import ast
import re
from pathlib import Path

import pytest
from django.utils import translation

from meetings.rooms.actors import Actor
from meetings.rooms.event_types import EVENT_TYPES, QUESTION_ACTIONS, allowed_after_end, describe
from meetings.rooms.models import Audience, Event, EventLogHead
from meetings.rooms.services.events import event_append, record_write
from tests.factories import make_conference

REPO = Path(__file__).resolve().parents[2]
SOURCES = sorted((REPO / "meetings").rglob("*.py"))
# The functions that hand their ``type`` to event_append as it is.
APPENDERS = {"event_append", "_append_unless_ended"}


def _name(call: ast.Call) -> str | None:
    func = call.func
    return func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)


def _strings(node: ast.expr) -> list[str] | None:
    """The strings an argument can be: a literal, or either side of a conditional of literals;
    None for anything computed."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.IfExp):
        body, orelse = _strings(node.body), _strings(node.orelse)
        if body is not None and orelse is not None:
            return body + orelse
    return None


def _calls() -> tuple[dict[str, str], dict[str, str], list[str]]:
    """Literal types passed to the appenders and actions passed to ``announce``, each with
    where; and the calls whose argument is computed."""
    types, actions, computed = {}, {}, []
    for path in SOURCES:
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            name = _name(node)
            keyword = {"announce": "action"}.get(name, "type" if name in APPENDERS else None)
            if keyword is None:
                continue
            for argument in node.keywords:
                if argument.arg != keyword:
                    continue
                where = f"{path.relative_to(REPO)}:{node.lineno}"
                values = _strings(argument.value)
                if values is None:
                    computed.append(where)
                    continue
                for value in values:
                    (actions if name == "announce" else types)[value] = where
    return types, actions, computed


def test_every_type_the_code_appends_is_registered_and_every_registered_one_is_appended():
    types, actions, computed = _calls()
    assert len(types) >= 40 and len(actions) >= 13  # the walk found the code
    # The only computed types: announce's own f"question.{action}" and f"public.{action}".
    assert len(computed) == 2, computed
    assert {where.rsplit(":", 1)[0] for where in computed} == {
        "meetings/questions/services/record.py"
    }
    unregistered = {t: where for t, where in types.items() if t not in EVENT_TYPES}
    assert unregistered == {}
    unknown_actions = {a: where for a, where in actions.items() if a not in QUESTION_ACTIONS}
    assert unknown_actions == {}
    emitted = set(types)
    for action in actions:
        emitted.add(f"question.{action}")
        if QUESTION_ACTIONS[action].public is not None:
            emitted.add(f"public.{action}")
    assert set(EVENT_TYPES) - emitted == set(), "registered but appended nowhere"


def _event_type_tables() -> tuple[list[list[str]], list[list[str]]]:
    text = (REPO / "docs" / "protocol.md").read_text()
    section = text[text.index("\n## Event types\n") : text.index("\n## The same data over HTTP")]
    tables, current = [], None
    for line in section.splitlines():
        if line.startswith("|"):
            cells = [cell.strip() for cell in line.strip("|").split("|")]
            if current is None:
                current = []
                tables.append(current)
            if not set(line) <= set("|- "):
                current.append(cells)
        else:
            current = None
    types, actions = tables
    return types[1:], actions[1:]  # without the header rows


def _documented() -> dict[str, tuple[str, bool]]:
    """Each type docs/protocol.md names, with its audience and "after the end"."""
    types, actions = _event_type_tables()
    documented: dict[str, tuple[str, bool]] = {}
    for name_cell, audience, _payload, _patch, after_end in types:
        if name_cell.startswith(("`question.<action>`", "`public.<action>`")):
            continue  # expanded from the actions table below
        for name in re.findall(r"`([a-z_]+\.[a-z_]+)`", name_cell):
            assert name not in documented, f"{name} is listed twice"
            documented[name] = (audience, after_end.startswith("yes"))
    for action_cell, _staff, _public, public_when, after_end in actions:
        action = re.match(r"`([a-z_]+)`", action_cell).group(1)
        documented[f"question.{action}"] = ("staff", after_end.startswith("yes"))
        if not public_when.startswith("never"):
            documented[f"public.{action}"] = ("public", after_end.startswith("yes"))
    return documented


def test_the_protocol_docs_list_exactly_the_registered_types():
    documented = _documented()
    registered = {
        name: ("/".join(sorted(a.value for a in kind.audiences)), kind.after_end)
        for name, kind in EVENT_TYPES.items()
    }
    assert sorted(set(registered) - set(documented)) == [], "registered, not in docs/protocol.md"
    assert sorted(set(documented) - set(registered)) == [], "in docs/protocol.md, not registered"
    assert documented == registered


def test_the_docs_check_sees_a_missing_row():
    """The check above reads the tables it means to: without a row, a type goes missing."""
    types, actions = _event_type_tables()
    assert any("`clip.ready`" in row[0] for row in types)
    assert any(row[0].startswith("`followed_up`") for row in actions)
    assert "clip.ready" in _documented() and "public.followed_up" in _documented()


def test_every_type_says_what_it_means_in_vietnamese():
    with translation.override("en"):
        english = {name: describe(name) for name in EVENT_TYPES}
        assert english["public.followed_up"] == "A written answer to a question was sent"
    with translation.override("vi"):
        vietnamese = {name: describe(name) for name in EVENT_TYPES}
        assert vietnamese["question.followed_up"] == "Đã gửi trả lời bằng văn bản cho câu hỏi"
        assert describe("test.unknown") == "Một mục loại test.unknown"
    assert [name for name in EVENT_TYPES if english[name] == vietnamese[name]] == []


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("type", "audience", "message"),
    [
        ("test.unknown", Audience.STAFF, "unknown event type 'test.unknown'"),
        ("hall.attendance_set", Audience.STAFF, "not for the staff audience"),
    ],
)
def test_event_append_refuses_an_unregistered_type_or_audience(type, audience, message):
    conference = make_conference()
    head = EventLogHead.objects.get(meeting=conference.meeting).seq
    with pytest.raises(RuntimeError, match=message), record_write(meeting=conference.meeting):
        event_append(
            meeting=conference.meeting,
            type=type,
            audience=audience,
            payload={},
            actor=Actor.system(),
        )
    assert EventLogHead.objects.get(meeting=conference.meeting).seq == head
    assert not Event.objects.filter(meeting=conference.meeting, seq=head + 1).exists()


def test_the_record_docs_list_exactly_the_types_allowed_after_the_end():
    text = (REPO / "docs" / "record.md").read_text()
    section = text[
        text.index("\n## After the end: a closed record\n") : text.index(
            "\n## Checking the record: `verify_record`"
        )
    ]
    table = [line for line in section.splitlines() if line.startswith("| `")]
    listed = sorted(name for row in table for name in re.findall(r"`([a-z_]+\.[a-z_]+)`", row))
    assert listed == allowed_after_end()
