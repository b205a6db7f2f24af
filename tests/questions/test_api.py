"""The questions API by caller: phones, kiosks, moderators, candidates, strangers."""

import uuid

import pytest
from django.test import Client

from meetings.questions.models import Question, Vote
from meetings.questions.services import moderation
from meetings.rooms.models import Event, JoinLinkKind
from tests.questions.helpers import ask, open_conference, phone, signed_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def conference():
    return open_conference()


def link_client(conference, kind=JoinLinkKind.VOTER, hall=0, device: int | None = 1, language="vi"):
    headers = {"X-Join-Link": conference.token(conference.halls[hall], kind)}
    if kind == JoinLinkKind.OPERATOR:
        headers = conference.kiosk_headers(conference.halls[hall])  # the hall's own screen
    if device is not None:
        headers["X-Device-Id"] = phone(conference, device, hall=conference.halls[hall])
    client = Client(headers=headers)
    client.cookies["django_language"] = language
    return client


def send(client, body, slug="hn-test"):
    body = {"client_id": str(uuid.uuid4()), **body}
    return client.post(f"/api/meetings/{slug}/questions", body, content_type="application/json")


def act(client, question, action, body=None):
    return client.post(
        f"/api/meetings/hn-test/questions/{question.pk}/{action}",
        body or {},
        content_type="application/json",
    )


def test_a_phone_sends_once_and_a_retry_returns_the_same(conference):
    phone_client = link_client(conference)
    client_id = str(uuid.uuid4())
    first = send(phone_client, {"client_id": client_id, "text": "Câu hỏi", "topic": "health"})
    assert first.status_code == 201
    assert first.json()["question"]["status"] == "submitted"
    again = send(phone_client, {"client_id": client_id, "text": "Câu hỏi"})
    assert again.status_code == 200 and again.json()["created"] is False
    assert again.json()["question"]["id"] == first.json()["question"]["id"]
    # Another phone using the same client id learns nothing about the question.
    stranger = send(link_client(conference, device=2), {"client_id": client_id, "text": "x"})
    assert stranger.status_code == 200 and stranger.json()["question"] is None


def test_a_phone_without_a_device_id_is_refused(conference):
    response = send(link_client(conference, device=None), {"text": "Câu hỏi"})
    assert response.status_code == 403 and response.json()["code"] == "unknown_device"
    assert Question.objects.count() == 0


def test_refusals_are_in_the_voters_language(conference):
    vi = send(link_client(conference, language="vi"), {"text": "   "})
    en = send(link_client(conference, language="en"), {"text": "   "})
    assert vi.status_code == en.status_code == 400
    assert en.json()["message"] == "Please write your question."
    assert vi.json()["message"] != en.json()["message"]


def test_an_overlong_question_is_refused_by_the_schema_or_the_service(conference):
    for text in ("x" * 1001, "y" * 5000):
        response = send(link_client(conference), {"text": text})
        assert response.status_code in (400, 422)
    assert Question.objects.count() == 0


def test_the_rate_limit_answers_429_with_a_wait(conference, settings):
    settings.QUESTION_LIMIT_PER_DEVICE = "1/1000000000"
    client = link_client(conference, language="en")
    assert send(client, {"text": "một"}).status_code == 201
    limited = send(client, {"text": "hai"})
    assert limited.status_code == 429
    assert limited.json()["detail"]["retry_after"] > 0
    assert "wait" in limited.json()["message"]


def test_a_busy_database_answers_503_and_keeps_nothing_half_done(conference, monkeypatch):
    from django.db import OperationalError

    from meetings.questions.services import submit

    def pool_exhausted(**kwargs):
        raise OperationalError("couldn't get a connection after 10.00 sec")

    # The question row is written; then the database gives out before the record is.
    monkeypatch.setattr(submit, "announce", pool_exhausted)
    questions, events = Question.objects.count(), Event.objects.count()
    busy = send(link_client(conference, language="en"), {"text": "Câu hỏi"})
    assert busy.status_code == 503
    assert busy["Retry-After"] == "5"
    assert busy.json()["code"] == "busy"
    assert "try again" in busy.json()["message"]
    assert (Question.objects.count(), Event.objects.count()) == (questions, events)


