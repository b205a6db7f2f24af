from django.core.management.base import BaseCommand, CommandError

from meetings.rooms.models import Event, EventLogHead, Meeting
from meetings.rooms.record import verify_chain


class Command(BaseCommand):
    help = (
        "Recompute a conference's hash chain. Exit 0 and print the final hash when the record "
        "is intact; exit 1 and name the first broken seq when a row was altered, removed or "
        "reordered."
    )

    def add_arguments(self, parser):
        parser.add_argument("slug", help="the conference's public identifier")

    def handle(self, *args, slug: str, **options):
        meeting = Meeting.objects.filter(slug=slug).first()
        if meeting is None:
            raise CommandError(f"no conference with the identifier {slug!r}")
        head = EventLogHead.objects.get(meeting=meeting)
        result = verify_chain(
            Event.objects.filter(meeting=meeting).order_by("seq").iterator(chunk_size=2000),
            meeting_slug=meeting.slug,
            head_seq=head.seq,
            head_hash=head.hash,
        )
        if not result.intact:
            raise CommandError(
                f"record of {slug} is BROKEN at seq {result.broken_seq}: {result.problem} "
                f"({result.events} entries before it are intact)"
            )
        self.stdout.write(f"record of {slug} is intact: {result.events} entries")
        self.stdout.write(f"final hash: {result.final_hash}")
