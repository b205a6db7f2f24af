"""Issuing device ids to voters' phones, a bounded number per hall and per client address.

Any phone with a hall's voter link may ask for an id, and a person may ask again and again
(a new private tab, cleared storage, a script): each id supports a question once, so the
number of ids a hall is issued is what bounds the supports and questions one person can add.
Per hall at most DEVICE_LIMIT_PER_HALL in any window of its seconds, counted in the database
(exact, and kept when the cache restarts); per client address at most DEVICE_LIMIT_PER_ADDRESS
over every hall, counted in the cache (addresses are never stored). A hall's phones share its
Wi-Fi's one address, so the per-address bound is set above a hall's own: it stops one address
from taking ids for many halls, not a hall from filling up.
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import get_random_string
from django.utils.translation import gettext as _

from meetings.client_address import address_group
from meetings.questions import limits
from meetings.questions.devices import device_read, device_sign
from meetings.questions.models import IssuedDevice
from meetings.rooms.errors import RateLimited
from meetings.rooms.models import BridgePoint

_NONCE_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


def device_issue(*, hall: BridgePoint, address: str) -> str:
    """A new device id for a phone of this hall, asking from ``address``; RateLimited (with
    ``retry_after``) when the hall or the address has been issued its share for now."""
    by_address = limits.take(
        f"device:address:{address_group(address)}",
        settings.DEVICE_LIMIT_PER_ADDRESS,
        _("Many phones have joined from this network in the last minutes. Please wait a little."),
    )
    try:
        return _issue_within_hall_bound(hall)
    except RateLimited:
        by_address.give_back()
        raise


def _issue_within_hall_bound(hall: BridgePoint) -> str:
    limit, window = limits.parse_rate(settings.DEVICE_LIMIT_PER_HALL)
    now = timezone.now()
    with transaction.atomic():
        # One issuance per hall at a time, so that two cannot both take the last place.
        list(BridgePoint.objects.select_for_update().filter(pk=hall.pk).values_list("pk"))
        oldest_counted = _oldest_of_the_last(hall, limit, since=now - timedelta(seconds=window))
        if oldest_counted is not None:
            wait = (oldest_counted + timedelta(seconds=window) - now).total_seconds()
            raise RateLimited(
                _(
                    "Many phones have joined this hall in the last minutes. This page will "
                    "try again by itself shortly."
                ),
                detail={"retry_after": max(1, int(wait) + 1)},
            )
        token = device_sign(
            meeting_id=hall.meeting_id,
            hall_id=hall.pk,
            nonce=get_random_string(22, _NONCE_CHARS),
            issued_at=int(now.timestamp()),
        )
        device = device_read(token, meeting_id=hall.meeting_id, hall_id=hall.pk)
        IssuedDevice.objects.create(hall=hall, device_hash=device.hash, issued_at=now)
    return token


def _oldest_of_the_last(hall: BridgePoint, limit: int, *, since: datetime) -> datetime | None:
    """When the hall's ``limit``-th most recent id since ``since`` was issued: None while the
    hall has been issued fewer than ``limit`` in the window."""
    recent = (
        IssuedDevice.objects.filter(hall=hall, issued_at__gt=since)
        .order_by("-issued_at")
        .values_list("issued_at", flat=True)
    )
    return next(iter(recent[limit - 1 : limit]), None)
