"""/healthz (readiness: the node can serve) and /livez (liveness: the process answers).

/healthz checks what a request needs: the database, Redis when REDIS_URL is set (the cache and
the channel layer), and free space under MEDIA_ROOT (recordings stop when the disk is full);
it answers 200 with one line per check, or 503 naming the one that failed. /livez touches
nothing: a container orchestrator restarts a process on it, and must not restart every web
node because PostgreSQL is away for a moment.
"""

import shutil

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, HttpResponse


def _database() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return "ok"


def _redis() -> str:
    if not settings.REDIS_URL:
        return "not configured"
    cache.set("healthz", 1, timeout=10)
    if cache.get("healthz") != 1:
        raise RuntimeError("wrote a key and did not read it back")
    return "ok"


def _disk() -> str:
    root = settings.MEDIA_ROOT
    root.mkdir(parents=True, exist_ok=True)
    free_mb = shutil.disk_usage(root).free // (1024 * 1024)
    if free_mb < settings.HEALTH_MIN_FREE_MB:
        raise RuntimeError(
            f"{free_mb} MB free, below HEALTH_MIN_FREE_MB={settings.HEALTH_MIN_FREE_MB}"
        )
    return f"{free_mb} MB free"


CHECKS = {"database": _database, "redis": _redis, "media_root": _disk}


def healthz(request: HttpRequest) -> HttpResponse:
    lines, healthy = [], True
    for name, check in CHECKS.items():
        try:
            lines.append(f"{name}: {check()}")
        except Exception as error:  # any failure is an answer here, not a 500
            healthy = False
            lines.append(f"{name}: FAILED {type(error).__name__}: {error}")
    return HttpResponse(
        "\n".join(lines) + "\n", status=200 if healthy else 503, content_type="text/plain"
    )


def livez(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok\n", content_type="text/plain")
