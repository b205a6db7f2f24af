"""The consoles: the moderators' question queue, their halls and floor, the follow-ups, and
the candidate's console. Each renders a page shell; its ES module fills it from the meeting
stream and acts through the JSON API (questions/api/endpoints.py, rooms/api/media.py)."""

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from meetings.headers import sends_media
from meetings.questions.models import AnswerKind, RejectReason
from meetings.rooms.ids import query_id
from meetings.rooms.models import Candidate, Meeting, ProgrammeLayout
from meetings.rooms.viewers import ViewerKind, viewer_for_user
from meetings.rooms.views.pages import _page_config, _refused

STAFF = (ViewerKind.MODERATOR, ViewerKind.OBSERVER)
# The time limits a moderator may put on the floor, in minutes (or none).
FLOOR_LIMIT_MINUTES = (1, 2, 3, 5)


def _choices(choices) -> list[dict[str, str]]:
    """Server-side labels, in the page's language: the same words the voter's page uses."""
    return [{"value": value, "label": str(label)} for value, label in choices]


def _staff_console(
    request: HttpRequest, slug: str, template: str, *, context: dict, config: dict
) -> HttpResponse:
    """A console for the moderators, read-only for observers; refused to anyone else."""
    meeting = get_object_or_404(Meeting, slug=slug)
    viewer = viewer_for_user(request.user, meeting)
    if viewer is None or viewer.kind not in STAFF:
        return _refused(request, status=403)
    return render(
        request,
        template,
        {
            "meeting": meeting,
            "viewer": viewer,
            **context,
            "config": {
                **_page_config(meeting, viewer),
                "read_only": not viewer.can_moderate,
                **config,
            },
        },
    )


@login_required
def queue_console(request: HttpRequest, slug: str) -> HttpResponse:
    """The moderators' console: incoming questions, the queue and what is on air. Observers
    see it read-only."""
    reject_reasons = _choices(RejectReason.choices)
    answer_kinds = _choices(AnswerKind.choices)
    return _staff_console(
        request,
        slug,
        "questions/queue.html",
        context={"reject_reasons": reject_reasons, "answer_kinds": answer_kinds},
        config={"reject_reasons": reject_reasons, "answer_kinds": answer_kinds},
    )


@login_required
@sends_media(camera=False, microphone=True)  # a moderator may speak to the halls
def halls_console(request: HttpRequest, slug: str) -> HttpResponse:
    """The moderators' halls and floor: every hall's picture and link, the raised hands, who
    has the floor, the programme's layout and a monitor of the programme. Observers see it
    read-only."""
    return _staff_console(
        request,
        slug,
        "questions/halls.html",
        context={
            "layouts": ProgrammeLayout.choices,
            "floor_limits": [(minutes * 60, minutes) for minutes in FLOOR_LIMIT_MINUTES],
        },
        config={},
    )


@login_required
def follow_ups_page(request: HttpRequest, slug: str) -> HttpResponse:
    """The follow-ups: questions promised a written answer or referred to an agency, with the
    written answer once a secretary attaches it. Observers see it read-only."""
    return _staff_console(
        request,
        slug,
        "questions/follow_ups.html",
        context={},
        config={"answer_kinds": _choices(AnswerKind.choices)},
    )


@login_required
@sends_media(camera=True, microphone=True)
def candidate_console(request: HttpRequest, slug: str) -> HttpResponse:
    """A candidate's console: the question on air, the questions addressed to them, their
    speaking timer. Staff may open any candidate's (``?candidate=<id>``, else the first)."""
    meeting = get_object_or_404(Meeting, slug=slug)
    viewer = viewer_for_user(request.user, meeting)
    if viewer is None:
        return _refused(request, status=403)
    candidates = list(meeting.candidates.all())
    if viewer.kind == ViewerKind.CANDIDATE:
        candidate = get_object_or_404(Candidate, pk=viewer.candidate_id, meeting=meeting)
    elif viewer.kind in STAFF:
        candidate = _chosen_candidate(request, meeting, candidates)
    else:
        return _refused(request, status=403)
    return render(
        request,
        "questions/candidate.html",
        {
            "meeting": meeting,
            "viewer": viewer,
            "candidate": candidate,
            "candidates": candidates if viewer.kind in STAFF else [],
            "config": {
                **_page_config(meeting, viewer),
                "candidate": candidate.pk if candidate else None,
                "answer_kinds": _choices(AnswerKind.choices),
            },
        },
    )


def _chosen_candidate(
    request: HttpRequest, meeting: Meeting, candidates: list[Candidate]
) -> Candidate | None:
    chosen = request.GET.get("candidate")
    if not chosen:
        return candidates[0] if candidates else None
    # A staff member asked for this one: one that is not this meeting's is a 404, as is a
    # number that cannot be an id.
    chosen_id = query_id(chosen)
    for candidate in candidates:
        if candidate.pk == chosen_id:
            return candidate
    raise Http404
