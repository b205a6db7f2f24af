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
    Conflict with the question's current state. Returns the question as it is now (``fresh``).

    Called under the record's lock. The caller's copy is tried first: if the database still
    holds its status and version, that copy is the current state and one UPDATE does it.
    Otherwise (someone acted meanwhile) the question is read again and the table is applied
    to what it is now."""
    sources = sources_of(to) if only_from is None else only_from & sources_of(to)
    if _may_move(question, to, sources, expected_version) and _update_if_unchanged(
        question, status=to, **fields
    ):
        return _now(question)
    current = Question.objects.get(pk=question.pk)
    if current.status == to:
        raise conflict(question.pk, _("Someone else has already done this."))
    if not _may_move(current, to, sources, None):
        raise conflict(
            question.pk,
            _("This question is now “%(status)s”; it cannot become “%(target)s”.")
            % {
                "status": QuestionStatus(current.status).label,
                "target": QuestionStatus(to).label,
            },
        )
    check_version(current, expected_version)
    if not _update_if_unchanged(current, status=to, **fields):
        raise conflict(question.pk, _("Someone else changed this question first."))
    return _now(question)


def touch(
    question: Question,
    *,
    only_in: frozenset[str],
    expected_version: int | None = None,
    **fields: Any,
) -> Question:
    """Change fields of a question (not its status) while it is in one of ``only_in``, if
    nobody changed it meanwhile. Returns the question as it is now (``fresh``). Like ``move``,
    tries the caller's copy first."""
    if (
        question.status in only_in
        and expected_version in (None, question.version)
        and _update_if_unchanged(question, **fields)
    ):
        return _now(question)
    current = Question.objects.get(pk=question.pk)
    if current.status not in only_in:
        raise conflict(
            question.pk,
            _("A question that is “%(status)s” can no longer be changed.")
            % {"status": QuestionStatus(current.status).label},
        )
    check_version(current, expected_version)
    if not _update_if_unchanged(current, **fields):
        raise conflict(question.pk, _("Someone else changed this question first."))
    return _now(question)


def _may_move(
    question: Question, to: QuestionStatus, sources: frozenset[str], expected_version: int | None
) -> bool:
    return (
        question.status in sources
        and allowed(question.status, to)
        and expected_version in (None, question.version)
    )


def _update_if_unchanged(question: Question, **fields: Any) -> bool:
    """One UPDATE, applied only if the row still has this copy's status and version (every
    change to a question raises its version)."""
    return bool(
        Question.objects.filter(
            pk=question.pk, status=question.status, version=question.version
        ).update(version=F("version") + 1, **fields)
    )


def _now(question: Question) -> Question:
    from meetings.questions.services.record import fresh

    return fresh(question.pk, meeting=question.meeting)
