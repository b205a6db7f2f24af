from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from meetings.backup import BackupRefused, backup


class Command(BaseCommand):
    help = (
        "Back up the whole installation (the database: pg_dump or SQLite's backup API; every "
        "file under MEDIA_ROOT) or, with --conference, one conference (its rows and files), "
        "into a new directory under --out. Restore with `manage.py restore DIRECTORY` "
        "(docs/storage.md)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--out", default="backups", help="where to make the backup's directory")
        parser.add_argument("--conference", metavar="SLUG", help="only this conference")

    def handle(self, *args, out: str, conference: str | None, **options):
        try:
            target = backup(Path(out), slug=conference or None)
        except BackupRefused as refusal:
            raise CommandError(str(refusal)) from None
        self.stdout.write(str(target))
