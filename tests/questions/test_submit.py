"""Receiving questions: validation, idempotent retries, the intake, rate limits."""

import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from meetings.questions.models import Question, QuestionSource
from meetings.questions.services.submit import question_submit
from meetings.questions.similarity import similar_questions
from meetings.questions.text import clean_text, match_form
from meetings.rooms.actors import Actor
from meetings.rooms.errors import Conflict, Invalid, RateLimited
from meetings.rooms.models import Event
from meetings.rooms.services.meetings import meeting_set_questions_open
from tests.questions.helpers import ask, open_conference, phone_client, send_question

pytestmark = pytest.mark.django_db
# Seconds: a rate limit's window no test run straddles (limits count in fixed windows).
ONE_WINDOW = 10**9


def test_a_question_is_received_with_everything_the_voter_gave():
    conference = open_conference()
    question = ask(
        conference,
        "  Đề nghị   sửa cầu treo\r\nbản Công  ",
        topic_code="infrastructure",
        candidate_id=conference.candidates[1].pk,
        asker_name=" Lò Văn Sáng ",
        asker_group="Tổ 5",
        asker_named_publicly=True,
    )
    assert question.text == question.original_text == "Đề nghị sửa cầu treo\nbản Công"
    assert question.topic.code == "infrastructure"
    assert question.candidate == conference.candidates[1]
    assert (question.asker_name, question.asker_group) == ("Lò Văn Sáng", "Tổ 5")
    assert question.status == "submitted" and question.source == "phone"
    staff, counts = Event.objects.filter(meeting=conference.meeting).order_by("-seq")[:2][::-1]
    assert (staff.type, staff.audience) == ("question.submitted", "staff")
    # Nothing public changed but the hall's counts, which are announced on their own (at once
    # here, with no server loop to batch them on).
    assert (counts.type, counts.audience) == ("public.tally", "public")
    assert not Event.objects.filter(type="public.submitted").exists()
    assert "Lò Văn Sáng" not in str(counts.payload) and "cầu treo" not in str(counts.payload)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "Please write your question."),
        ("   \n\t  ", "Please write your question."),
        ("\x00\x01\x02", "no visible text"),
        ("x" * 1001, "at most 1000 characters; yours has 1001"),
    ],
)
def test_bad_text_is_refused_and_nothing_is_created(text, message):
    conference = open_conference()
    before = (Question.objects.count(), Event.objects.count())
    with pytest.raises(Invalid, match=message):
        ask(conference, text)
    assert (Question.objects.count(), Event.objects.count()) == before


def test_exactly_a_thousand_characters_is_accepted():
    conference = open_conference()
    assert len(ask(conference, "ă" * 1000).text) == 1000


def test_unknown_topic_or_candidate_is_refused():
    conference = open_conference()
    with pytest.raises(Invalid, match="Unknown topic"):
        ask(conference, topic_code="weather")
    other = open_conference("hn-other")
    with pytest.raises(Invalid, match="no such candidate"):
        ask(conference, candidate_id=other.candidates[0].pk)
    assert Question.objects.count() == 0


def test_the_same_client_id_again_is_the_same_question():
    conference = open_conference()
    client_id = uuid.uuid4()
    first = ask(conference, "Câu hỏi một lần", client_id=client_id)
    events = Event.objects.count()
    again = ask(conference, "Câu hỏi một lần", client_id=client_id)
    assert again.pk == first.pk
    assert Question.objects.count() == 1 and Event.objects.count() == events


def test_a_retry_does_not_count_against_the_rate_limit(settings):
    settings.QUESTION_LIMIT_PER_DEVICE = "2/1000000000"
    conference = open_conference()
    client_id = uuid.uuid4()
    for _ in range(5):
        ask(conference, "một", client_id=client_id)
    ask(conference, "hai")
    with pytest.raises(RateLimited) as limited:
        ask(conference, "ba")
    assert limited.value.detail["retry_after"] > 0
    assert Question.objects.count() == 2


def test_rate_limits_per_device_and_per_hall(settings):
    settings.QUESTION_LIMIT_PER_DEVICE = "3/1000000000"
    settings.QUESTION_LIMIT_PER_HALL = "5/1000000000"
    conference = open_conference()
    for n in range(3):
        ask(conference, f"câu {n}", device=1)
    with pytest.raises(RateLimited, match="several questions"):
        ask(conference, "câu 4", device=1)
    ask(conference, "máy khác", device=2)
    ask(conference, "máy khác nữa", device=3)
    with pytest.raises(RateLimited, match="This hall"):
        ask(conference, "hội trường đã nhiều", device=3)
    # Another hall is not affected.
    ask(conference, "hội trường khác", device=4, hall=conference.halls[1])


