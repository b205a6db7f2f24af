"""Follow-ups: questions answered "written answer due by <date>" or "referred to <agency>"
wait for the written answer, which a secretary attaches to the record later."""

import datetime
from dataclasses import dataclass

from django.utils import timezone
from django.utils.translation import gettext as _

from meetings.questions.models import Answer, AnswerKind, Question
from meetings.questions.models.question import QuestionStatus
from meetings.questions.services.record import announce, fresh
from meetings.questions.text import clean_text
from meetings.rooms.actors import Actor
from meetings.rooms.errors import Conflict, Invalid
from meetings.rooms.models import Meeting
from meetings.rooms.services.events import record_write

FOLLOW_UP_KINDS = (AnswerKind.WRITTEN, AnswerKind.REFERRED)
MAX_WRITTEN = 10_000


@dataclass(frozen=True)
class FollowUp:
    question: Question
    answer: Answer

    @property
    def overdue(self) -> bool:
        due = self.answer.due_date
        return not self.answer.written_answer and due is not None and due < datetime.date.today()


def follow_ups(meeting: Meeting) -> list[FollowUp]:
    """Every question promised a written answer or referred, oldest first."""
    answers = (
        Answer.objects.filter(question__meeting=meeting, kind__in=FOLLOW_UP_KINDS)
        .select_related("question__hall", "candidate")
        .order_by("due_date", "question__answered_at")
    )
    return [FollowUp(answer.question, answer) for answer in answers]


def answer_attach_written(*, question: Question, text: str, actor: Actor) -> Question:
    """Attach the written answer to a question that was promised one (or referred)."""
    text = clean_text(text)
    if not text:
        raise Invalid(_("The written answer cannot be empty."))
    if len(text) > MAX_WRITTEN:
        raise Invalid(
            _("The written answer can be at most %(max)s characters.") % {"max": MAX_WRITTEN}
        )
    with record_write(meeting=question.meeting):
        question = Question.objects.select_related("meeting").get(pk=question.pk)
        answer = Answer.objects.filter(question=question).first()
        if question.status != QuestionStatus.ANSWERED or answer is None:
            raise Conflict(_("Only an answered question takes a written answer."))
        if answer.kind not in FOLLOW_UP_KINDS:
            raise Conflict(
                _("This question was answered at the conference; it awaits no written answer.")
            )
        answer.written_answer = text
        answer.written_answer_at = timezone.now()
        answer.written_answer_by = actor.user
        answer.save(update_fields=["written_answer", "written_answer_at", "written_answer_by"])
        question = fresh(question, meeting=question.meeting)  # with the written answer
        announce(action="followed_up", questions=[question], actor=actor)
    return question
