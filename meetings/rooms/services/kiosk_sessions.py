"""Kiosk sessions: one screen holds a hall.

A hall's operator link is a bearer credential typed on a hall PC in front of people, so the
link alone does not make a screen the hall's kiosk. The first screen that opens it while the
hall is free holds the hall; the same device coming back (a reload, a reboot with its storage
kept) resumes its hold with the secret token it was given. Any other screen asks to take over
and waits: a moderator allows it (the old screen's session ends) or refuses it, from the halls
console. Only the holding screen's actions count as the hall's (rooms/viewers.py); every start,
takeover and end is on the record for staff, and the web processes close the websockets of a
session that ends (realtime/admission.py).

Every decision here is taken under the record's lock, and the database keeps at most one
holding session per hall whatever happens (the ``one_holding_screen_per_hall`` constraint).
"""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from meetings.rooms import patch
from meetings.rooms.actors import Actor
from meetings.rooms.errors import Conflict, RateLimited
from meetings.rooms.models import (
    DECIDED_BY_STAFF,
    Audience,
    BridgePoint,
    KioskEndReason,
    KioskSession,
    KioskSessionState,
    Meeting,
)
from meetings.rooms.services.events import (
    event_append,
    meeting_has_ended,
    record_write,
    refuse_after_end,
)
from meetings.rooms.state import iso, kiosk_session_own_view, kiosk_session_view

# Screens asking for one hall at once; beyond that a new one is refused, so that a script with
# the link cannot flood the console (each asking screen ends once it stops asking).
MAX_ASKING_PER_HALL = 5
# A screen's "last seen" is written at most this often (an asking screen polls every 2 s).
SEEN_WRITE_SECONDS = 10
USER_AGENT_CHARS = 300

HOLDING, ASKING, ENDED = (
    KioskSessionState.HOLDING,
    KioskSessionState.ASKING,
    KioskSessionState.ENDED,
)


@dataclass(frozen=True)
class KioskClaim:
    """The session a screen has after claiming; ``token`` only when it is new (the screen keeps
    it: the server stores only its digest)."""

    session: KioskSession
    token: str | None


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def asking_silent_after() -> timedelta:
    """An asking screen that has not been heard from for this long has gone away."""
    return timedelta(seconds=3 * settings.HEARTBEAT_SECONDS)


# --- reading -----------------------------------------------------------------------------------


def kiosk_session_of(*, hall_id: int, token: str | None) -> KioskSession | None:
    """The session of this hall that ``token`` names, in whatever state, or None."""
    if not token or len(token) > 200:
        return None
    return KioskSession.objects.filter(hall_id=hall_id, token_hash=token_digest(token)).first()


def kiosk_session_holding(*, hall_id: int, token: str | None) -> int | None:
    """The id of the session ``token`` names if it holds this hall now, else None."""
    if not token or len(token) > 200:
        return None
    return (
        KioskSession.objects.filter(hall_id=hall_id, token_hash=token_digest(token), state=HOLDING)
        .values_list("pk", flat=True)
        .first()
    )


def kiosk_session_seen(*, session: KioskSession) -> None:
    """The screen was heard from (it polls while asking, it connects while holding)."""
    now = timezone.now()
    if session.state != ENDED and now - session.last_seen_at > timedelta(
        seconds=SEEN_WRITE_SECONDS
    ):
        KioskSession.objects.filter(pk=session.pk).update(last_seen_at=now)
        session.last_seen_at = now


def kiosk_session_connected(*, session: KioskSession, user_agent: str, address: str) -> None:
    """The holding screen opened its stream. A token copied to another device can open it
    without claiming over HTTP first: a new address or browser is put on the record here too,
    as a resume over HTTP would, so that staff see the second device."""
    user_agent, address = user_agent[:USER_AGENT_CHARS], address[:64]
    if (user_agent, address) == (session.user_agent, session.address):
        kiosk_session_seen(session=session)
        return
    with record_write(meeting=session.hall.meeting):
        _resume(session, hall=session.hall, user_agent=user_agent, address=address)


