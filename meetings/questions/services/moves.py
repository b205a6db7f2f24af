"""Applying the transition table with a conditional update."""

from typing import Any

from django.db.models import F
from django.utils.translation import gettext as _

from meetings.questions.models import Question, QuestionStatus
from meetings.questions.state import question_moderation_view
from meetings.questions.transitions import allowed, sources_of
from meetings.rooms.errors import Conflict


def conflict(question_id: int, message: str) -> Conflict:
    """The loser of a race learns what happened and gets the question as it is now."""
    from meetings.questions.services.record import fresh

    return Conflict(message, detail={"question": question_moderation_view(fresh(question_id))})


def check_version(question: Question, expected_version: int | None) -> None:
    if expected_version is not None and question.version != expected_version:
        raise conflict(question.pk, _("Someone else changed this question first."))


def move(
    question: Question,
    *,
    to: QuestionStatus,
    expected_version: int | None = None,
    only_from: frozenset[str] | None = None,
    **fields: Any,
) -> Question:
    """Move ``question`` to ``to`` if the table allows it from its current status, in one
    conditional UPDATE: of two moderators acting at once, exactly one wins. The loser gets
    Conflict with the question's current state."""
    sources = sources_of(to) if only_from is None else only_from & sources_of(to)
    current = Question.objects.get(pk=question.pk)
    if current.status == to:
        raise conflict(question.pk, _("Someone else has already done this."))
    if current.status not in sources or not allowed(current.status, to):
        raise conflict(
            question.pk,
            _("This question is now “%(status)s”; it cannot become “%(target)s”.")
            % {
                "status": QuestionStatus(current.status).label,
                "target": QuestionStatus(to).label,
            },
        )
    check_version(current, expected_version)
    filters: dict[str, Any] = {
        "pk": question.pk,
        "status": current.status,
        "version": current.version,
    }
    won = Question.objects.filter(**filters).update(status=to, version=F("version") + 1, **fields)
    if not won:
        raise conflict(question.pk, _("Someone else changed this question first."))
    return Question.objects.get(pk=question.pk)


def touch(question: Question, *, expected_version: int | None = None, **fields: Any) -> Question:
    """Change fields of a question (not its status) if nobody changed it meanwhile."""
    current = Question.objects.get(pk=question.pk)
    check_version(current, expected_version)
    won = Question.objects.filter(pk=question.pk, version=current.version).update(
        version=F("version") + 1, **fields
    )
    if not won:
        raise conflict(question.pk, _("Someone else changed this question first."))
    return Question.objects.get(pk=question.pk)
