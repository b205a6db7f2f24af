"""Domain errors raised by services; views turn them into HTTP answers, consumers into error
frames. Messages are translatable and shown to the user as they are."""

from typing import Any

from django.utils.translation import gettext as _


class DomainError(Exception):
    status = 400
    code = "invalid"

    def __init__(self, message: str, *, detail: Any = None):
        super().__init__(message)
        self.message = message
        self.detail = detail


class Invalid(DomainError):
    status = 400
    code = "invalid"


class Forbidden(DomainError):
    status = 403
    code = "forbidden"


class NotFound(DomainError):
    status = 404
    code = "not_found"


class Conflict(DomainError):
    """Someone else changed it first; ``detail`` carries the current state."""

    status = 409
    code = "conflict"


class RateLimited(DomainError):
    status = 429
    code = "rate_limited"


class UnknownDevice(Forbidden):
    """A phone's device id that the server did not issue, or issued for another hall or
    conference: nothing it sends counts. The phone asks for a new one and sends again."""

    code = "unknown_device"


class HallHeldElsewhere(Forbidden):
    """A hall's operator link used by a screen that does not hold the hall: another screen does,
    or this one's session ended. It may ask to take over (docs/protocol.md, "Kiosk sessions")."""

    code = "hall_held_elsewhere"

    def __init__(self, message: str | None = None):
        super().__init__(
            message
            or _(
                "This screen does not hold its hall: another screen shows it, or this one's "
                "session has ended. Ask the studio to let this screen take over."
            )
        )
