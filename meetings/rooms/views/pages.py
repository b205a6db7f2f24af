"""The HTML screens. Each renders a page shell; the page's ES module fills it from the
snapshot API and keeps it live over the meeting websocket."""

from pathlib import Path

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.contrib.staticfiles import finders
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control, never_cache

from meetings.headers import public, sends_media
from meetings.rooms.links import absolute, hall_links, join_url, qr_svg
from meetings.rooms.models import (
    BridgePoint,
    JoinLinkKind,
    Meeting,
    Role,
    RoleGrant,
    RoundGrant,
)
from meetings.rooms.round_overview import rounds_overseen
from meetings.rooms.services.join_links import JoinLinkRefused, join_link_resolve
from meetings.rooms.viewers import ORGANISER, ViewerKind, viewer_for_link, viewer_for_user

# The minutes' downloads on the dashboard, in the order a secretary reaches for them.
MINUTES_FORMATS = ("docx", "pdf", "csv", "xlsx")


def home(request: HttpRequest) -> HttpResponse:
    return redirect("meeting-list" if request.user.is_authenticated else "login")


@login_required
def meeting_list(request: HttpRequest) -> HttpResponse:
    meetings = Meeting.objects.annotate(halls=Count("bridge_points"))
    if not request.user.is_superuser:
        # The conferences where the account holds a role, and those of the rounds it organises.
        # Subqueries, not joins: a join would multiply the halls counted.
        meetings = meetings.filter(
            Q(pk__in=RoleGrant.objects.filter(user=request.user).values("meeting"))
            | Q(round__in=RoundGrant.objects.filter(user=request.user).values("round"))
        )
    rows = []
    for meeting in meetings:
        viewer = viewer_for_user(request.user, meeting)
        rows.append(
            {
                "meeting": meeting,
                "roles": _role_labels(viewer),
                # A candidate's own screen is their console; staff start from the dashboard.
                "url": reverse(
                    "candidate-console"
                    if viewer and viewer.kind == ViewerKind.CANDIDATE
                    else "dashboard",
                    args=[meeting.slug],
                ),
                "is_staff": viewer is not None
                and viewer.kind in (ViewerKind.MODERATOR, ViewerKind.OBSERVER),
            }
        )
    # The rounds the account organises, each with its live overview (views/rounds.py).
    rounds = rounds_overseen(request.user)
    return render(request, "rooms/meeting_list.html", {"rows": rows, "rounds": rounds})


@login_required
def dashboard(request: HttpRequest, slug: str) -> HttpResponse:
    meeting = get_object_or_404(Meeting, slug=slug)
    viewer = viewer_for_user(request.user, meeting)
    if viewer is None or viewer.kind in (ViewerKind.VOTER, ViewerKind.OPERATOR):
        return _refused(request, status=403)
    links = (
        [{**hall_links(request, hall), "hall": hall} for hall in meeting.bridge_points.all()]
        if viewer.can_moderate
        else []
    )
    return render(
        request,
        "rooms/dashboard.html",
        {
            "meeting": meeting,
            "viewer": viewer,
            "links": links,
            "minutes_formats": MINUTES_FORMATS,
            "config": _page_config(meeting, viewer),
        },
    )


@login_required
def poster(request: HttpRequest, slug: str, hall_id: int) -> HttpResponse:
    """A one-page A4 poster for the hall's wall: the voter link as a QR code."""
    meeting = get_object_or_404(Meeting, slug=slug)
    viewer = viewer_for_user(request.user, meeting)
    if viewer is None or not viewer.can_moderate:
        return _refused(request, status=403)
    hall = get_object_or_404(BridgePoint, pk=hall_id, meeting=meeting)
    voter_url = join_url(request, hall, JoinLinkKind.VOTER)
    return render(
        request,
        "rooms/poster.html",
        {
            "meeting": meeting,
            "hall": hall,
            "voter_url": voter_url,
            "qr": qr_svg(voter_url, scale=10),
        },
    )


@never_cache
@sends_media(camera=True, microphone=True)
def kiosk(request: HttpRequest, token: str) -> HttpResponse:
    """The hall's TV, opened from its operator link."""
    link = _link_or_none(token, JoinLinkKind.OPERATOR)
    if link is None:
        return _refused(request, status=403)
    hall, meeting = link.hall, link.hall.meeting
    viewer = viewer_for_link(link)
    voter_url = join_url(request, hall, JoinLinkKind.VOTER)
    return render(
        request,
        "rooms/kiosk.html",
        {
            "meeting": meeting,
            "hall": hall,
            "voter_url": voter_url,
            "qr": qr_svg(voter_url, scale=6),
            # Where the public reads the conference once the chair publishes it.
            "public_url": absolute(request, reverse("public-meeting", args=[meeting.slug])),
            "config": _page_config(meeting, viewer, link_token=token),
        },
    )


@never_cache
def phone(request: HttpRequest, token: str) -> HttpResponse:
    """A voter's phone page, opened from the hall's QR code."""
    link = _link_or_none(token, JoinLinkKind.VOTER)
    if link is None:
        return _refused(request, status=403)
    meeting = link.hall.meeting
    return render(
        request,
        "rooms/phone.html",
        {
            "meeting": meeting,
            "hall": link.hall,
            "config": {
                **_page_config(meeting, viewer_for_link(link), link_token=token),
                "service_worker": reverse("phone-service-worker"),
            },
        },
    )


@public
@cache_control(no_cache=True)
def phone_service_worker(request: HttpRequest) -> HttpResponse:
    """The phone page's service worker (frontend/js/phone-sw.js). Served here, beside the voters'
    pages under /v/, because a worker controls only pages under its own path; never cached, so
    a new version reaches phones at their next visit."""
    path = finders.find("js/phone-sw.js")
    return HttpResponse(Path(path).read_bytes(), content_type="text/javascript; charset=utf-8")


def _role_labels(viewer) -> str:
    if viewer is None:
        return ""
    return ", ".join(
        _("Organiser of the round") if role == ORGANISER else str(Role(role).label)
        for role in sorted(viewer.roles)
    )


def _link_or_none(token: str, kind: JoinLinkKind):
    try:
        link = join_link_resolve(token)
    except JoinLinkRefused:
        return None
    return link if link.kind == kind else None


def _refused(request: HttpRequest, *, status: int) -> HttpResponse:
    return render(request, "rooms/refused.html", status=status)


def _page_config(meeting: Meeting, viewer, *, link_token: str | None = None) -> dict:
    """What a page's script needs to start: where the API and the stream are, and who it is."""
    return {
        "slug": meeting.slug,
        "api": reverse("api:snapshot", args=[meeting.slug]).rsplit("/snapshot", 1)[0],
        "ws": f"/ws/meetings/{meeting.slug}/",
        "link": link_token,
        "viewer": viewer.describe(),
        # The conference's time zone, for the clocks of the screens (as the snapshot's meeting).
        "time_zone": settings.TIME_ZONE,
    }
