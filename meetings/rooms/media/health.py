"""The media worker's health, for compose's health check (``manage.py media_health``).

The worker writes a small JSON file every HEALTH_SECONDS from its event loop: the time, its
channel and its hubs (meeting id, peers connected). The loop being alive is what matters: a
worker whose loop is stuck stops writing, and the file's age says so.
"""

import json
import os
import time
from pathlib import Path

from django.conf import settings

HEALTH_SECONDS = 5


def health_path(index: int) -> Path:
    return Path(str(settings.MEDIA_HEALTH_FILE).format(index=index))


def write_health(index: int, *, channel: str, hubs: dict) -> None:
    """Replace the file at once (rename), so a reader never sees half of it."""
    path = health_path(index)
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {
        "written_at": time.time(),
        "pid": os.getpid(),
        "channel": channel,
        "hubs": [
            {"meeting": meeting_id, "peers": len(hub.peers)} for meeting_id, hub in hubs.items()
        ],
    }
    partial = path.with_name(path.name + ".tmp")
    partial.write_text(json.dumps(state))
    partial.replace(path)


def read_health(index: int, *, max_age: float) -> tuple[bool, str]:
    """(healthy, one line saying why) for the worker with this index."""
    path = health_path(index)
    try:
        state = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        return False, f"no health file at {path}: {error}"
    age = time.time() - float(state.get("written_at", 0))
    hubs = state.get("hubs", [])
    peers = sum(hub.get("peers", 0) for hub in hubs)
    line = f"{state.get('channel')}: {len(hubs)} hubs, {peers} peers, written {age:.0f} s ago"
    return age <= max_age, line
