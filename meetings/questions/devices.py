"""A voter's phone is known only by a random id it keeps in its own storage.

We store a keyed hash of it, never the id itself: enough to give a phone its own questions
and one vote per question, and nothing that identifies the person.
"""

import hashlib
import hmac
import uuid

from django.conf import settings
from django.utils.translation import gettext as _

from meetings.rooms.errors import Invalid

DEVICE_HEADER = "X-Device-Id"


def device_hash(device_id: str | None) -> str:
    try:
        canonical = str(uuid.UUID(device_id or ""))
    except ValueError:
        raise Invalid(
            _("This page could not identify your phone. Reload the page and try again.")
        ) from None
    key = settings.SECRET_KEY.encode()
    return hmac.new(key, f"device:{canonical}".encode(), hashlib.sha256).hexdigest()
