"""Absolute URLs of a hall's join links, and their QR codes."""

from typing import Any

import segno
from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse

from meetings.rooms.models import BridgePoint, JoinLinkKind
from meetings.rooms.record import format_time
from meetings.rooms.services.join_links import join_link_active, join_link_token


def absolute(request: HttpRequest | None, path: str) -> str:
    """A full URL for printing: PUBLIC_BASE_URL when set, else the request's own host."""
    if settings.PUBLIC_BASE_URL:
        return settings.PUBLIC_BASE_URL + path
    if request is None:
        return "http://127.0.0.1:8000" + path
    return request.build_absolute_uri(path)


def join_url(request: HttpRequest | None, hall: BridgePoint, kind: JoinLinkKind) -> str:
    token = join_link_token(join_link_active(hall=hall, kind=kind))
    name = "kiosk" if kind == JoinLinkKind.OPERATOR else "phone"
    return absolute(request, reverse(name, args=[token]))


def hall_links(request: HttpRequest | None, hall: BridgePoint) -> dict[str, Any]:
    voter_link = join_link_active(hall=hall, kind=JoinLinkKind.VOTER)
    return {
        "hall": hall.pk,
        "operator_url": join_url(request, hall, JoinLinkKind.OPERATOR),
        "voter_url": join_url(request, hall, JoinLinkKind.VOTER),
        "poster_url": absolute(request, reverse("poster", args=[hall.meeting.slug, hall.pk])),
        "expires_at": format_time(voter_link.expires_at),
    }


def qr_svg(url: str, *, scale: int = 8) -> str:
    """An inline SVG QR code; medium error correction survives a creased printed poster.

    Scalable (a viewBox, no fixed size): the page's CSS sizes the whole code. With a fixed size
    and no viewBox, CSS resized only the box and cropped the code, which no phone could read."""
    return segno.make(url, error="m").svg_inline(scale=scale, border=2, dark="#111", omitsize=True)
