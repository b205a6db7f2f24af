"""HTTP endpoints of kiosk sessions: a screen claims its hall (or asks to take it over) and
follows its own session; moderators let an asking screen take over, or end a session."""

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Router, Schema
from ninja.responses import Status

from meetings.client_address import client_address
from meetings.rooms.api.auth import caller_auth, viewer_of
from meetings.rooms.api.endpoints import ERRORS
from meetings.rooms.errors import Forbidden, NotFound
from meetings.rooms.ids import Id
from meetings.rooms.models import KioskSession
from meetings.rooms.services import kiosk_sessions
from meetings.rooms.state import kiosk_session_own_view, kiosk_session_view
from meetings.rooms.viewers import Viewer, ViewerKind, require_moderator

router = Router(auth=caller_auth, tags=["kiosk sessions"])
WITH_429 = {**ERRORS, 429: ERRORS[400]}


class KioskSessionOwnOut(Schema):
    id: int
    hall_id: int
    state: str
    since: str
    end_reason: str | None
    ended_at: str | None


class KioskClaimOut(Schema):
    session: KioskSessionOwnOut
    token: str | None = None


class KioskSessionOut(Schema):
    id: int
    hall_id: int
    state: str
    device: str
    address: str
    created_at: str
    since: str


def _screen(request: HttpRequest, slug: str) -> Viewer:
    _meeting, viewer = viewer_of(request, slug)
    if viewer.kind != ViewerKind.OPERATOR or viewer.link_id is None:
        raise Forbidden(_("Only a hall's kiosk, opened from its operator link, has a session."))
    return viewer


@router.post(
    "/meetings/{slug}/kiosk/session", response={200: KioskClaimOut, 201: KioskClaimOut, **WITH_429}
)
def claim(request: HttpRequest, slug: str):
    """The calling screen (operator link, and ``X-Kiosk-Session`` if it has one) resumes its
    session, or gets a new one: holding the hall if the hall is free, asking to take it over
    if not. A new session's ``token`` comes only in this answer (201): keep it and send it as
    ``X-Kiosk-Session``, and as ``session`` on the websocket."""
    viewer = _screen(request, slug)
    result = kiosk_sessions.kiosk_session_claim(
        hall=viewer.hall,
        token=request.auth.kiosk_token,
        user_agent=request.headers.get("User-Agent", ""),
        address=client_address(request) or "",
    )
    body = {"session": kiosk_session_own_view(result.session), "token": result.token}
    return Status(201 if result.token else 200, body)


@router.get("/meetings/{slug}/kiosk/session", response={200: KioskSessionOwnOut, **ERRORS})
def own_session(request: HttpRequest, slug: str):
    """The calling screen's session (``X-Kiosk-Session``): whether it holds its hall, still
    asks, or ended and why. An asking screen asks this every 2 s."""
    viewer = _screen(request, slug)
    session = kiosk_sessions.kiosk_session_of(
        hall_id=viewer.hall_id, token=request.auth.kiosk_token
    )
    if session is None:
        raise NotFound(_("This screen has no session for this hall."))
    kiosk_sessions.kiosk_session_seen(session=session)
    return kiosk_session_own_view(session)


def _session(meeting, session_id: int) -> KioskSession:
    return get_object_or_404(
        KioskSession.objects.select_related("hall__meeting"), pk=session_id, hall__meeting=meeting
    )


@router.post(
    "/meetings/{slug}/kiosk-sessions/{session_id}/allow", response={200: KioskSessionOut, **ERRORS}
)
def allow(request: HttpRequest, slug: str, session_id: Id):
    """Let an asking screen take over its hall (moderators): the screen that held it ends."""
    meeting, viewer = viewer_of(request, slug)
    require_moderator(viewer)
    session = kiosk_sessions.kiosk_session_allow(
        session=_session(meeting, session_id), actor=viewer.actor
    )
    return kiosk_session_view(session)


@router.post(
    "/meetings/{slug}/kiosk-sessions/{session_id}/end", response={200: KioskSessionOwnOut, **ERRORS}
)
def end(request: HttpRequest, slug: str, session_id: Id):
    """End a screen's session (moderators): one that holds its hall stops being the hall's
    kiosk at once; one that asks is refused."""
    meeting, viewer = viewer_of(request, slug)
    require_moderator(viewer)
    session = kiosk_sessions.kiosk_session_end(
        session=_session(meeting, session_id), actor=viewer.actor
    )
    return kiosk_session_own_view(session)
