"""The minutes as a table: CSV (one row per opinion or petition) or XLSX (the same, plus the
halls and the speaking time on their own sheets)."""

import csv
from io import BytesIO, StringIO

from openpyxl import Workbook
from openpyxl.styles import Font

from meetings.questions.minutes.data import Minutes
from meetings.questions.minutes.docx import words_in
from meetings.questions.minutes.words import speaking_header


def _rows(minutes: Minutes) -> tuple[list[str], list[list]]:
    w = words_in(minutes)
    header = [
        w["number"],
        w["topic"],
        w["hall"],
        w["also_from"],
        w["source"],
        w["asked_by"],
        w["support"],
        w["text"],
        w["answered_by"],
        w["minutes_csv_answer_kind"],
        w["summary"],
        w["due"],
        w["agency"],
        w["written_answer"],
    ]
    rows = []
    for topic, halls in minutes.topics.items():
        for entries in halls.values():
            for e in entries:
                rows.append(
                    [
                        e.number,
                        topic,
                        e.hall,
                        ", ".join(e.also_from),
                        e.source,
                        e.asker,
                        e.votes,
                        e.text,
                        e.candidate,
                        e.answer_kind,
                        e.answer_summary,
                        e.due_date,
                        e.agency,
                        e.written_answer,
                    ]
                )
    return header, rows


def render_csv(minutes: Minutes) -> bytes:
    header, rows = _rows(minutes)
    out = StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    # With a byte order mark, spreadsheets open the Vietnamese as UTF-8.
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def render_xlsx(minutes: Minutes) -> bytes:
    w = words_in(minutes)
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = w["opinions"][:31]
    header, rows = _rows(minutes)
    _fill(sheet, header, rows)
    halls = workbook.create_sheet(w["halls"][:31])
    _fill(halls, [w["hall"], w["attendance"]], [[n, a] for n, a, _studio in minutes.halls])
    speaking = workbook.create_sheet(w["speaking"][:31])
    _fill(
        speaking,
        speaking_header(w),
        [
            [
                s["name"],
                s["presentation_seconds"],
                s["allowance_seconds"],
                s["answer_seconds"],
                s["total_seconds"],
            ]
            for s in minutes.speaking
        ],
    )
    record = workbook.create_sheet(w["record"][:31])
    _fill(record, [w["final_hash"], w["record"]], [[minutes.record_hash, minutes.record_seq]])
    out = BytesIO()
    workbook.save(out)
    return out.getvalue()


def _fill(sheet, header: list[str], rows: list[list]) -> None:
    sheet.append(header)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append(row)
