"""Every error of the API in the documented shape, `{"code", "message", "detail"?}`
(docs/protocol.md, "Errors"), whatever raised it, in the page's language, with the same status
whether DEBUG is on or off. Nothing a client sends gets a 500.

Three places answer, each for what the one before cannot see:

- the API's exception handlers (meetings/api.py) turn what is raised inside an operation into
  an answer with ``refusal_for``: domain errors, schema refusals, a body that is not JSON or
  whose form data is broken, missing credentials, a failed CSRF check, a busy database;
- ``unknown_address`` answers every /api/ path that no operation has;
- ``ApiErrorMiddleware``, outermost, refuses a body over DATA_UPLOAD_MAX_MEMORY_SIZE before
  anything reads it, and rewrites any other error answer to an /api/ path that is not in the
  shape (ninja's 405, Django's own 400/403/404 pages, and under DEBUG its traceback pages),
  from the exception that caused it when there was one, else from its status.
"""

import json
import logging
import sys
from typing import Any

from django.conf import settings
from django.core.exceptions import (
    BadRequest,
    PermissionDenied,
    RequestDataTooBig,
    SuspiciousOperation,
    TooManyFieldsSent,
    TooManyFilesSent,
)
from django.core.signals import got_request_exception
from django.db import DataError, OperationalError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse, UnreadablePostError
from django.http.multipartparser import MultiPartParserError
from django.template.defaultfilters import filesizeformat
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from ninja.errors import AuthenticationError, AuthorizationError, HttpError, Throttled
from ninja.errors import ValidationError as SchemaError
from ninja.responses import NinjaJSONEncoder

from meetings.locale_choice import chosen_language
from meetings.rooms.error_codes import ErrorCode, code_for_status
from meetings.rooms.errors import DomainError, RequestRefused
from meetings.server_errors import BUSY_RETRY_AFTER, busy_body

logger = logging.getLogger(__name__)

API_PREFIX = "/api/"


def is_api_request(request: HttpRequest) -> bool:
    return request.path_info.startswith(API_PREFIX)


def too_large(limit: int) -> RequestRefused:
    return RequestRefused(
        ErrorCode.TOO_LARGE,
        _("The request is too large: at most %(limit)s.") % {"limit": filesizeformat(limit)},
        detail={"limit": limit},
    )


