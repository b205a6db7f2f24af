"""The minutes: DOCX read back, PDF text extracted and its first page rendered, CSV and XLSX,
from the shell and over HTTP."""

import csv
import io
from io import StringIO
from pathlib import Path

import pypdfium2
import pytest
from django.core.management import call_command
from docx import Document
from openpyxl import load_workbook
from pypdf import PdfReader

from meetings.questions.minutes.export import export_minutes
from meetings.rooms.models import EventLogHead
from tests.questions.meeting_script import QUESTIONS, run_meeting

pytestmark = pytest.mark.django_db
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def docx_text(data: bytes) -> str:
    document = Document(io.BytesIO(data))
    parts = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            parts.append(" | ".join(cell.text for cell in row.cells))
    return "\n".join(parts)


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def expected(conference, asked):
    head = EventLogHead.objects.get(meeting=conference.meeting)
    return {
        "questions": [q.text for q in asked],
        "halls": [(h.name, str(h.attendance)) for h in conference.meeting.bridge_points.all()],
        "hash": head.hash,
    }


def test_the_word_document_holds_every_answer_every_halls_attendance_and_the_final_hash():
    conference, asked = run_meeting()
    want = expected(conference, asked)
    document = export_minutes(conference.meeting, "docx", "vi")
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "minutes.docx").write_bytes(document)  # for a person to open in a word processor
    text = docx_text(document)
    for question in want["questions"]:
        assert question in text
    for name, attendance in want["halls"]:
        assert f"{name} | {attendance}" in text or (name in text and attendance in text)
    assert want["hash"] in text
    assert "Sở Giáo dục và Đào tạo" in text  # the referral
    assert "UBND huyện đã bố trí vốn" in text  # the written answer attached later
    assert "Lò Văn Sáng" in text and "Giàng A Páo" not in text  # named only by choice
    assert "BIÊN BẢN" in text or "MINUTES" in text


def test_the_pdf_holds_the_same_in_correct_vietnamese_and_its_first_page_renders(tmp_path):
    conference, asked = run_meeting()
    want = expected(conference, asked)
    data = export_minutes(conference.meeting, "pdf", "vi")
    text = " ".join(pdf_text(data).split())
    for question in want["questions"]:
        assert " ".join(question.split()) in text
    for name, attendance in want["halls"]:
        assert name in text and attendance in text
    assert want["hash"] in text.replace(" ", "") or want["hash"][:32] in text
    pdf = pypdfium2.PdfDocument(data)
    image = pdf[0].render(scale=1.4).to_pil()
    ARTIFACTS.mkdir(exist_ok=True)
    image.save(ARTIFACTS / "minutes-page-1.png")
    assert image.size[0] > 800 and image.getbbox() is not None


def test_english_minutes_are_in_english():
    conference, asked = run_meeting()
    text = docx_text(export_minutes(conference.meeting, "docx", "en"))
    assert "MINUTES OF THE VOTER CONTACT CONFERENCE" in text
    assert "Voters present" in text
    assert asked[0].text in text  # the voters' words stay as they were said


def test_csv_and_xlsx_list_every_opinion():
    conference, asked = run_meeting()
    rows = list(
        csv.reader(StringIO(export_minutes(conference.meeting, "csv", "vi").decode("utf-8-sig")))
    )
    assert len(rows) == 1 + len(QUESTIONS)
    assert {row[7] for row in rows[1:]} == {q.text for q in asked}
    workbook = load_workbook(io.BytesIO(export_minutes(conference.meeting, "xlsx", "vi")))
    assert len(workbook.worksheets) == 5  # opinions, halls, speaking time, counts, record
    assert workbook.worksheets[0].max_row == 1 + len(QUESTIONS)


def test_export_minutes_from_the_shell(tmp_path):
    conference, _asked = run_meeting()
    out = StringIO()
    target = tmp_path / "bien-ban.pdf"
    call_command(
        "export_minutes",
        conference.meeting.slug,
        "--format",
        "pdf",
        "--output",
        str(target),
        stdout=out,
    )
    assert target.read_bytes().startswith(b"%PDF")
    assert "wrote" in out.getvalue()
