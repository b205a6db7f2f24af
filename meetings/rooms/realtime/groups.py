"""Channel-layer group names and the internal messages sent to them.

Every message the platform puts on the channel layer is built here, so one file shows what
travels between web nodes. The layer is a doorbell: any of these may be dropped, and nothing
depends on its delivery (DESIGN.md, "Channel layer").
"""

from typing import Any

from meetings.rooms.models import Audience


def meeting_stream(meeting_id: int, audience: Audience) -> str:
    """The group of every connection of one meeting that sees events up to ``audience``."""
    return f"meeting.{meeting_id}.{audience.value}"


def join_link(link_id: int) -> str:
    """The group of the connections admitted by one join link, closed when it is rotated."""
    return f"joinlink.{link_id}"


def event_message(*, seq: int, prev: int, frame: str) -> dict[str, Any]:
    """A committed event for one audience stream: ``prev`` is the seq of the event before it
    in that stream, so a consumer knows when it missed one; ``frame`` is the text to send."""
    return {"type": "meeting.event", "seq": seq, "prev": prev, "frame": frame}


def link_revoked_message() -> dict[str, Any]:
    return {"type": "link.revoked"}
