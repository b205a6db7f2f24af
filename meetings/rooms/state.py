"""A meeting's state as each audience sees it: what snapshots carry and events patch.

The same functions shape an object for a snapshot and for an event's patch, so the two cannot
drift apart; tests apply each viewer's events to an old snapshot and compare with a new one.
"""

from collections.abc import Callable
from contextlib import contextmanager, nullcontext
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import connection, transaction

from meetings.rooms.models import (
    AgendaItem,
    Audience,
    BridgePoint,
    Candidate,
    Event,
    EventLogHead,
    FloorRequest,
    KioskConnection,
    KioskSession,
    KioskSessionState,
    Meeting,
    Programme,
)
from meetings.rooms.record import format_time

StateSection = Callable[[Meeting, Audience], dict[str, Any]]
_extra_sections: list[StateSection] = []


def register_state_section(section: StateSection) -> StateSection:
    """Let another app (questions) add its sections to every snapshot."""
    _extra_sections.append(section)
    return section


def iso(moment: datetime | None) -> str | None:
    return format_time(moment) if moment is not None else None


def meeting_view(meeting: Meeting) -> dict[str, Any]:
    return {
        "slug": meeting.slug,
        "title": meeting.title,
        "electoral_unit": meeting.electoral_unit,
        "scheduled_start": iso(meeting.scheduled_start),
        "status": meeting.status,
        "presentation_minutes": meeting.presentation_minutes,
        "questions_open": meeting.questions_open,
        "published_at": iso(meeting.published_at),
        # The conference's time zone (the deployment's): the screens show its clock and times
        # in it, whatever zone the device is set to.
        "time_zone": settings.TIME_ZONE,
    }


def hall_view(hall: BridgePoint) -> dict[str, Any]:
    return {
        "id": hall.pk,
        "name": hall.name,
        "is_studio": hall.is_studio,
        "address": hall.address,
        "commune": hall.commune,
        "district": hall.district,
        "position": hall.position,
        "attendance": hall.attendance,
    }


def hall_contact_view(hall: BridgePoint) -> dict[str, Any]:
    return {"operator_name": hall.operator_name, "operator_phone": hall.operator_phone}


def kiosk_session_view(session: KioskSession) -> dict[str, Any]:
    """A screen that holds or asks for its hall, as staff see it."""
    return {
        "id": session.pk,
        "hall_id": session.hall_id,
        "state": session.state,
        "device": session.user_agent,
        "address": session.address,
        "created_at": iso(session.created_at),
        "since": iso(session.since),
    }


def kiosk_session_own_view(session: KioskSession) -> dict[str, Any]:
    """A screen's own session, as the screen is told it (never its token)."""
    return {
        "id": session.pk,
        "hall_id": session.hall_id,
        "state": session.state,
        "since": iso(session.since),
        "end_reason": session.end_reason or None,
        "ended_at": iso(session.ended_at),
    }


def candidate_view(candidate: Candidate) -> dict[str, Any]:
    return {
        "id": candidate.pk,
        "name": candidate.name,
        "current_position": candidate.current_position,
        "bio": candidate.bio,
        "position": candidate.position,
    }


def agenda_item_view(item: AgendaItem) -> dict[str, Any]:
    return {
        "id": item.pk,
        "position": item.position,
        "kind": item.kind,
        "title": item.title,
        "candidate_id": item.candidate_id,
        "allowance_seconds": item.allowance_seconds,
        "started_at": iso(item.started_at),
        "ended_at": iso(item.ended_at),
    }


def programme_view(programme: Programme) -> dict[str, Any]:
    return {
        "layout": programme.layout,
        "floor_hall_id": programme.floor_hall_id,
        "floor_granted_at": iso(programme.floor_granted_at),
        "floor_until": iso(programme.floor_until),
    }


