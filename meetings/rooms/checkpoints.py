"""Signed checkpoints of a conference's record: the platform's Ed25519 signature over "the
record of <slug> had <seq> entries and ended with <hash>".

A checkpoint is what an observer keeps. Since every entry links to the hash of the one before
it, whoever holds a checkpoint can later check that the record still extends it: the entries
after its seq must chain from its hash. A record truncated or rewritten before that seq, even
by the database's owner who recomputes every hash, no longer does, and the signature shows the
checkpoint came from the platform (docs/record.md, "Signed checkpoints").

The statement signed is a few lines of text, so it can be printed, put in a QR code and checked
by hand; the signature is over its UTF-8 bytes.
"""

import base64
import binascii
import functools
import hashlib
import logging
import os
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.conf import settings

from meetings.env import base64_bytes
from meetings.rooms.models import CheckpointReason, EventLogHead, Meeting, RecordCheckpoint
from meetings.rooms.record import format_time

logger = logging.getLogger(__name__)

# The first line of every statement: what it is, and the version of its layout.
STATEMENT_HEADER = "tiepxuc-record-checkpoint/1"
KEY_FILE_NAME = "record-signing-key"


@functools.cache
def signing_key() -> Ed25519PrivateKey:
    """The installation's key: RECORD_SIGNING_KEY, or one generated once into VAR_DIR."""
    if settings.RECORD_SIGNING_KEY:
        return Ed25519PrivateKey.from_private_bytes(settings.RECORD_SIGNING_KEY)
    key_file = Path(settings.VAR_DIR) / KEY_FILE_NAME
    if not key_file.exists():
        key_file.parent.mkdir(parents=True, exist_ok=True)
        seed = Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.Raw,
            serialization.PrivateFormat.Raw,
            serialization.NoEncryption(),
        )
        # O_EXCL: two processes starting together keep the first one's key.
        try:
            descriptor = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(descriptor, "w") as stream:
                stream.write(base64.b64encode(seed).decode("ascii") + "\n")
            logger.info("generated the record signing key in %s", key_file)
    seed = base64_bytes(key_file.read_text(), 32, str(key_file), settings.RECORD_KEY_HOW_TO_MAKE)
    return Ed25519PrivateKey.from_private_bytes(seed)


def public_key_bytes() -> bytes:
    return (
        signing_key()
        .public_key()
        .public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    )


def public_key_base64() -> str:
    return base64.b64encode(public_key_bytes()).decode("ascii")


def key_id_of(public_key: bytes) -> str:
    """A short name for a public key: the first 16 hex digits of its SHA-256."""
    return hashlib.sha256(public_key).hexdigest()[:16]


def key_id() -> str:
    return key_id_of(public_key_bytes())


def public_key_for_client() -> dict[str, str]:
    return {"algorithm": "Ed25519", "key_id": key_id(), "public_key": public_key_base64()}


def statement(*, slug: str, seq: int, hash: str, reason: str, signed_at: datetime) -> str:
    """The text that is signed, one field per line, ending with a newline."""
    return (
        f"{STATEMENT_HEADER}\n"
        f"meeting {slug}\n"
        f"seq {seq}\n"
        f"hash {hash}\n"
        f"reason {reason}\n"
        f"signed {format_time(signed_at)}\n"
    )


def statement_of(checkpoint: RecordCheckpoint, slug: str) -> str:
    return statement(
        slug=slug,
        seq=checkpoint.seq,
        hash=checkpoint.hash,
        reason=checkpoint.reason,
        signed_at=checkpoint.signed_at,
    )


def checkpoint_note(checkpoint: RecordCheckpoint, slug: str) -> str:
    """The statement with its signature under it: what the minutes' QR code holds, and all an
    observer needs to keep."""
    return f"{statement_of(checkpoint, slug)}signature {checkpoint.key_id} {checkpoint.signature}\n"


def checkpoint_sign(
    *, meeting: Meeting, head: EventLogHead, reason: CheckpointReason, now: datetime
) -> RecordCheckpoint:
    """Sign the head as it stands, inside the write that moved it (the head's lock is held)."""
    text = statement(slug=meeting.slug, seq=head.seq, hash=head.hash, reason=reason, signed_at=now)
    signature = base64.b64encode(signing_key().sign(text.encode("utf-8"))).decode("ascii")
    return RecordCheckpoint.objects.create(
        meeting=meeting,
        seq=head.seq,
        hash=head.hash,
        reason=reason.value,
        signed_at=now,
        key_id=key_id(),
        signature=signature,
    )


def checkpoint_reason(
    *, type: str, payload: dict[str, Any], ended: bool, head: EventLogHead, now: datetime
) -> CheckpointReason | None:
    """Whether the entry just appended is one to sign the head after, and why: the end, the
    publication, anything appended after the end, and a live record unsigned for
    RECORD_CHECKPOINT_SECONDS."""
    if type == "meeting.status_changed" and payload.get("to") == "ended":
        return CheckpointReason.ENDED
    if type == "meeting.published":
        return CheckpointReason.PUBLISHED
    if ended:
        return CheckpointReason.AFTER_END
    interval = timedelta(seconds=settings.RECORD_CHECKPOINT_SECONDS)
    if head.checkpointed_at is None or now - head.checkpointed_at >= interval:
        return CheckpointReason.LIVE
    return None


def signature_valid(checkpoint: RecordCheckpoint, slug: str, public_key: bytes) -> bool:
    """Whether the checkpoint's signature is the key's over its statement."""
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(
            base64.b64decode(checkpoint.signature, validate=True),
            statement_of(checkpoint, slug).encode("utf-8"),
        )
    except (InvalidSignature, binascii.Error, ValueError):
        return False
    return True


def checkpoint_for_client(checkpoint: RecordCheckpoint, slug: str) -> dict[str, Any]:
    return {
        "seq": checkpoint.seq,
        "hash": checkpoint.hash,
        "reason": checkpoint.reason,
        "signed": format_time(checkpoint.signed_at),
        "key_id": checkpoint.key_id,
        "signature": checkpoint.signature,
        "statement": statement_of(checkpoint, slug),
    }


def end_checkpoint(meeting: Meeting) -> RecordCheckpoint | None:
    """The checkpoint signed when the conference ended: the record as the conference left it."""
    return (
        RecordCheckpoint.objects.filter(meeting=meeting, reason=CheckpointReason.ENDED)
        .order_by("seq", "pk")
        .first()
    )


def checkpoint_before(meeting: Meeting, seq: int) -> RecordCheckpoint | None:
    """The newest checkpoint signed before entry ``seq``."""
    return (
        RecordCheckpoint.objects.filter(meeting=meeting, seq__lt=seq)
        .order_by("-seq", "-pk")
        .first()
    )


def checkpoint_at(meeting: Meeting, seq: int) -> RecordCheckpoint | None:
    """The newest checkpoint of exactly this seq, if the head was signed there."""
    return RecordCheckpoint.objects.filter(meeting=meeting, seq=seq).order_by("-pk").first()
