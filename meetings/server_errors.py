"""What the server answers when something fails that no view handled.

The API answers its own errors (meetings/api.py); this is Django's last resort (`handler500`,
used only with DEBUG off), for pages and for failures outside any view, such as a session saved
by middleware. Most of these failures on election day will be a database that did not answer in
time (django.db.OperationalError): every pooled PostgreSQL connection taken for
DATABASE_POOL_TIMEOUT seconds, or SQLite's one writer held too long. They answer 503 with
Retry-After: the API's `busy` error code for API paths and a page that says to try again for
people. Unlike the API's own handler, this one cannot know what was saved before the failure
(requests are not one transaction: a session saved by middleware fails after the view's work),
so it does not say that nothing changed. Anything else stays a 500.
"""

import sys

from django.db import OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.utils.translation import gettext as _

from meetings.rooms.error_codes import ErrorCode

# Seconds a client is asked to wait when the database is too busy to answer.
BUSY_RETRY_AFTER = 5


def busy_body(message: str | None = None) -> dict:
    """The API's error body for a busy database (docs/protocol.md, "Errors"). The default
    message is for the API's own handler, which runs inside the failed call's transaction."""
    return {
        "code": ErrorCode.BUSY,
        "message": message
        or _("The server is busy. Nothing was changed; please try again shortly."),
        "detail": {"retry_after": BUSY_RETRY_AFTER},
    }


def server_error(request: HttpRequest) -> HttpResponse:
    # Django calls this inside its `except` block, so the error is still the current one.
    busy = isinstance(sys.exc_info()[1], OperationalError)
    status = 503 if busy else 500
    if request.path.startswith("/api/"):
        if busy:
            body = busy_body(_("The server is busy; please try again shortly."))
        else:
            body = {"code": ErrorCode.SERVER_ERROR, "message": _("Server error.")}
        response = JsonResponse(body, status=status)
    else:
        try:
            # Without the request: its session and user may be what failed.
            page = render_to_string("server_error.html", {"busy": busy})
            response = HttpResponse(page, status=status)
        except Exception:
            # Failing here would send Django round its handlers again, to a bare 500.
            text = (
                _("The server is busy; please try again shortly.") if busy else _("Server error.")
            )
            response = HttpResponse(text, status=status, content_type="text/plain; charset=utf-8")
    if busy:
        response["Retry-After"] = str(BUSY_RETRY_AFTER)
    return response
