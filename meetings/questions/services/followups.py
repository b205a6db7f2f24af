"""Follow-ups: questions answered "written answer due by <date>" or "referred to <agency> by
<date>" wait for the written answer, which a secretary of the conference, or an organiser of
its round, records later; the due date may be moved, with a reason. Each change is on the
conference's record, also after the conference ended (docs/rounds.md, "Follow-through in
public")."""

import datetime
from dataclasses import dataclass

from django.utils import timezone
from django.utils.translation import gettext as _

from meetings.questions.follow_through import (
    FOLLOW_UP_KINDS,
    FollowState,
    Standing,
    conference_today,
    standing,
)
from meetings.questions.models import Answer, Question
from meetings.questions.models.question import QuestionStatus
from meetings.questions.services.record import announce, fresh
from meetings.questions.text import clean_line, clean_text
from meetings.rooms.actors import Actor
from meetings.rooms.errors import Conflict, Invalid
from meetings.rooms.models import Meeting
from meetings.rooms.services.events import record_write

MAX_WRITTEN = 10_000
MAX_FROM = 200
MAX_REASON = 500

__all__ = ["FOLLOW_UP_KINDS", "FollowUp", "answer_attach_written", "answer_move_due_date"]


@dataclass(frozen=True)
class FollowUp:
    question: Question
    answer: Answer
    today: datetime.date

    @property
    def standing(self) -> Standing:
        return standing(self.answer, today=self.today)

    @property
    def overdue(self) -> bool:
        return self.standing.state == FollowState.OVERDUE


def follow_ups(meeting: Meeting) -> list[FollowUp]:
    """Every question promised a written answer or referred, oldest first."""
    answers = (
        Answer.objects.filter(question__meeting=meeting, kind__in=FOLLOW_UP_KINDS)
        .select_related("question__hall", "candidate")
        .order_by("due_date", "question__answered_at")
    )
    today = conference_today(meeting)
    return [FollowUp(answer.question, answer, today) for answer in answers]


def _follow_up(question: Question) -> tuple[Question, Answer]:
    """The question and its answer, read again under the record's lock; Conflict unless it
    awaits (or has) a written answer."""
    question = Question.objects.select_related("meeting").get(pk=question.pk)
    answer = Answer.objects.filter(question=question).first()
    if question.status != QuestionStatus.ANSWERED or answer is None:
        raise Conflict(_("Only an answered question takes a written answer."))
    if answer.kind not in FOLLOW_UP_KINDS:
        raise Conflict(
            _("This question was answered at the conference; it awaits no written answer.")
        )
    return question, answer


def answer_attach_written(
    *,
    question: Question,
    text: str,
    actor: Actor,
    answered_by: str = "",
    received_on: datetime.date | None = None,
) -> Question:
    """Record the written answer to a question that was promised one (or referred): its text,
    who answered for the agency, and the day it was received (today, in the conference's time
    zone, if not given; never a day still to come)."""
    text = clean_text(text)
    answered_by = clean_line(answered_by)
    if not text:
        raise Invalid(_("The written answer cannot be empty."))
    if len(text) > MAX_WRITTEN:
        raise Invalid(
            _("The written answer can be at most %(max)s characters.") % {"max": MAX_WRITTEN}
        )
    if len(answered_by) > MAX_FROM:
        raise Invalid(
            _("Who answered for the agency can be at most %(max)s characters.") % {"max": MAX_FROM}
        )
    today = conference_today(question.meeting)
    if received_on is not None and received_on > today:
        raise Invalid(_("The day the answer was received cannot be in the future."))
    with record_write(meeting=question.meeting):
        question, answer = _follow_up(question)
        answer.written_answer = text
        answer.written_answer_at = timezone.now()
        answer.written_answer_by = actor.user
        answer.written_answer_from = answered_by
        answer.written_answer_received = received_on or today
        answer.save(
            update_fields=[
                "written_answer",
                "written_answer_at",
                "written_answer_by",
                "written_answer_from",
                "written_answer_received",
            ]
        )
        question = fresh(question, meeting=question.meeting)  # with the written answer
        received = {
            "answered_by": answered_by,
            "received_on": answer.written_answer_received.isoformat(),
        }
        announce(
            action="followed_up",
            questions=[question],
            actor=actor,
            details=received,
            public_details=received,
        )
    return question


def answer_move_due_date(
    *, question: Question, due_date: datetime.date, reason: str, actor: Actor
) -> Question:
    """Move the date a written answer (or an agency's answer) is due, with the reason, before
    the answer has come."""
    reason = clean_line(reason)
    if not reason:
        raise Invalid(_("Give the reason the due date is moved."))
    if len(reason) > MAX_REASON:
        raise Invalid(_("The reason can be at most %(max)s characters.") % {"max": MAX_REASON})
    with record_write(meeting=question.meeting):
        question, answer = _follow_up(question)
        if answer.written_answer:
            raise Conflict(_("The answer has come: its due date can no longer be moved."))
        if answer.due_date == due_date:
            raise Invalid(_("The answer is already due on that day."))
        answered_on = conference_today(
            question.meeting, now=question.answered_at or answer.created_at
        )
        if due_date < answered_on:
            raise Invalid(_("The due date cannot be before the day the question was answered."))
        moved = {
            "from": answer.due_date.isoformat() if answer.due_date else None,
            "to": due_date.isoformat(),
            "reason": reason,
        }
        answer.due_date = due_date
        answer.save(update_fields=["due_date"])
        question = fresh(question, meeting=question.meeting)  # with the new due date
        announce(
            action="due_date_moved",
            questions=[question],
            actor=actor,
            details=moved,
            public_details=moved,
        )
    return question
