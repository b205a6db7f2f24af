"""What the server answers when something fails that no view handled.

The API answers its own errors (meetings/api.py); this is Django's last resort (`handler500`,
used only with DEBUG off), for pages and for failures outside any view, such as a session saved
by middleware. Most of these failures on election day will be a database that did not answer in
time: every pooled PostgreSQL connection taken for DATABASE_POOL_TIMEOUT seconds, or SQLite's
one writer held too long. The request's transaction was rolled back, so nothing changed, and
the answer says so: 503 with Retry-After, the API's `busy` error shape for API paths and a page
that says to try again for people. Anything else stays a 500.
"""

import sys

from django.db import OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.utils.translation import gettext as _

# Seconds a client is asked to wait when the database is too busy to answer.
BUSY_RETRY_AFTER = 5


def busy_body() -> dict:
    """The API's error body for a busy database (docs/protocol.md, "Errors")."""
    return {
        "code": "busy",
        "message": _("The server is busy. Nothing was changed; please try again shortly."),
        "detail": {"retry_after": BUSY_RETRY_AFTER},
    }


def server_error(request: HttpRequest) -> HttpResponse:
    # Django calls this inside its `except` block, so the error is still the current one.
    busy = isinstance(sys.exc_info()[1], OperationalError)
    status = 503 if busy else 500
    if request.path.startswith("/api/"):
        body = busy_body() if busy else {"code": "server_error", "message": _("Server error.")}
        response = JsonResponse(body, status=status)
    else:
        # Rendered without the request: its session and user may be what failed.
        page = render_to_string("server_error.html", {"busy": busy})
        response = HttpResponse(page, status=status)
    if busy:
        response["Retry-After"] = str(BUSY_RETRY_AFTER)
    return response
