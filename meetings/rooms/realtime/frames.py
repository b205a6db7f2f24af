"""Every websocket frame of the meeting stream, both ways, and the close codes.

docs/protocol.md describes the same frames for client authors; keep the two in step.
"""

import json
from enum import IntEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from meetings.rooms.error_codes import ErrorCode
from meetings.rooms.ids import Id, Seq

# A frame larger than this is refused unread: no legitimate client frame comes near it.
MAX_FRAME_CHARS = 64 * 1024


class CloseCode(IntEnum):
    NOT_AUTHENTICATED = 4401  # no session and no join link
    FORBIDDEN = 4403  # a link expired, rotated, malformed or of another meeting; no grant
    UNKNOWN_MEETING = 4404
    # An operator link without the kiosk session that holds its hall, or a session that ended
    # (another screen took over, the studio ended it): the screen asks its session why.
    KIOSK_NOT_HOLDING = 4409
    TOO_MANY_BAD_FRAMES = 4429  # the client kept sending frames we could not understand


# --- client -> server -----------------------------------------------------------------------


class _Frame(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class HelloFrame(_Frame):
    """Start or resume the stream: every visible event after ``since``, or a snapshot."""

    type: Literal["hello"]
    since: Seq | None = None


class PingFrame(_Frame):
    """Keep-alive; the answer carries the newest seq the client may see."""

    type: Literal["ping"]
    id: Annotated[str, Field(max_length=64)] | None = None


class IceCandidate(_Frame):
    candidate: Annotated[str, Field(max_length=1024)]
    sdpMid: Annotated[str, Field(max_length=64)] | None = None  # the browser's own names
    sdpMLineIndex: Annotated[int, Field(ge=0, le=64)] | None = None
    usernameFragment: Annotated[str, Field(max_length=256)] | None = None


class MediaOfferFrame(_Frame):
    """Join the meeting's media hub: the browser's SDP offer (ICE gathering done, or followed
    by media.candidate frames). ``send``: whether this screen sends a camera or microphone;
    a kiosk's role comes from its hall, everyone else receives only unless ``send``."""

    type: Literal["media.offer"]
    sdp: Annotated[str, Field(min_length=10, max_length=60_000)]
    send: bool = False


class MediaCandidateFrame(_Frame):
    type: Literal["media.candidate"]
    candidate: IceCandidate


class MediaLeaveFrame(_Frame):
    type: Literal["media.leave"]


class ThumbnailFrame(_Frame):
    """A kiosk's snapshot of its camera for the moderators' grid: a JPEG data URL."""

    type: Literal["thumbnail"]
    image: Annotated[
        str, Field(max_length=40_000, pattern=r"^data:image/jpeg;base64,[A-Za-z0-9+/=]+$")
    ]


class VoteFrame(_Frame):
    """A voter's phone supports a question in the queue or on air (as ``POST .../vote`` does,
    without an HTTP request per vote). ``device`` is the id the server issued the phone
    (``X-Device-Id``); ``id`` comes back with the answer (``voted``) or the refusal
    (``error``)."""

    type: Literal["vote"]
    question: Id
    device: Annotated[str, Field(max_length=200)]
    id: Annotated[str, Field(max_length=64)] | None = None


ClientFrame = Annotated[
    HelloFrame
    | PingFrame
    | VoteFrame
    | MediaOfferFrame
    | MediaCandidateFrame
    | MediaLeaveFrame
    | ThumbnailFrame,
    Field(discriminator="type"),
]
client_frame_adapter: TypeAdapter[ClientFrame] = TypeAdapter(ClientFrame)


# --- server -> client -----------------------------------------------------------------------


def dumps(frame: dict[str, Any]) -> str:
    return json.dumps(frame, ensure_ascii=False, separators=(",", ":"))


def welcome_frame(*, seq: int, viewer: dict[str, Any], heartbeat: int, server_time: str) -> str:
    return dumps(
        {
            "type": "welcome",
            "seq": seq,
            "viewer": viewer,
            "heartbeat_seconds": heartbeat,
            "server_time": server_time,
        }
    )


def snapshot_frame(*, seq: int, state: dict[str, Any]) -> str:
    return dumps({"type": "snapshot", "seq": seq, "state": state})


def event_frame(*, seq: int, prev: int, event: dict[str, Any]) -> str:
    return event_frame_from_json(seq=seq, prev=prev, event_json=dumps(event))


# The two frames below are built around the event's JSON, encoded once per event for every
# connection and audience; they read exactly as ``dumps`` of the same object would.


def event_frame_from_json(*, seq: int, prev: int, event_json: str) -> str:
    return f'{{"type":"event","seq":{seq:d},"prev":{prev:d},"event":{event_json}}}'


def batch_frame_from_json(*, seq: int, prev: int, events_json: list[str]) -> str:
    """Several events in one frame, oldest first: as a run of event frames whose first
    ``prev`` is this frame's ``prev`` and each next ``prev`` the seq before it; ``seq`` is the
    last event's. Phones receive their events this way when they come close together."""
    events = ",".join(events_json)
    return f'{{"type":"batch","seq":{seq:d},"prev":{prev:d},"events":[{events}]}}'


def synced_frame(*, seq: int) -> str:
    return dumps({"type": "synced", "seq": seq})


def pong_frame(*, seq: int, ping_id: str | None, server_time: str) -> str:
    return dumps({"type": "pong", "seq": seq, "id": ping_id, "server_time": server_time})


def voted_frame(*, question: int, voted: bool, frame_id: str | None) -> str:
    return dumps({"type": "voted", "id": frame_id, "question": question, "voted": voted})


def error_frame(
    *, code: ErrorCode, message: str, detail: Any = None, frame_id: str | None = None
) -> str:
    """``code``: one of error_codes.py, as in the API's error bodies. ``frame_id``: the ``id``
    of the client frame refused, for frames that carry one."""
    frame: dict[str, Any] = {"type": "error", "code": code, "message": message}
    if detail is not None:
        frame["detail"] = detail
    if frame_id is not None:
        frame["id"] = frame_id
    return dumps(frame)
