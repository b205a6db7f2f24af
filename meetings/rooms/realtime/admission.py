"""Who may open the meeting websocket, and closing the sockets of those who no longer may.

A connection is admitted once, when it opens (a join link, or a signed-in account with a role;
an operator link also needs the kiosk session that holds its hall).
After that, what could end its admission arrives as an event, and the sockets it concerns are
checked again against the database at once, and closed with 4403 if refused:

- ``hall.link_rotated``: the rotated link's connections (the old link is revoked);
- ``role.granted`` / ``role.revoked``: the meeting's account connections (their kind may change
  too: a client that reconnects is admitted with what it may see now);
- ``meeting.updated`` that moves ``scheduled_start``: the link connections (their links' expiry
  moved with it);
- ``kiosk.session_ended`` / ``kiosk.takeover_allowed``: the connections of the kiosk session that
  ended (another screen took over the hall, the studio ended it), closed with 4409;
- an account changed outside any meeting (deactivated, its superuser flag removed, deleted):
  ``account.changed`` on the channel layer, sent after the change commits (``watch_accounts``).

A link that simply expires is closed by the process's housekeeping, at its expiry time. A ping
therefore does no database work.
"""

import logging
from datetime import datetime

from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.utils import timezone

from meetings.rooms.models import Audience, JoinLinkKind, Meeting
from meetings.rooms.realtime import frames, groups
from meetings.rooms.realtime.connection import Connection
from meetings.rooms.realtime.stream import LoggedEvent
from meetings.rooms.services.join_links import JoinLinkRefused, join_link_resolve
from meetings.rooms.services.kiosk_sessions import kiosk_session_holding
from meetings.rooms.viewers import Viewer, ViewerKind, viewer_for_link, viewer_for_user

logger = logging.getLogger(__name__)

_LINK_KIND = {
    JoinLinkKind.OPERATOR.value: ViewerKind.OPERATOR,
    JoinLinkKind.VOTER.value: ViewerKind.VOTER,
}


def admit(
    *, meeting: Meeting, link_token: str | None, user, kiosk_token: str | None = None
) -> tuple[Viewer | None, int, datetime | None]:
    """(viewer, 0, the link's expiry) for an admitted connection; (None, close code, None)
    otherwise. Runs in the database thread.

    An operator link admits only the screen that holds its hall: ``kiosk_token`` must name the
    hall's holding kiosk session. A screen that does not hold it asks over HTTP and connects
    once it does (services/kiosk_sessions.py)."""
    if link_token:
        try:
            link = join_link_resolve(link_token, meeting=meeting)
        except JoinLinkRefused as refusal:
            logger.info("refused join link for %s: %s", meeting.slug, refusal.reason)
            return None, frames.CloseCode.FORBIDDEN, None
        if link.kind != JoinLinkKind.OPERATOR:
            return viewer_for_link(link), 0, link.expires_at
        holding = kiosk_session_holding(hall_id=link.hall_id, token=kiosk_token)
        if holding is None:
            return None, frames.CloseCode.KIOSK_NOT_HOLDING, None
        return viewer_for_link(link, kiosk_session_id=holding), 0, link.expires_at
    if user is None or not user.is_authenticated:
        return None, frames.CloseCode.NOT_AUTHENTICATED, None
    viewer = viewer_for_user(user, meeting)
    if viewer is None:
        return None, frames.CloseCode.FORBIDDEN, None
    return viewer, 0, None


def affected_by(feed, event: LoggedEvent) -> list[Connection]:
    """The connections of this feed whose admission the event may have ended."""
    if event.type == "hall.link_rotated":
        payload = feed.payload(event)
        kind = _LINK_KIND.get(payload["kind"])
        return [
            c
            for c in feed.all_connections()
            if c.viewer.link_id is not None
            and c.viewer.hall_id == payload["hall"]
            and c.viewer.kind == kind
        ]
    if event.type in ("role.granted", "role.revoked"):
        return [c for c in feed.all_connections() if c.user_id is not None]
    if event.type == "meeting.updated" and "scheduled_start" in feed.payload(event)["fields"]:
        return [c for c in feed.all_connections() if c.viewer.link_id is not None]
    if event.type in ("kiosk.session_ended", "kiosk.takeover_allowed"):
        payload = feed.payload(event)
        ended = payload["session"] if event.type == "kiosk.session_ended" else payload["replaced"]
        if ended is None:
            return []
        return [c for c in feed.connections[Audience.HALLS] if c.viewer.kiosk_session_id == ended]
    return []


async def recheck(connections: list[Connection]) -> None:
    """Check these connections' admission again; close those refused now."""
    verdicts = await database_sync_to_async(_verdicts)(connections)
    for connection, (admitted, refusal, expires_at) in zip(connections, verdicts, strict=True):
        if admitted:
            connection.link_expires_at = expires_at
        else:
            await connection.close(int(refusal or frames.CloseCode.FORBIDDEN))


def _verdicts(connections: list[Connection]) -> list[tuple[bool, int, datetime | None]]:
    meetings = {m.pk: m for m in Meeting.objects.filter(pk__in={c.meeting_id for c in connections})}
    users = get_user_model().objects.in_bulk({c.user_id for c in connections if c.user_id})
    verdicts = []
    for connection in connections:
        meeting = meetings.get(connection.meeting_id)
        user = users.get(connection.user_id) if connection.user_id else None
        if meeting is None:
            verdicts.append((False, 0, None))
            continue
        viewer, refusal, expires_at = admit(
            meeting=meeting,
            link_token=connection.link_token,
            user=user,
            kiosk_token=connection.kiosk_token,
        )
        verdicts.append((viewer == connection.viewer, refusal, expires_at))
    return verdicts


def expired(connection: Connection) -> bool:
    expires_at = connection.link_expires_at
    return expires_at is not None and expires_at <= timezone.now()


# --- accounts ---------------------------------------------------------------------------------


def watch_accounts() -> None:
    """Announce every change to an account to the web processes, once it commits (connected
    from the rooms app's ready())."""
    model = get_user_model()
    post_save.connect(_account_saved, sender=model, dispatch_uid="meetings.realtime.account")
    post_delete.connect(_account_saved, sender=model, dispatch_uid="meetings.realtime.account_gone")


def _account_saved(sender, instance, **kwargs) -> None:
    if kwargs.get("created") or kwargs.get("update_fields") == {"last_login"}:
        return  # a new account has no connection yet; signing in changes no admission
    user_id = instance.pk
    transaction.on_commit(lambda: _announce_account(user_id))


def _announce_account(user_id: int) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(
            groups.accounts(), groups.account_changed_message(user_id=user_id)
        )
    except Exception:
        logger.exception("could not announce the change of account %s", user_id)
