"""The JSON API at /api/, with its OpenAPI document at /api/openapi.json."""

import logging

from django.db import OperationalError
from django.http import Http404, HttpRequest
from django.urls import reverse
from ninja import NinjaAPI
from ninja.errors import HttpError, ValidationError

from meetings.api_errors import error_response, refusal_for
from meetings.questions.api.endpoints import router as questions_router
from meetings.rooms.api.endpoints import router as rooms_router
from meetings.rooms.api.kiosk import router as kiosk_router
from meetings.rooms.api.media import router as media_router

logger = logging.getLogger(__name__)

api = NinjaAPI(
    title="Hội nghị tiếp xúc cử tri – API",
    version="1",
    description=(
        "The API the screens use. Kiosks and phones authenticate with their hall's join link "
        "in the X-Join-Link header (a kiosk also with its session in X-Kiosk-Session); accounts "
        "with the session cookie and a CSRF token."
    ),
    urls_namespace="api",
)
api.add_router("/", rooms_router)
api.add_router("/", questions_router)
api.add_router("/", media_router)
api.add_router("/", kiosk_router)


@api.get("/", include_in_schema=False)
def index(request: HttpRequest) -> dict:
    """What /api/ itself answers: where the reference and the schema are. A signpost for a
    person or a client finding its way, not an operation of the API."""
    return {
        "title": api.title,
        "version": api.version,
        "description": api.description,
        "docs": reverse("api:openapi-view"),
        "openapi": reverse("api:openapi-json"),
    }


def answer_error(request, error: Exception):
    """Every exception raised inside an operation (ninja's own included: unparsable bodies,
    missing credentials, schema refusals) answers in the documented shape
    (meetings/api_errors.py). Any other is the server's failure: raised on to Django, which
    logs it and answers 500 (meetings/server_errors.py; under DEBUG, ApiErrorMiddleware puts
    its traceback page in the same shape), where ninja would send its traceback under DEBUG."""
    refusal = refusal_for(error)
    if refusal is None:
        raise error
    if isinstance(error, OperationalError):
        # The database did not answer in time: every pooled PostgreSQL connection was taken
        # (DATABASE_POOL_TIMEOUT), or SQLite's one writer was held too long. The request's
        # transaction was rolled back, so nothing changed; the phones' outbox sends its
        # question again (it retries any 5xx).
        logger.warning("database busy on %s %s: %s", request.method, request.path, error)
    return error_response(refusal)


# ninja's defaults (Exception, Http404, HttpError, ValidationError) answer {"detail": ...}, and
# a traceback under DEBUG: replace each.
for _error_class in (Exception, Http404, HttpError, ValidationError):
    api.add_exception_handler(_error_class, answer_error)
