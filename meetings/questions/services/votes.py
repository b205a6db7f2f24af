"""Voters' support for approved questions.

A vote is stored at once (one per phone per question) and announced with the next batch of
counts (services/counts.py): at most every COUNTS_PUBLISH_SECONDS per conference, not one
``public`` entry per vote.
"""

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils.translation import gettext as _

from meetings.questions import limits
from meetings.questions.models import Question, QuestionStatus, Vote
from meetings.questions.services.counts import publisher
from meetings.rooms.errors import Conflict

VOTABLE = (QuestionStatus.APPROVED, QuestionStatus.ON_AIR)


def question_vote(*, question: Question, device_hash: str) -> tuple[int, bool]:
    """Support a question from one phone; returns (its live count, whether this vote is new).
    Voting twice is not an error: the second changes nothing."""
    limits.take(
        f"vote:device:{device_hash}",
        settings.VOTE_LIMIT_PER_DEVICE,
        _("You have voted many times in a short while. Please wait a minute."),
    )
    with transaction.atomic():
        current = Question.objects.select_for_update().get(pk=question.pk)
        if current.status not in VOTABLE:
            raise Conflict(_("Only questions in the queue or on air can be supported."))
        try:
            with transaction.atomic():
                Vote.objects.create(question=current, device_hash=device_hash)
        except IntegrityError:
            return current.vote_count, False
        Question.objects.filter(pk=current.pk).update(vote_count=F("vote_count") + 1)
    publisher.schedule(question.meeting)
    return current.vote_count + 1, True
