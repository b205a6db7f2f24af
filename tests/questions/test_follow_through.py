"""Follow-through: a referral needs a due date; where a follow-up stands (overdue from the day
after its due date, in the conference's time zone); moving a due date and recording an agency's
answer go on the conference's record, also after its end; the round's organisers record answers
from the round's page and still act in no queue."""

import datetime

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import Client

from meetings.questions.follow_through import FollowState, conference_today, standing
from meetings.questions.models import Answer, Question
from meetings.questions.services import air, followups, moderation
from meetings.rooms.errors import Conflict, Invalid
from meetings.rooms.models import Event, MeetingStatus
from meetings.rooms.services import meetings
from meetings.rooms.services.rounds import round_organiser_grant
from tests.factories import make_round, make_user
from tests.questions.follow_through_world import answered
from tests.questions.helpers import ask, open_conference, signed_in

pytestmark = pytest.mark.django_db


def on_air(conference, text="Đề nghị sửa cầu treo", device=1):
    question = moderation.question_approve(
        question=ask(conference, text, device=device), actor=conference.actor
    )
    return air.question_put_on_air(question=question, actor=conference.actor)


def entries(meeting, type):
    return list(Event.objects.filter(meeting=meeting, type=type).order_by("seq"))


def test_a_referral_needs_a_due_date_and_nothing_changes_without_one():
    conference = open_conference()
    question = on_air(conference)
    before = Event.objects.filter(meeting=conference.meeting).count()
    with pytest.raises(Invalid, match="due"):
        air.question_answer(
            question=question, kind="referred", agency="Sở Xây dựng", actor=conference.actor
        )
    question.refresh_from_db()
    assert question.status == "on_air" and not Answer.objects.filter(question=question).exists()
    assert Event.objects.filter(meeting=conference.meeting).count() == before
    # Over the API: a 400 in the API's error shape, in Vietnamese by default; nothing changed.
    chair = signed_in(conference.chair)
    response = chair.post(
        f"/api/meetings/hn-test/questions/{question.pk}/answer",
        {"kind": "referred", "agency": "Sở Xây dựng", "expected_version": question.version},
        content_type="application/json",
    )
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "invalid"
    assert "hạn" in response.json()["message"]
    assert Event.objects.filter(meeting=conference.meeting).count() == before
    # With one, it is kept.
    response = chair.post(
        f"/api/meetings/hn-test/questions/{question.pk}/answer",
        {
            "kind": "referred",
            "agency": "Sở Xây dựng",
            "due_date": "2027-02-15",
            "expected_version": question.version,
        },
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["answer"]["due_date"] == "2027-02-15"
    assert Answer.objects.get(question=question).due_date == datetime.date(2027, 2, 15)


def test_overdue_from_the_day_after_the_due_date_in_the_conference_time_zone(settings):
    settings.TIME_ZONE = "Asia/Ho_Chi_Minh"
    answer = Answer(kind="referred", agency="Sở Y tế", due_date=datetime.date(2027, 3, 1))
    assert standing(answer, today=datetime.date(2027, 2, 28)).state == FollowState.AWAITING
    assert standing(answer, today=datetime.date(2027, 3, 1)).state == FollowState.AWAITING
    late = standing(answer, today=datetime.date(2027, 3, 2))
    assert (late.state, late.days_overdue) == (FollowState.OVERDUE, 1)
    assert standing(answer, today=datetime.date(2027, 3, 11)).days_overdue == 10
    answer.written_answer = "Đã trả lời"
    assert standing(answer, today=datetime.date(2027, 3, 11)).state == FollowState.ANSWERED
    # 1 March 17:30 UTC is already 2 March in Hanoi (UTC+7): overdue there, as the day is
    # counted where the conference is held.
    evening = datetime.datetime(2027, 3, 1, 17, 30, tzinfo=datetime.UTC)
    assert conference_today(now=evening) == datetime.date(2027, 3, 2)
    settings.TIME_ZONE = "UTC"
    assert conference_today(now=evening) == datetime.date(2027, 3, 1)


def test_the_follow_ups_list_marks_overdue_as_standing_says():
    conference = open_conference()
    today = conference_today()
    due_today = answered(
        conference,
        "Hạn hôm nay",
        hall=0,
        device=1,
        kind="referred",
        topic="health",
        agency="Sở Y tế",
        due=today,
    )
    late = answered(
        conference,
        "Quá hạn",
        hall=0,
        device=2,
        kind="written",
        topic="health",
        due=today - datetime.timedelta(days=1),
    )
    overdue = {item.question.pk: item.overdue for item in followups.follow_ups(conference.meeting)}
    assert overdue == {due_today.pk: False, late.pk: True}
    listed = signed_in(conference.observer).get("/api/meetings/hn-test/follow-ups").json()
    assert {row["question"]["id"]: row["overdue"] for row in listed} == overdue
    states = {row["question"]["id"]: (row["state"], row["days_overdue"]) for row in listed}
    assert states == {due_today.pk: ("awaiting", 0), late.pk: ("overdue", 1)}


def test_moving_a_due_date_and_recording_the_answer_go_on_the_record_also_after_the_end():
    conference = open_conference()
    actor = conference.actor
    question = answered(
        conference,
        "Đề nghị nạo vét kênh",
        hall=0,
        device=1,
        kind="referred",
        topic="infrastructure",
        agency="Sở Nông nghiệp",
    )
    meetings.meeting_transition(
        meeting=conference.meeting, to_status=MeetingStatus.ENDED, actor=actor
    )
    question.refresh_from_db()
    for bad in (
        {"due_date": datetime.date(2027, 3, 1), "reason": "  "},
        {"due_date": question.answer.due_date, "reason": "Không đổi"},
        {"due_date": datetime.date(2020, 1, 1), "reason": "Trước ngày trả lời"},
    ):
        with pytest.raises(Invalid):
            followups.answer_move_due_date(question=question, actor=actor, **bad)
    assert entries(conference.meeting, "question.due_date_moved") == []
    followups.answer_move_due_date(
        question=question,
        due_date=datetime.date(2027, 3, 1),
        reason="Sở đề nghị gia hạn để khảo sát",
        actor=actor,
    )
    (staff,) = entries(conference.meeting, "question.due_date_moved")
    (public,) = entries(conference.meeting, "public.due_date_moved")
    assert staff.payload["from"] == "2027-01-31" and staff.payload["to"] == "2027-03-01"
    assert public.payload["reason"] == "Sở đề nghị gia hạn để khảo sát"
    with pytest.raises(Invalid):  # received on a day still to come
        followups.answer_attach_written(
            question=question,
            text="x",
            received_on=conference_today() + datetime.timedelta(days=1),
            actor=actor,
        )
    followups.answer_attach_written(
        question=question,
        text="Sở đã bố trí kinh phí nạo vét năm 2027.",
        answered_by="Phòng Thủy lợi, Sở Nông nghiệp",
        received_on=datetime.date(2026, 12, 1),
        actor=actor,
    )
    (followed,) = entries(conference.meeting, "public.followed_up")
    assert followed.payload["answered_by"] == "Phòng Thủy lợi, Sở Nông nghiệp"
    assert followed.payload["received_on"] == "2026-12-01"
    answer = Answer.objects.get(question=question)
    assert answer.written_answer_received == datetime.date(2026, 12, 1)
    # The answer has come: the due date stays.
    with pytest.raises(Conflict):
        followups.answer_move_due_date(
            question=question, due_date=datetime.date(2027, 4, 1), reason="Muộn", actor=actor
        )


def test_the_due_date_over_the_api_for_moderators():
    conference = open_conference()
    question = answered(
        conference, "Đề nghị làm cầu", hall=0, device=1, kind="written", topic="infrastructure"
    )
    url = f"/api/meetings/hn-test/questions/{question.pk}/due-date"
    body = {"due_date": "2027-02-28", "reason": "Chờ ý kiến của tỉnh"}
    assert (
        signed_in(conference.observer).post(url, body, content_type="application/json")
    ).status_code == 403
    response = signed_in(conference.secretary).post(url, body, content_type="application/json")
    assert response.status_code == 200 and response.json()["answer"]["due_date"] == "2027-02-28"
    empty = signed_in(conference.secretary).post(
        url, {"due_date": "2027-03-28", "reason": ""}, content_type="application/json"
    )
    assert empty.status_code == 400
    assert Answer.objects.get(question=question).due_date == datetime.date(2027, 2, 28)


def test_an_organiser_records_answers_on_the_round_page_and_acts_in_no_queue():
    round = make_round("dot-theo-doi")
    conference = open_conference("hn-round", round=round)
    organiser = make_user("organiser")
    round_organiser_grant(round=round, user=organiser, actor=conference.actor)
    question = answered(
        conference,
        "Đề nghị sửa trạm bơm",
        hall=0,
        device=1,
        kind="referred",
        topic="infrastructure",
        agency="Công ty Thủy lợi",
    )
    waiting = moderation.question_approve(
        question=ask(conference, "Câu hỏi trong hàng đợi", device=2), actor=conference.actor
    )
    meetings.meeting_transition(
        meeting=conference.meeting, to_status=MeetingStatus.ENDED, actor=conference.actor
    )
    page = "/rounds/dot-theo-doi/follow-through/"
    browser = Client()
    browser.force_login(organiser)
    listed = browser.get(page)
    assert listed.status_code == 200 and "Đề nghị sửa trạm bơm" in listed.content.decode()
    assert "no-store" in listed["Cache-Control"]
    # The conference's follow-ups page leads its organisers there (and only them).
    assert f'href="{page}"' in browser.get("/meetings/hn-round/follow-ups/").content.decode()
    secretary = Client()
    secretary.force_login(conference.secretary)
    assert page not in secretary.get("/meetings/hn-round/follow-ups/").content.decode()
    moved = browser.post(
        page,
        {
            "action": "due_date",
            "question": question.pk,
            "due_date": "2027-05-01",
            "reason": "Chờ vốn",
            "query": "state=awaiting",
        },
    )
    assert moved.status_code == 302 and moved["Location"] == page + "?state=awaiting"
    browser.post(
        page,
        {
            "action": "written_answer",
            "question": question.pk,
            "text": "Đã sửa xong trạm bơm.",
            "answered_by": "Giám đốc Công ty",
            "received_on": "2026-12-02",
        },
    )
    answer = Answer.objects.get(question=question)
    assert answer.due_date == datetime.date(2027, 5, 1)
    assert (answer.written_answer, answer.written_answer_from) == (
        "Đã sửa xong trạm bơm.",
        "Giám đốc Công ty",
    )
    (followed,) = entries(conference.meeting, "question.followed_up")
    assert followed.actor_id == organiser.pk and followed.payload["question"] == question.pk
    (moved_entry,) = entries(conference.meeting, "question.due_date_moved")
    assert moved_entry.actor_id == organiser.pk and moved_entry.payload["reason"] == "Chờ vốn"
    # A bad date or a question of another round: an error on the page, nothing changed.
    other = open_conference("hn-other", round=make_round("dot-khac"))
    stranger = answered(
        other,
        "Câu của đợt khác",
        hall=0,
        device=1,
        kind="referred",
        topic="health",
        agency="Sở Y tế",
    )
    refused = browser.post(
        page,
        {"action": "written_answer", "question": stranger.pk, "text": "Không được"},
        follow=True,
    )
    assert "Không có câu hỏi này trong đợt" in refused.content.decode()
    assert not Answer.objects.get(question=stranger).written_answer
    # In the conference's queue the organiser still acts on nothing.
    api = signed_in(organiser)
    for path, body in (
        (f"questions/{waiting.pk}/on-air", {}),
        (f"questions/{question.pk}/written-answer", {"text": "x"}),
        (f"questions/{question.pk}/due-date", {"due_date": "2027-06-01", "reason": "x"}),
    ):
        response = api.post(f"/api/meetings/hn-round/{path}", body, content_type="application/json")
        assert response.status_code == 403, path
    # Nobody else is let in: the conference's secretary, an organiser of another round.
    for user in (conference.secretary, make_user("outsider")):
        client = Client()
        client.force_login(user)
        assert client.get(page).status_code == 403
        assert client.post(page, {"action": "due_date", "question": question.pk}).status_code == 403
    assert Client().get(page).status_code == 302  # to the sign-in page


@pytest.mark.django_db(transaction=True)
def test_the_migration_gives_old_referrals_a_due_date_30_days_after_the_answer(settings):
    conference = open_conference()
    question = answered(
        conference,
        "Kiến nghị cũ",
        hall=0,
        device=1,
        kind="referred",
        topic="health",
        agency="Sở Y tế",
    )
    # 23:00 UTC on 10 May 2026 is 11 May in Hanoi: 30 days after is 10 June.
    Answer.objects.filter(question=question).update(
        created_at=datetime.datetime(2026, 5, 10, 23, 0, tzinfo=datetime.UTC)
    )
    executor = MigrationExecutor(connection)
    executor.migrate([("questions", "0006_concerns")])
    with connection.cursor() as cursor:  # as it was before referrals needed a due date
        cursor.execute(
            "UPDATE questions_answer SET due_date = NULL WHERE question_id = %s", [question.pk]
        )
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate([("questions", "0007_referral_due_dates")])
    answer = Answer.objects.get(question=question)
    assert answer.due_date == datetime.date(2026, 6, 10)
    assert Question.objects.get(pk=question.pk).status == "answered"
