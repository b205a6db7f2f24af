"""The record's hash chain: the canonical encoding of an event, and its verification.

Each event's hash is SHA-256 over the UTF-8 bytes of the canonical JSON (sorted keys, no
spaces, non-ASCII characters kept as they are) of::

    {"actor": {"id": <user id or null>, "kind": "...", "label": "..."},
     "audience": "...", "created": "<UTC ISO 8601, microseconds>", "format": 2,
     "meeting": "<slug>", "payload_commitment": "<HMAC-SHA256 of the payload, keyed by its salt>",
     "prev": "<previous event's hash, or 64 zeros>", "seq": <n>, "type": "..."}

The payload enters through a commitment so that the chain of a meeting can be checked by
anyone from the published entries while payloads meant for staff (askers' names, an operator's
phone number) stay unpublished, and cannot be confirmed by guessing: the commitment is keyed by
a random 128-bit salt per entry, published only with the payload itself. Entries appended
before salts existed (format 1) have no "format" key and commit to the bare SHA-256 of their
payload as "payload_sha256". docs/record.md repeats this so it can be checked without our code.
"""

import hashlib
import hmac
import json
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, NamedTuple

from meetings.rooms.models import GENESIS_HASH, Event


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def format_time(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def payload_digest(payload: Any) -> str:
    return hashlib.sha256(canonical_json(payload).encode("utf-8")).hexdigest()


# The format of the entries appended now: 2, a salted commitment to the payload. Format 1
# (the bare SHA-256 of the payload) is still verified, for the entries appended before.
RECORD_FORMAT = 2
SALT_BYTES = 16


def new_salt() -> str:
    """A fresh secret for one entry's commitment: 128 random bits, as 32 hex digits."""
    return secrets.token_hex(SALT_BYTES)


def payload_commitment(payload: Any, salt: str) -> str:
    """HMAC-SHA256 of the payload's canonical JSON, keyed by the salt's bytes: without the
    salt, a guessed payload cannot be checked against it."""
    return hmac.new(
        bytes.fromhex(salt), canonical_json(payload).encode("utf-8"), hashlib.sha256
    ).hexdigest()


def payload_seal(payload: Any, salt: str | None) -> str:
    """What an entry's hash covers in place of its payload: the commitment (format 2), or the
    bare digest for an entry without a salt (format 1)."""
    return payload_digest(payload) if salt is None else payload_commitment(payload, salt)


def entry_format(salt: str | None) -> int:
    return 1 if salt is None else RECORD_FORMAT


def chain_digest(
    *,
    meeting_slug: str,
    seq: int,
    type: str,
    audience: str,
    actor_id: int | None,
    actor_kind: str,
    actor_label: str,
    seal: str,
    format: int,
    created_at: datetime,
    prev_hash: str,
) -> str:
    """An entry's hash from what is published of it: ``seal`` is its payload's commitment
    (format 2) or digest (format 1)."""
    body: dict[str, Any] = {
        "actor": {"id": actor_id, "kind": actor_kind, "label": actor_label},
        "audience": audience,
        "created": format_time(created_at),
        "meeting": meeting_slug,
        "prev": prev_hash,
        "seq": seq,
        "type": type,
    }
    if format == 1:
        body["payload_sha256"] = seal
    else:
        body["format"] = format
        body["payload_commitment"] = seal
    return hashlib.sha256(canonical_json(body).encode("utf-8")).hexdigest()


def digest_of(event: Event, *, meeting_slug: str, prev_hash: str) -> str:
    return chain_digest(
        meeting_slug=meeting_slug,
        seq=event.seq,
        type=event.type,
        audience=event.audience,
        actor_id=event.actor_id,
        actor_kind=event.actor_kind,
        actor_label=event.actor_label,
        seal=payload_seal(event.payload, event.payload_salt),
        format=entry_format(event.payload_salt),
        created_at=event.created_at,
        prev_hash=prev_hash,
    )


class Checkpoint(NamedTuple):
    """A (seq, hash) the record must extend: its entry ``seq`` must have this hash. ``label``
    names it in a report ("the checkpoint at seq 12 given with --checkpoint")."""

    seq: int
    hash: str
    label: str


@dataclass(frozen=True)
class Verification:
    intact: bool
    events: int
    final_hash: str
    broken_seq: int | None = None
    problem: str = ""


def verify_chain(
    events: Iterable[Event],
    *,
    meeting_slug: str,
    head_seq: int,
    head_hash: str,
    checkpoints: Iterable[Checkpoint | tuple[int, str, str]] = (),
) -> Verification:
    """Walk the events in stored order and recompute every link.

    A changed row breaks its own hash; a removed row leaves a gap in ``seq``; reordered rows
    break the hash of the first moved row. The head recorded beside the log catches rows cut
    off the end, and rows added past it. A checkpoint kept outside the database catches what
    its owner can do to both: the record must still hold, at the checkpoint's seq, the entry
    with the checkpoint's hash. The caller decides which checkpoints to trust (given by hand,
    or stored and signed). The first problem, in the order of the record, is reported.
    """
    checkpoints = [Checkpoint(*checkpoint) for checkpoint in checkpoints]
    expected: dict[int, list[Checkpoint]] = {}
    for checkpoint in checkpoints:
        expected.setdefault(checkpoint.seq, []).append(checkpoint)
    for checkpoint in expected.get(0, ()):
        if checkpoint.hash != GENESIS_HASH:
            return Verification(
                False,
                0,
                GENESIS_HASH,
                0,
                f"the record does not extend {checkpoint.label} (it starts from hash "
                f"{GENESIS_HASH}, the checkpoint says {checkpoint.hash})",
            )
    expected_seq = 1
    prev_hash = GENESIS_HASH
    # The hash of the entry before the last one, and of the entry at the head's seq.
    before_last = at_head = GENESIS_HASH
    for event in events:
        if event.seq != expected_seq:
            return Verification(
                False,
                expected_seq - 1,
                prev_hash,
                expected_seq,
                f"expected seq {expected_seq}, found {event.seq}: an entry is missing or moved",
            )
        if event.prev_hash != prev_hash:
            return Verification(
                False,
                expected_seq - 1,
                prev_hash,
                event.seq,
                "its prev_hash does not match the hash of the entry before it",
            )
        if digest_of(event, meeting_slug=meeting_slug, prev_hash=prev_hash) != event.hash:
            return Verification(
                False,
                expected_seq - 1,
                prev_hash,
                event.seq,
                "its content does not match its hash: the entry was altered",
            )
        for checkpoint in expected.get(event.seq, ()):
            if checkpoint.hash != event.hash:
                return Verification(
                    False,
                    expected_seq - 1,
                    prev_hash,
                    event.seq,
                    f"the record does not extend {checkpoint.label} (its entry {event.seq} "
                    f"has hash {event.hash}, the checkpoint says {checkpoint.hash})",
                )
        before_last, prev_hash = prev_hash, event.hash
        if event.seq == head_seq:
            at_head = event.hash
        expected_seq += 1
    count = expected_seq - 1
    beyond = sorted(
        (checkpoint for checkpoint in checkpoints if checkpoint.seq > count),
        key=lambda checkpoint: checkpoint.seq,
    )
    if beyond:
        return Verification(
            False,
            count,
            prev_hash,
            count + 1,
            f"the record ends at seq {count}, before {beyond[0].label}: "
            "it was truncated before the checkpoint",
        )
    if count < head_seq:
        return Verification(
            False,
            count,
            prev_hash,
            count + 1,
            f"the record ends at seq {count} but its head says {head_seq}: entries were removed",
        )
    if count > head_seq:
        return Verification(
            False,
            head_seq,
            at_head,
            head_seq + 1,
            f"the record goes on to seq {count} but its head says {head_seq}: "
            f"it has {count - head_seq} entries more than its head",
        )
    if prev_hash != head_hash:
        return Verification(
            False,
            count - 1,
            before_last,
            count,
            f"the record ends at seq {count} as its head says, but its last hash differs from "
            f"the head's hash ({prev_hash}, the head says {head_hash}): "
            "the last entry or the head was rewritten",
        )
    return Verification(True, count, prev_hash)
