from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from meetings.questions.synthesis.export import FORMATS, export_synthesis
from meetings.rooms.models import Round


class Command(BaseCommand):
    help = (
        "Write a round's synthesis of voters' opinions and recommendations (báo cáo tổng hợp "
        "ý kiến, kiến nghị của cử tri) as DOCX or XLSX."
    )

    def add_arguments(self, parser):
        parser.add_argument("round", help="the round's identifier (slug)")
        parser.add_argument("--format", default="docx", help="docx or xlsx")
        parser.add_argument("--output", required=True, help="the file to write")
        parser.add_argument("--language", default="vi", help="vi or en")
        parser.add_argument("--issuer", default="", help="the issuing body, for the report's head")
        parser.add_argument("--place", default="", help="the place, for the report's date line")

    def handle(self, *args, round: str, format: str, output: str, language: str, **options):
        found = Round.objects.filter(slug=round).first()
        if found is None:
            raise CommandError(f"no round with the identifier {round!r}")
        if format not in FORMATS:
            raise CommandError(f"unknown format {format!r}: use {' or '.join(sorted(FORMATS))}")
        if language not in ("vi", "en"):
            raise CommandError(f"unknown language {language!r}: use vi or en")
        data = export_synthesis(
            found, format, language, issuer=options["issuer"], place=options["place"]
        )
        Path(output).write_bytes(data)
        self.stdout.write(f"wrote {output} ({len(data)} bytes, {format}, {language})")