def test_an_established_phones_first_question_passes_however_full_its_hall_is(settings):
    """Established phones keep their share: a phone's first question of its window is never
    refused for what the hall's other phones sent; only its next ones wait."""
    settings.QUESTION_LIMIT_PER_HALL = f"3/{ONE_WINDOW}"
    conference = open_conference()
    for n in range(1, 4):
        ask(conference, f"máy {n} gửi", device=n)
    ask(conference, "máy 4, câu đầu tiên", device=4)
    with pytest.raises(RateLimited, match="This hall"):
        ask(conference, "máy 4, câu thứ hai", device=4)
    assert Question.objects.count() == 4


def test_a_burst_of_new_phones_cannot_stop_an_established_phone_or_the_clerk(settings):
    """The attack: one client makes up a new phone for each question. New phones share their
    own, smaller count per hall; the hall's established phones and its clerk's paper questions
    are not refused for it, and a phone refused for the others keeps its own allowance."""
    settings.QUESTION_LIMIT_PER_HALL_NEW_PHONES = f"5/{ONE_WINDOW}"
    settings.QUESTION_LIMIT_PER_DEVICE = f"5/{ONE_WINDOW}"
    conference = open_conference()
    hall = conference.halls[0]
    refused = 0
    for n in range(100, 130):
        try:
            ask(conference, f"Câu hỏi rác số {n}", device=n, new=True)
        except RateLimited as limited:
            assert "just joined" in limited.message
            refused += 1
    assert refused == 25
    ask(conference, "Câu hỏi của một cử tri đã ở hội trường từ đầu", device=1)
    question_submit(
        meeting=conference.meeting,
        hall=hall,
        source=QuestionSource.PAPER,
        client_id=uuid.uuid4(),
        text="Phiếu giấy của cụ Hà",
        actor=Actor.for_operator_link(hall),
    )
    question_submit(
        meeting=conference.meeting,
        hall=hall,
        source=QuestionSource.FLOOR,
        client_id=uuid.uuid4(),
        text="Ý kiến phát biểu tại hội trường",
        actor=conference.actor,
    )
    sources = list(Question.objects.filter(hall=hall).values_list("source", flat=True))
    assert (sources.count("phone"), sources.count("paper"), sources.count("floor")) == (6, 1, 1)
    # A phone refused for the others' sake kept its own allowance (five questions).
    settings.QUESTION_LIMIT_PER_HALL_NEW_PHONES = "1000/60"
    for number in range(5):
        ask(conference, f"Câu hỏi {number} của máy vừa bị từ chối", device=129, new=True)
    with pytest.raises(RateLimited, match="several questions"):
        ask(conference, "Câu thứ sáu", device=129, new=True)


@given(st.text(max_size=300))
def test_cleaning_is_stable_and_leaves_no_control_characters(raw):
    cleaned = clean_text(raw)
    assert clean_text(cleaned) == cleaned
    assert not any(ord(ch) < 32 and ch != "\n" for ch in cleaned)
    assert cleaned == cleaned.strip()


def test_matching_ignores_diacritics_case_and_punctuation():
    assert match_form("Đường sá XUỐNG CẤP!!") == match_form("duong sa xuong cap")


def test_similar_questions_are_found_across_halls_despite_diacritics():
    conference = open_conference()
    original = ask(conference, "Bao giờ sửa đường liên thôn Bản Công?", device=1)
    ask(conference, "Trạm y tế thiếu thuốc", device=2)
    duplicate = ask(
        conference, "bao gio sua duong lien thon ban cong", device=3, hall=conference.halls[2]
    )
    suggestions = similar_questions(duplicate)
    assert suggestions[0].question == original and suggestions[0].score >= 90
    assert all(s.question.text != "Trạm y tế thiếu thuốc" for s in suggestions)


def test_paper_and_floor_questions_are_recorded_while_the_phone_intake_is_closed():
    conference = open_conference()
    meeting_set_questions_open(meeting=conference.meeting, open=False, actor=conference.actor)
    for source in (QuestionSource.PAPER, QuestionSource.FLOOR):
        question_submit(
            meeting=conference.meeting,
            hall=conference.halls[0],
            source=source,
            client_id=uuid.uuid4(),
            text="Ý kiến tại hội trường",
            actor=conference.actor,
        )
    assert Question.objects.count() == 2
    with pytest.raises(Conflict):
        ask(conference)


def test_a_refusal_for_a_closed_intake_does_not_use_up_the_phones_allowance(settings):
    settings.QUESTION_LIMIT_PER_DEVICE = "1/1000000000"
    conference = open_conference()
    phone_api = phone_client(conference)
    meeting_set_questions_open(meeting=conference.meeting, open=False, actor=conference.actor)
    for _ in range(3):
        assert send_question(phone_api, "Câu hỏi khi chưa mở").status_code == 409
    meeting_set_questions_open(meeting=conference.meeting, open=True, actor=conference.actor)
    assert send_question(phone_api, "Câu hỏi khi đã mở").status_code == 201
    assert send_question(phone_api, "Câu thứ hai").status_code == 429  # the allowance was 1
