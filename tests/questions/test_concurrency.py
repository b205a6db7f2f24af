"""Races against real PostgreSQL: two moderators at once, and a phone retrying in a hurry."""

import threading
import uuid
from collections.abc import Callable

import pytest
from django.db import connection
from django.test import Client

from meetings.questions.models import Question
from meetings.questions.services import moderation
from meetings.rooms.errors import Conflict
from meetings.rooms.models import Event, JoinLinkKind
from tests.questions.helpers import ask, open_conference, phone

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def at_once(*actions: Callable[[], object]) -> list[object]:
    """Run the actions in threads released together; each result or the exception raised."""
    barrier = threading.Barrier(len(actions))
    results: list[object] = [None] * len(actions)

    def run(index, action):
        try:
            barrier.wait()
            results[index] = action()
        except Exception as error:
            results[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, a)) for i, a in enumerate(actions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


@pytest.mark.parametrize("rounds", range(5))
def test_approve_and_reject_at_once_exactly_one_wins(rounds):
    conference = open_conference(f"race-{rounds}")
    question = ask(conference)
    approve = lambda: moderation.question_approve(question=question, actor=conference.actor)  # noqa: E731
    reject = lambda: moderation.question_reject(  # noqa: E731
        question=question, reason="unclear", actor=conference.actor
    )
    outcomes = at_once(approve, reject)
    conflicts = [o for o in outcomes if isinstance(o, Conflict)]
    winners = [o for o in outcomes if isinstance(o, Question)]
    assert len(winners) == 1 and len(conflicts) == 1, outcomes
    question.refresh_from_db()
    assert question.status == winners[0].status
    # The loser is told the question's state now, which is the winner's.
    assert conflicts[0].detail["question"]["status"] == question.status
    moves = Event.objects.filter(
        meeting=conference.meeting, type__in=["question.approved", "question.rejected"]
    )
    assert moves.count() == 1


def test_two_moderators_over_http_one_gets_409_with_the_current_state():
    conference = open_conference("race-http")
    question = ask(conference)

    def signed_in(user):
        client = Client()
        client.force_login(user)
        client.get("/meetings/")
        return client

    chair, secretary = signed_in(conference.chair), signed_in(conference.secretary)

    def post(client, action, body):
        return client.post(
            f"/api/meetings/race-http/questions/{question.pk}/{action}",
            body,
            content_type="application/json",
            headers={"X-CSRFToken": client.cookies["csrftoken"].value},
        )

    responses = at_once(
        lambda: post(chair, "approve", {}),
        lambda: post(secretary, "reject", {"reason": "off_topic"}),
    )
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200, 409]
    lost = next(r for r in responses if r.status_code == 409).json()
    assert lost["code"] == "conflict"
    assert lost["detail"]["question"]["status"] in ("approved", "rejected")


def test_the_same_client_id_five_times_some_at_once_makes_one_question():
    conference = open_conference("retry")
    link = conference.token(conference.halls[0], JoinLinkKind.VOTER)
    device = phone(conference, 1)
    client_id = str(uuid.uuid4())

    def send():
        response = Client().post(
            "/api/meetings/retry/questions",
            {"client_id": client_id, "text": "Gửi năm lần, nhận một lần"},
            content_type="application/json",
            headers={"X-Join-Link": link, "X-Device-Id": device},
        )
        return response.status_code

    first_wave = at_once(send, send, send)
    second_wave = [send(), send()]
    codes = first_wave + second_wave
    assert codes.count(201) == 1 and codes.count(200) == 4, codes
    assert Question.objects.filter(meeting=conference.meeting, client_id=client_id).count() == 1
    assert Event.objects.filter(meeting=conference.meeting, type="question.submitted").count() == 1
