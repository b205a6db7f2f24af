"""The organiser's synthesis page: the suggested links between conferences to confirm or
dismiss, the confirmed concerns, and the report's downloads. For the round's organisers and
the platform's superusers only; the actions go through services/concerns.py."""

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import get_language
from django.views.decorators.http import require_http_methods

from meetings.questions.models import Concern, Question
from meetings.questions.services.concerns import (
    concern_link,
    concern_unlink,
    may_synthesise,
    suggestion_dismiss,
)
from meetings.questions.synthesis.data import gather
from meetings.questions.synthesis.export import FORMATS, export_synthesis, file_name
from meetings.questions.synthesis.similar import suggestions
from meetings.rooms.errors import DomainError
from meetings.rooms.models import Round
from meetings.rooms.views.pages import _refused


def _language() -> str:
    return "en" if (get_language() or "vi").startswith("en") else "vi"


def _ids(values: list[str]) -> list[int]:
    return [int(v) for v in values if v.isdigit()]


@login_required
@require_http_methods(["GET", "POST"])
def synthesis_page(request: HttpRequest, slug: str) -> HttpResponse:
    round = get_object_or_404(Round, slug=slug)
    if not may_synthesise(request.user, round):
        return _refused(request, status=403)
    error, status = "", 200
    if request.method == "POST":
        action = request.POST.get("action", "")
        chosen = _ids(request.POST.getlist("question"))
        try:
            if action == "link":
                concern_link(round=round, question_ids=chosen, user=request.user)
            elif action == "dismiss":
                suggestion_dismiss(round=round, question_ids=chosen, user=request.user)
            elif action == "unlink" and chosen:
                question = get_object_or_404(Question, pk=chosen[0], meeting__round=round)
                concern_unlink(question=question, user=request.user)
            else:
                return HttpResponse(status=400)
        except DomainError as refused:
            error, status = refused.message, refused.status
        else:
            return redirect("round-synthesis", slug=round.slug)
    synthesis = gather(round, _language())
    concerns = {c.pk: c for c in Concern.objects.filter(round=round).select_related("confirmed_by")}
    return render(
        request,
        "questions/synthesis.html",
        {
            "round": round,
            "synthesis": synthesis,
            "clusters": suggestions(round),
            "concerns": [(concerns.get(r.concern), r) for r in synthesis.concerns],
            "error": error,
        },
        status=status,
    )


@login_required
def synthesis_file(request: HttpRequest, slug: str, fmt: str) -> HttpResponse:
    round = get_object_or_404(Round, slug=slug)
    if not may_synthesise(request.user, round):
        return _refused(request, status=403)
    if fmt not in FORMATS:
        raise Http404(fmt)
    language = _language()
    response = HttpResponse(export_synthesis(round, fmt, language), content_type=FORMATS[fmt][1])
    response["Content-Disposition"] = f'attachment; filename="{file_name(round, fmt, language)}"'
    return response
