"""How questions appear in snapshots and events, per audience.

- ``questions``: every audience; the questions shown publicly (approved, on air, answered) as
  everyone may see them: the asker's name only if they chose to be named.
- ``tally``: every audience; per hall, how many questions were received and what became of
  them, so no hall is forgotten and anyone can check the counts. As announced: counts are
  announced in batches (services/counts.py), like votes.
- ``topics``: every audience.
- ``moderation``: staff only; every question with what only moderators see (the asker, the
  original text, the rejection note, questions not yet approved, its supports by hall). Votes
  and queue places are public and live in ``questions``.
"""

from collections import Counter, defaultdict
from collections.abc import Iterable
from typing import Any

from django.db.models import Count

from meetings.questions.merges import MergeTree, give_origins, origins_of
from meetings.questions.models import (
    PUBLIC_STATUSES,
    AnnouncedTally,
    Question,
    QuestionStatus,
    Topic,
    Vote,
)
from meetings.rooms.models import Audience, Meeting
from meetings.rooms.state import iso, register_state_section


def with_related(questions):
    """What the views read, fetched with the questions rather than one by one."""
    return questions.select_related("topic", "answer").prefetch_related("merged_questions")


def answer_view(question: Question) -> dict[str, Any] | None:
    answer = (
        getattr(question, "answer", None) if question.status == QuestionStatus.ANSWERED else None
    )
    if answer is None:
        return None
    return {
        "kind": answer.kind,
        "summary": answer.summary,
        "due_date": answer.due_date.isoformat() if answer.due_date else None,
        "agency": answer.agency,
        "candidate_id": answer.candidate_id,
        "written_answer": answer.written_answer,
        "written_answer_at": iso(answer.written_answer_at),
        "written_answer_from": answer.written_answer_from,
        "written_answer_received": (
            answer.written_answer_received.isoformat() if answer.written_answer_received else None
        ),
    }


def merged_halls(question: Question) -> list[int]:
    """The other halls that asked the same, through questions merged into this one at any
    depth (meetings/questions/merges.py)."""
    halls = {hall for _pk, hall in origins_of(question)}
    halls.discard(question.hall_id)
    return sorted(halls)


def question_public_view(question: Question) -> dict[str, Any]:
    return {
        "id": question.pk,
        "hall_id": question.hall_id,
        "source": question.source,
        "text": question.text,
        "topic": question.topic.code if question.topic_id else None,
        "candidate_id": question.candidate_id,
        "status": question.status,
        "position": question.position,
        "votes": question.votes_published,
        "asker": question.asker_name if question.asker_named_publicly else None,
        "also_from_halls": merged_halls(question),
        "on_air_at": iso(question.on_air_at),
        "answered_at": iso(question.answered_at),
        "answer": answer_view(question),
    }


def question_moderation_view(question: Question) -> dict[str, Any]:
    return {
        "id": question.pk,
        "hall_id": question.hall_id,
        "source": question.source,
        "status": question.status,
        "text": question.text,
        "original_text": question.original_text,
        "topic": question.topic.code if question.topic_id else None,
        "candidate_id": question.candidate_id,
        "asker_name": question.asker_name,
        "asker_group": question.asker_group,
        "asker_named_publicly": question.asker_named_publicly,
        "reject_reason": question.reject_reason or None,
        "reject_note": question.reject_note,
        "merged_into": question.merged_into_id,
        "merged_from": sorted(merged.pk for merged in question.merged_questions.all()),
        "created_at": iso(question.created_at),
        "on_air_at": iso(question.on_air_at),
        "answered_at": iso(question.answered_at),
        "answer": answer_view(question),
        "supports": question.supports_published,
        "version": question.version,
    }


def topic_view(topic: Topic) -> dict[str, Any]:
    return {
        "code": topic.code,
        "label": topic.label,
        "label_en": topic.label_en,
        "position": topic.position,
    }


_APPROVED_OR_LATER = (QuestionStatus.APPROVED, QuestionStatus.ON_AIR, QuestionStatus.ANSWERED)


