"""The minutes as PDF (reportlab), with its fonts embedded: DejaVu Serif for every Vietnamese
letter, and fallback fonts for the other scripts voters write (pdf_fonts.py), whatever fonts
the reader's machine has. A PDF reader evaluates nothing: the voters' words are printed exactly
as written, with none of the quoting the spreadsheets need."""

from io import BytesIO

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import cm
from reportlab.platypus import Image, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from meetings.questions.minutes.data import Entry, Minutes
from meetings.questions.minutes.docx import WIDTHS_CM, words_in
from meetings.questions.minutes.pdf_fonts import mark_up, needs_shaping, register_fonts
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
)


def _styles() -> dict[str, ParagraphStyle]:
    base = ParagraphStyle("base", fontName="Serif", fontSize=11, leading=15)
    return {
        "base": base,
        "centre": ParagraphStyle("centre", parent=base, alignment=TA_CENTER),
        "centre_bold": ParagraphStyle(
            "centre_bold", parent=base, alignment=TA_CENTER, fontName="Serif-Bold"
        ),
        "title": ParagraphStyle(
            "title",
            parent=base,
            alignment=TA_CENTER,
            fontName="Serif-Bold",
            fontSize=15,
            leading=20,
            spaceBefore=10,
        ),
        "h2": ParagraphStyle(
            "h2", parent=base, fontName="Serif-Bold", fontSize=12.5, spaceBefore=12, spaceAfter=4
        ),
        "h3": ParagraphStyle(
            "h3", parent=base, fontName="Serif-Bold", fontSize=11.5, spaceBefore=8, spaceAfter=2
        ),
        "hall": ParagraphStyle(
            "hall", parent=base, textColor=colors.HexColor("#444444"), spaceBefore=4
        ),
        "entry": ParagraphStyle("entry", parent=base, leftIndent=0.4 * cm, spaceBefore=4),
        "detail": ParagraphStyle("detail", parent=base, leftIndent=1 * cm, fontSize=10, leading=13),
        "mono": ParagraphStyle("mono", parent=base, fontSize=8.5, leading=11),
        "cell": ParagraphStyle("cell", parent=base, fontSize=10, leading=12.5),
    }


def para(style: ParagraphStyle, text: str = "", *, bold: str = "") -> Paragraph:
    """A paragraph of ``text``, after ``bold`` in bold, each run in a font that has it; shaped
    when it holds a script that needs it (pdf_fonts.py)."""
    shaped = needs_shaping(bold) or needs_shaping(text)
    pieces = [f"<b>{mark_up(bold, shaped=shaped)}</b>"] * bool(bold)
    pieces += [mark_up(text, shaped=shaped)] * bool(text)
    if shaped:
        style = ParagraphStyle(f"{style.name}-shaped", parent=style, shaping=1)
    return Paragraph(" ".join(pieces), style)


def render_pdf(minutes: Minutes) -> bytes:
    register_fonts()
    w = words_in(minutes)
    s = _styles()
    out = BytesIO()
    document = SimpleDocTemplate(
        out,
        pagesize=A4,
        leftMargin=2.5 * cm,
        rightMargin=2 * cm,
        topMargin=2 * cm,
        bottomMargin=2 * cm,
        title=f"{w['title']} – {minutes.title}",
        author="meetings",
    )
    p = lambda text, style="base": para(s[style], text)  # noqa: E731
    story = [
        p(w["nation"], "centre_bold"),
        p(w["motto"], "centre_bold"),
        p(w["title"], "title"),
        p(minutes.title, "centre_bold"),
        Spacer(1, 0.4 * cm),
    ]
    for label, value in (
        (w["electoral_unit"], minutes.electoral_unit),
        (w["time"], minutes.scheduled),
        (w["status"], minutes.status),
        (w["chair"], ", ".join(minutes.chairs)),
        (w["secretary"], ", ".join(minutes.secretaries)),
    ):
        story.append(para(s["base"], value, bold=f"{label}:"))

    story.append(p(w["candidates"], "h2"))
    story.append(
        _table(
            s,
            [w["number"], w["name"], w["position"]],
            [[str(i), n, pos] for i, (n, pos) in enumerate(minutes.candidates, 1)],
            WIDTHS_CM["candidates"],
        )
    )
    story.append(p(w["halls"], "h2"))
    rows = [
        [hall_label(name, studio, w), "" if att is None else str(att)]
        for name, att, studio in minutes.halls
    ]
    rows.append([w["total"], str(minutes.attendance_total)])
    story.append(_table(s, [w["hall"], w["attendance"]], rows, WIDTHS_CM["halls"]))

    story.append(p(w["opinions"], "h2"))
    if not minutes.topics:
        story.append(p(w["none"]))
    for topic, halls in minutes.topics.items():
        story.append(p(topic, "h3"))
        for hall, entries in halls.items():
            story.append(p(hall, "hall"))
            for entry in entries:
                story.extend(_entry(entry, w, s))

    if minutes.follow_ups:
        story.append(p(w["follow_ups"], "h2"))
        story.append(
            _table(
                s,
                [w["number"], w["hall"], w["answer"], w["due"], w["agency"], w["written_answer"]],
                [
                    [str(e.number), e.hall, e.answer_kind, e.due_date, e.agency, e.written_answer]
                    for e in minutes.follow_ups
                ],
                WIDTHS_CM["follow_ups"],
            )
        )

    if minutes.unconsidered:
        story.append(p(w["unconsidered"], "h2"))
        story.append(p(w["unconsidered_note"]))
        story.append(
            _table(
                s,
                [w["number"], w["hall"], w["source"], w["received_at"], w["text"]],
                unconsidered_rows(minutes, w),
                WIDTHS_CM["unconsidered"],
            )
        )

    story.append(p(w["not_taken"], "h2"))
    rows = [list(line) for line in count_lines(minutes, w)]
    story.append(_table(s, ["", ""], rows, [12, 3.5], show_header=False))

    story.append(p(w["speaking"], "h2"))
    story.append(
        _table(s, speaking_header(w), speaking_rows(minutes.speaking), WIDTHS_CM["speaking"])
    )

    story.extend(_record(minutes, w, s))
    story.append(p(f"{w['generated']}: {minutes.generated}"))
    story.append(Spacer(1, 0.8 * cm))
    signatures = Table(
        [
            [
                para(s["centre"], bold=w["signature_secretary"]),
                para(s["centre"], bold=w["signature_chair"]),
            ],
            [p(w["sign_hint"], "centre"), p(w["sign_hint"], "centre")],
        ],
        colWidths=[7.75 * cm, 7.75 * cm],
    )
    story.append(signatures)
    document.build(story)
    return out.getvalue()


