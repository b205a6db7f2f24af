"""The minutes as a table: CSV (one row per opinion or petition) or XLSX (the same, plus the
halls, the speaking time, the counts and the record on their own sheets). Both are written by
meetings/spreadsheets.py, which keeps every cell from starting a formula.

The CSV has one table and no room beside it, so the record's head the minutes were made at and
the signed checkpoint printed with it are its last columns, the same on every row (a row of
those alone when no question was received): whoever keeps any part of the file keeps what it
was made from."""

from meetings.questions.minutes.data import Minutes
from meetings.questions.minutes.docx import words_in
from meetings.questions.minutes.words import (
    CHECKPOINT_FIELDS,
    checkpoint_lines,
    checkpoint_sentence,
    checkpoint_values,
    count_lines,
    record_lines,
    site_key_lines,
    speaking_header,
)
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
        w["addressed_to"],
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
                        e.addressed_to,
                        e.answered_by,
                        e.answer_kind,
                        e.answer_summary,
                        e.due_date,
                        e.agency,
                        e.written_answer,
                    ]
                )
    # The questions no moderator read before the end: one row each, so that every question
    # received is a row here or counted as merged, withdrawn or not accepted.
    for u in minutes.unconsidered:
        text = u.text or w["text_withheld"]
        rows.append([u.number, "", u.hall, "", u.source, "", "", text, "", "", w["unconsidered"]])
        rows[-1] += [""] * (len(header) - len(rows[-1]))
    return header, rows


def render_csv(minutes: Minutes) -> bytes:
    header, rows = _rows(minutes)
    w = words_in(minutes)
    checkpoint = minutes.checkpoint
    # The checkpoint's columns are there, empty, while none is signed. A base64 value that
    # starts with "+" gets the quote every such cell gets (meetings/spreadsheets.py); the note
    # holds the signature as signed whatever it starts with.
    values = [""] * (len(CHECKPOINT_FIELDS) + 1)
    if checkpoint is not None:
        values = [*checkpoint_values(checkpoint, printed=False), checkpoint.note]
    record = [(f"{w['record']}: {label}", value) for label, value in record_lines(minutes, w)]
    record += [
        (f"{w['checkpoint']}: {w[field]}", value)
        for field, value in zip([*CHECKPOINT_FIELDS, "statement"], values, strict=True)
    ]
    record += site_key_lines(minutes, w)
    header += [label for label, _value in record]
    cells = [value for _label, value in record]
    rows = [row + cells for row in rows] or [[""] * (len(header) - len(cells)) + cells]
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
    counts = [[label, int(n)] for label, n in count_lines(minutes, w)]
    add_sheet(book, w["not_taken"], [w["status"], w["total"]], counts)
    record = record_lines(minutes, w)
    record.append((w["checkpoint"], checkpoint_sentence(minutes, w)))
    record += checkpoint_lines(minutes, w, printed=False)
    if minutes.checkpoint is not None:
        record.append((w["statement"], minutes.checkpoint.note))
    add_sheet(book, w["record"], [w["record"], ""], [list(line) for line in record])
    return xlsx_document(book)
