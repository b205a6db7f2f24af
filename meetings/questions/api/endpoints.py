"""HTTP endpoints of the question queue. Each checks who may act and calls one service."""

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Router
from ninja.responses import Status

from meetings.client_address import client_address
from meetings.questions.api.schemas import (
    AddressIn,
    AnswerIn,
    DeviceOut,
    DueDateIn,
    EditIn,
    IntakeIn,
    MergeIn,
    MoveIn,
    MyQuestionOut,
    OrderIn,
    OrderOut,
    QuestionIn,
    QuestionListOut,
    RejectIn,
    SimilarOut,
    SubmissionOut,
    TopicIn,
    VersionIn,
    VoteOut,
    WrittenAnswerIn,
)
from meetings.questions.devices import DEVICE_HEADER, Device, device_read
from meetings.questions.merges import MergeTree, give_origins
from meetings.questions.models import PUBLIC_STATUSES, Question, QuestionSource, QuestionStatus
from meetings.questions.services import (
    air,
    devices,
    followups,
    merge,
    moderation,
    queue,
    submit,
    votes,
)
from meetings.questions.similarity import similar_questions
from meetings.questions.speaking import speaking_time
from meetings.questions.state import (
    meeting_tally,
    question_moderation_view,
    question_public_view,
    with_related,
)
from meetings.rooms.api.auth import caller_auth, viewer_of
from meetings.rooms.api.endpoints import ERRORS
from meetings.rooms.errors import Forbidden, Invalid
from meetings.rooms.ids import Id
from meetings.rooms.models import BridgePoint
from meetings.rooms.record import format_time
from meetings.rooms.services.meetings import meeting_set_questions_open
from meetings.rooms.state import meeting_view
from meetings.rooms.viewers import ViewerKind, require_hall_speaker, require_moderator

router = Router(auth=caller_auth, tags=["questions"])
WITH_429 = {**ERRORS, 429: ERRORS[400]}


def mine_view(question: Question, finals: dict[int, tuple[int, str]] | None = None) -> dict:
    """``finals``: for the merged ones among a phone's questions, the question at the end of
    each one's chain of merges and its status (``merge_finals``); read here when not given."""
    final = (None, None)
    if question.status == QuestionStatus.MERGED:
        finals = finals if finals is not None else merge_finals([question])
        final = finals[question.pk]
    return {
        "id": question.pk,
        "client_id": question.client_id,
        "text": question.text,
        "status": question.status,
        "topic": question.topic.code if question.topic_id else None,
        "candidate_id": question.candidate_id,
        "reject_reason": question.reject_reason or None,
        "reject_note": question.reject_note,
        # The question its asker follows: the end of the chain when the question it joined
        # was merged in turn (docs/questions.md).
        "merged_into": final[0],
        "merged_into_status": final[1],
        "created_at": format_time(question.created_at),
    }


def merge_finals(questions: list[Question]) -> dict[int, tuple[int, str]]:
    """For each merged question of ``questions``, the question at the end of its chain of
    merges and that one's status: two queries, none when none is merged."""
    merged = [q for q in questions if q.status == QuestionStatus.MERGED]
    if not merged:
        return {}
    tree = MergeTree.of_meeting(merged[0].meeting_id)
    ends = {q.pk: tree.final_target(q.pk) for q in merged}
    statuses = dict(Question.objects.filter(pk__in=set(ends.values())).values_list("pk", "status"))
    return {pk: (end, statuses[end]) for pk, end in ends.items()}


def require_voter(viewer) -> None:
    if viewer.kind != ViewerKind.VOTER:
        raise Forbidden(_("This is for voters' phones, opened from the hall's QR code."))


def phone_device(viewer, device_id: str | None) -> Device:
    """The voter's phone, as the device id it sent names it (UnknownDevice if the server did
    not issue that id for this voter's hall)."""
    require_voter(viewer)
    return device_read(device_id, meeting_id=viewer.meeting_id, hall_id=viewer.hall_id)


