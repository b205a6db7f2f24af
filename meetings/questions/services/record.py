"""Putting question changes on the record, for staff and for everyone."""

from typing import Any

from django.db.models import Q

from meetings.questions.merges import MergeTree, give_origins, merged_into_sql, origins_of
from meetings.questions.models import Question
from meetings.questions.services.counts import publisher
from meetings.questions.state import question_moderation_view, question_public_view
from meetings.rooms import patch
from meetings.rooms.actors import Actor
from meetings.rooms.models import Audience, Meeting
from meetings.rooms.services.events import event_append


def fresh(question: Question | int, *, meeting: Meeting | None = None) -> Question:
    """The question as it is now, with everything its views read (topic, answer, the questions
    merged into it at any depth), in one query. ``meeting``, when the caller has it, saves
    loading it."""
    pk = question.pk if isinstance(question, Question) else question
    rows = Question.objects.select_related("topic", "answer").filter(
        Q(pk=pk) | Q(pk__in=merged_into_sql(pk))
    )
    if meeting is None:
        rows = rows.select_related("meeting")
    rows = list(rows)
    current = next(row for row in rows if row.pk == pk)
    if meeting is not None:
        current.meeting = meeting
    merged = [row for row in rows if row.pk != pk]
    give_origins([current], MergeTree((m.pk, m.merged_into_id, m.hall_id) for m in merged))
    return with_merged(current, [row for row in merged if row.merged_into_id == pk])


def with_merged(question: Question, merged: list[Question]) -> Question:
    """Give ``question`` the questions merged into it as prefetch_related would, so that its
    views read them without a query (a question just created has none)."""
    queryset = question.merged_questions.all()
    queryset._result_cache = merged
    queryset._prefetch_done = True
    question._prefetched_objects_cache = {"merged_questions": queryset}
    if not merged and getattr(question, "_merge_origins", None) is None:
        question._merge_origins = []
    return question


def announce(
    *,
    action: str,
    questions: list[Question],
    actor: Actor,
    was_public: set[int] = frozenset(),
    details: dict[str, Any] | None = None,
    public_details: dict[str, Any] | None = None,
    status_changed: bool = False,
    recount: bool = False,
    positions: dict[int, int] | None = None,
) -> None:
    """Append ``question.<action>`` for staff and, if anything public changed,
    ``public.<action>`` for everyone.

    ``questions`` are the questions the action changed, first the one acted on, as they are
    now with what their views read (``fresh``, or a question just created). ``was_public``
    names those that were shown publicly before, so one that stopped being public is removed
    from the public state. ``status_changed``: the action moved the first question to another
    status; the public entry then names it even when nothing public changed, so the phone that
    sent it learns what became of it. ``recount``: the action changed its hall's counts, which
    are announced with the next batch of counts (services/counts.py), not in these entries.
    ``positions`` are queue places of other questions that the action moved.
    """
    subject = questions[0]
    meeting = subject.meeting
    event_append(
        meeting=meeting,
        type=f"question.{action}",
        audience=Audience.STAFF,
        payload={
            "question": subject.pk,
            **(details or {}),
            "patch": [
                patch.merge("moderation", q.pk, value=question_moderation_view(q))
                for q in questions
            ],
        },
        actor=actor,
    )
    public_patch = []
    for q in questions:
        if q.is_public:
            public_patch.append(patch.merge("questions", q.pk, value=question_public_view(q)))
        elif q.pk in was_public:
            public_patch.append(patch.remove("questions", q.pk))
    for pk, position in (positions or {}).items():
        public_patch.append(patch.merge("questions", pk, value={"position": position}))
    # The questions merged into the subject, at any depth, follow it: they are named, so that
    # their phones learn that what their askers see changed (a merged question's status, as
    # its phone shows it, is that of the question at the end of its chain of merges).
    followers = [pk for pk, _hall in origins_of(subject)]
    if public_patch or status_changed:
        event_append(
            meeting=meeting,
            type=f"public.{action}",
            audience=Audience.PUBLIC,
            payload={
                "question": subject.pk,
                "hall": subject.hall_id,
                "status": subject.status,
                **(public_details or {}),
                **({"merged_in": followers} if followers else {}),
                "patch": public_patch,
            },
            actor=actor,
        )
    if recount:
        publisher.schedule(meeting)
