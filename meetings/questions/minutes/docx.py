"""The minutes as a Word document (python-docx), in the shape officials expect.

Every text goes in as a plain run, never as a field (Word's formulas and HYPERLINK live in
fields), so a voter's ``=HYPERLINK(…)`` is printed as written: unlike the CSV and XLSX
(meetings/spreadsheets.py), the document needs no quoting."""

from io import BytesIO

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor

from meetings.questions.minutes.data import Entry, Minutes
from meetings.questions.minutes.qr import PRINTED_CM, qr_png
from meetings.questions.minutes.words import (
    answer_details,
    checkpoint_lines,
    checkpoint_sentence,
    count_lines,
    hall_label,
    record_lines,
    speaking_header,
    speaking_rows,
    unconsidered_rows,
    words,
)

FONT = "Times New Roman"  # the font of Vietnamese administrative documents
# The tables' column widths in centimetres, shared with the PDF (pdf.py); about 16 cm of page.
WIDTHS_CM = {
    "candidates": [1.5, 6, 8],
    "halls": [12, 3.5],
    "follow_ups": [1.5, 2.9, 3, 2.3, 2.8, 3],
    "speaking": [5.5, 2.5, 2.5, 2.5, 2.5],
    "unconsidered": [1.5, 3, 2.5, 3, 6],
}


def render_docx(minutes: Minutes) -> bytes:
    w = words_in(minutes)
    document = official_document()

    _centred(document, w["nation"], bold=True)
    _centred(document, w["motto"], bold=True)
    _centred(document, "")
    _centred(document, w["title"], bold=True, size=15)
    _centred(document, minutes.title, bold=True)

    _facts(
        document,
        [
            (w["electoral_unit"], minutes.electoral_unit),
            (w["time"], minutes.scheduled),
            (w["status"], minutes.status),
            (w["chair"], ", ".join(minutes.chairs)),
            (w["secretary"], ", ".join(minutes.secretaries)),
        ],
    )

    document.add_heading(w["candidates"], level=2)
    _table(
        document,
        [w["number"], w["name"], w["position"]],
        [[str(i), name, position] for i, (name, position) in enumerate(minutes.candidates, 1)],
        WIDTHS_CM["candidates"],
    )

    document.add_heading(w["halls"], level=2)
    rows = [
        [
            hall_label(name, studio, w),
            "" if attendance is None else str(attendance),
        ]
        for name, attendance, studio in minutes.halls
    ]
    rows.append([w["total"], str(minutes.attendance_total)])
    _table(document, [w["hall"], w["attendance"]], rows, WIDTHS_CM["halls"])

    document.add_heading(w["opinions"], level=2)
    if not minutes.topics:
        document.add_paragraph(w["none"])
    for topic, halls in minutes.topics.items():
        document.add_heading(topic, level=3)
        for hall, entries in halls.items():
            paragraph = document.add_paragraph()
            paragraph.add_run(hall).italic = True
            for entry in entries:
                _entry(document, entry, w)

    if minutes.follow_ups:
        document.add_heading(w["follow_ups"], level=2)
        _table(
            document,
            [w["number"], w["hall"], w["answer"], w["due"], w["agency"], w["written_answer"]],
            [
                [str(e.number), e.hall, e.answer_kind, e.due_date, e.agency, e.written_answer]
                for e in minutes.follow_ups
            ],
            WIDTHS_CM["follow_ups"],
        )

    if minutes.unconsidered:
        document.add_heading(w["unconsidered"], level=2)
        document.add_paragraph(w["unconsidered_note"])
        _table(
            document,
            [w["number"], w["hall"], w["source"], w["received_at"], w["text"]],
            unconsidered_rows(minutes, w),
            WIDTHS_CM["unconsidered"],
        )

    document.add_heading(w["not_taken"], level=2)
    _facts(document, count_lines(minutes, w))

    document.add_heading(w["speaking"], level=2)
    _table(document, speaking_header(w), speaking_rows(minutes.speaking), WIDTHS_CM["speaking"])

    _record(document, minutes, w)
    document.add_paragraph(f"{w['generated']}: {minutes.generated}")

    signatures = document.add_table(rows=2, cols=2)
    for column, label in enumerate((w["signature_secretary"], w["signature_chair"])):
        cell = signatures.cell(0, column)
        cell.paragraphs[0].add_run(label).bold = True
        cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
        hint = signatures.cell(1, column).paragraphs[0]
        hint.add_run(w["sign_hint"]).italic = True
        hint.alignment = WD_ALIGN_PARAGRAPH.CENTER

    out = BytesIO()
    document.save(out)
    return out.getvalue()


