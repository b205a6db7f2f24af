"""A voter's phone is known by a device id that the server issued and signed for its hall.

The phone asks for its id once (``POST /api/meetings/<slug>/device``, services/devices.py),
keeps it in its own storage and sends it with everything it sends (the ``X-Device-Id`` header,
and the ``device`` of its websocket's ``vote`` frames). The id reads
``<conference>.<hall>.<issued>.<nonce>:<signature>``: checking it needs no database, and an id
the server did not sign, or signed for another hall or conference, counts for nothing
(UnknownDevice). How many ids a hall may be issued is bounded (services/devices.py); that
bound, not the id, is what stops one person from supporting a question many times.

We store a keyed hash of the id, never the id itself: enough to give a phone its own questions
and one vote per question, and nothing that identifies the person.
"""

import hashlib
import hmac
import time
from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.utils.translation import gettext as _

from meetings.rooms.errors import UnknownDevice

DEVICE_HEADER = "X-Device-Id"
MAX_DEVICE_ID = 200  # an issued id is about 80 characters
_SALT = "meetings.device-id"


@dataclass(frozen=True)
class Device:
    """A phone as an id the server issued names it."""

    hash: str
    hall_id: int
    issued_at: int  # seconds since the epoch

    def is_new(self, now: float | None = None) -> bool:
        """Issued less than DEVICE_NEW_SECONDS ago: its questions share its hall's smaller
        allowance for new phones (docs/questions.md, "Limits")."""
        now = time.time() if now is None else now
        return now - self.issued_at < settings.DEVICE_NEW_SECONDS


def device_sign(*, meeting_id: int, hall_id: int, nonce: str, issued_at: int) -> str:
    """The id a phone of this hall keeps; ``nonce`` makes it its own."""
    value = f"{meeting_id}.{hall_id}.{issued_at:x}.{nonce}"
    return signing.Signer(salt=_SALT).sign(value)


def device_read(device_id: str | None, *, meeting_id: int, hall_id: int) -> Device:
    """The phone an id names, if the server issued it for this hall of this conference;
    UnknownDevice otherwise (none, made up, tampered with, or another hall's)."""
    try:
        if not device_id or len(device_id) > MAX_DEVICE_ID:
            raise ValueError
        value = signing.Signer(salt=_SALT).unsign(device_id)
        meeting, hall, issued, nonce = value.split(".", 3)
        if (int(meeting), int(hall)) != (meeting_id, hall_id) or not nonce:
            raise ValueError
        issued_at = int(issued, 16)
    except (signing.BadSignature, ValueError):
        raise unknown_device() from None
    return Device(
        hash=_keyed_hash(f"{meeting}.{hall}.{nonce}"), hall_id=hall_id, issued_at=issued_at
    )


def unknown_device() -> UnknownDevice:
    return UnknownDevice(
        _("This phone is not known to this hall. Reload the page: it gets a new id by itself.")
    )


def _keyed_hash(value: str) -> str:
    key = settings.SECRET_KEY.encode()
    return hmac.new(key, f"device:{value}".encode(), hashlib.sha256).hexdigest()
