"""The organisers' follow-through page of a round (docs/rounds.md, "Follow-through in public"):
every question of the round's conferences referred to an agency or promised a written answer,
filterable, overdue ones first; an organiser records the agency's answer and moves a due date
(with a reason) here. Each is a service call that goes on the record of the question's
conference. This is the organisers' only action: in a conference's queue they act on nothing.

Forms posted to the page itself; it works without JavaScript."""

import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from meetings.questions.follow_through import STATE_LABELS, FollowState, conference_today
from meetings.questions.models import Question
from meetings.questions.round_follow_ups import (
    Filters,
    choices,
    counts,
    in_state,
    round_follow_ups,
)
from meetings.questions.services import followups
from meetings.rooms.actors import Actor
from meetings.rooms.errors import DomainError, Invalid
from meetings.rooms.ids import query_id
from meetings.rooms.models import Round, RoundGrant
from meetings.rooms.views.pages import _refused

ACTIONS = ("written_answer", "due_date")


def organises_round(user, round: Round) -> bool:
    """An organiser of the round (a superuser administers every round)."""
    if not user.is_authenticated or not user.is_active:
        return False
    return user.is_superuser or RoundGrant.objects.filter(round=round, user=user).exists()


def _date(value: str | None, *, required: bool) -> datetime.date | None:
    if not value:
        if required:
            raise Invalid(_("Give a date."))
        return None
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise Invalid(_("Give a date as YYYY-MM-DD.")) from None


def _act(request: HttpRequest, round: Round) -> None:
    """One organiser's action, from a form of the page; its error is shown on the page."""
    action = request.POST.get("action")
    question = Question.objects.filter(
        pk=query_id(request.POST.get("question")) or 0, meeting__round=round
    ).select_related("meeting")
    question = question.first()
    if action not in ACTIONS or question is None:
        raise Invalid(_("There is no such question in this round."))
    actor = Actor.for_user(request.user)
    if action == "written_answer":
        followups.answer_attach_written(
            question=question,
            text=request.POST.get("text", ""),
            answered_by=request.POST.get("answered_by", ""),
            received_on=_date(request.POST.get("received_on"), required=False),
            actor=actor,
        )
        messages.success(request, _("The agency's answer is on the conference's record."))
    else:
        followups.answer_move_due_date(
            question=question,
            due_date=_date(request.POST.get("due_date"), required=True),
            reason=request.POST.get("reason", ""),
            actor=actor,
        )
        messages.success(request, _("The new due date is on the conference's record."))


@login_required
@require_http_methods(["GET", "POST"])
def follow_through(request: HttpRequest, slug: str) -> HttpResponse:
    round = get_object_or_404(Round, slug=slug)
    if not organises_round(request.user, round):
        return _refused(request, status=403)
    if request.method == "POST":
        try:
            _act(request, round)
        except DomainError as error:
            messages.error(request, error.message)
        query = request.POST.get("query", "")
        return redirect(request.path + (f"?{query}" if query else ""))
    filters = Filters.from_query(request.GET)
    items = round_follow_ups(round, filters, public=False)
    return render(
        request,
        "rounds/follow_through.html",
        {
            "round": round,
            "filters": filters,
            "query": filters.as_query(),
            "items": in_state(items, filters.state),
            "counts": counts(items),
            "choices": choices(round, public=False),
            "states": [(state.value, STATE_LABELS[state]) for state in FollowState],
            "today": conference_today(),
            "staff": True,
            "english": translation.get_language() == "en",
        },
    )
