"""The minutes account for every question received, in every format; only an answer names an
answerer; "also asked at" names other halls only, on the public page and in the minutes."""

import csv
import io
import re

import pytest
from django.test import Client
from django.utils import timezone
from openpyxl import load_workbook

from meetings.questions.minutes.export import FORMATS, export_minutes
from meetings.questions.models import Question, QuestionStatus
from meetings.questions.services import air, merge, moderation
from meetings.rooms.models import Meeting
from tests.questions.helpers import ask, phone_device, signed_in
from tests.questions.meeting_script import run_meeting
from tests.questions.test_minutes import docx_text, pdf_text

pytestmark = pytest.mark.django_db

UNREAD = "Câu hỏi chưa ai duyệt ở Nhà văn hóa số 3"
ADDRESSED = "Đề nghị làm rõ quy hoạch khu dân cư mới"


def ended_with_loose_ends():
    """The scripted conference, plus: a question never moderated before the end, one
    withdrawn, one approved and addressed to a candidate and never answered."""
    conference, _asked = run_meeting()
    actor = conference.actor
    unread = ask(conference, UNREAD, hall=conference.halls[2], device=20)
    withdrawn = ask(conference, "Tôi rút lại câu này", hall=conference.halls[1], device=21)
    moderation.question_withdraw(
        question=withdrawn,
        device_hash=phone_device(conference, 21, hall=conference.halls[1]).hash,
        actor=actor,
    )
    addressed = moderation.question_approve(
        question=ask(conference, ADDRESSED, hall=conference.halls[0], device=22), actor=actor
    )
    moderation.question_address(
        question=addressed, candidate_id=conference.candidates[0].pk, actor=actor
    )
    return conference, unread, addressed


def counts_in(text: str, labels: dict[str, str]) -> dict[str, int]:
    """The number after each label in the counts section (``label: n`` or ``label | n``)."""
    text = text[text.index("What became of the questions received") :]
    found = {}
    for key, label in labels.items():
        # A reason's name may come between the label and its number.
        numbers = re.findall(re.escape(label) + r"[^0-9]{0,60}?(\d+)", text)
        found[key] = sum(int(n) for n in numbers)
    return found


LABELS_EN = {
    "received": "Questions received",
    "listed": "Taken up at the conference (listed above)",
    "merged": "Merged with a similar question",
    "withdrawn": "Withdrawn by the voter",
    "rejected": "Not accepted, by reason: ",
    "unconsidered": "Not considered at the conference (not moderated before the end)",
}


def test_every_question_received_is_accounted_for_in_every_format():
    conference, _unread, _addressed = ended_with_loose_ends()
    meeting = conference.meeting
    received = Question.objects.filter(meeting=meeting).count()
    by_status = {
        status: Question.objects.filter(meeting=meeting, status=status).count()
        for status in QuestionStatus.values
    }
    taken_up = sum(by_status[s] for s in ("approved", "on_air", "answered"))
    assert by_status["submitted"] == 1 and received == 8
    assert sorted(FORMATS) == ["csv", "docx", "pdf", "xlsx"]  # a new format is added here

    printed = {
        "docx": docx_text(export_minutes(meeting, "docx", "en")),
        "pdf": " ".join(pdf_text(export_minutes(meeting, "pdf", "en")).split()),
    }
    for fmt, text in printed.items():
        counts = counts_in(text, LABELS_EN)
        assert counts["received"] == received, fmt
        assert counts["listed"] == taken_up, fmt
        parts = ("listed", "merged", "withdrawn", "rejected", "unconsidered")
        assert sum(counts[k] for k in parts) == received, (fmt, counts)
        assert counts["unconsidered"] == 1, fmt
        # Listed in its own section, by number and hall; its text, which no moderator read,
        # is not in the public's copy.
        assert "Questions not considered at the conference" in text, fmt
        assert "(text not published: not moderated)" in text, fmt
        assert UNREAD not in text, fmt
        numbers = re.findall(r"(?m)^(\d+)\. ", text) if fmt == "docx" else []
        if fmt == "docx":
            assert len(numbers) == taken_up

    rows = list(csv.reader(io.StringIO(export_minutes(meeting, "csv", "en").decode("utf-8-sig"))))
    body = rows[1:]
    assert len(body) + by_status["merged"] + by_status["withdrawn"] + by_status["rejected"] == (
        received
    )
    how = rows[0].index("How it was answered")
    assert [row[2] for row in body if "not considered" in row[how]] == ["Nhà văn hóa số 3"]

    book = load_workbook(io.BytesIO(export_minutes(meeting, "xlsx", "en")))
    opinions = list(book.worksheets[0].iter_rows(values_only=True))[1:]
    assert len(opinions) == len(body)
    counts = {label: n for label, n in list(book.worksheets[3].iter_rows(values_only=True))[1:]}
    assert counts["Questions received"] == received
    assert sum(n for label, n in counts.items() if label != "Questions received") == received


