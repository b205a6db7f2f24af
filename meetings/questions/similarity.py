"""Suggesting likely duplicates across halls, for merging."""

from dataclasses import dataclass

from rapidfuzz import fuzz, process

from meetings.questions.models import Question, QuestionStatus

# Questions a duplicate can be merged into, and the lowest score worth suggesting.
MERGE_TARGETS = (
    QuestionStatus.SUBMITTED,
    QuestionStatus.APPROVED,
    QuestionStatus.ON_AIR,
    QuestionStatus.ANSWERED,
)
MIN_SCORE = 60


@dataclass(frozen=True)
class Suggestion:
    question: Question
    score: int


def similar_questions(question: Question, *, limit: int = 5) -> list[Suggestion]:
    """Other questions of the meeting that read alike, best first.

    token_set_ratio on the diacritic-free form copes with reordered words and with one
    question containing the other; the score is 0 to 100.
    """
    others = {
        other.pk: other
        for other in Question.objects.filter(meeting=question.meeting_id, status__in=MERGE_TARGETS)
        .exclude(pk=question.pk)
        .only("id", "text", "match_text", "hall_id", "status", "meeting_id")
    }
    if not question.match_text or not others:
        return []
    matches = process.extract(
        question.match_text,
        {pk: other.match_text for pk, other in others.items()},
        scorer=fuzz.token_set_ratio,
        score_cutoff=MIN_SCORE,
        limit=limit,
    )
    return [Suggestion(others[pk], round(score)) for _text, score, pk in matches]
