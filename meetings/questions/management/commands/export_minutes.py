from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from meetings.questions.minutes.export import FORMATS, export_minutes
from meetings.rooms.models import Meeting


class Command(BaseCommand):
    help = "Write a conference's minutes (biên bản) as DOCX, PDF, CSV or XLSX."

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("--format", choices=sorted(FORMATS), default="docx")
        parser.add_argument("--output", required=True, help="the file to write")
        parser.add_argument("--language", choices=["vi", "en"], default="vi")

    def handle(self, *args, slug: str, format: str, output: str, language: str, **options):
        meeting = Meeting.objects.filter(slug=slug).first()
        if meeting is None:
            raise CommandError(f"no conference with the identifier {slug!r}")
        data = export_minutes(meeting, format, language, staff=True)  # for the officials
        Path(output).write_bytes(data)
        self.stdout.write(f"wrote {output} ({len(data)} bytes, {format}, {language})")
