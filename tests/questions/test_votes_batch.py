"""Votes stored in batches (services/votes.py ``question_votes``): what the phones' websockets
use. Each vote of a batch gets the outcome it would have had alone, in one transaction."""

import pytest

from meetings.questions.models import Question, Vote
from meetings.questions.services import moderation
from meetings.questions.services.votes import VoteRequest, question_vote, question_votes
from meetings.rooms.errors import Conflict, NotFound, RateLimited
from tests.questions.helpers import ask, open_conference, phone_device

pytestmark = pytest.mark.django_db


def request(conference, question, n: int) -> VoteRequest:
    question_id = question if isinstance(question, int) else question.pk
    return VoteRequest(question_id=question_id, device=phone_device(conference, n))


def test_a_batch_gives_each_vote_its_own_outcome(server_loop, django_assert_max_num_queries):
    conference = open_conference()
    first = ask(conference, "Đề nghị làm đường", device=1)
    second = ask(conference, "Trường học thiếu phòng", device=2)
    pending = ask(conference, "Câu hỏi chưa duyệt", device=3)
    for question in (first, second):
        moderation.question_approve(question=question, actor=conference.actor)
    question_vote(
        meeting=conference.meeting,
        question_id=first.pk,
        device=request(conference, first, 9).device,
    )

    batch = [
        request(conference, first, 1),  # new
        request(conference, first, 1),  # the same phone again in the same batch: not new
        request(conference, first, 9),  # voted before the batch: not new
        request(conference, second, 1),  # new
        request(conference, second, 2),  # new
        request(conference, pending, 1),  # not in the queue
        request(conference, 10**9, 1),  # no such question
    ]
    # One transaction for the batch (the votable questions, the votes held, the new votes, a
    # count per question), and a lookup for each refusal's reason.
    with server_loop.busy(), django_assert_max_num_queries(9):
        outcomes = question_votes(meeting=conference.meeting, votes=batch)
    assert outcomes[:5] == [True, False, False, True, True]
    assert isinstance(outcomes[5], Conflict)
    assert isinstance(outcomes[6], NotFound)
    counts = dict(
        Question.objects.filter(pk__in=[first.pk, second.pk]).values_list("pk", "vote_count")
    )
    assert counts == {first.pk: 2, second.pk: 2}
    assert Vote.objects.filter(question=pending).count() == 0


def test_a_phone_over_its_allowance_is_refused_within_a_batch(settings):
    settings.VOTE_LIMIT_PER_DEVICE = "2/1000000000"
    conference = open_conference()
    questions = [ask(conference, f"Câu hỏi số {n}", device=n) for n in range(1, 4)]
    for question in questions:
        moderation.question_approve(question=question, actor=conference.actor)
    outcomes = question_votes(
        meeting=conference.meeting,
        votes=[request(conference, question, 5) for question in questions],
    )
    assert outcomes[:2] == [True, True]
    assert isinstance(outcomes[2], RateLimited)
    assert Question.objects.get(pk=questions[2].pk).vote_count == 0