def test_the_staffs_copy_prints_the_unmoderated_text_and_the_publics_does_not():
    conference, _unread, _addressed = ended_with_loose_ends()
    meeting = conference.meeting
    assert UNREAD in docx_text(export_minutes(meeting, "docx", "vi", staff=True))
    chair = signed_in(conference.chair)
    staff_copy = chair.get(f"/archive/{meeting.slug}/minutes.docx?lang=vi")
    assert UNREAD in docx_text(staff_copy.content)
    Meeting.objects.filter(pk=meeting.pk).update(published_at=timezone.now())
    public_copy = Client().get(f"/archive/{meeting.slug}/minutes.docx?lang=vi")
    text = docx_text(public_copy.content)
    assert UNREAD not in text and "Câu hỏi chưa được xem xét tại hội nghị" in text


def test_only_an_answer_names_an_answerer():
    conference, _unread, _addressed = ended_with_loose_ends()
    candidate = conference.candidates[0].name
    for language, answered_by, addressed_to, not_answered in (
        ("en", "Answered by", "Addressed to", "Not answered"),
        ("vi", "Người trả lời", "Gửi tới", "Chưa được trả lời"),
    ):
        text = docx_text(export_minutes(conference.meeting, "docx", language))
        paragraphs = text.split("\n")
        at = next(i for i, line in enumerate(paragraphs) if ADDRESSED in line)
        details = paragraphs[at + 2]
        assert f"{addressed_to}: {candidate}" in details, details
        assert not_answered in details and answered_by not in details, details
        # The questions that were answered still name who answered.
        assert f"{answered_by}: " in text
    rows = list(
        csv.reader(io.StringIO(export_minutes(conference.meeting, "csv", "en").decode("utf-8-sig")))
    )
    header = rows[0]
    (row,) = [row for row in rows if ADDRESSED in row]
    assert row[header.index("Answered by")] == ""
    assert row[header.index("Addressed to")] == candidate
    pdf = " ".join(pdf_text(export_minutes(conference.meeting, "pdf", "en")).split())
    after = pdf[pdf.index(ADDRESSED) :][:120]  # its own lines, not the next question's
    assert f"Addressed to: {candidate}" in after and "Answered by" not in after


def test_a_duplicate_from_the_same_hall_adds_no_also_asked_at():
    conference, asked = run_meeting()
    actor = conference.actor
    same_hall = moderation.question_approve(
        question=ask(conference, "Xin hỏi về điện sinh hoạt", device=30), actor=actor
    )
    duplicate = ask(conference, "Điện sinh hoạt chập chờn", device=31)
    merge.question_merge(question=duplicate, into=same_hall, actor=actor)
    air.question_put_on_air(question=same_hall, actor=actor)
    air.question_answer(question=same_hall, kind="live", summary="Đã có kế hoạch", actor=actor)
    Meeting.objects.filter(pk=conference.meeting.pk).update(published_at=timezone.now())
    for language, also in (("en", "also asked at"), ("vi", "cũng được hỏi tại")):
        client = Client()
        client.cookies["django_language"] = language
        page = client.get(f"/archive/{conference.meeting.slug}/").content.decode()
        items = dict(re.findall(r'data-question="(\d+)">(.*?)</li>', page, flags=re.S))
        assert also not in items[str(same_hall.pk)]
        # The scripted merge came from another hall, and is named.
        assert f"{also} {conference.halls[2].name}" in items[str(asked[0].pk)]
    text = docx_text(export_minutes(conference.meeting, "docx", "en"))
    paragraphs = text.split("\n")
    at = next(i for i, line in enumerate(paragraphs) if "Xin hỏi về điện sinh hoạt" in line)
    assert "Also raised at" not in paragraphs[at + 1]
