"""What moderators do to a question before it goes on air, and a voter's withdrawal."""

from django.db.models import Max, Subquery
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _

from meetings.questions.models import PUBLIC_STATUSES, Question, QuestionStatus, RejectReason
from meetings.questions.models.question import MAX_TEXT
from meetings.questions.services.moves import move, touch
from meetings.questions.services.record import announce
from meetings.questions.text import clean_line, match_form, question_text
from meetings.rooms.actors import Actor
from meetings.rooms.errors import Forbidden, Invalid
from meetings.rooms.services.events import record_write, refuse_after_end

EDITABLE = frozenset({QuestionStatus.SUBMITTED, QuestionStatus.APPROVED, QuestionStatus.ON_AIR})


def next_position(meeting_id: int) -> int:
    last = Question.objects.filter(meeting_id=meeting_id, status=QuestionStatus.APPROVED).aggregate(
        last=Max("position")
    )["last"]
    return (last or 0) + 1


def end_of_queue(meeting_id: int) -> Coalesce:
    """``next_position`` as an expression, for the UPDATE that approves: no query of its own."""
    last = (
        Question.objects.filter(meeting_id=meeting_id, status=QuestionStatus.APPROVED)
        .values("meeting_id")
        .annotate(last=Max("position"))
        .values("last")
    )
    return Coalesce(Subquery(last), 0) + 1


def question_approve(
    *, question: Question, actor: Actor, expected_version: int | None = None
) -> Question:
    """Accept a question into the queue, at its end."""
    with record_write(meeting=question.meeting):
        refuse_after_end(question.meeting)
        question = move(
            question,
            to=QuestionStatus.APPROVED,
            only_from=frozenset({QuestionStatus.SUBMITTED}),
            expected_version=expected_version,
            position=end_of_queue(question.meeting_id),
        )
        announce(
            action="approved",
            questions=[question],
            actor=actor,
            status_changed=True,
            recount=True,
        )
    return question


def question_reject(
    *,
    question: Question,
    reason: str,
    actor: Actor,
    note: str = "",
    expected_version: int | None = None,
) -> Question:
    """Turn a question down with a reason everyone sees and a note for the voter who asked.
    It stays in the record."""
    if reason not in RejectReason.values:
        raise Invalid(_("Choose one of the reasons for not accepting a question."))
    note = clean_line(note)
    if len(note) > 500:
        raise Invalid(_("The note can be at most 500 characters."))
    with record_write(meeting=question.meeting):
        refuse_after_end(question.meeting)
        question = move(
            question,
            to=QuestionStatus.REJECTED,
            expected_version=expected_version,
            reject_reason=reason,
            reject_note=note,
        )
        announce(
            action="rejected",
            questions=[question],
            actor=actor,
            details={"reason": reason, "note": note},
            public_details={"reason": reason},
            status_changed=True,
            recount=True,
        )
    return question


def question_withdraw(*, question: Question, device_hash: str, actor: Actor) -> Question:
    """The voter who asked takes the question back, while it awaits moderation."""
    if not device_hash or question.device_hash != device_hash:
        raise Forbidden(_("Only the phone that sent a question can withdraw it."))
    with record_write(meeting=question.meeting):
        refuse_after_end(question.meeting)
        question = move(question, to=QuestionStatus.WITHDRAWN)
        announce(
            action="withdrawn",
            questions=[question],
            actor=actor,
            status_changed=True,
            recount=True,
        )
    return question


def question_edit(
    *, question: Question, text: str, actor: Actor, expected_version: int | None = None
) -> Question:
    """Correct a question's wording; the text as submitted is kept beside it."""
    text = question_text(text)
    if len(text) > MAX_TEXT:
        raise Invalid(_("A question can be at most %(max)s characters.") % {"max": MAX_TEXT})
    with record_write(meeting=question.meeting):
        refuse_after_end(question.meeting)
        question = touch(
            question,
            only_in=EDITABLE,
            expected_version=expected_version,
            text=text,
            match_text=match_form(text),
        )
        announce(action="edited", questions=[question], actor=actor)
    return question


def question_set_topic(
    *, question: Question, topic_code: str | None, actor: Actor, expected_version: int | None = None
) -> Question:
    topic = None
    if topic_code:
        topic = question.meeting.topics.filter(code=topic_code).first()
        if topic is None:
            raise Invalid(_("Unknown topic: %s") % topic_code)
    with record_write(meeting=question.meeting):
        refuse_after_end(question.meeting)
        question = touch(question, only_in=EDITABLE, expected_version=expected_version, topic=topic)
        announce(
            action="topic_set",
            questions=[question],
            actor=actor,
            details={"topic": topic_code},
            public_details={"topic": topic_code},
        )
    return question


def question_address(
    *,
    question: Question,
    candidate_id: int | None,
    actor: Actor,
    expected_version: int | None = None,
) -> Question:
    """Address the question to one candidate, or to none in particular."""
    candidate = None
    if candidate_id is not None:
        candidate = question.meeting.candidates.filter(pk=candidate_id).first()
        if candidate is None:
            raise Invalid(_("There is no such candidate at this conference."))
    with record_write(meeting=question.meeting):
        refuse_after_end(question.meeting)
        question = touch(
            question, only_in=EDITABLE, expected_version=expected_version, candidate=candidate
        )
        announce(
            action="addressed",
            questions=[question],
            actor=actor,
            details={"candidate": candidate_id},
            public_details={"candidate": candidate_id},
        )
    return question


def was_public(*questions: Question) -> set[int]:
    return {q.pk for q in questions if q.status in PUBLIC_STATUSES}
