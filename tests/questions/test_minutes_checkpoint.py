"""Every format of the minutes prints the record's head they were made at (seq and hash) and
the platform's signed checkpoint of it, or the latest one before it, saying which; the printed
ones (DOCX and PDF) carry the checkpoint's note as a QR code, which is read back here with a
real QR decoder, and whose signature verifies with the site's public key (docs/record.md,
"Signed checkpoints")."""

import base64
import csv
import io
import re

import pypdfium2
import pytest
import zxingcpp
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from docx import Document
from openpyxl import load_workbook
from PIL import Image

from meetings.questions.minutes.export import export_minutes
from meetings.rooms.checkpoints import checkpoint_note, end_checkpoint, public_key_for_client
from meetings.rooms.models import EventLogHead, MeetingStatus, RecordCheckpoint
from meetings.rooms.services.meetings import meeting_transition
from meetings.spreadsheets import QUOTE, starts_formula
from tests.questions.meeting_script import run_meeting
from tests.questions.test_minutes import ARTIFACTS, docx_text, pdf_text

pytestmark = pytest.mark.django_db


@pytest.fixture
def ended():
    """A conference run and ended: its head is the end's signed checkpoint."""
    conference, _asked = run_meeting()
    meeting_transition(
        meeting=conference.meeting, to_status=MeetingStatus.ENDED, actor=conference.actor
    )
    head = EventLogHead.objects.get(meeting=conference.meeting)
    checkpoint = end_checkpoint(conference.meeting)
    assert (checkpoint.seq, checkpoint.hash) == (head.seq, head.hash)
    return conference.meeting, head, checkpoint


def squeezed(text: str) -> str:
    """The text without whitespace: a long hash or signature may be broken across lines."""
    return re.sub(r"\s+", "", text)


def verifies(note: str) -> bool:
    """Whether the note's signature line is the site's key's signature over its statement."""
    statement, _, signature_line = note.rstrip("\n").rpartition("\n")
    _word, key_id, signature = signature_line.split(" ")
    key = public_key_for_client()
    assert key_id == key["key_id"]
    Ed25519PublicKey.from_public_bytes(base64.b64decode(key["public_key"])).verify(
        base64.b64decode(signature), (statement + "\n").encode("utf-8")
    )
    return True


def as_signed(cell: str) -> str:
    """A spreadsheet's cell as the value it holds: a base64 value starting with "+" is printed
    after a quote, like every cell that would start a formula (meetings/spreadsheets.py)."""
    return cell.removeprefix(QUOTE) if starts_formula(cell.removeprefix(QUOTE)) else cell


def qr_texts(image: Image.Image) -> list[str]:
    return [code.text for code in zxingcpp.read_barcodes(image) if code.format.name == "QRCode"]


def test_the_pdf_prints_the_head_and_its_checkpoint_and_its_qr_code_holds_the_note(ended):
    meeting, head, checkpoint = ended
    data = export_minutes(meeting, "pdf", "vi")
    text = squeezed(pdf_text(data))
    assert head.hash in text and checkpoint.signature in text
    assert squeezed(f"{head.seq}") in text
    assert public_key_for_client()["key_id"] in text
    assert "đãkýxácnhậnbiênbảnđiệntửđúngtạimụcnày" in text  # signed at this very entry
    pages = pypdfium2.PdfDocument(data)
    found = []
    for index in range(len(pages)):
        image = pages[index].render(scale=3).to_pil()
        if codes := qr_texts(image):
            found += codes
            ARTIFACTS.mkdir(exist_ok=True)  # for a person to look at
            image.save(ARTIFACTS / "minutes-checkpoint-page.png")
    note = checkpoint_note(checkpoint, meeting.slug)
    assert found == [note]
    assert verifies(found[0])


def test_the_word_document_prints_them_and_its_qr_code_holds_the_note(ended):
    meeting, head, checkpoint = ended
    data = export_minutes(meeting, "docx", "en")
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "minutes-checkpoint.docx").write_bytes(data)
    text = docx_text(data)
    assert f"Entry the minutes were made at (seq): {head.seq}" in text
    assert head.hash in text and checkpoint.signature in text
    assert "Key id: " + checkpoint.key_id in text
    assert "At the end (ended)" in text
    assert "The platform signed the record at this very entry" in text
    images = [
        part.blob
        for part in Document(io.BytesIO(data)).part.package.parts
        if part.content_type == "image/png"
    ]
    assert len(images) == 1
    (note,) = qr_texts(Image.open(io.BytesIO(images[0])))
    assert note == checkpoint_note(checkpoint, meeting.slug)
    assert verifies(note)


def test_the_csv_prints_the_head_and_the_checkpoint_on_every_row(ended):
    meeting, head, checkpoint = ended
    rows = list(csv.reader(io.StringIO(export_minutes(meeting, "csv", "en").decode("utf-8-sig"))))
    header = rows[0]
    for row in rows[1:]:
        printed = dict(zip(header, row, strict=True))
        assert printed["The record: Entry the minutes were made at (seq)"] == str(head.seq)
        assert printed["The record: Hash of that entry"] == head.hash
        assert printed["Signed checkpoint: Entry (seq)"] == str(checkpoint.seq)
        assert printed["Signed checkpoint: Hash"] == checkpoint.hash
        assert printed["Signed checkpoint: Signed"] == "At the end (ended)"
        signature = printed["Signed checkpoint: Signature (Ed25519, base64)"]
        assert as_signed(signature) == checkpoint.signature
        note = printed["Signed checkpoint: Signed statement and signature"]
        assert note == checkpoint_note(checkpoint, meeting.slug) and verifies(note)
        assert printed["The site's public key id"] == checkpoint.key_id


def test_the_xlsx_record_sheet_prints_them_and_the_note(ended):
    meeting, head, checkpoint = ended
    book = load_workbook(io.BytesIO(export_minutes(meeting, "xlsx", "vi")))
    record = book.worksheets[-1]
    cells = {row[0]: row[1] for row in record.iter_rows(min_row=2, values_only=True)}
    values = {as_signed(value) if isinstance(value, str) else value for value in cells.values()}
    assert {head.seq, head.hash, checkpoint.signature, checkpoint.key_id} <= values
    note = checkpoint_note(checkpoint, meeting.slug)
    assert note in values and verifies(note)


def test_a_head_not_signed_prints_the_latest_checkpoint_before_it_and_says_so():
    conference, _asked = run_meeting()
    meeting = conference.meeting
    head = EventLogHead.objects.get(meeting=meeting)
    # Live, the head is signed every few minutes: the script's entries came after the first.
    before = RecordCheckpoint.objects.filter(meeting=meeting).order_by("-seq").first()
    assert before.seq < head.seq
    text = docx_text(export_minutes(meeting, "docx", "en"))
    assert (f"below is its latest signed checkpoint before it, at entry {before.seq}.") in text
    assert head.hash in text and before.hash in text and before.signature in text
    rows = list(csv.reader(io.StringIO(export_minutes(meeting, "csv", "vi").decode("utf-8-sig"))))
    assert head.hash in rows[1] and checkpoint_note(before, meeting.slug) in rows[1]


def test_the_csv_of_a_conference_without_questions_still_prints_the_record():
    from tests.factories import make_conference

    conference = make_conference("hn-empty", status="live")
    meeting = conference.meeting
    head = EventLogHead.objects.get(meeting=meeting)
    rows = list(csv.reader(io.StringIO(export_minutes(meeting, "csv", "en").decode("utf-8-sig"))))
    assert len(rows) == 2 and rows[1][0] == ""
    assert head.hash in rows[1]