def test_a_kiosk_sends_paper_questions_for_its_own_hall(conference):
    kiosk = link_client(conference, JoinLinkKind.OPERATOR, hall=1, device=None)
    response = send(kiosk, {"text": "Phiếu giấy số 3", "asker_name": "Cụ Hà"})
    assert response.status_code == 201
    question = Question.objects.get()
    assert (question.source, question.hall) == ("paper", conference.halls[1])


def test_moderators_note_floor_questions_for_a_hall(conference):
    chair = signed_in(conference.chair)
    assert send(chair, {"text": "Ý kiến tại chỗ"}).status_code == 400  # which hall?
    response = send(chair, {"text": "Ý kiến tại chỗ", "hall_id": conference.halls[2].pk})
    assert response.status_code == 201
    assert Question.objects.get().source == "floor"


def test_candidates_and_observers_cannot_send_or_moderate(conference):
    question = ask(conference)
    for user in (conference.candidate_user, conference.observer):
        client = signed_in(user)
        assert send(client, {"text": "x", "hall_id": conference.halls[0].pk}).status_code == 403
        assert act(client, question, "approve").status_code == 403
    assert act(link_client(conference), question, "approve").status_code == 403
    question.refresh_from_db()
    assert question.status == "submitted"


def test_moderation_over_http_and_the_409_for_the_slower(conference):
    question = ask(conference)
    chair = signed_in(conference.chair)
    approved = act(chair, question, "approve", {"expected_version": 1})
    assert approved.status_code == 200 and approved.json()["status"] == "approved"
    again = act(
        signed_in(conference.secretary),
        question,
        "reject",
        {"reason": "unclear", "expected_version": 1},
    )
    assert again.status_code == 409
    assert again.json()["detail"]["question"]["status"] == "approved"
    bad_reason = act(chair, question, "reject", {"reason": "because"})
    assert bad_reason.status_code == 422


def test_voters_see_their_own_questions_and_withdraw_only_their_own(conference):
    mine = ask(conference, "của tôi", device=1)
    theirs = ask(conference, "của người khác", device=2)
    client = link_client(conference, device=1)
    listed = client.get("/api/meetings/hn-test/questions/mine").json()
    assert [q["id"] for q in listed] == [mine.pk]
    assert act(client, theirs, "withdraw").status_code == 403
    assert act(client, mine, "withdraw").json()["status"] == "withdrawn"


def test_voters_list_only_public_questions_without_askers(conference):
    hidden = ask(conference, "chưa duyệt", device=1, asker_name="Bà Mai")
    shown = ask(conference, "đã duyệt", device=2, asker_name="Ông Páo")
    act(signed_in(conference.chair), shown, "approve")
    listed = link_client(conference).get("/api/meetings/hn-test/questions").json()["questions"]
    assert [q["id"] for q in listed] == [shown.pk]
    assert "Ông Páo" not in str(listed) and hidden.pk not in [q["id"] for q in listed]
    staff = signed_in(conference.observer).get("/api/meetings/hn-test/questions?status=submitted")
    assert [q["asker_name"] for q in staff.json()["questions"]] == ["Bà Mai"]


def test_a_phone_votes_once_per_question(conference):
    question = ask(conference)
    act(signed_in(conference.chair), question, "approve")
    client = link_client(conference, device=7)
    assert act(client, question, "vote").json()["voted"] is True
    assert act(client, question, "vote").json()["voted"] is False
    assert act(link_client(conference, device=8), question, "vote").json()["voted"] is True
    question.refresh_from_db()
    assert question.vote_count == 2 and question.votes_published == 2
    assert act(signed_in(conference.chair), question, "vote").status_code == 403


def test_unapproved_questions_cannot_be_voted(conference):
    question = ask(conference)
    assert act(link_client(conference), question, "vote").status_code == 409
    assert Vote.objects.count() == 0 and Question.objects.get(pk=question.pk).vote_count == 0


def test_a_vote_for_a_question_no_longer_open_is_refused_even_from_a_phone_that_voted(conference):
    chair = signed_in(conference.chair)
    question = ask(conference)
    act(chair, question, "approve")
    client = link_client(conference, device=7)
    assert act(client, question, "vote").json()["voted"] is True
    act(chair, question, "on-air")
    act(chair, question, "answer", {"kind": "live"})
    assert act(client, question, "vote").status_code == 409
    assert act(link_client(conference, device=8), question, "vote").status_code == 409
    assert Vote.objects.count() == 1 and Question.objects.get(pk=question.pk).vote_count == 1


