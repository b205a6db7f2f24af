"""The public page of a round's follow-through (docs/rounds.md, "Follow-through in public"):
every recommendation of the round's published conferences that was referred to an agency or
promised a written answer, where it stands (awaiting, answered, overdue), the answer when it
comes, counts by state and by agency; searchable by locality, topic and free text with GET
parameters, paginated, without JavaScript. Only public data: published conferences, questions
in public statuses, an asker's name only if they agreed."""

from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import translation
from django.views.decorators.http import require_GET

from meetings.headers import public
from meetings.questions.follow_through import STATE_LABELS, FollowState
from meetings.questions.round_follow_ups import (
    Filters,
    choices,
    counts,
    in_state,
    round_follow_ups,
)
from meetings.rooms.models import Round

PER_PAGE = 25


@public
@require_GET
def round_page(request: HttpRequest, slug: str) -> HttpResponse:
    round = Round.objects.filter(slug=slug).first()
    # A round none of whose conferences is published is not shown (nor said to exist).
    if round is None or not round.meetings.filter(published_at__isnull=False).exists():
        raise Http404
    filters = Filters.from_query(request.GET)
    items = round_follow_ups(round, filters, public=True)
    page = Paginator(in_state(items, filters.state), PER_PAGE).get_page(request.GET.get("page"))
    language = translation.get_language()
    return render(
        request,
        "public/round.html",
        {
            "round": round,
            "filters": filters,
            "query": filters.as_query(),
            "page": page,
            "counts": counts(items),
            "choices": choices(round, public=True),
            "states": [(state.value, STATE_LABELS[state]) for state in FollowState],
            "english": language == "en",
        },
    )
