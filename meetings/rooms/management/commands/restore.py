from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from meetings.backup import BackupRefused, restore


class Command(BaseCommand):
    help = (
        "Restore a backup made by `manage.py backup`: the whole installation into an empty "
        "database, or one conference into an installation where none of its ids is taken "
        "(a fresh one). Refuses, changing nothing, otherwise."
    )
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("directory")

    def handle(self, *args, directory: str, **options):
        try:
            self.stdout.write(restore(Path(directory)))
        except BackupRefused as refusal:
            raise CommandError(str(refusal)) from None