def test_a_vote_for_a_question_of_another_conference_or_none_is_not_found(conference):
    other = open_conference("hn-other")
    foreign = moderation.question_approve(question=ask(other), actor=other.actor)
    client = link_client(conference)
    assert act(client, foreign, "vote").status_code == 404
    for missing_id in (999999, 2**63 - 1):  # no such question: a 404
        missing = client.post(f"/api/meetings/hn-test/questions/{missing_id}/vote")
        assert missing.status_code == 404 and missing.json()["code"] == "not_found"
    for impossible_id in (0, 2**63, 10**30):  # no id can be this: refused by the schema
        refused = client.post(f"/api/meetings/hn-test/questions/{impossible_id}/vote")
        assert refused.status_code == 422 and refused.json()["code"] == "invalid"
    assert Vote.objects.count() == 0 and Question.objects.get(pk=foreign.pk).vote_count == 0


def test_the_whole_flow_over_http(conference):
    chair = signed_in(conference.chair)
    a = ask(conference, "Một", device=1)
    b = ask(conference, "Hai", device=2, hall=conference.halls[1])
    c = ask(conference, "Một nữa", device=3, hall=conference.halls[2])
    for q in (a, b):
        assert act(chair, q, "approve").status_code == 200
    similar = chair.get(f"/api/meetings/hn-test/questions/{c.pk}/similar").json()
    assert similar[0]["id"] == a.pk
    assert act(chair, c, "merge", {"into": a.pk}).json()["merged_into"] == a.pk
    assert act(chair, b, "move", {"index": 0}).json()["order"] == [b.pk, a.pk]
    suggestion = chair.get("/api/meetings/hn-test/queue/round-robin").json()["order"]
    assert sorted(suggestion) == sorted([a.pk, b.pk])
    applied = chair.post(
        "/api/meetings/hn-test/queue/order", {"order": suggestion}, content_type="application/json"
    )
    assert applied.json()["order"] == suggestion
    stale = chair.post(
        "/api/meetings/hn-test/queue/order", {"order": [a.pk]}, content_type="application/json"
    )
    assert stale.status_code == 409 and sorted(stale.json()["detail"]["order"]) == sorted(
        [a.pk, b.pk]
    )
    assert act(chair, a, "topic", {"topic": "land"}).json()["topic"] == "land"
    assert (
        act(chair, a, "address", {"candidate_id": conference.candidates[0].pk}).status_code == 200
    )
    assert act(chair, a, "edit", {"text": "Một (đã sửa)"}).json()["original_text"] == "Một"
    assert act(chair, a, "on-air").json()["status"] == "on_air"
    assert act(chair, b, "on-air").status_code == 409
    answered = act(
        chair,
        a,
        "answer",
        {"kind": "referred", "agency": "Sở Tài nguyên", "due_date": "2027-01-31"},
    )
    assert answered.json()["answer"]["agency"] == "Sở Tài nguyên"
    missing = act(chair, b, "answer", {"kind": "written"})
    assert missing.status_code in (400, 409)
    tally = link_client(conference).get("/api/meetings/hn-test/tally").json()
    assert tally[str(conference.halls[0].pk)]["answered"] == 1
    assert tally[str(conference.halls[2].pk)]["merged"] == 1
    closed = chair.post(
        "/api/meetings/hn-test/questions/intake", {"open": False}, content_type="application/json"
    )
    assert closed.json()["questions_open"] is False
    assert send(link_client(conference), {"text": "muộn"}).status_code == 409
    assert Event.objects.filter(type="meeting.questions_closed").exists()


def test_openapi_lists_the_question_endpoints():
    paths = Client().get("/api/openapi.json").json()["paths"]
    for path in (
        "/api/meetings/{slug}/questions",
        "/api/meetings/{slug}/questions/{question_id}/approve",
        "/api/meetings/{slug}/questions/{question_id}/vote",
        "/api/meetings/{slug}/queue/order",
    ):
        assert path in paths


def test_schema_refusals_have_the_same_shape_as_the_others(conference):
    response = send(link_client(conference, language="en"), {"text": "x" * 5000})
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "invalid" and body["message"] and isinstance(body["detail"], list)
