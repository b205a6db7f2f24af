"""The organiser's screens of a round: the rounds an account oversees, and the live overview
of one round (docs/rounds.md, "The organiser's overview"). Read-only: the page opens each
conference's staff stream as an observer and acts on nothing."""

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from meetings.rooms.models import Round
from meetings.rooms.round_overview import may_oversee, overview_config, rounds_overseen


@login_required
def round_list(request: HttpRequest) -> HttpResponse:
    return render(request, "rounds/list.html", {"rounds": rounds_overseen(request.user)})


@login_required
def round_overview(request: HttpRequest, slug: str) -> HttpResponse:
    round = get_object_or_404(Round, slug=slug)
    if not may_oversee(request.user, round):
        return render(request, "rooms/refused.html", status=403)
    config = {**overview_config(round), "time_zone": settings.TIME_ZONE}
    return render(request, "rounds/overview.html", {"round": round, "config": config})