# --- the screen --------------------------------------------------------------------------------


def kiosk_session_claim(
    *, hall: BridgePoint, token: str | None, user_agent: str, address: str
) -> KioskClaim:
    """A screen that opened the hall's operator link: it resumes the session its ``token``
    names if that still holds or asks; otherwise it gets a new one, which holds the hall if the
    hall is free (nobody holds it, nobody asks for it, and this device's last session was not
    ended by the studio) and asks to take over if not."""
    user_agent = user_agent[:USER_AGENT_CHARS]
    address = address[:64]
    with record_write(meeting=hall.meeting):
        previous = kiosk_session_of(hall_id=hall.pk, token=token)
        if previous is not None and previous.state != ENDED:
            return KioskClaim(
                _resume(previous, hall=hall, user_agent=user_agent, address=address), None
            )
        open_sessions = list(hall.kiosk_sessions.exclude(state=ENDED))
        asking = sum(1 for session in open_sessions if session.state == ASKING)
        must_ask = bool(open_sessions) or (
            previous is not None and previous.end_reason in DECIDED_BY_STAFF
        )
        if must_ask and asking >= MAX_ASKING_PER_HALL:
            raise RateLimited(
                _(
                    "Too many screens are already asking to show this hall. Ask the studio to "
                    "answer them first."
                )
            )
        token = secrets.token_urlsafe(32)
        now = timezone.now()
        session = KioskSession.objects.create(
            hall=hall,
            token_hash=token_digest(token),
            state=ASKING if must_ask else HOLDING,
            user_agent=user_agent,
            address=address,
            created_at=now,
            since=now,
            last_seen_at=now,
        )
        _append_unless_ended(
            meeting=hall.meeting,
            type="kiosk.session_started",
            audience=Audience.STAFF,
            payload={
                "hall": hall.pk,
                "session": session.pk,
                "state": session.state,
                "patch": [
                    patch.merge("kiosk_sessions", session.pk, value=kiosk_session_view(session))
                ],
            },
            actor=Actor.for_operator_link(hall),
        )
    return KioskClaim(session, token)


def _resume(
    session: KioskSession, *, hall: BridgePoint, user_agent: str, address: str
) -> KioskSession:
    """The same device again. A new address or browser is worth telling staff (a copied token
    would show up this way); the rest is only "last seen"."""
    now = timezone.now()
    changes = {
        field: value
        for field, value in (("user_agent", user_agent), ("address", address))
        if value != getattr(session, field)
    }
    KioskSession.objects.filter(pk=session.pk).update(last_seen_at=now, **changes)
    session.last_seen_at = now
    for field, value in changes.items():
        setattr(session, field, value)
    if changes:
        view = kiosk_session_view(session)
        _append_unless_ended(
            meeting=hall.meeting,
            type="kiosk.session_resumed",
            audience=Audience.STAFF,
            payload={
                "hall": hall.pk,
                "session": session.pk,
                "patch": [
                    patch.merge(
                        "kiosk_sessions",
                        session.pk,
                        value={"device": view["device"], "address": view["address"]},
                    )
                ],
            },
            actor=Actor.for_operator_link(hall),
        )
    return session


# --- the studio --------------------------------------------------------------------------------


def kiosk_session_allow(*, session: KioskSession, actor: Actor) -> KioskSession:
    """A moderator lets an asking screen take over its hall: the screen that held it (if any)
    is ended, this one holds the hall."""
    hall = session.hall
    with record_write(meeting=hall.meeting):
        refuse_after_end(hall.meeting)
        session = KioskSession.objects.get(pk=session.pk)
        if session.state != ASKING:
            raise Conflict(
                _("This screen is no longer asking to take over."),
                detail=kiosk_session_own_view(session),
            )
        now = timezone.now()
        holder = hall.kiosk_sessions.filter(state=HOLDING).first()
        operations = []
        if holder is not None:
            _mark_ended(holder, reason=KioskEndReason.TAKEN_OVER, actor=actor, now=now)
            operations.append(patch.remove("kiosk_sessions", holder.pk))
        promoted = KioskSession.objects.filter(pk=session.pk, state=ASKING).update(
            state=HOLDING, since=now, last_seen_at=now
        )
        if not promoted:  # cannot happen under the lock; the constraint would refuse it anyway
            raise Conflict(_("This screen is no longer asking to take over."))
        session.state, session.since = HOLDING, now
        operations.append(
            patch.merge("kiosk_sessions", session.pk, value={"state": HOLDING, "since": iso(now)})
        )
        event_append(
            meeting=hall.meeting,
            type="kiosk.takeover_allowed",
            audience=Audience.STAFF,
            payload={
                "hall": hall.pk,
                "session": session.pk,
                "replaced": holder.pk if holder is not None else None,
                "patch": operations,
            },
            actor=actor,
        )
    return session