def _sent_device(request: HttpRequest, viewer) -> Device:
    return phone_device(viewer, request.headers.get(DEVICE_HEADER))


def _question(meeting, question_id: int) -> Question:
    question = get_object_or_404(Question, pk=question_id, meeting=meeting)
    question.meeting = meeting
    return question


def _moderating(request: HttpRequest, slug: str, question_id: int):
    meeting, viewer = viewer_of(request, slug)
    require_moderator(viewer)
    return viewer, _question(meeting, question_id)


# --- reading ----------------------------------------------------------------------------------


@router.get("/meetings/{slug}/questions", response={200: QuestionListOut, **ERRORS})
def list_questions(
    request: HttpRequest,
    slug: str,
    status: str | None = None,
    hall: Id | None = None,
    topic: str | None = None,
    candidate: Id | None = None,
):
    """Questions with filters: every question for staff, the public ones for everyone else."""
    meeting, viewer = viewer_of(request, slug)
    questions = with_related(Question.objects.filter(meeting=meeting))
    staff = viewer.kind in (ViewerKind.MODERATOR, ViewerKind.OBSERVER)
    if not staff:
        questions = questions.filter(status__in=PUBLIC_STATUSES)
    if status:
        questions = questions.filter(status=status)
    if hall:
        questions = questions.filter(hall_id=hall)
    if topic:
        questions = questions.filter(topic__code=topic)
    if candidate:
        questions = questions.filter(candidate_id=candidate)
    view = question_moderation_view if staff else question_public_view
    questions = list(questions)
    give_origins(questions, MergeTree.of_meeting(meeting.pk))
    return {"questions": [view(q) for q in questions]}


@router.get("/meetings/{slug}/questions/mine", response={200: list[MyQuestionOut], **ERRORS})
def my_questions(request: HttpRequest, slug: str):
    """The questions this phone sent (X-Device-Id), with what became of each."""
    meeting, viewer = viewer_of(request, slug)
    device = _sent_device(request, viewer)
    questions = Question.objects.filter(meeting=meeting, device_hash=device.hash).select_related(
        "topic"
    )
    questions = list(questions.order_by("created_at"))
    finals = merge_finals(questions)
    return [mine_view(q, finals) for q in questions]


@router.get("/meetings/{slug}/tally", response={200: dict, **ERRORS})
def tally(request: HttpRequest, slug: str):
    """Per hall: questions received, pending, approved, answered, merged, withdrawn, and
    rejected by reason."""
    meeting, _viewer = viewer_of(request, slug)
    return meeting_tally(meeting)


@router.get(
    "/meetings/{slug}/questions/{question_id}/similar", response={200: list[SimilarOut], **ERRORS}
)
def similar(request: HttpRequest, slug: str, question_id: Id):
    """Likely duplicates of a question, across halls, best first (moderators)."""
    _viewer, question = _moderating(request, slug, question_id)
    return [
        {
            "id": s.question.pk,
            "score": s.score,
            "text": s.question.text,
            "hall_id": s.question.hall_id,
            "status": s.question.status,
        }
        for s in similar_questions(question)
    ]


@router.get("/meetings/{slug}/queue/round-robin", response={200: OrderOut, **ERRORS})
def round_robin(request: HttpRequest, slug: str):
    """A suggested order that takes the halls in turn; apply it with POST /queue/order."""
    meeting, viewer = viewer_of(request, slug)
    require_moderator(viewer)
    return {"order": queue.round_robin_order(meeting)}


# --- voters and halls ---------------------------------------------------------------------


@router.post("/meetings/{slug}/device", response={201: DeviceOut, **WITH_429})
def issue_device(request: HttpRequest, slug: str):
    """A voter's phone gets its device id (voter link), once: it keeps it and sends it as
    X-Device-Id. A hall, and a client address, are issued a bounded number of ids (429 with
    detail.retry_after when over). An id the server did not issue for the phone's hall is
    refused everywhere with 403 code unknown_device."""
    _meeting, viewer = viewer_of(request, slug)
    require_voter(viewer)
    device_id = devices.device_issue(hall=viewer.hall, address=client_address(request) or "")
    return Status(201, {"device": device_id, "hall": viewer.hall_id})


