"""The public meeting page and archive, once the chair publishes a meeting: every answered
question with its hall, topic, candidate, answer and clip; the tally; the record's final hash
and how to check it; the minutes to download. Unpublished meetings, and their files, are
visible to their staff only."""

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import translation
from django.views.decorators.http import require_GET

from meetings.headers import public
from meetings.questions.merges import MergeTree
from meetings.questions.minutes.export import FORMATS, export_minutes, file_name
from meetings.questions.models import Question, QuestionStatus
from meetings.questions.public_record import record_summary
from meetings.questions.speaking import speaking_time
from meetings.questions.state import meeting_tally
from meetings.rooms.ids import query_id
from meetings.rooms.models import (
    Audience,
    Clip,
    ClipStatus,
    Meeting,
    Recording,
    Round,
)
from meetings.rooms.record_export import checkpoints_document, record_document
from meetings.rooms.viewers import ViewerKind, viewer_for_user
from meetings.rooms.views.files import inside, ranged_file_response


def _visible_meeting(request: HttpRequest, slug: str) -> Meeting:
    """A published meeting for anyone; an unpublished one for its staff only (404 to others,
    so the public cannot even tell it exists)."""
    meeting = Meeting.objects.filter(slug=slug).first()
    if meeting is None:
        raise Http404
    if meeting.published_at is None and not _is_staff(request, meeting):
        raise Http404
    return meeting


def _is_staff(request: HttpRequest, meeting: Meeting) -> bool:
    viewer = viewer_for_user(request.user or AnonymousUser(), meeting)
    return viewer is not None and viewer.kind in (ViewerKind.MODERATOR, ViewerKind.OBSERVER)


@public
@require_GET
def archive(request: HttpRequest) -> HttpResponse:
    meetings = Meeting.objects.filter(published_at__isnull=False).order_by("-scheduled_start")
    query = request.GET.get("q", "").replace("\x00", "").strip()  # PostgreSQL refuses NULs
    if query:
        meetings = meetings.filter(Q(title__icontains=query) | Q(electoral_unit__icontains=query))
    rounds = Round.objects.filter(meetings__published_at__isnull=False).distinct()
    return render(
        request,
        "public/archive.html",
        {"meetings": meetings, "query": query, "rounds": rounds},
    )


@public
@require_GET
def meeting_page(request: HttpRequest, slug: str) -> HttpResponse:
    meeting = _visible_meeting(request, slug)
    answered = (
        Question.objects.filter(meeting=meeting, status=QuestionStatus.ANSWERED)
        .select_related("hall", "topic", "answer__candidate", "candidate")
        .order_by("answered_at")
    )
    halls = list(meeting.bridge_points.all())
    hall_names = {hall.pk: hall.name for hall in halls}
    tree = MergeTree.of_meeting(meeting.pk)
    candidates = list(meeting.candidates.all())
    # Free text without NULs (PostgreSQL refuses them in a query). A hall or candidate that
    # is not one of this meeting's (a mistyped or out-of-range number) filters nothing: the
    # reader sees every answer, and the form, showing "all", says so.
    filters = {key: request.GET.get(key, "").replace("\x00", "").strip() for key in ("q", "topic")}
    filters["hall"] = _one_of(request.GET.get("hall"), halls)
    filters["candidate"] = _one_of(request.GET.get("candidate"), candidates)
    if filters["q"]:
        answered = answered.filter(
            Q(text__icontains=filters["q"]) | Q(answer__summary__icontains=filters["q"])
        )
    if filters["topic"]:
        answered = answered.filter(topic__code=filters["topic"])
    if filters["hall"]:
        # A question asked at the hall, or one that another asked at the hall joined, at any
        # depth of merges.
        hall = int(filters["hall"])
        joined = {tree.final_target(pk) for pk, at in tree.hall.items() if at == hall}
        answered = answered.filter(Q(hall_id=hall) | Q(pk__in=joined))
    if filters["candidate"]:
        answered = answered.filter(answer__candidate_id=filters["candidate"])
    clips = {}
    for clip in Clip.objects.filter(meeting=meeting, status=ClipStatus.READY).order_by("pk"):
        clips[clip.question_id] = clip
    tally = meeting_tally(meeting)
    language = translation.get_language()
    return render(
        request,
        "public/meeting.html",
        {
            "meeting": meeting,
            "questions": [
                (q, clips.get(q.pk), _also_asked_at(q, tree, hall_names)) for q in answered
            ],
            "filters": filters,
            "topics": meeting.topics.all(),
            "halls": halls,
            "candidates": candidates,
            "tally_rows": [(hall, tally.get(str(hall.pk))) for hall in halls],
            "speaking": speaking_time(meeting),
            "record": record_summary(meeting),
            "recordings": Recording.objects.filter(meeting=meeting),
            "formats": sorted(FORMATS),
            "language": language,
            "english": language == "en",
        },
    )