def kiosk_session_end(*, session: KioskSession, actor: Actor) -> KioskSession:
    """A moderator ends a screen's session: one that holds its hall is ended (the hall is then
    free), one that asks is refused."""
    hall = session.hall
    with record_write(meeting=hall.meeting):
        refuse_after_end(hall.meeting)
        session = KioskSession.objects.get(pk=session.pk)
        if session.state == ENDED:
            raise Conflict(
                _("This screen's session has already ended."),
                detail=kiosk_session_own_view(session),
            )
        reason = (
            KioskEndReason.REFUSED if session.state == ASKING else KioskEndReason.ENDED_BY_STAFF
        )
        _end(session, hall=hall, reason=reason, actor=actor)
    return session


def kiosk_sessions_end_for_hall(*, hall: BridgePoint, reason: KioskEndReason, actor: Actor) -> int:
    """End every open session of the hall (its operator link was replaced). Runs inside the
    caller's transaction, which holds the record's lock."""
    sessions = list(hall.kiosk_sessions.exclude(state=ENDED).order_by("pk"))
    for session in sessions:
        _end(session, hall=hall, reason=reason, actor=actor)
    return len(sessions)


def kiosk_sessions_reap(*, meeting: Meeting) -> int:
    """End the asking sessions of screens that stopped asking (closed, gone offline)."""
    cutoff = timezone.now() - asking_silent_after()
    silent = KioskSession.objects.filter(
        hall__meeting=meeting, state=ASKING, last_seen_at__lt=cutoff
    )
    if not silent.exists():
        return 0
    ended = 0
    with record_write(meeting=meeting):
        for session in silent.select_related("hall__meeting").order_by("pk"):
            _end(
                session,
                hall=session.hall,
                reason=KioskEndReason.GONE,
                actor=Actor.system("kiosk sessions"),
            )
            ended += 1
    return ended


# --- helpers -----------------------------------------------------------------------------------


def _end(session: KioskSession, *, hall: BridgePoint, reason: KioskEndReason, actor: Actor) -> None:
    was = session.state
    _mark_ended(session, reason=reason, actor=actor, now=timezone.now())
    _append_unless_ended(
        meeting=hall.meeting,
        type="kiosk.session_ended",
        audience=Audience.STAFF,
        payload={
            "hall": hall.pk,
            "session": session.pk,
            "was": was,
            "reason": reason.value,
            "patch": [patch.remove("kiosk_sessions", session.pk)],
        },
        actor=actor,
    )


def _append_unless_ended(*, meeting: Meeting, **entry) -> None:
    """A screen's coming and going is on the record while the conference runs. Once it has
    ended, the record is closed to it (docs/record.md, "After the end"): a screen that reloads,
    or stops asking, is not refused for that; its session changes, and nothing is appended."""
    if not meeting_has_ended(meeting):
        event_append(meeting=meeting, **entry)


def _mark_ended(session: KioskSession, *, reason: KioskEndReason, actor: Actor, now) -> None:
    KioskSession.objects.filter(pk=session.pk).update(
        state=ENDED, ended_at=now, ended_by=actor.user, end_reason=reason.value
    )
    session.state, session.ended_at, session.end_reason = ENDED, now, reason.value
    session.ended_by = actor.user
