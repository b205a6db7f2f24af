import re

from django.core.management.base import BaseCommand, CommandError

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


def stored_checkpoints(meeting: Meeting) -> list[Checkpoint]:
    """The signed checkpoints kept beside the record: each must be one the record extends.

    Their signatures are not checked here: meetings.rooms.checkpoints will verify them (and
    report a forged one) before they are matched against the chain."""
    return [
        Checkpoint(
            stored.seq,
            stored.hash,
            f"the stored checkpoint #{stored.pk} at seq {stored.seq} ({stored.reason})",
        )
        for stored in RecordCheckpoint.objects.filter(meeting=meeting).order_by("seq", "pk")
    ]


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

    def handle(self, *args, slug: str, checkpoint: list[str], **options):
        given = [checkpoint_argument(value) for value in checkpoint]
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
        checkpoints = stored_checkpoints(meeting) + given
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
