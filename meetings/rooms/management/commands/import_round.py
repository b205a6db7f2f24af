from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from meetings.rooms.actors import Actor
from meetings.rooms.round_import import ImportRefused, round_import


class Command(BaseCommand):
    help = (
        "Import a round of conferences (its conferences, halls and candidates) from an XLSX "
        "workbook or a CSV file (docs/rounds.md). Every row is checked first: on any error, "
        "every error is printed with its sheet and row, nothing is written, and the exit "
        "status is 1."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="the .xlsx or .csv file")
        parser.add_argument(
            "--language",
            choices=[code for code, _name in settings.LANGUAGES],
            help="the language of the messages (default: the site's, LANGUAGE_CODE)",
        )

    def handle(self, *args, file: str, language: str | None = None, **options):
        with translation.override(language or settings.LANGUAGE_CODE):
            self._import(Path(file))

    def _import(self, path: Path) -> None:
        try:
            data = path.read_bytes()
        except OSError as error:
            raise CommandError(
                _("Cannot read %(file)s: %(error)s") % {"file": path, "error": error.strerror}
            ) from None
        try:
            summary = round_import(name=path.name, data=data, actor=Actor.system("import_round"))
        except ImportRefused as refusal:
            for error in refusal.errors:
                self.stderr.write(str(error))
            count = len(refusal.errors)
            raise CommandError(
                ngettext(
                    "Nothing was imported: %(count)d error.",
                    "Nothing was imported: %(count)d errors.",
                    count,
                )
                % {"count": count}
            ) from None
        self.stdout.write(
            _(
                "Imported the round “%(round)s”: %(conferences)d conferences, %(halls)d halls, "
                "%(candidates)d candidates."
            )
            % {
                "round": summary.round.title,
                "conferences": summary.conferences,
                "halls": summary.halls,
                "candidates": summary.candidates,
            }
        )
