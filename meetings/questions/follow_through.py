"""Where a follow-up stands: a question promised a written answer, or referred to an agency, is
awaiting its answer, answered, or overdue. Computed here and nowhere else, for the conference's
follow-ups, the round's follow-through page and the public page of the round.

A follow-up is overdue from the day after its due date, as the day is in the conference's time
zone (the installation's ``TIME_ZONE``: conferences have no zone of their own): due today is not
overdue yet. One that has its written answer is answered, whenever it came."""

import datetime
import zoneinfo
from dataclasses import dataclass
from enum import StrEnum

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from meetings.questions.models import Answer, AnswerKind
from meetings.rooms.models import Meeting

FOLLOW_UP_KINDS = (AnswerKind.WRITTEN, AnswerKind.REFERRED)


class FollowState(StrEnum):
    AWAITING = "awaiting"
    ANSWERED = "answered"
    OVERDUE = "overdue"


STATE_LABELS = {
    FollowState.AWAITING: _("Awaiting the answer"),
    FollowState.ANSWERED: _("Answered"),
    FollowState.OVERDUE: _("Overdue"),
}


def conference_today(meeting: Meeting | None = None, *, now: datetime.datetime | None = None):
    """Today's date where the conference is held (its time zone is the installation's)."""
    zone = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    return (now or timezone.now()).astimezone(zone).date()


@dataclass(frozen=True)
class Standing:
    state: FollowState
    days_overdue: int = 0

    @property
    def label(self) -> str:
        return str(STATE_LABELS[self.state])


def standing(answer: Answer, *, today: datetime.date) -> Standing:
    """Where the follow-up of ``answer`` stands on ``today`` (``conference_today``)."""
    if answer.written_answer:
        return Standing(FollowState.ANSWERED)
    if answer.due_date is not None and answer.due_date < today:
        return Standing(FollowState.OVERDUE, (today - answer.due_date).days)
    return Standing(FollowState.AWAITING)
