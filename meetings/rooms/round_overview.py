"""Reads for the organiser's overview of a round (docs/rounds.md, "The organiser's overview"):
which rounds an account oversees, and what the page needs to open each conference's stream."""

from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Count, QuerySet
from django.urls import reverse

from meetings.rooms.models import Meeting, Round, RoundGrant
from meetings.rooms.state import iso

# A hall lost for longer than this stands out on the overview (red, with how long).
HALL_LOST_SECONDS = 30


def rounds_overseen(user: AbstractBaseUser | AnonymousUser) -> QuerySet[Round]:
    """The rounds whose overview the account may open: those it organises (every round for a
    superuser), with their number of conferences."""
    rounds = Round.objects.annotate(conferences=Count("meetings"))
    if not (user.is_authenticated and user.is_active):
        return rounds.none()
    if user.is_superuser:
        return rounds
    return rounds.filter(pk__in=RoundGrant.objects.filter(user=user).values("round"))


def may_oversee(user: AbstractBaseUser | AnonymousUser, round: Round) -> bool:
    return rounds_overseen(user).filter(pk=round.pk).exists()


def overview_config(round: Round) -> dict[str, Any]:
    """What overview.js starts from: each conference of the round, where its stream is, and
    the overview's thresholds. The state itself comes from each conference's stream."""
    conferences = Meeting.objects.filter(round=round).order_by("scheduled_start", "pk")
    return {
        "round": round.slug,
        "hall_lost_seconds": HALL_LOST_SECONDS,
        "conferences": [
            {
                "slug": meeting.slug,
                "title": meeting.title,
                "electoral_unit": meeting.electoral_unit,
                "scheduled_start": iso(meeting.scheduled_start),
                "ws": f"/ws/meetings/{meeting.slug}/",
                "dashboard": reverse("dashboard", args=[meeting.slug]),
            }
            for meeting in conferences
        ],
    }
