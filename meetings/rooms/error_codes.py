"""Every error code the platform answers with, in one place: the JSON API's error bodies
(`{"code", "message", "detail"?}`), the websocket's `error` frames and the admin's messages use
these and no other. docs/protocol.md ("Errors") lists the same codes; a test keeps the two in
step.

A new kind of error: add a member, its HTTP status in ``HTTP_STATUS`` (None for a code only the
websocket sends) and a default message in ``DEFAULT_MESSAGES``, then a row in the docs' table.
"""

from enum import StrEnum

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


class ErrorCode(StrEnum):
    BAD_REQUEST = "bad_request"  # the request could not be read: malformed JSON, broken form data
    INVALID = "invalid"  # well formed, but a value is out of range or against the rules
    NOT_AUTHENTICATED = "not_authenticated"  # no join link and no signed-in session
    FORBIDDEN = "forbidden"  # this caller may not do this
    CSRF_FAILED = "csrf_failed"  # a signed-in account's request without a valid CSRF token
    NOT_FOUND = "not_found"  # no such address, conference or object
    METHOD_NOT_ALLOWED = "method_not_allowed"
    LENGTH_REQUIRED = "length_required"  # a body sent without its length (chunked)
    CONFLICT = "conflict"  # someone else changed it first; detail holds the current state
    TOO_LARGE = "too_large"  # a request body or a websocket frame over its limit
    RATE_LIMITED = "rate_limited"
    SERVER_ERROR = "server_error"  # a bug: logged, and nothing to correct on the client's side
    BUSY = "busy"  # the database did not answer in time; send the same request again
    BAD_FRAME = "bad_frame"  # websocket: not JSON, not an object, unknown type, wrong fields
    HUB_FAILED = "hub_failed"  # websocket media.error: the media hub could not take the offer
    UNKNOWN_DEVICE = "unknown_device"  # a phone's device id the server did not issue for its hall
    HALL_HELD_ELSEWHERE = "hall_held_elsewhere"  # an operator link's screen that does not hold it
    EMPTY_TEXT = "empty_text"  # a question with nothing visible: empty, spaces, zero-width marks
    MEETING_ENDED = "meeting_ended"  # the conference has ended: its record takes no more of this


HTTP_STATUS: dict[ErrorCode, int | None] = {
    ErrorCode.BAD_REQUEST: 400,
    ErrorCode.INVALID: 400,  # 422 when the input does not fit the API's schema
    ErrorCode.NOT_AUTHENTICATED: 401,
    ErrorCode.FORBIDDEN: 403,
    ErrorCode.CSRF_FAILED: 403,
    ErrorCode.NOT_FOUND: 404,
    ErrorCode.METHOD_NOT_ALLOWED: 405,
    ErrorCode.LENGTH_REQUIRED: 411,
    ErrorCode.CONFLICT: 409,
    ErrorCode.TOO_LARGE: 413,
    ErrorCode.RATE_LIMITED: 429,
    ErrorCode.SERVER_ERROR: 500,
    ErrorCode.BUSY: 503,
    ErrorCode.BAD_FRAME: None,
    ErrorCode.HUB_FAILED: None,
    ErrorCode.UNKNOWN_DEVICE: 403,
    ErrorCode.HALL_HELD_ELSEWHERE: 403,
    ErrorCode.EMPTY_TEXT: 400,
    ErrorCode.MEETING_ENDED: 409,
}

DEFAULT_MESSAGES: dict[ErrorCode, Promise] = {
    ErrorCode.BAD_REQUEST: _("The request could not be read."),
    ErrorCode.INVALID: _("Some of what was sent is not valid; see the details."),
    ErrorCode.NOT_AUTHENTICATED: _("Sign in, or open this from your hall's link."),
    ErrorCode.FORBIDDEN: _("You may not do this."),
    ErrorCode.CSRF_FAILED: _(
        "The page's security token is missing or out of date. Reload the page and try again."
    ),
    ErrorCode.NOT_FOUND: _("Not found."),
    ErrorCode.METHOD_NOT_ALLOWED: _("This address does not accept this method."),
    ErrorCode.LENGTH_REQUIRED: _("Send the body with its length."),
    ErrorCode.CONFLICT: _("Someone else changed this first."),
    ErrorCode.TOO_LARGE: _("This is too large."),
    ErrorCode.RATE_LIMITED: _("Too many requests; please wait a moment and try again."),
    ErrorCode.SERVER_ERROR: _("Server error."),
    ErrorCode.BUSY: _("The server is busy; please try again shortly."),
    ErrorCode.BAD_FRAME: _("This message is not a valid frame; see docs/protocol.md."),
    ErrorCode.HUB_FAILED: _("The media hub could not take this screen; try again later."),
    ErrorCode.UNKNOWN_DEVICE: _(
        "This phone is not known to this hall. Reload the page: it gets a new id by itself."
    ),
    ErrorCode.HALL_HELD_ELSEWHERE: _(
        "This screen does not hold its hall: another screen shows it, or this one's "
        "session has ended. Ask the studio to let this screen take over."
    ),
    ErrorCode.EMPTY_TEXT: _("Please write your question."),
    ErrorCode.MEETING_ENDED: _("The conference has ended; this can no longer be done."),
}


def code_for_status(status: int) -> ErrorCode:
    """The code of an error answer that came without one (a framework's own 4xx or 5xx)."""
    for code, code_status in HTTP_STATUS.items():
        if code_status == status:
            return code
    return ErrorCode.SERVER_ERROR if status >= 500 else ErrorCode.BAD_REQUEST
