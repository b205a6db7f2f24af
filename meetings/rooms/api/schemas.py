"""Request and response bodies of the rooms API."""

from typing import Any, Literal

from ninja import Schema
from pydantic import Field

from meetings.rooms.error_codes import ErrorCode


class ErrorOut(Schema):
    """Every error answer of the API (docs/protocol.md, "Errors")."""

    code: ErrorCode = Field(description="Machine-readable; the table in docs/protocol.md.")
    message: str = Field(description="For a person, in the page's language; do not parse it.")
    detail: Any = Field(None, description="Only for the codes that say so.")


class SnapshotOut(Schema):
    seq: int = Field(description="The newest event the caller may see; resume the stream here.")
    viewer: dict[str, Any]
    state: dict[str, Any]


class EventOut(Schema):
    seq: int
    type: str
    audience: str
    created: str
    actor: str
    actor_kind: str
    actor_id: int | None
    payload: dict[str, Any]
    prev_hash: str
    hash: str


class EventsOut(Schema):
    events: list[EventOut]
    more: bool = Field(description="True when more events follow the last one returned.")


class RecordEntryOut(Schema):
    seq: int
    type: str
    audience: str
    created: str
    actor: str
    actor_kind: str
    actor_id: int | None
    format: int = Field(
        description="2: the hash covers payload_commitment; 1 (entries appended before "
        "salts existed): it covers payload_sha256."
    )
    payload_commitment: str | None = Field(
        description="Format 2: HMAC-SHA256 of the payload's canonical JSON keyed by its salt."
    )
    payload_salt: str | None = Field(
        description="Format 2, when the caller may read the payload: the salt (32 hex digits) "
        "that opens the commitment; otherwise null."
    )
    payload_sha256: str | None = Field(description="Format 1: SHA-256 of the payload.")
    payload: dict[str, Any] | None = Field(
        description="The payload, when the caller may see this entry; otherwise null."
    )
    prev_hash: str
    hash: str


class RecordOut(Schema):
    entries: list[RecordEntryOut]
    head_seq: int
    head_hash: str
    more: bool


class CheckpointOut(Schema):
    seq: int
    hash: str
    reason: Literal["live", "ended", "published", "after_end"]
    signed: str
    key_id: str
    signature: str = Field(description="Ed25519 over the UTF-8 bytes of `statement`, base64.")
    statement: str


class SigningKeyOut(Schema):
    algorithm: Literal["Ed25519"]
    key_id: str = Field(description="The first 16 hex digits of the public key's SHA-256.")
    public_key: str = Field(description="The raw 32-byte public key, base64.")


class HeadOut(Schema):
    seq: int
    hash: str


class CheckpointsOut(Schema):
    format: str
    meeting: str
    head: HeadOut
    signing_key: SigningKeyOut
    checkpoints: list[CheckpointOut]


class StatusIn(Schema):
    status: Literal["draft", "scheduled", "live", "ended", "archived"]


class MeetingOut(Schema):
    slug: str
    title: str
    electoral_unit: str
    scheduled_start: str | None
    status: str
    presentation_minutes: int
    questions_open: bool
    published_at: str | None
    time_zone: str


class AgendaItemOut(Schema):
    id: int
    position: int
    kind: str
    title: str
    candidate_id: int | None
    allowance_seconds: int
    started_at: str | None
    ended_at: str | None


class AttendanceIn(Schema):
    count: int = Field(ge=0, le=100_000, strict=True)


class HallOut(Schema):
    id: int
    name: str
    is_studio: bool
    address: str
    position: int
    attendance: int | None


class HallLinksOut(Schema):
    hall: int
    operator_url: str
    voter_url: str
    poster_url: str
    expires_at: str
