"""Domain errors raised by services; views turn them into HTTP answers, consumers into error
frames, the admin into messages. Messages are translatable and shown to the user as they are.
Their codes are the ones of error_codes.py."""

from typing import Any

from meetings.rooms.error_codes import DEFAULT_MESSAGES, HTTP_STATUS, ErrorCode


class DomainError(Exception):
    status = 400
    code = ErrorCode.INVALID

    def __init__(self, message: str | None = None, *, detail: Any = None):
        message = message if message is not None else str(DEFAULT_MESSAGES[self.code])
        super().__init__(message)
        self.message = message
        self.detail = detail


class Invalid(DomainError):
    status = 400
    code = ErrorCode.INVALID


class EmptyText(Invalid):
    """A text with nothing visible in it: empty, or only spaces, zero-width and other invisible
    characters, or accents without their letters (questions/text.py). Refused with a code of
    its own, so that a screen can tell it from the other invalid input."""

    code = ErrorCode.EMPTY_TEXT


class Forbidden(DomainError):
    status = 403
    code = ErrorCode.FORBIDDEN


class NotFound(DomainError):
    status = 404
    code = ErrorCode.NOT_FOUND


class Conflict(DomainError):
    """Someone else changed it first; ``detail`` carries the current state."""

    status = 409
    code = ErrorCode.CONFLICT


class MeetingEnded(Conflict):
    """The conference has ended (or is archived): its record is closed to everything but what
    docs/record.md ("After the end: a closed record") lists, and this is not one of them."""

    code = ErrorCode.MEETING_ENDED


class RateLimited(DomainError):
    status = 429
    code = ErrorCode.RATE_LIMITED


class UnknownDevice(Forbidden):
    """A phone's device id that the server did not issue, or issued for another hall or
    conference: nothing it sends counts. The phone asks for a new one and sends again."""

    code = ErrorCode.UNKNOWN_DEVICE


class HallHeldElsewhere(Forbidden):
    """A hall's operator link used by a screen that does not hold the hall: another screen does,
    or this one's session ended. It may ask to take over (docs/protocol.md, "Kiosk sessions")."""

    code = ErrorCode.HALL_HELD_ELSEWHERE


class RequestRefused(DomainError):
    """A refusal of the request itself rather than of what it asks (it could not be read, it
    carries no credentials, it is too large): raised by the API's edges, not by services.
    The status is the code's own."""

    def __init__(self, code: ErrorCode, message: str | None = None, *, detail: Any = None):
        self.code = code
        self.status = HTTP_STATUS[code] or 400
        super().__init__(message, detail=detail)