def _also_asked_at(question: Question, tree: MergeTree, hall_names: dict[int, str]) -> list[str]:
    """The names of the other halls whose questions joined this one, at any depth of merges:
    none when every duplicate came from its own hall."""
    halls = {hall for _pk, hall in tree.origins(question.pk)} - {question.hall_id}
    return sorted((hall_names[hall] for hall in halls), key=str.casefold)


def _one_of(value: str | None, choices: list) -> str:
    """The filter's id as the page's form writes it, if it names one of ``choices``; else
    ""."""
    chosen = query_id(value)
    return str(chosen) if any(choice.pk == chosen for choice in choices) else ""


@public
@require_GET
def clip_file(request: HttpRequest, slug: str, clip_id: int) -> HttpResponse:
    meeting = _visible_meeting(request, slug)
    clip = Clip.objects.filter(pk=clip_id, meeting=meeting, status=ClipStatus.READY).first()
    if clip is None:
        raise Http404
    return ranged_file_response(request, inside(settings.MEDIA_ROOT, clip.file), "video/webm")


@public
@require_GET
def recording_file(request: HttpRequest, slug: str, part: int) -> HttpResponse:
    meeting = _visible_meeting(request, slug)
    recording = Recording.objects.filter(meeting=meeting, part=part).first()
    if recording is None:
        raise Http404
    return ranged_file_response(
        request,
        inside(settings.MEDIA_ROOT, recording.file),
        "video/webm",
        download_name=f"{meeting.slug}-part-{part:04d}.webm",
    )


@public
@require_GET
def minutes_file(request: HttpRequest, slug: str, fmt: str) -> HttpResponse:
    meeting = _visible_meeting(request, slug)
    if fmt not in FORMATS:
        raise Http404
    language = request.GET.get("lang") or translation.get_language()
    language = language if language in ("vi", "en") else "vi"
    response = HttpResponse(
        # The staff's copy prints the questions no moderator read; the public's does not.
        export_minutes(meeting, fmt, language, staff=_is_staff(request, meeting)),
        content_type=FORMATS[fmt].content_type,
    )
    response["Content-Disposition"] = f'attachment; filename="{file_name(meeting, fmt, language)}"'
    return response


@public
@require_GET
def record(request: HttpRequest, slug: str) -> StreamingHttpResponse:
    """The whole record, streamed, for checking its chain (docs/record.md): public payloads in
    full with their salts, the others as their commitment only; the conference's staff get
    every payload and salt."""
    meeting = _visible_meeting(request, slug)
    staff = _is_staff(request, meeting)
    return StreamingHttpResponse(
        record_document(meeting, readable=lambda row: staff or row.audience == Audience.PUBLIC),
        content_type="application/json; charset=utf-8",
    )


@public
@require_GET
def checkpoints(request: HttpRequest, slug: str) -> JsonResponse:
    """The conference's signed checkpoints, the key that signed them and the current head; with
    ``?since=<seq>``, only those after it. For observers to poll and keep."""
    meeting = _visible_meeting(request, slug)
    return JsonResponse(
        checkpoints_document(meeting, since=query_id(request.GET.get("since")) or 0),
        json_dumps_params={"ensure_ascii": False},
    )