def presence_lost(meeting: Meeting, *, connected: set[int]) -> dict[str, Any]:
    """The halls whose kiosk connected once and was lost, with when (``since``): read from
    the record, the newest ``hall.connected``/``hall.disconnected`` of each hall. A hall
    connected now is not lost, whatever its last entry (after the end nothing is appended)."""
    last: dict[int, tuple[str, Any]] = {}
    rows = Event.objects.filter(
        meeting=meeting, type__in=("hall.connected", "hall.disconnected")
    ).order_by("seq")
    for type, payload, created_at in rows.values_list("type", "payload", "created_at"):
        last[payload["hall"]] = (type, payload.get("since") or iso(created_at))
    return {
        str(hall_id): {"since": since}
        for hall_id, (type, since) in last.items()
        if type == "hall.disconnected" and hall_id not in connected
    }


def _rooms_sections(meeting: Meeting, audience: Audience) -> dict[str, Any]:
    halls = list(meeting.bridge_points.all())
    state: dict[str, Any] = {
        "meeting": meeting_view(meeting),
        "halls": {str(hall.pk): hall_view(hall) for hall in halls},
        "candidates": {str(c.pk): candidate_view(c) for c in meeting.candidates.all()},
        "agenda": {str(item.pk): agenda_item_view(item) for item in meeting.agenda.all()},
        "programme": programme_view(meeting.programme),
        "floor_requests": {
            str(request.hall_id): {"requested_at": iso(request.requested_at)}
            for request in FloorRequest.objects.filter(hall__meeting=meeting)
        },
    }
    if audience == Audience.STAFF:
        # Staff-only facts about halls live in their own sections, keyed by hall, holding only
        # halls that have something to say: a new hall then needs no staff event of its own.
        state["hall_contacts"] = {
            str(hall.pk): hall_contact_view(hall)
            for hall in halls
            if hall.operator_name or hall.operator_phone
        }
        connected = KioskConnection.objects.filter(hall__meeting=meeting).values_list(
            "hall_id", flat=True
        )
        state["presence"] = {str(hall_id): {"connected": True} for hall_id in set(connected)}
        state["presence_lost"] = presence_lost(meeting, connected=set(connected))
        # The screens that hold their hall or ask to take it over (ended ones are gone).
        state["kiosk_sessions"] = {
            str(session.pk): kiosk_session_view(session)
            for session in KioskSession.objects.filter(hall__meeting=meeting).exclude(
                state=KioskSessionState.ENDED
            )
        }
        state["tier_pins"] = {str(hall.pk): hall.pinned_tier for hall in halls if hall.pinned_tier}
    return state


def meeting_state(meeting: Meeting, audience: Audience) -> dict[str, Any]:
    state = _rooms_sections(meeting, audience)
    for section in _extra_sections:
        state.update(section(meeting, audience))
    return state


@contextmanager
def consistent_read():
    """A transaction whose reads all see one moment of the database, taking no locks.

    The log head and the state are committed together, so a snapshot read inside this block
    is exactly the state after its ``seq``.
    """
    starts_transaction = not connection.in_atomic_block
    deferred = starts_transaction and connection.vendor == "sqlite"
    with _sqlite_deferred_begin() if deferred else nullcontext(), transaction.atomic():
        # Inside a caller's transaction the isolation is already set (and can no longer be).
        if starts_transaction and connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        yield


@contextmanager
def _sqlite_deferred_begin():
    """Begin with SQLite's BEGIN DEFERRED: the settings' BEGIN IMMEDIATE (meant for writers)
    would hold the database's write lock for the whole read, and every writer would wait."""
    connection.ensure_connection()  # connecting reads the settings' mode again
    mode = connection.transaction_mode
    connection.transaction_mode = "DEFERRED"
    try:
        yield
    finally:
        connection.transaction_mode = mode


def meeting_snapshot(meeting: Meeting, audience: Audience) -> tuple[int, dict[str, Any]]:
    """The state this audience may see and the seq of the newest event it may see."""
    with consistent_read():
        head = EventLogHead.objects.get(meeting=meeting)
        meeting = Meeting.objects.get(pk=meeting.pk)
        return head.last_visible_to(audience), meeting_state(meeting, audience)
