"""What each write costs the database, through the API as the screens call it. Each request's
statements are pinned at what it needs, so that a change that adds one fails here.

Counted as in production: each request in its own transaction (no test transaction around it,
so BEGIN and COMMIT count), with the counts publisher on a server loop as under Daphne, so that
announcing counts is left to its batch (pinned on its own below). The same numbers hold on
SQLite and on PostgreSQL.
"""

import pytest
from django.test import Client

from meetings.questions.models import Question
from meetings.questions.services import counts, moderation
from meetings.rooms.models import JoinLinkKind
from tests.questions.helpers import (
    ask,
    open_conference,
    phone_client,
    send_question,
    signed_in,
)

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def conference(server_loop, settings):
    settings.COUNTS_PUBLISH_SECONDS = 3600  # the timer is armed, the batch never runs here
    return open_conference()


def post(client: Client, path: str, body: dict | None = None):
    return client.post(f"/api/meetings/hn-test/{path}", body or {}, content_type="application/json")


def test_a_phone_gets_its_device_id(conference, django_assert_max_num_queries):
    phone_page = Client(
        headers={"X-Join-Link": conference.token(conference.halls[0], JoinLinkKind.VOTER)}
    )
    # The link with its hall and meeting; BEGIN; the hall locked; its ids of the last window;
    # the new one; COMMIT.
    with django_assert_max_num_queries(6):
        response = post(phone_page, "device")
    assert response.status_code == 201


def test_a_phone_sends_a_question(conference, django_assert_max_num_queries):
    phone_api = phone_client(conference)
    # The link with its hall and meeting; is this client id new; BEGIN; the record's lock; is
    # the intake open; the question; its staff entry and the record's head; COMMIT.
    with django_assert_max_num_queries(9):
        response = send_question(phone_api, "Khi nào sửa đường liên thôn?")
    assert response.status_code == 201
    assert Question.objects.filter(pk=response.json()["question"]["id"]).exists()


def test_a_phone_sends_the_same_question_again(conference, django_assert_max_num_queries):
    phone_api = phone_client(conference)
    first = send_question(phone_api, "Câu hỏi gửi lại")
    client_id = first.json()["question"]["client_id"]
    with django_assert_max_num_queries(2):  # the link; the question already received
        again = send_question(phone_api, "Câu hỏi gửi lại", client_id=client_id)
    assert again.status_code == 200 and again.json()["created"] is False


def test_a_moderator_approves(conference, django_assert_max_num_queries):
    question = ask(conference, "Trạm y tế thiếu bác sĩ")
    chair = signed_in(conference.chair)
    # Session and account; the grants with their meeting; the question; BEGIN; the lock; the
    # conditional UPDATE (its place at the end of the queue computed in it); the question as it
    # is now; staff and public entries, each with the head; COMMIT.
    with django_assert_max_num_queries(13):
        response = post(chair, f"questions/{question.pk}/approve")
    assert response.status_code == 200
    assert response.json()["status"] == "approved"
    assert Question.objects.get(pk=question.pk).position == 1


def test_a_moderator_rejects(conference, django_assert_max_num_queries):
    question = ask(conference, "Câu hỏi lạc đề")
    chair = signed_in(conference.chair)
    with django_assert_max_num_queries(13):  # as approving
        response = post(chair, f"questions/{question.pk}/reject", {"reason": "off_topic"})
    assert response.status_code == 200 and response.json()["status"] == "rejected"


def test_the_slower_of_two_moderators_costs_little_more(conference, django_assert_max_num_queries):
    question = ask(conference, "Hai người cùng duyệt")
    chair, secretary = signed_in(conference.chair), signed_in(conference.secretary)
    assert post(chair, f"questions/{question.pk}/approve").status_code == 200
    # Its copy is stale: the UPDATE finds nothing, the question is read again under the lock,
    # and the answer carries it as it is now.
    with django_assert_max_num_queries(9):
        response = post(secretary, f"questions/{question.pk}/approve")
    assert response.status_code == 409
    assert response.json()["detail"]["question"]["status"] == "approved"


def test_a_phone_votes(conference, django_assert_max_num_queries):
    question = moderation.question_approve(
        question=ask(conference, "Đề nghị làm đường"), actor=conference.actor
    )
    phone_api = phone_client(conference, device=7)
    path = f"questions/{question.pk}/vote"
    with django_assert_max_num_queries(5):  # the link; BEGIN; the vote; the count; COMMIT
        response = post(phone_api, path)
    assert response.json() == {"question": question.pk, "voted": True}
    # The link; BEGIN; the vote, refused by the database; ROLLBACK; is the question votable.
    with django_assert_max_num_queries(5):
        again = post(phone_api, path)
    assert again.json()["voted"] is False
    assert Question.objects.get(pk=question.pk).vote_count == 1


def test_announcing_a_batch_of_counts(conference, django_assert_max_num_queries):
    question = moderation.question_approve(
        question=ask(conference, "Đề nghị làm cầu"), actor=conference.actor
    )
    for device in (2, 3, 4):
        assert post(phone_client(conference, device=device), f"questions/{question.pk}/vote")
    for hall in (1, 2):
        send_question(phone_client(conference, hall=hall, device=5), "Câu hỏi của hội trường")
    # BEGIN; the lock; votes to announce; the tallies announced and the live ones; the merged
    # questions and the votes by hall (for staff); the votes and supports marked announced;
    # public.votes and moderation.supports, each with the head; the tallies stored;
    # public.tally with the head; COMMIT. However many questions and halls changed.
    with django_assert_max_num_queries(16):
        announced = counts.counts_publish(meeting=conference.meeting)
    assert announced == counts.CountsAnnounced(questions=1, halls=3)
