"""Voters' support for approved questions.

A vote is stored at once (one per phone per question) and announced with the next batch of
counts (services/counts.py): at most every COUNTS_PUBLISH_SECONDS per conference, not one
``public`` entry per vote. Votes that arrive over the phones' websockets are stored in batches
(``question_votes``, one transaction for all the votes of a few tens of milliseconds): each
phone is answered once its vote is committed.

A phone is the device id the server issued it (questions/devices.py): a vote names its phone's
hall, so that moderators see the supports by hall.
"""

from collections import Counter
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils.translation import gettext as _

from meetings.questions import limits
from meetings.questions.devices import Device
from meetings.questions.models import Question, QuestionStatus, Vote
from meetings.questions.services.counts import publisher
from meetings.rooms.errors import Conflict, DomainError, MeetingEnded, NotFound
from meetings.rooms.models import Meeting
from meetings.rooms.services.events import ENDED_STATUSES

VOTABLE = (QuestionStatus.APPROVED, QuestionStatus.ON_AIR)


def _running(meeting: Meeting):
    """The conference, if it has not ended, as a subquery a vote's statement checks itself: a
    vote is refused once the end has committed, whatever the caller's copy of the meeting says
    (a phone's websocket keeps the one it connected with)."""
    return Meeting.objects.filter(pk=meeting.pk).exclude(status__in=ENDED_STATUSES).values("pk")


def _ended() -> MeetingEnded:
    return MeetingEnded(_("The conference has ended; it takes no more votes."))


def question_vote(*, meeting: Meeting, question_id: int, device: Device) -> bool:
    """Support a question of this conference from one phone; returns whether this vote is new.
    Voting twice is not an error: the second changes nothing.

    Two statements when all is well: the vote (a phone voting again fails here, before touching
    the question's row, which every phone voting for it updates), then the count, only if the
    question is this conference's and open to votes. Otherwise nothing is kept and the reason
    is looked up."""
    if meeting.status in ENDED_STATUSES:  # the caller's copy knows already: no allowance used
        raise _ended()
    _take_vote_allowance(device)
    return _question_vote_unlimited(meeting, question_id, device)


def _take_vote_allowance(device: Device) -> None:
    limits.take(
        f"vote:device:{device.hash}",
        settings.VOTE_LIMIT_PER_DEVICE,
        _("You have voted many times in a short while. Please wait a minute."),
    )


def _question_vote_unlimited(meeting: Meeting, question_id: int, device: Device) -> bool:
    lowest, highest = connection.ops.integer_field_range(Question._meta.pk.get_internal_type())
    if not lowest <= question_id <= highest:  # no question has it; the insert would overflow
        raise _refusal(meeting, question_id)
    votable = Question.objects.filter(
        pk=question_id, meeting=meeting, status__in=VOTABLE, meeting_id__in=_running(meeting)
    )
    try:
        with transaction.atomic():
            Vote.objects.create(
                question_id=question_id, device_hash=device.hash, hall_id=device.hall_id
            )
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


@dataclass(frozen=True)
class VoteRequest:
    question_id: int
    device: Device


def question_votes(*, meeting: Meeting, votes: list[VoteRequest]) -> list[bool | DomainError]:
    """Several phones' votes in this conference, in one transaction: for each, whether it is
    new, or why it is refused (as ``question_vote`` would; a refused vote keeps nothing).

    The votable questions are locked first, so none leaves the queue before its count moves;
    a vote that another process stored meanwhile (a phone sending twice at once) makes the
    batch fall back to one vote at a time."""
    if meeting.status in ENDED_STATUSES:
        return [_ended() for _vote in votes]
    outcomes: list[bool | DomainError | None] = [None] * len(votes)
    accepted: list[int] = []  # indexes of the votes within the rate limits
    for index, vote in enumerate(votes):
        try:
            _take_vote_allowance(vote.device)
        except DomainError as refusal:
            outcomes[index] = refusal
        else:
            accepted.append(index)
    lowest, highest = connection.ops.integer_field_range(Question._meta.pk.get_internal_type())
    asked = {votes[i].question_id for i in accepted if lowest <= votes[i].question_id <= highest}
    try:
        with transaction.atomic():
            votable = set(
                Question.objects.select_for_update()
                .filter(
                    pk__in=asked,
                    meeting=meeting,
                    status__in=VOTABLE,
                    meeting_id__in=_running(meeting),
                )
                .order_by("pk")  # every batch locks its questions in one order
                .values_list("pk", flat=True)
            )
            held = set(
                Vote.objects.filter(
                    question_id__in=votable,
                    device_hash__in={votes[i].device.hash for i in accepted},
                ).values_list("question_id", "device_hash")
            )
            new = []
            for index in accepted:
                vote = votes[index]
                key = (vote.question_id, vote.device.hash)
                if vote.question_id not in votable:
                    continue  # refused below, with the reason
                outcomes[index] = key not in held
                if key not in held:
                    held.add(key)
                    new.append(
                        Vote(
                            question_id=vote.question_id,
                            device_hash=vote.device.hash,
                            hall_id=vote.device.hall_id,
                        )
                    )
            Vote.objects.bulk_create(new)
            for question_id, count in Counter(vote.question_id for vote in new).items():
                Question.objects.filter(pk=question_id).update(vote_count=F("vote_count") + count)
    except IntegrityError:
        return [
            outcome if isinstance(outcome, DomainError) else _vote_alone(meeting, votes[index])
            for index, outcome in enumerate(outcomes)
        ]
    for index, outcome in enumerate(outcomes):
        if outcome is None:
            outcomes[index] = _refusal(meeting, votes[index].question_id)
    if any(outcome is True for outcome in outcomes):
        publisher.schedule(meeting)
    return outcomes


def _vote_alone(meeting: Meeting, vote: VoteRequest) -> bool | DomainError:
    try:
        return _question_vote_unlimited(meeting, vote.question_id, vote.device)
    except DomainError as refusal:
        return refusal


def _refusal(meeting: Meeting, question_id: int) -> DomainError:
    status = (
        Question.objects.filter(pk=question_id, meeting=meeting)
        .values_list("meeting__status", flat=True)
        .first()
    )
    if status is None:
        return NotFound(_("There is no such question at this conference."))
    if status in ENDED_STATUSES:
        return _ended()
    return Conflict(_("Only questions in the queue or on air can be supported."))