@router.post(
    "/meetings/{slug}/questions", response={200: SubmissionOut, 201: SubmissionOut, **WITH_429}
)
def ask(request: HttpRequest, slug: str, body: QuestionIn):
    """Send a question. Phones (voter link + X-Device-Id), a hall's kiosk (paper questions)
    and moderators (floor or paper, naming the hall). Sending the same client_id again
    returns the question already received (200) instead of a new one (201)."""
    meeting, viewer = viewer_of(request, slug)
    device = None
    if viewer.kind == ViewerKind.VOTER:
        source, hall_id = QuestionSource.PHONE, viewer.hall_id
        device = _sent_device(request, viewer)
    elif viewer.kind == ViewerKind.OPERATOR and viewer.hall_id is not None:
        # The clerk's paper questions come from the screen that holds the hall (or a
        # bridge-point operator's account), never from a second screen with the link.
        require_hall_speaker(viewer, viewer.hall_id)
        source, hall_id = QuestionSource.PAPER, viewer.hall_id
    elif viewer.can_moderate:
        source = QuestionSource(body.source or QuestionSource.FLOOR)
        if source == QuestionSource.PHONE:
            raise Invalid(_("Moderators enter questions from the floor or from paper."))
        if body.hall_id is None:
            raise Invalid(_("Say which hall the question came from."))
        hall_id = body.hall_id
    else:
        raise Forbidden(_("You cannot send questions here."))
    hall = viewer.hall  # a join link brings its hall along
    if hall is None or hall.pk != hall_id:
        hall = get_object_or_404(BridgePoint, pk=hall_id, meeting=meeting)
    result = submit.question_submit(
        meeting=meeting,
        hall=hall,
        source=source,
        client_id=body.client_id,
        text=body.text,
        topic_code=body.topic,
        candidate_id=body.candidate_id,
        asker_name=body.asker_name,
        asker_group=body.asker_group,
        asker_named_publicly=body.named_publicly,
        device=device,
        actor=viewer.actor,
    )
    sender = device.hash if device is not None else ""
    same_sender = result.question.device_hash == sender and result.question.hall_id == hall.pk
    question = mine_view(result.question) if same_sender else None
    return Status(201 if result.created else 200, {"created": result.created, "question": question})


@router.post(
    "/meetings/{slug}/questions/{question_id}/withdraw", response={200: MyQuestionOut, **ERRORS}
)
def withdraw(request: HttpRequest, slug: str, question_id: Id):
    """The phone that sent a question takes it back, before it is moderated."""
    meeting, viewer = viewer_of(request, slug)
    device = _sent_device(request, viewer)
    question = _question(meeting, question_id)
    return mine_view(
        moderation.question_withdraw(question=question, device_hash=device.hash, actor=viewer.actor)
    )


@router.post("/meetings/{slug}/questions/{question_id}/vote", response={200: VoteOut, **WITH_429})
def vote(request: HttpRequest, slug: str, question_id: Id):
    """Support a question in the queue or on air, once per phone."""
    meeting, viewer = viewer_of(request, slug)
    device = _sent_device(request, viewer)
    voted = votes.question_vote(meeting=meeting, question_id=question_id, device=device)
    return {"question": question_id, "voted": voted}


# --- moderators ---------------------------------------------------------------------------


@router.post("/meetings/{slug}/questions/intake", response={200: dict, **ERRORS})
def intake(request: HttpRequest, slug: str, body: IntakeIn):
    """Open or close the intake of questions."""
    meeting, viewer = viewer_of(request, slug)
    require_moderator(viewer)
    return meeting_view(
        meeting_set_questions_open(meeting=meeting, open=body.open, actor=viewer.actor)
    )


