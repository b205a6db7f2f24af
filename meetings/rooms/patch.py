"""State patches carried by events, and how a client applies them.

A meeting's state, as a snapshot gives it, is a dict of sections (``meeting``, ``halls``,
``agenda``...). An event's payload may carry ``patch``: a list of operations

    {"op": "merge", "path": ["halls", "3"], "value": {"attendance": 42}}
    {"op": "remove", "path": ["presence", "3"]}

"merge" walks the path (creating dicts as needed) and updates the dict there with ``value``;
"remove" deletes the last key of the path. frontend/js/patch.js is the same function for the
screens; tests check that applying a viewer's events to an old snapshot gives the new one.
"""

from typing import Any

Patch = list[dict[str, Any]]


def merge(*path: str | int, value: dict[str, Any]) -> dict[str, Any]:
    return {"op": "merge", "path": [str(part) for part in path], "value": value}


def remove(*path: str | int) -> dict[str, Any]:
    return {"op": "remove", "path": [str(part) for part in path]}


def apply_patch(state: dict[str, Any], patch: Patch) -> dict[str, Any]:
    for operation in patch:
        *parents, last = operation["path"]
        target = state
        for part in parents:
            target = target.setdefault(part, {})
        if operation["op"] == "merge":
            target.setdefault(last, {}).update(operation["value"])
        elif operation["op"] == "remove":
            target.pop(last, None)
        else:
            raise ValueError(f"unknown patch operation {operation['op']!r}")
    return state