def official_document():
    """An empty A4 document in the layout of a Vietnamese administrative document: its
    margins, Times New Roman 13, black headings (the minutes and the round's synthesis)."""
    document = Document()
    section = document.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Cm(21), Cm(29.7)
    section.left_margin, section.right_margin = Cm(3), Cm(2)
    section.top_margin, section.bottom_margin = Cm(2), Cm(2)
    style = document.styles["Normal"]
    style.font.name, style.font.size = FONT, Pt(13)
    # Word's headings are blue Calibri; an official document's are black, in its own font.
    for level, size in ((2, 14), (3, 13)):
        heading = document.styles[f"Heading {level}"]
        heading.font.name, heading.font.size = FONT, Pt(size)
        heading.font.color.rgb = RGBColor(0, 0, 0)
        # The style's theme fonts take precedence over the font name: drop them.
        fonts = heading.element.rPr.rFonts
        for attribute in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
            fonts.attrib.pop(qn(attribute), None)
    return document


def words_in(minutes: Minutes) -> dict[str, str]:
    from django.utils import translation

    with translation.override(minutes.language):
        return words()


def _centred(document, text: str, *, bold: bool = False, size: int | None = None) -> None:
    paragraph = document.add_paragraph()
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = paragraph.add_run(text)
    run.bold = bold
    if size:
        run.font.size = Pt(size)


def _facts(document, pairs: list[tuple[str, str | int]], *, mono: bool = False) -> None:
    for label, value in pairs:
        paragraph = document.add_paragraph()
        paragraph.add_run(f"{label}: ").bold = True
        run = paragraph.add_run(str(value))
        if mono:
            _mono(run)


def _record(document, minutes: Minutes, w: dict[str, str]) -> None:
    """The record's head the minutes were made at, the signed checkpoint printed with it, and
    its note as a QR code and as text."""
    document.add_heading(w["record"], level=2)
    document.add_paragraph(w["record_text"] % {"n": minutes.record_seq})
    _facts(document, record_lines(minutes, w), mono=True)
    document.add_heading(w["checkpoint"], level=3)
    document.add_paragraph(checkpoint_sentence(minutes, w))
    _facts(document, checkpoint_lines(minutes, w, printed=True), mono=True)
    checkpoint = minutes.checkpoint
    if checkpoint is None:
        return
    document.add_picture(BytesIO(qr_png(checkpoint.note)), width=Cm(PRINTED_CM))
    document.add_paragraph(w["qr_note"])
    note = document.add_paragraph()
    for number, line in enumerate(checkpoint.note.splitlines()):
        if number:
            note.add_run().add_break()
        _mono(note.add_run(line))


def _mono(run) -> None:
    run.font.name, run.font.size = "Courier New", Pt(9)


def _table(document, header: list[str], rows: list[list[str]], widths_cm: list[float]) -> None:
    table = document.add_table(rows=1, cols=len(header))
    table.style = "Table Grid"
    table.autofit = False
    for cell, text in zip(table.rows[0].cells, header, strict=True):
        cell.paragraphs[0].add_run(text).bold = True
    for row in rows:
        cells = table.add_row().cells
        for cell, text in zip(cells, row, strict=True):
            cell.text = text
    # Word reads a column's width from its cells, LibreOffice from the table's grid: set both.
    for column, width in zip(table.columns, widths_cm, strict=True):
        column.width = Cm(width)
        for cell in column.cells:
            cell.width = Cm(width)


def _entry(document, entry: Entry, w: dict[str, str]) -> None:
    paragraph = document.add_paragraph()
    paragraph.add_run(f"{entry.number}. ").bold = True
    paragraph.add_run(entry.text)
    details = [f"{w['asked_by']}: {entry.asker or w['a_voter']}"]
    if entry.also_from:
        details.append(f"{w['also_from']}: {', '.join(entry.also_from)}")
    if entry.votes:
        details.append(f"{w['support']}: {entry.votes}")
    document.add_paragraph("; ".join(details)).paragraph_format.left_indent = Cm(1)
    answer = answer_details(entry, w)
    document.add_paragraph("; ".join(answer)).paragraph_format.left_indent = Cm(1)
    if entry.answer_summary:
        document.add_paragraph(
            f"{w['summary']}: {entry.answer_summary}"
        ).paragraph_format.left_indent = Cm(1)
    if entry.written_answer:
        document.add_paragraph(
            f"{w['written_answer']}: {entry.written_answer}"
        ).paragraph_format.left_indent = Cm(1)
