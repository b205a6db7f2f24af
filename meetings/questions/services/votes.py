"""Voters' support for approved questions.

A vote is stored at once (one per phone per question) and announced with the next batch of
counts (services/counts.py): at most every COUNTS_PUBLISH_SECONDS per conference, not one
``public`` entry per vote.
"""

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils.translation import gettext as _

from meetings.questions import limits
from meetings.questions.models import Question, QuestionStatus, Vote
from meetings.questions.services.counts import publisher
from meetings.rooms.errors import Conflict, DomainError, NotFound
from meetings.rooms.models import Meeting

VOTABLE = (QuestionStatus.APPROVED, QuestionStatus.ON_AIR)


def question_vote(*, meeting: Meeting, question_id: int, device_hash: str) -> bool:
    """Support a question of this conference from one phone; returns whether this vote is new.
    Voting twice is not an error: the second changes nothing.

    Two statements when all is well: the vote (a phone voting again fails here, before touching
    the question's row, which every phone voting for it updates), then the count, only if the
    question is this conference's and open to votes. Otherwise nothing is kept and the reason
    is looked up."""
    limits.take(
        f"vote:device:{device_hash}",
        settings.VOTE_LIMIT_PER_DEVICE,
        _("You have voted many times in a short while. Please wait a minute."),
    )
    lowest, highest = connection.ops.integer_field_range(Question._meta.pk.get_internal_type())
    if not lowest <= question_id <= highest:  # no question has it; the insert would overflow
        raise _refusal(meeting, question_id)
    votable = Question.objects.filter(pk=question_id, meeting=meeting, status__in=VOTABLE)
    try:
        with transaction.atomic():
            Vote.objects.create(question_id=question_id, device_hash=device_hash)
            if not votable.update(vote_count=F("vote_count") + 1):
                raise _refusal(meeting, question_id)
    except IntegrityError:
        # This phone had voted for it already (nothing of this attempt was kept), or there is
        # no such question.
        if votable.exists():
            return False
        raise _refusal(meeting, question_id) from None
    publisher.schedule(meeting)
    return True


def _refusal(meeting: Meeting, question_id: int) -> DomainError:
    if not Question.objects.filter(pk=question_id, meeting=meeting).exists():
        return NotFound(_("There is no such question at this conference."))
    return Conflict(_("Only questions in the queue or on air can be supported."))