@router.post("/meetings/{slug}/questions/{question_id}/approve", response={200: dict, **ERRORS})
def approve(request: HttpRequest, slug: str, question_id: Id, body: VersionIn):
    viewer, question = _moderating(request, slug, question_id)
    question = moderation.question_approve(
        question=question, actor=viewer.actor, expected_version=body.expected_version
    )
    return question_moderation_view(question)


@router.post("/meetings/{slug}/questions/{question_id}/reject", response={200: dict, **ERRORS})
def reject(request: HttpRequest, slug: str, question_id: Id, body: RejectIn):
    viewer, question = _moderating(request, slug, question_id)
    question = moderation.question_reject(
        question=question,
        reason=body.reason,
        note=body.note,
        actor=viewer.actor,
        expected_version=body.expected_version,
    )
    return question_moderation_view(question)


@router.post("/meetings/{slug}/questions/{question_id}/edit", response={200: dict, **ERRORS})
def edit(request: HttpRequest, slug: str, question_id: Id, body: EditIn):
    viewer, question = _moderating(request, slug, question_id)
    question = moderation.question_edit(
        question=question,
        text=body.text,
        actor=viewer.actor,
        expected_version=body.expected_version,
    )
    return question_moderation_view(question)


@router.post("/meetings/{slug}/questions/{question_id}/topic", response={200: dict, **ERRORS})
def set_topic(request: HttpRequest, slug: str, question_id: Id, body: TopicIn):
    viewer, question = _moderating(request, slug, question_id)
    question = moderation.question_set_topic(
        question=question,
        topic_code=body.topic,
        actor=viewer.actor,
        expected_version=body.expected_version,
    )
    return question_moderation_view(question)


@router.post("/meetings/{slug}/questions/{question_id}/address", response={200: dict, **ERRORS})
def address(request: HttpRequest, slug: str, question_id: Id, body: AddressIn):
    viewer, question = _moderating(request, slug, question_id)
    question = moderation.question_address(
        question=question,
        candidate_id=body.candidate_id,
        actor=viewer.actor,
        expected_version=body.expected_version,
    )
    return question_moderation_view(question)


@router.post("/meetings/{slug}/questions/{question_id}/merge", response={200: dict, **ERRORS})
def merge_into(request: HttpRequest, slug: str, question_id: Id, body: MergeIn):
    """Merge a duplicate into another question; its text, hall and votes are kept."""
    viewer, question = _moderating(request, slug, question_id)
    into = _question(question.meeting, body.into)
    question = merge.question_merge(
        question=question, into=into, actor=viewer.actor, expected_version=body.expected_version
    )
    return question_moderation_view(question)


@router.post("/meetings/{slug}/questions/{question_id}/unmerge", response={200: dict, **ERRORS})
def unmerge(request: HttpRequest, slug: str, question_id: Id, body: VersionIn):
    viewer, question = _moderating(request, slug, question_id)
    question = merge.question_unmerge(
        question=question, actor=viewer.actor, expected_version=body.expected_version
    )
    return question_moderation_view(question)


@router.post("/meetings/{slug}/questions/{question_id}/on-air", response={200: dict, **ERRORS})
def on_air(request: HttpRequest, slug: str, question_id: Id, body: VersionIn):
    viewer, question = _moderating(request, slug, question_id)
    question = air.question_put_on_air(
        question=question, actor=viewer.actor, expected_version=body.expected_version
    )
    return question_moderation_view(question)


@router.post(
    "/meetings/{slug}/questions/{question_id}/back-to-queue", response={200: dict, **ERRORS}
)
def back_to_queue(request: HttpRequest, slug: str, question_id: Id, body: VersionIn):
    viewer, question = _moderating(request, slug, question_id)
    question = air.question_back_to_queue(
        question=question, actor=viewer.actor, expected_version=body.expected_version
    )
    return question_moderation_view(question)


