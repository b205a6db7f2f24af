"""The JSON API at /api/, with its OpenAPI document at /api/openapi.json."""

import logging

from django.db import OperationalError
from django.http import Http404
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import ValidationError

from meetings.questions.api.endpoints import router as questions_router
from meetings.rooms.api.endpoints import router as rooms_router
from meetings.rooms.api.kiosk import router as kiosk_router
from meetings.rooms.api.media import router as media_router
from meetings.rooms.errors import DomainError
from meetings.server_errors import BUSY_RETRY_AFTER, busy_body

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


@api.exception_handler(DomainError)
def domain_error(request, error: DomainError):
    return api.create_response(
        request,
        {"code": error.code, "message": error.message, "detail": error.detail},
        status=error.status,
    )


@api.exception_handler(ValidationError)
def invalid_input(request, error: ValidationError):
    """Bodies or parameters that do not fit the schema: the same error shape as the rest."""
    return api.create_response(
        request,
        {
            "code": "invalid",
            "message": _("Some of what was sent is not valid; see the details."),
            "detail": error.errors,
        },
        status=422,
    )


@api.exception_handler(Http404)
def not_found(request, error):
    return api.create_response(
        request, {"code": "not_found", "message": str(error) or _("Not found.")}, status=404
    )


@api.exception_handler(OperationalError)
def database_busy(request, error: OperationalError):
    """The database did not answer in time: every pooled PostgreSQL connection was taken
    (DATABASE_POOL_TIMEOUT), or SQLite's one writer was held too long. The request's transaction
    was rolled back, so nothing changed; a clear 503 instead of the bare 500, and the phones'
    outbox sends its question again (it retries any 5xx)."""
    logger.warning("database busy on %s %s: %s", request.method, request.path, error)
    response = api.create_response(request, busy_body(), status=503)
    response["Retry-After"] = str(BUSY_RETRY_AFTER)
    return response
