"""The media hubs learn what happened from the meeting's record, not from messages the domain
sends them: no service imports the media layer. (tests/media/test_recording.py shows a hub
marking and cutting an answer's clip, and closing its part, with every doorbell dropped.)"""

import ast
from pathlib import Path

from meetings.rooms.media.manager import MARKS, RELOADS

ROOT = Path(__file__).resolve().parents[2]


def imported_modules(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


def test_no_service_imports_the_media_layer():
    services = sorted(ROOT.glob("meetings/*/services/*.py"))
    assert len(services) > 20
    importing = {
        str(path.relative_to(ROOT)): sorted(m for m in imported_modules(path) if ".media" in m)
        for path in services
    }
    assert {path: names for path, names in importing.items() if names} == {}


def test_the_entries_the_hub_follows_are_appended_by_the_services():
    """A renamed entry would leave the hub deaf to it: each type it follows is written by a
    service (as a literal type, or ``public.<action>`` of questions' announce)."""
    sources = "\n".join(path.read_text() for path in sorted(ROOT.glob("meetings/*/services/*.py")))
    for kind in RELOADS:
        assert f'type="{kind}"' in sources, kind
    for kind in MARKS:
        action = kind.removeprefix("public.")
        assert f'action="{action}"' in sources, kind