def _record(minutes: Minutes, w: dict[str, str], s) -> list:
    """The record's head the minutes were made at, the signed checkpoint printed with it, and
    its note as a QR code and as text."""
    parts = [
        para(s["h2"], w["record"]),
        para(s["base"], w["record_text"] % {"n": minutes.record_seq}),
    ]
    parts.append(_facts(s, record_lines(minutes, w)))
    parts.append(para(s["h3"], w["checkpoint"]))
    parts.append(para(s["base"], checkpoint_sentence(minutes, w)))
    parts.append(_facts(s, checkpoint_lines(minutes, w, printed=True)))
    checkpoint = minutes.checkpoint
    if checkpoint is None:
        return parts
    size = PRINTED_CM * cm
    code = Image(BytesIO(qr_png(checkpoint.note)), width=size, height=size)
    beside = Table(
        [[code, para(s["cell"], w["qr_note"])]],
        colWidths=[size + 0.3 * cm, 16 * cm - size - 0.3 * cm],
    )
    beside.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "MIDDLE")]))
    parts.append(Spacer(1, 0.2 * cm))
    parts.append(beside)
    parts += [para(s["mono"], line) for line in checkpoint.note.splitlines()]
    parts.append(Spacer(1, 0.3 * cm))
    return parts


def _facts(s, lines: list[tuple[str, str | int]]) -> Table:
    """Label and value in two columns; a long value (a hash, a signature) breaks anywhere."""
    table = Table(
        [[para(s["cell"], bold=label), para(s["mono"], str(value))] for label, value in lines],
        colWidths=[5 * cm, 11 * cm],
    )
    table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP")]))
    return table


def _table(s, header, rows, widths_cm, *, show_header: bool = True):
    data = [[para(s["cell"], bold=h) for h in header]] if show_header else []
    data += [[para(s["cell"], str(cell)) for cell in row] for row in rows]
    table = Table(data, colWidths=[w * cm for w in widths_cm], repeatRows=1 if show_header else 0)
    table.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.5, colors.HexColor("#888888")),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                (
                    "BACKGROUND",
                    (0, 0),
                    (-1, 0),
                    colors.HexColor("#eeeeee") if show_header else colors.white,
                ),
            ]
        )
    )
    return table


def _entry(entry: Entry, w: dict[str, str], s) -> list:
    parts = [para(s["entry"], entry.text, bold=f"{entry.number}.")]
    details = [f"{w['asked_by']}: {entry.asker or w['a_voter']}"]
    if entry.also_from:
        details.append(f"{w['also_from']}: {', '.join(entry.also_from)}")
    if entry.votes:
        details.append(f"{w['support']}: {entry.votes}")
    parts.append(para(s["detail"], "; ".join(details)))
    parts.append(para(s["detail"], "; ".join(answer_details(entry, w))))
    if entry.answer_summary:
        parts.append(para(s["detail"], f"{w['summary']}: {entry.answer_summary}"))
    if entry.written_answer:
        parts.append(para(s["detail"], f"{w['written_answer']}: {entry.written_answer}"))
    return parts