def tally_view(rows: list[dict]) -> dict[str, Any]:
    """Counts for one hall from (status, reject_reason, n) rows. They add up:
    received = pending + approved + merged + withdrawn + rejected."""
    by_status: dict[str, int] = defaultdict(int)
    rejected: dict[str, int] = {}
    for row in rows:
        by_status[row["status"]] += row["n"]
        if row["status"] == QuestionStatus.REJECTED:
            rejected[row["reject_reason"]] = rejected.get(row["reject_reason"], 0) + row["n"]
    return {
        "received": sum(by_status.values()),
        "pending": by_status[QuestionStatus.SUBMITTED],
        "approved": sum(by_status[s] for s in _APPROVED_OR_LATER),
        "answered": by_status[QuestionStatus.ANSWERED],
        "merged": by_status[QuestionStatus.MERGED],
        "withdrawn": by_status[QuestionStatus.WITHDRAWN],
        "rejected": sum(rejected.values()),
        "rejected_by_reason": dict(sorted(rejected.items())),
    }


def live_supports(meeting: Meeting, question_ids: Iterable[int]) -> dict[int, dict[str, int]]:
    """Each question's votes by the hall of the phone that cast them, with the votes of the
    questions merged into it (at any depth, as its vote count has them), counted now: two
    queries, however many questions. Votes stored before phones' ids named their hall are not
    in it."""
    wanted = set(question_ids)
    parent = dict(
        Question.objects.filter(meeting=meeting, status=QuestionStatus.MERGED).values_list(
            "pk", "merged_into_id"
        )
    )

    def root(pk: int) -> int | None:
        seen = set()
        while pk not in wanted:
            if pk not in parent or pk in seen:
                return None
            seen.add(pk)
            pk = parent[pk]
        return pk

    counted = {pk: root(pk) for pk in [*wanted, *parent]}
    counted = {pk: top for pk, top in counted.items() if top is not None}
    supports: dict[int, Counter] = {pk: Counter() for pk in wanted}
    rows = (
        Vote.objects.filter(question_id__in=list(counted), hall__isnull=False)
        .values_list("question_id", "hall_id")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for question_id, hall_id, n in rows:
        supports[counted[question_id]][str(hall_id)] += n
    return {
        pk: {hall: counts[hall] for hall in sorted(counts, key=int)}
        for pk, counts in supports.items()
    }


def _tally_rows(**filters) -> list[dict]:
    return list(
        Question.objects.filter(**filters)
        .values("hall_id", "status", "reject_reason")
        .annotate(n=Count("id"))
        .order_by()
    )


def meeting_tally(meeting: Meeting) -> dict[str, dict[str, Any]]:
    """Halls that have received at least one question, keyed by hall id: the live counts."""
    by_hall: dict[int, list[dict]] = defaultdict(list)
    for row in _tally_rows(meeting=meeting):
        by_hall[row["hall_id"]].append(row)
    return {str(hall_id): tally_view(rows) for hall_id, rows in by_hall.items()}


def announced_tally(meeting: Meeting) -> dict[str, dict[str, Any]]:
    """The counts as the record last announced them (``public.tally``), keyed by hall id."""
    return {
        str(hall_id): counts
        for hall_id, counts in AnnouncedTally.objects.filter(meeting=meeting).values_list(
            "hall_id", "counts"
        )
    }


def _latest_clips(meeting: Meeting) -> dict[str, Any]:
    from meetings.rooms.models import Clip, ClipStatus
    from meetings.rooms.services.recordings import clip_view

    clips = {}
    for clip in Clip.objects.filter(meeting=meeting, status=ClipStatus.READY).order_by("pk"):
        clips[str(clip.question_id)] = clip_view(clip)  # the latest one stays
    return clips


@register_state_section
def questions_sections(meeting: Meeting, audience: Audience) -> dict[str, Any]:
    questions = list(with_related(Question.objects.filter(meeting=meeting)))
    give_origins(questions, MergeTree.of_questions(questions))
    state: dict[str, Any] = {
        "questions": {
            str(q.pk): question_public_view(q) for q in questions if q.status in PUBLIC_STATUSES
        },
        "tally": announced_tally(meeting),
        "topics": {t.code: topic_view(t) for t in meeting.topics.all()},
        "clips": _latest_clips(meeting),
    }
    if audience == Audience.STAFF:
        state["moderation"] = {str(q.pk): question_moderation_view(q) for q in questions}
    return state
