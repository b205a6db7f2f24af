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
- an account changed outside any meeting (deactivated, its superuser flag removed, its password
  changed, deleted): ``account.changed`` on the channel layer, sent after the change commits
  (``watch_accounts``, and the account services). An account's connection is checked as a new
  request with its session cookie would be: a session that a password change made invalid no
  longer admits anyone;
- a session signed out: ``account.changed`` naming the session; its connections are closed
  without another look at the database (the session is being deleted).

The channel layer may drop these messages, and an account may be changed by a path that sends
none (a queryset ``update()``, SQL by hand): every stream check (``check_accounts``, each
STREAM_CHECK_SECONDS) reads, in one query, what the connected accounts' admission rests on
(``account_stamp``) and checks again those that changed. A link that simply expires is closed
by the process's housekeeping, at its expiry time. A ping therefore does no database work.
"""

import logging
from datetime import datetime
from importlib import import_module

from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings
from django.contrib import auth
from django.contrib.auth import get_user_model, user_logged_out
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.utils import timezone
from django.utils.crypto import constant_time_compare

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
    for connection, (admitted, refusal, expires_at, stamp) in zip(
        connections, verdicts, strict=True
    ):
        if admitted:
            connection.link_expires_at = expires_at
            connection.account_stamp = stamp
        elif refusal == frames.CloseCode.KIOSK_NOT_HOLDING:
            await connection.close(int(refusal))  # the screen asks its kiosk session why
        else:
            # Admitted before and not now: whatever the refusal, this viewer may not come back
            # with what it had (4403, do not reconnect as you were).
            await connection.close(int(frames.CloseCode.FORBIDDEN))


def _verdicts(
    connections: list[Connection],
) -> list[tuple[bool, int, datetime | None, tuple | None]]:
    meetings = {m.pk: m for m in Meeting.objects.filter(pk__in={c.meeting_id for c in connections})}
    accounts: dict[tuple[int, str | None], object] = {}
    verdicts = []
    for connection in connections:
        meeting = meetings.get(connection.meeting_id)
        if meeting is None:
            verdicts.append((False, 0, None, None))
            continue
        user = None
        if connection.user_id is not None:
            key = (connection.user_id, connection.session_key)
            if key not in accounts:
                accounts[key] = _account_now(*key)
            user = accounts[key]
        viewer, refusal, expires_at = admit(
            meeting=meeting,
            link_token=connection.link_token,
            user=user,
            kiosk_token=connection.kiosk_token,
        )
        verdicts.append((viewer == connection.viewer, refusal, expires_at, account_stamp(user)))
    return verdicts


def _account_now(user_id: int, session_key: str | None):
    """The account a connection's session signs in now, checked as Django checks a request
    with the same cookie (the session exists and names this account, its auth hash matches
    the account's password, the backend still gives the account: it is active); None if it
    signs in no one. Only reads: a refused session is left for its next request to clear."""
    if session_key is None:  # admitted without a session: only the account itself to check
        return get_user_model().objects.filter(pk=user_id).first()
    session = import_module(settings.SESSION_ENGINE).SessionStore(session_key)
    try:
        session_user = get_user_model()._meta.pk.to_python(session[auth.SESSION_KEY])
        backend_path = session[auth.BACKEND_SESSION_KEY]
    except KeyError:
        return None
    if session_user != user_id or backend_path not in settings.AUTHENTICATION_BACKENDS:
        return None
    user = auth.load_backend(backend_path).get_user(user_id)
    session_hash = session.get(auth.HASH_SESSION_KEY)
    if user is None or not session_hash:
        return None
    hashes = [user.get_session_auth_hash(), *user.get_session_auth_fallback_hash()]
    if not any(constant_time_compare(session_hash, known) for known in hashes):
        return None
    return user


def account_stamp(user) -> tuple | None:
    """What of an account its connections' admission rests on, as one comparable value: that it
    is active, whether it is a superuser (chair everywhere), and its password hash (a session's
    auth hash is made from it: a new password ends the other sessions)."""
    if user is None or not user.is_authenticated:
        return None
    return (user.is_active, user.is_superuser, user.password)


async def check_accounts(connections: list[Connection]) -> None:
    """The backstop for a lost ``account.changed`` or a change that sent none: the connected
    accounts' stamps, and whether the sessions they were opened with still exist (a sign-out
    whose message was lost changes no stamp), read in one database turn; the connections whose
    account changed (or is gone), or whose session is gone, are checked again."""
    accounts = [c for c in connections if c.user_id is not None and c.account_stamp is not None]
    if not accounts:
        return
    stamps, sessions = await database_sync_to_async(_stamps_and_sessions)(
        {c.user_id for c in accounts}, {c.session_key for c in accounts if c.session_key}
    )
    changed = [
        c
        for c in accounts
        if stamps.get(c.user_id) != c.account_stamp
        or (c.session_key is not None and c.session_key not in sessions)
    ]
    if changed:
        await recheck(changed)


def _stamps_and_sessions(user_ids: set[int], session_keys: set[str]):
    rows = (
        get_user_model()
        .objects.filter(pk__in=user_ids)
        .values_list("pk", "is_active", "is_superuser", "password")
    )
    return {pk: tuple(stamp) for pk, *stamp in rows}, _live_sessions(session_keys)


def _live_sessions(keys: set[str]) -> set[str]:
    """Those of ``keys`` that name a session that still exists: one query with the database
    session store (the default), one look per key with another."""
    if not keys:
        return set()
    store = import_module(settings.SESSION_ENGINE).SessionStore
    if hasattr(store, "get_model_class"):
        return set(
            store.get_model_class()
            .objects.filter(session_key__in=keys, expire_date__gt=timezone.now())
            .values_list("session_key", flat=True)
        )
    return {key for key in keys if store().exists(key)}


def expired(connection: Connection) -> bool:
    expires_at = connection.link_expires_at
    return expires_at is not None and expires_at <= timezone.now()


# --- accounts ---------------------------------------------------------------------------------


def watch_accounts() -> None:
    """Announce every change to an account, and every session signed out, to the web
    processes, once it commits (connected from the rooms app's ready())."""
    model = get_user_model()
    post_save.connect(_account_saved, sender=model, dispatch_uid="meetings.realtime.account")
    post_delete.connect(_account_saved, sender=model, dispatch_uid="meetings.realtime.account_gone")
    user_logged_out.connect(_signed_out, dispatch_uid="meetings.realtime.signed_out")


def _account_saved(sender, instance, **kwargs) -> None:
    if kwargs.get("created") or kwargs.get("update_fields") == {"last_login"}:
        return  # a new account has no connection yet; signing in changes no admission
    announce_account_changed(instance.pk)


def _signed_out(sender, request, user, **kwargs) -> None:
    session_key = getattr(getattr(request, "session", None), "session_key", None)
    if user is not None and session_key:
        announce_account_changed(user.pk, ended_session=session_key)


def announce_account_changed(user_id: int, *, ended_session: str | None = None) -> None:
    """Tell every web process, once the current transaction commits, that this account changed
    (its connections are checked again), or that one of its sessions ended (its connections
    are closed). Services that change accounts without saving the model call it themselves."""
    message = groups.account_changed_message(user_id=user_id, ended_session=ended_session)
    transaction.on_commit(lambda: _announce(message))


def _announce(message: dict) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(groups.accounts(), message)
    except Exception:
        logger.exception("could not announce the change of account %s", message["user"])


async def apply_account_change(connections: list[Connection], message: dict) -> None:
    """An ``account.changed`` message, on a process's connections: the account's connections
    are checked again; or, when it names a session that ended, that session's are closed."""
    concerned = [c for c in connections if c.user_id == message["user"]]
    ended = message.get("ended_session")
    if ended is None:
        if concerned:
            await recheck(concerned)
        return
    for connection in concerned:
        if connection.session_key == ended:
            await connection.close(int(frames.CloseCode.FORBIDDEN))