@router.post("/meetings/{slug}/questions/{question_id}/answer", response={200: dict, **ERRORS})
def answer(request: HttpRequest, slug: str, question_id: Id, body: AnswerIn):
    """Mark the question on air answered: live, written answer due by a date, or referred."""
    viewer, question = _moderating(request, slug, question_id)
    question = air.question_answer(
        question=question,
        kind=body.kind,
        summary=body.summary,
        due_date=body.due_date,
        agency=body.agency,
        candidate_id=body.candidate_id,
        actor=viewer.actor,
        expected_version=body.expected_version,
    )
    return question_moderation_view(question)


@router.get("/meetings/{slug}/follow-ups", response={200: list[dict], **ERRORS})
def list_follow_ups(request: HttpRequest, slug: str):
    """Questions promised a written answer or referred to an agency, with whether the written
    answer has been attached and whether it is overdue: ``state`` (awaiting, answered, overdue)
    and ``days_overdue`` (meetings/questions/follow_through.py) (staff)."""
    meeting, viewer = viewer_of(request, slug)
    if viewer.kind not in (ViewerKind.MODERATOR, ViewerKind.OBSERVER):
        raise Forbidden(_("Only the moderators and observers see the follow-ups."))
    return [
        {
            "question": question_moderation_view(_fresh(item.question)),
            "kind": item.answer.kind,
            "due_date": item.answer.due_date.isoformat() if item.answer.due_date else None,
            "agency": item.answer.agency,
            "written_answer": item.answer.written_answer,
            "overdue": item.overdue,
            "state": item.standing.state,
            "days_overdue": item.standing.days_overdue,
        }
        for item in followups.follow_ups(meeting)
    ]


@router.post(
    "/meetings/{slug}/questions/{question_id}/written-answer", response={200: dict, **ERRORS}
)
def attach_written_answer(request: HttpRequest, slug: str, question_id: Id, body: WrittenAnswerIn):
    """Attach the written answer promised at the conference, or the agency's, with who
    answered for it and the day it was received (moderators)."""
    viewer, question = _moderating(request, slug, question_id)
    question = followups.answer_attach_written(
        question=question,
        text=body.text,
        answered_by=body.answered_by,
        received_on=body.received_on,
        actor=viewer.actor,
    )
    return question_moderation_view(question)


@router.post("/meetings/{slug}/questions/{question_id}/due-date", response={200: dict, **ERRORS})
def move_due_date(request: HttpRequest, slug: str, question_id: Id, body: DueDateIn):
    """Move the date a written answer, or an agency's, is due, with the reason (moderators)."""
    viewer, question = _moderating(request, slug, question_id)
    question = followups.answer_move_due_date(
        question=question, due_date=body.due_date, reason=body.reason, actor=viewer.actor
    )
    return question_moderation_view(question)


@router.get("/meetings/{slug}/speaking-time", response={200: list[dict], **ERRORS})
def speaking(request: HttpRequest, slug: str):
    """Speaking time per candidate: presentations and answers, against the allowance."""
    meeting, _viewer = viewer_of(request, slug)
    return [time.as_dict() for time in speaking_time(meeting)]


@router.post("/meetings/{slug}/questions/{question_id}/move", response={200: OrderOut, **ERRORS})
def move(request: HttpRequest, slug: str, question_id: Id, body: MoveIn):
    """Move a waiting question to a place in the queue (0 = next on air)."""
    viewer, question = _moderating(request, slug, question_id)
    return {"order": queue.queue_move(question=question, index=body.index, actor=viewer.actor)}


@router.post("/meetings/{slug}/queue/order", response={200: OrderOut, **ERRORS})
def set_order(request: HttpRequest, slug: str, body: OrderIn):
    """Put the whole queue in this order (the ids of exactly the waiting questions)."""
    meeting, viewer = viewer_of(request, slug)
    require_moderator(viewer)
    return {"order": queue.queue_set_order(meeting=meeting, order=body.order, actor=viewer.actor)}


def _fresh(question: Question) -> Question:
    from meetings.questions.services.record import fresh

    return fresh(question)
