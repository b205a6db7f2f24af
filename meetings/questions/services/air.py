"""A question on air, and its answer."""

import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from meetings.questions.models import Answer, AnswerKind, Question, QuestionStatus
from meetings.questions.services.moderation import was_public
from meetings.questions.services.moves import conflict, move
from meetings.questions.services.queue import queue_order, renumber
from meetings.questions.services.record import announce, fresh
from meetings.questions.text import clean_line, clean_text
from meetings.rooms.actors import Actor
from meetings.rooms.errors import Conflict, Invalid
from meetings.rooms.models import Meeting, MeetingStatus
from meetings.rooms.services.events import record_write, refuse_after_end


def question_put_on_air(
    *, question: Question, actor: Actor, expected_version: int | None = None
) -> Question:
    """Put a queued question on air: every screen shows it. One at a time per conference."""
    with record_write(meeting=question.meeting):
        refuse_after_end(question.meeting)
        if Meeting.objects.get(pk=question.meeting_id).status != MeetingStatus.LIVE:
            raise Conflict(_("Questions go on air only while the conference is live."))
        on_air = Question.objects.filter(
            meeting_id=question.meeting_id, status=QuestionStatus.ON_AIR
        ).first()
        if on_air is not None and on_air.pk != question.pk:
            raise conflict(
                on_air.pk,
                _("Question #%(id)s is on air: mark it answered or return it to the queue first.")
                % {"id": on_air.pk},
            )
        try:
            with transaction.atomic():
                question = move(
                    question,
                    to=QuestionStatus.ON_AIR,
                    expected_version=expected_version,
                    position=None,
                    on_air_at=timezone.now(),
                )
        except IntegrityError:  # the database's one-on-air rule, if a race got this far
            raise conflict(question.pk, _("Another question went on air first.")) from None
        # The media hub follows the record: on this entry it sends every hall a keyframe with
        # the question and starts its answer's clip.
        announce(action="on_air", questions=[question], actor=actor, status_changed=True)
    return question


def question_back_to_queue(
    *, question: Question, actor: Actor, expected_version: int | None = None
) -> Question:
    """Take a question off air without an answer; it goes back to the head of the queue."""
    with record_write(meeting=question.meeting):
        refuse_after_end(question.meeting)
        order = queue_order(question.meeting_id)
        question = move(
            question,
            to=QuestionStatus.APPROVED,
            only_from=frozenset({QuestionStatus.ON_AIR}),
            expected_version=expected_version,
            on_air_at=None,
        )
        moved = renumber(question.meeting_id, [question.pk, *order])
        moved.pop(question.pk, None)
        question = fresh(question, meeting=question.meeting)  # with its new place
        announce(
            action="returned",
            questions=[question],
            actor=actor,
            status_changed=True,
            positions=moved,
        )
    return question


def question_answer(
    *,
    question: Question,
    kind: str,
    actor: Actor,
    summary: str = "",
    due_date: datetime.date | None = None,
    agency: str = "",
    candidate_id: int | None = None,
    expected_version: int | None = None,
) -> Question:
    """Close the question on air with how it was answered: live, a written answer due by a
    date, or referred to an agency with the date its answer is due."""
    if kind not in AnswerKind.values:
        raise Invalid(_("Choose how the question was answered."))
    summary, agency = clean_text(summary), clean_line(agency)
    if len(summary) > 2000:
        raise Invalid(_("The summary can be at most 2,000 characters."))
    if kind == AnswerKind.WRITTEN and due_date is None:
        raise Invalid(_("Give the date the written answer is due."))
    if kind == AnswerKind.REFERRED and due_date is None:
        raise Invalid(_("Give the date the agency's answer is due."))
    if kind == AnswerKind.REFERRED and not agency:
        raise Invalid(_("Name the agency the question is referred to."))
    if len(agency) > 200:
        raise Invalid(_("The agency's name can be at most 200 characters."))
    candidate = None
    if candidate_id is not None:
        candidate = question.meeting.candidates.filter(pk=candidate_id).first()
        if candidate is None:
            raise Invalid(_("There is no such candidate at this conference."))
    with record_write(meeting=question.meeting):
        refuse_after_end(question.meeting)
        before = Question.objects.get(pk=question.pk)
        question = move(
            question,
            to=QuestionStatus.ANSWERED,
            expected_version=expected_version,
            answered_at=timezone.now(),
        )
        Answer.objects.create(
            question=question,
            candidate=candidate or before.candidate,
            kind=kind,
            summary=summary,
            due_date=due_date if kind != AnswerKind.LIVE else None,
            agency=agency if kind == AnswerKind.REFERRED else "",
            recorded_by=actor.user,
        )
        question = fresh(question, meeting=question.meeting)  # with its answer
        announce(
            action="answered",
            questions=[question],
            actor=actor,
            was_public=was_public(before),
            details={"kind": kind},
            public_details={"kind": kind},
            status_changed=True,
            recount=True,
        )
    return question
