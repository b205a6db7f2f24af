"""Speaking time per candidate: in their presentations (agenda items) and in their answers
(from a question going on air to it being marked answered), against the equal allowance."""

from dataclasses import dataclass, field

from django.utils import timezone

from meetings.questions.models import Answer
from meetings.rooms.models import AgendaItemKind, Meeting


@dataclass
class SpeakingTime:
    candidate_id: int
    name: str
    presentation_seconds: int = 0
    allowance_seconds: int = 0
    answer_seconds: int = 0
    answers: int = 0
    running_since: str | None = field(default=None)

    @property
    def total_seconds(self) -> int:
        return self.presentation_seconds + self.answer_seconds

    def as_dict(self) -> dict:
        return {
            "candidate_id": self.candidate_id,
            "name": self.name,
            "presentation_seconds": self.presentation_seconds,
            "allowance_seconds": self.allowance_seconds,
            "answer_seconds": self.answer_seconds,
            "answers": self.answers,
            "total_seconds": self.total_seconds,
        }


def speaking_time(meeting: Meeting) -> list[SpeakingTime]:
    """Per candidate, in the candidates' order. A presentation still running counts up to now."""
    now = timezone.now()
    times = {c.pk: SpeakingTime(c.pk, c.name) for c in meeting.candidates.all()}
    for item in meeting.agenda.filter(kind=AgendaItemKind.PRESENTATION, candidate__isnull=False):
        entry = times[item.candidate_id]
        entry.allowance_seconds += item.allowance_seconds
        if item.started_at:
            entry.presentation_seconds += int(
                ((item.ended_at or now) - item.started_at).total_seconds()
            )
    answers = Answer.objects.filter(
        question__meeting=meeting, candidate__isnull=False
    ).select_related("question")
    for answer in answers:
        question = answer.question
        if question.on_air_at and question.answered_at:
            entry = times[answer.candidate_id]
            entry.answer_seconds += int((question.answered_at - question.on_air_at).total_seconds())
            entry.answers += 1
    return list(times.values())
