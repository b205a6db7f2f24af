"""Join links: how a hall's kiosk and its voters' phones get in without an account.

A link's URL carries ``<link id>.<nonce>`` signed with the secret key. The database row
decides whether it still works: expired or revoked rows refuse it. Rotating a link revokes the
old row and puts ``hall.link_rotated`` on the record, on which every web process closes the
connections the old link admitted.
"""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.core import signing
from django.utils import timezone
from django.utils.crypto import constant_time_compare, get_random_string
from django.utils.translation import gettext as _

from meetings.rooms.actors import Actor
from meetings.rooms.errors import Forbidden
from meetings.rooms.models import (
    Audience,
    BridgePoint,
    JoinLink,
    JoinLinkKind,
    KioskEndReason,
    Meeting,
)
from meetings.rooms.services.events import event_append, record_write, refuse_after_end
from meetings.rooms.services.kiosk_sessions import kiosk_sessions_end_for_hall

logger = logging.getLogger(__name__)

_SALT = "meetings.join-link"
_NONCE_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


class JoinLinkRefused(Forbidden):
    """A link that does not (or no longer) admit anyone; ``reason`` says why, for logs."""

    def __init__(self, reason: str):
        super().__init__(
            _("This link has expired or has been replaced. Ask the organisers for a new one.")
        )
        self.reason = reason


def join_link_expiry(meeting: Meeting) -> datetime:
    return meeting.scheduled_start + timedelta(hours=settings.JOIN_LINK_HOURS_AFTER_START)


def join_link_token(link: JoinLink) -> str:
    return signing.Signer(salt=_SALT).sign(f"{link.pk}.{link.nonce}")


def join_link_issue(*, hall: BridgePoint, kind: JoinLinkKind) -> JoinLink:
    """A new active link of this kind for the hall; the caller revokes any previous one."""
    return JoinLink.objects.create(
        hall=hall,
        kind=kind,
        nonce=get_random_string(24, _NONCE_CHARS),
        created_at=timezone.now(),
        expires_at=join_link_expiry(hall.meeting),
    )


def join_link_active(*, hall: BridgePoint, kind: JoinLinkKind) -> JoinLink:
    return JoinLink.objects.get(hall=hall, kind=kind, revoked_at__isnull=True)


def join_link_rotate(*, hall: BridgePoint, kind: JoinLinkKind, actor: Actor) -> JoinLink:
    """Replace the hall's link of this kind: the old one stops working at once. Replacing the
    operator link ends every kiosk session of the hall: the first screen to open the new link
    holds the hall."""
    with record_write(meeting=hall.meeting):
        refuse_after_end(hall.meeting)
        revoked = list(
            JoinLink.objects.select_for_update().filter(
                hall=hall, kind=kind, revoked_at__isnull=True
            )
        )
        JoinLink.objects.filter(pk__in=[link.pk for link in revoked]).update(
            revoked_at=timezone.now()
        )
        link = join_link_issue(hall=hall, kind=kind)
        event_append(
            meeting=hall.meeting,
            type="hall.link_rotated",
            audience=Audience.STAFF,
            payload={"hall": hall.pk, "kind": kind.value},
            actor=actor,
        )
        if kind == JoinLinkKind.OPERATOR:
            kiosk_sessions_end_for_hall(hall=hall, reason=KioskEndReason.LINK_ROTATED, actor=actor)
    return link


def join_link_resolve(token: str, *, meeting: Meeting | None = None) -> JoinLink:
    """The link a token names, if it admits anyone now; raises JoinLinkRefused otherwise."""
    try:
        value = signing.Signer(salt=_SALT).unsign(token)
        link_id, nonce = value.split(".", 1)
        link = JoinLink.objects.select_related("hall__meeting").get(pk=int(link_id))
    except (signing.BadSignature, ValueError, JoinLink.DoesNotExist):
        raise JoinLinkRefused("malformed") from None
    if not constant_time_compare(nonce, link.nonce):
        raise JoinLinkRefused("malformed")
    if link.revoked_at is not None:
        raise JoinLinkRefused("rotated")
    if link.expires_at <= timezone.now():
        raise JoinLinkRefused("expired")
    if meeting is not None and link.hall.meeting_id != meeting.pk:
        raise JoinLinkRefused("other_meeting")
    return link
