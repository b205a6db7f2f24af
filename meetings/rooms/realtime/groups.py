"""Channel-layer group names and the internal messages sent to them.

Every message the platform puts on the channel layer is built here, so one file shows what
travels between processes. The layer is a doorbell: any of these may be dropped, and nothing
depends on its delivery (docs/architecture.md, "The stream").

- ``meeting_events``: each committed event of a meeting, once. Its members are web processes
  (one channel per process, see ``fanout.py``), not connections: a process writes the event to
  each of its own sockets.
- ``accounts``: every web process; an account changed (deactivated, its superuser flag taken
  away, its password changed, deleted), so the connections it opened are checked again; or one
  of its sessions was signed out, so that session's connections are closed.
- ``screens``: the connections of one audience of a meeting that use the media hub (kiosks,
  candidates, staff), for frames outside the record: the hub's answers and link figures, the
  halls' thumbnails. Phones never join one.
"""

from typing import Any

from meetings.rooms.models import Audience


def meeting_events(meeting_id: int) -> str:
    return f"meeting.{meeting_id}.events"


def accounts() -> str:
    return "accounts"


def screens(meeting_id: int, audience: Audience) -> str:
    return f"meeting.{meeting_id}.{audience.value}"


def event_message(*, meeting_id: int, seq: int, type: str, audience: str, event_json: str) -> dict:
    """A committed event: ``event_json`` is the event object as clients receive it, encoded."""
    return {
        "type": "meeting.event",
        "meeting": meeting_id,
        "seq": seq,
        "event_type": type,
        "audience": audience,
        "event": event_json,
    }


def account_changed_message(*, user_id: int, ended_session: str | None = None) -> dict[str, Any]:
    """An account changed (its connections are checked again), or, with ``ended_session``,
    one of its sessions was signed out (that session's connections are closed)."""
    message: dict[str, Any] = {"type": "account.changed", "user": user_id}
    if ended_session is not None:
        message["ended_session"] = ended_session
    return message
