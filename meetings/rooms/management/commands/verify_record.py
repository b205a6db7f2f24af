import re

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError

from meetings.env import base64_bytes
from meetings.rooms.checkpoints import key_id_of, public_key_bytes, signature_valid
from meetings.rooms.models import Event, EventLogHead, Meeting, RecordCheckpoint
from meetings.rooms.record import Checkpoint, verify_chain

HASH = re.compile(r"[0-9a-f]{64}")


def checkpoint_argument(value: str) -> Checkpoint:
    """``SEQ:HASH``, as someone kept it: the record's entry SEQ must have the hash HASH."""
    seq, colon, digest = value.strip().partition(":")
    digest = digest.strip().lower()
    if not colon or not seq.strip().isdigit() or int(seq) < 1 or not HASH.fullmatch(digest):
        raise CommandError(
            f"--checkpoint {value!r} is not SEQ:HASH (an entry's number from 1, a colon, "
            "and its hash in 64 hexadecimal digits)"
        )
    return Checkpoint(int(seq), digest, f"the checkpoint at seq {int(seq)} given with --checkpoint")


def stored_checkpoints(meeting: Meeting, public_key: bytes) -> list[Checkpoint]:
    """The signed checkpoints kept beside the record, each signed with ``public_key``'s
    private half (a CommandError names the first that is not): the record must extend each."""
    checkpoints = []
    for stored in RecordCheckpoint.objects.filter(meeting=meeting).order_by("seq", "pk"):
        label = f"the stored checkpoint #{stored.pk} at seq {stored.seq} ({stored.reason})"
        if not signature_valid(stored, meeting.slug, public_key):
            raise CommandError(
                f"record of {meeting.slug} is BROKEN: {label} is not signed by the key "
                f"{key_id_of(public_key)} (its signature names the key {stored.key_id}): "
                "it was changed, or signed elsewhere"
            )
        checkpoints.append(Checkpoint(stored.seq, stored.hash, label))
    return checkpoints


def public_key_argument(value: str) -> bytes:
    return base64_bytes(
        value, 32, "--public-key", "the public_key of /archive/<slug>/checkpoints.json"
    )


class Command(BaseCommand):
    help = (
        "Recompute a conference's hash chain. Exit 0 and print the final hash when the record "
        "is intact; exit 1 and name the first broken seq when a row was altered, removed or "
        "reordered, when the record and its head disagree, or when the record does not extend "
        "a checkpoint (given with --checkpoint, or stored and signed)."
    )

    def add_arguments(self, parser):
        parser.add_argument("slug", help="the conference's public identifier")
        parser.add_argument(
            "--checkpoint",
            action="append",
            default=[],
            metavar="SEQ:HASH",
            help=(
                "a checkpoint kept outside this database: the record's entry SEQ must have "
                "the hash HASH (repeatable)"
            ),
        )

        parser.add_argument(
            "--public-key",
            metavar="BASE64",
            help=(
                "the key the stored checkpoints must be signed with (base64 of its 32 bytes); "
                "by default this installation's"
            ),
        )

    def handle(self, *args, slug: str, checkpoint: list[str], public_key: str | None, **options):
        given = [checkpoint_argument(value) for value in checkpoint]
        try:
            key = public_key_argument(public_key) if public_key else public_key_bytes()
        except ImproperlyConfigured as error:
            raise CommandError(str(error)) from None
        meeting = Meeting.objects.filter(slug=slug).first()
        if meeting is None:
            raise CommandError(f"no conference with the identifier {slug!r}")
        head = EventLogHead.objects.filter(meeting=meeting).first()
        if head is None:
            raise CommandError(
                f"the record of {slug} has no head: its row in rooms_eventloghead is missing, "
                "so where the record ends cannot be checked (the row is never deleted by the "
                "platform)"
            )
        if not isinstance(head.seq, int) or head.seq < 0:
            raise CommandError(
                f"the record of {slug} has a damaged head: its seq {head.seq!r} is not a "
                "whole number"
            )
        if not isinstance(head.hash, str) or not HASH.fullmatch(head.hash):
            raise CommandError(
                f"the record of {slug} has a damaged head: its hash {head.hash!r} is not 64 "
                "hexadecimal digits"
            )
        checkpoints = stored_checkpoints(meeting, key) + given
        result = verify_chain(
            Event.objects.filter(meeting=meeting).order_by("seq").iterator(chunk_size=2000),
            meeting_slug=meeting.slug,
            head_seq=head.seq,
            head_hash=head.hash,
            checkpoints=checkpoints,
        )
        if not result.intact:
            raise CommandError(
                f"record of {slug} is BROKEN at seq {result.broken_seq}: {result.problem}; "
                f"the {result.events} entries before it are intact"
            )
        self.stdout.write(f"record of {slug} is intact: {result.events} entries")
        self.stdout.write(f"final hash: {result.final_hash}")
        for kept in checkpoints:
            self.stdout.write(f"it extends {kept.label}")
