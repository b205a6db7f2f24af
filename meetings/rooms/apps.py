from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RoomsConfig(AppConfig):
    name = "meetings.rooms"
    label = "rooms"
    verbose_name = _("Conferences and halls")

    def ready(self):
        from django.conf import settings
        from django.core.signals import request_finished

        from meetings.rooms.realtime.admission import watch_accounts

        watch_accounts()

        if settings.DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
            request_finished.connect(
                _close_request_connections, dispatch_uid="meetings.rooms.close_request_db"
            )


def _close_request_connections(**kwargs):
    """SQLite connections persist per thread (settings), so the thread that runs the
    consumers' database work keeps its one. Under ASGI each HTTP request runs in a thread of
    its own, whose connection only the garbage collector would close: close it when the
    request ends (unless a test's transaction is still open on it)."""
    from django.db import connections

    for connection in connections.all(initialized_only=True):
        if not connection.in_atomic_block:
            connection.close()
