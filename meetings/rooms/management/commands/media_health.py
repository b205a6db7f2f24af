from django.core.management.base import BaseCommand, CommandError

from meetings.rooms.media.health import HEALTH_SECONDS, read_health


class Command(BaseCommand):
    help = (
        "Exit 0 when the media worker --index wrote its health file recently (its hubs and "
        "their peers are printed), 1 otherwise: compose's health check of the media service."
    )
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("--index", type=int, default=0)
        parser.add_argument("--max-age", type=float, default=6 * HEALTH_SECONDS)

    def handle(self, *args, index: int, max_age: float, **options):
        healthy, line = read_health(index, max_age=max_age)
        if not healthy:
            raise CommandError(line)
        self.stdout.write(line)