def refusal_for(error: BaseException) -> DomainError | None:
    """The answer to an exception raised while serving an API call, or None for one that is
    the server's own failure (a bug: a 500, left to Django, which logs it)."""
    if isinstance(error, DomainError):
        return error
    if isinstance(error, SchemaError):
        refusal = RequestRefused(ErrorCode.INVALID, detail=error.errors)
        refusal.status = 422
        return refusal
    if isinstance(error, AuthenticationError):
        return RequestRefused(ErrorCode.NOT_AUTHENTICATED)
    if isinstance(error, AuthorizationError):
        return RequestRefused(ErrorCode.FORBIDDEN)
    if isinstance(error, Throttled):
        return RequestRefused(ErrorCode.RATE_LIMITED, detail={"retry_after": error.wait})
    if isinstance(error, HttpError):
        if error.status_code == 400:
            # ninja's only 400: the body could not be parsed (its cause is the parser's error).
            return RequestRefused(
                ErrorCode.BAD_REQUEST, _("The body of the request is not valid JSON.")
            )
        return RequestRefused(code_for_status(error.status_code))
    if isinstance(error, RequestDataTooBig):
        return too_large(settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
    if isinstance(error, TooManyFieldsSent | TooManyFilesSent):
        return RequestRefused(ErrorCode.TOO_LARGE, _("The request has too many fields."))
    if isinstance(error, MultiPartParserError):
        return RequestRefused(
            ErrorCode.BAD_REQUEST, _("The form data of the request could not be read.")
        )
    if isinstance(error, SuspiciousOperation | BadRequest | UnreadablePostError):
        return RequestRefused(ErrorCode.BAD_REQUEST)
    if isinstance(error, PermissionDenied):
        return RequestRefused(ErrorCode.FORBIDDEN)
    if isinstance(error, Http404):
        # Not str(error): get_object_or_404 names the model, in English.
        return RequestRefused(ErrorCode.NOT_FOUND)
    if isinstance(error, OperationalError):
        busy = busy_body()
        return RequestRefused(ErrorCode.BUSY, busy["message"], detail=busy["detail"])
    if isinstance(error, DataError | OverflowError):
        # A value the schema let through but the database cannot hold (a number past 64 bits,
        # a NUL in a text for PostgreSQL): the client's input, not our failure. Every integer
        # of the API is bounded (meetings/rooms/ids.py), so this is a net, logged so that
        # whatever slipped through gets its bound.
        logger.warning("input out of range for the database: %s", error, exc_info=error)
        return RequestRefused(
            ErrorCode.INVALID,
            _("A value sent is out of range or contains a character that is not allowed."),
        )
    return None


def body_of(refusal: DomainError) -> dict[str, Any]:
    body: dict[str, Any] = {"code": str(refusal.code), "message": refusal.message}
    if refusal.detail is not None:
        body["detail"] = refusal.detail
    return body


class _DetailEncoder(NinjaJSONEncoder):
    """A detail that JSON cannot carry as it is (an exception in a schema error's context)
    goes as its text: an error answer must not fail to encode."""

    def default(self, o: Any) -> Any:
        try:
            return super().default(o)
        except TypeError:
            return str(o)


def error_response(refusal: DomainError) -> JsonResponse:
    response = JsonResponse(
        body_of(refusal),
        status=refusal.status,
        encoder=_DetailEncoder,
        json_dumps_params={"ensure_ascii": False},
    )
    if refusal.code == ErrorCode.BUSY:
        response["Retry-After"] = str(BUSY_RETRY_AFTER)
    return response


@csrf_exempt
def unknown_address(request: HttpRequest, *args, **kwargs) -> HttpResponse:
    """Every /api/ path that no operation has (urls.py routes them here after the API's own)."""
    return error_response(
        RequestRefused(ErrorCode.NOT_FOUND, _("There is nothing at this address of the API."))
    )


def in_shape(response: HttpResponse) -> bool:
    if response.streaming or not response.get("Content-Type", "").startswith("application/json"):
        return False
    try:
        body = json.loads(response.content)
    except ValueError:
        return False
    return (
        isinstance(body, dict)
        and isinstance(body.get("code"), str)
        and isinstance(body.get("message"), str)
    )


class ApiErrorMiddleware:
    """The net under the API's own handlers; first in MIDDLEWARE, so that it sees every
    answer to an /api/ path, whichever middleware or view made it."""

    def __init__(self, get_response):
        self.get_response = get_response
        # Django converts an exception into a response before any middleware sees it; under
        # DEBUG that response is a traceback page. Remember the exception to answer for it.
        got_request_exception.connect(
            _remember_uncaught, dispatch_uid="meetings.api_errors.remember_uncaught"
        )

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not is_api_request(request):
            return self.get_response(request)
        early = self._refuse_unread_body(request)
        if early is not None:
            return early
        response = self.get_response(request)
        if response.status_code < 400 or in_shape(response):
            return response
        with translation.override(_language(request)):
            return _rewrite(response, _refusal_of_answer(request, response))

    def _refuse_unread_body(self, request: HttpRequest) -> HttpResponse | None:
        """A body over DATA_UPLOAD_MAX_MEMORY_SIZE is refused before anything reads it; so is
        a body of unknown length (chunked), which Django would read whole whatever its size."""
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if limit is None:
            return None
        length = request.META.get("CONTENT_LENGTH")
        with translation.override(_language(request)):
            if "transfer-encoding" in request.headers and not length:
                return error_response(
                    RequestRefused(
                        ErrorCode.LENGTH_REQUIRED,
                        _("Send the body with its Content-Length, at most %(limit)s.")
                        % {"limit": filesizeformat(limit)},
                        detail={"limit": limit},
                    )
                )
            # (A length of more digits than any upload is too large; int() refuses 4,300.)
            digits = length.isascii() and length.isdigit() if length else False
            if digits and (len(length) > 18 or int(length) > limit):
                return error_response(too_large(limit))
        return None


def _refusal_of_answer(request: HttpRequest, response: HttpResponse) -> DomainError:
    raised = getattr(request, "_uncaught_error", None)
    if raised is not None:
        # An exception no handler took: as meetings/server_errors.py answers it with DEBUG
        # off (and Django's traceback page with it on).
        if isinstance(raised, OperationalError):
            busy = busy_body(_("The server is busy; please try again shortly."))
            return RequestRefused(ErrorCode.BUSY, busy["message"], detail=busy["detail"])
        return RequestRefused(ErrorCode.SERVER_ERROR)
    refusal = RequestRefused(code_for_status(response.status_code))
    refusal.status = response.status_code
    if response.status_code == 405 and response.has_header("Allow"):
        refusal.detail = {"allowed": sorted(response["Allow"].split(", "))}
    return refusal


def _rewrite(response: HttpResponse, refusal: DomainError) -> HttpResponse:
    """The error answer in the shape, keeping the other headers (Allow, Retry-After, the
    security headers) and cookies of the one it replaces."""
    answer = error_response(refusal)
    for header, value in response.items():
        if header.lower() not in ("content-type", "content-length") and not answer.has_header(
            header
        ):
            answer[header] = value
    answer.cookies = response.cookies
    return answer


def _language(request: HttpRequest) -> str:
    return chosen_language(request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME))


def _remember_uncaught(sender, request: HttpRequest | None = None, **kwargs) -> None:
    if request is not None and is_api_request(request):
        request._uncaught_error = sys.exc_info()[1]
