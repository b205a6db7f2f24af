"""HTTP endpoints of floor control, the programme layout and the media hub's settings."""

from typing import Literal

from django.core.cache import cache
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Router, Schema
from pydantic import Field

from meetings.rooms.api.auth import caller_auth, viewer_of
from meetings.rooms.api.endpoints import ERRORS
from meetings.rooms.errors import Forbidden
from meetings.rooms.ids import Id
from meetings.rooms.media.ice import browser_ice_servers
from meetings.rooms.models import BridgePoint, Programme
from meetings.rooms.realtime.media_frames import thumbnail_key
from meetings.rooms.services import floor
from meetings.rooms.state import programme_view
from meetings.rooms.viewers import (
    ViewerKind,
    require_hall_screen,
    require_hall_speaker,
    require_moderator,
)

router = Router(auth=caller_auth, tags=["floor and programme"])


class ProgrammeOut(Schema):
    layout: str
    floor_hall_id: Id | None
    floor_granted_at: str | None
    floor_until: str | None


class GrantIn(Schema):
    seconds: int | None = Field(None, ge=10, le=1800, description="A time limit, if any.")


class LayoutIn(Schema):
    layout: Literal["studio", "inset", "hall", "side_by_side"]


class PinIn(Schema):
    tier: Literal["high", "low", "audio"] | None = None


class IceOut(Schema):
    ice_servers: list[dict]


def _hall(meeting, hall_id: int) -> BridgePoint:
    return get_object_or_404(
        BridgePoint.objects.select_related("meeting"), pk=hall_id, meeting=meeting
    )


@router.post("/meetings/{slug}/halls/{hall_id}/floor/request", response={200: dict, **ERRORS})
def request_floor(request: HttpRequest, slug: str, hall_id: Id):
    """Raise the hall's hand (its kiosk, or a moderator on its behalf)."""
    meeting, viewer = viewer_of(request, slug)
    require_hall_speaker(viewer, hall_id)
    hall_request = floor.floor_request(hall=_hall(meeting, hall_id), actor=viewer.actor)
    return {"hall": hall_id, "requested_at": hall_request.requested_at.isoformat()}


@router.post("/meetings/{slug}/halls/{hall_id}/floor/withdraw", response={200: dict, **ERRORS})
def withdraw_floor_request(request: HttpRequest, slug: str, hall_id: Id):
    meeting, viewer = viewer_of(request, slug)
    require_hall_speaker(viewer, hall_id)
    floor.floor_withdraw_request(hall=_hall(meeting, hall_id), actor=viewer.actor)
    return {"hall": hall_id}


@router.post("/meetings/{slug}/halls/{hall_id}/floor/grant", response={200: ProgrammeOut, **ERRORS})
def grant_floor(request: HttpRequest, slug: str, hall_id: Id, body: GrantIn):
    """Give the hall the floor (moderators), optionally with a time limit in seconds."""
    meeting, viewer = viewer_of(request, slug)
    require_moderator(viewer)
    programme = floor.floor_grant(
        hall=_hall(meeting, hall_id), seconds=body.seconds, actor=viewer.actor
    )
    return programme_view(programme)


@router.post("/meetings/{slug}/floor/revoke", response={200: ProgrammeOut, **ERRORS})
def revoke_floor(request: HttpRequest, slug: str):
    meeting, viewer = viewer_of(request, slug)
    require_moderator(viewer)
    return programme_view(floor.floor_revoke(meeting=meeting, actor=viewer.actor))


@router.post("/meetings/{slug}/programme/layout", response={200: ProgrammeOut, **ERRORS})
def set_layout(request: HttpRequest, slug: str, body: LayoutIn):
    meeting, viewer = viewer_of(request, slug)
    require_moderator(viewer)
    return programme_view(
        floor.programme_set_layout(meeting=meeting, layout=body.layout, actor=viewer.actor)
    )


@router.post("/meetings/{slug}/halls/{hall_id}/tier", response={200: dict, **ERRORS})
def pin_tier(request: HttpRequest, slug: str, hall_id: Id, body: PinIn):
    """Keep a hall on a quality tier (moderators); null lets the hub choose again."""
    meeting, viewer = viewer_of(request, slug)
    require_moderator(viewer)
    hall = floor.hall_pin_tier(hall=_hall(meeting, hall_id), tier=body.tier, actor=viewer.actor)
    return {"hall": hall.pk, "tier": hall.pinned_tier or None}


@router.get("/meetings/{slug}/programme", response={200: ProgrammeOut, **ERRORS})
def programme(request: HttpRequest, slug: str):
    meeting, _viewer = viewer_of(request, slug)
    return programme_view(Programme.objects.get(meeting=meeting))


@router.get("/meetings/{slug}/media/ice", response={200: IceOut, **ERRORS})
def ice_servers(request: HttpRequest, slug: str):
    """ICE servers for a screen's peer connection, with fresh TURN credentials if configured."""
    _meeting, viewer = viewer_of(request, slug)
    if viewer.kind == ViewerKind.VOTER:
        raise Forbidden(_("The programme is shown on the hall's screen, not on phones."))
    if viewer.kind == ViewerKind.OPERATOR and viewer.link_id is not None:
        require_hall_screen(viewer)  # a screen that does not hold its hall joins no hub
    return {"ice_servers": browser_ice_servers(f"{viewer.kind}-{viewer.hall_id or 0}")}


@router.get("/meetings/{slug}/thumbnails", response={200: dict, **ERRORS})
def thumbnails(request: HttpRequest, slug: str):
    """The latest picture each hall's kiosk sent (staff), for the grid of halls."""
    meeting, viewer = viewer_of(request, slug)
    if viewer.kind not in (ViewerKind.MODERATOR, ViewerKind.OBSERVER):
        raise Forbidden(_("Only the moderators and observers see the halls' pictures."))
    keys = {
        thumbnail_key(meeting.pk, pk): pk
        for pk in meeting.bridge_points.values_list("pk", flat=True)
    }
    found = cache.get_many(list(keys))
    return {str(keys[key]): value for key, value in found.items()}
