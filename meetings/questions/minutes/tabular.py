"""The minutes as a table: CSV (one row per opinion or petition) or XLSX (the same, plus the
halls and the speaking time on their own sheets). Both are written by meetings/spreadsheets.py,
which keeps every cell from starting a formula."""

from meetings.questions.minutes.data import Minutes
from meetings.questions.minutes.docx import words_in
from meetings.questions.minutes.words import speaking_header
from meetings.spreadsheets import add_sheet, csv_document, workbook, xlsx_document


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
    return csv_document([header, *rows])


def render_xlsx(minutes: Minutes) -> bytes:
    w = words_in(minutes)
    book = workbook()
    header, rows = _rows(minutes)
    add_sheet(book, w["opinions"], header, rows)
    add_sheet(book, w["halls"], [w["hall"], w["attendance"]], [[n, a] for n, a, _ in minutes.halls])
    add_sheet(
        book,
        w["speaking"],
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
    record = [[minutes.record_hash, minutes.record_seq]]
    add_sheet(book, w["record"], [w["final_hash"], w["record"]], record)
    return xlsx_document(book)
