"""The synthesis as the report the organiser sends (báo cáo tổng hợp ý kiến, kiến nghị của cử
tri), in the layout of a Vietnamese administrative document: the header block (the issuing body
on the left, the national name and motto on the right), the number and the place and date, the
title, an introduction on the round, one section per field (I, II, III…) with each
recommendation, where it was raised, the agency responsible and the answers, a table by agency
and one by locality, what became of the other questions, and the recipients ("Nơi nhận").

Built with the minutes' document helpers (minutes/docx.py); every text is a plain run."""

from io import BytesIO

from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Cm, Pt

from meetings.questions.minutes.docx import _centred, _facts, _table, official_document
from meetings.questions.models import AnswerKind
from meetings.questions.synthesis.data import Item, Recommendation, Synthesis
from meetings.questions.synthesis.words import words

# About 16 cm of page, as the minutes' tables.
WIDTHS_CM = {
    "agencies": [4.5, 1.9, 1.6, 2, 2, 2, 2],
    "localities": [5, 5, 3, 3],
}


def render_docx(synthesis: Synthesis) -> bytes:
    w = words(synthesis.language)
    document = official_document()
    _header(document, synthesis, w)
    counts = synthesis.counts
    document.add_paragraph(
        w["intro"]
        % {
            "title": synthesis.title,
            "election": synthesis.election,
            "starts": synthesis.starts,
            "ends": synthesis.ends,
            "conferences": len(synthesis.conferences),
            "halls": synthesis.hall_count,
            "attendance": synthesis.attendance,
            "candidates": synthesis.candidate_count,
            **counts,
        }
    ).paragraph_format.first_line_indent = Cm(1)

    if not synthesis.topics:
        document.add_paragraph(w["none_taken_up"])
    for topic in synthesis.topics:
        document.add_heading(f"{topic.number}. {topic.label.upper()}", level=2)
        for recommendation in topic.recommendations:
            _recommendation(document, recommendation, w)

    document.add_heading(w["agency_table"], level=2)
    kinds = (AnswerKind.LIVE, AnswerKind.WRITTEN, AnswerKind.REFERRED)
    _table(
        document,
        [
            w["agency_responsible"],
            w["recommendations"],
            w["questions"],
            w["answered_live"],
            w["to_answer_in_writing"],
            w["referred"],
            w["written_received"],
        ],
        [
            [
                line.agency or w["no_agency"],
                str(line.recommendations),
                str(line.questions),
                *(str(line.kinds[kind]) for kind in kinds),
                str(line.written_answers),
            ]
            for line in synthesis.agencies
        ],
        WIDTHS_CM["agencies"],
    )

    document.add_heading(w["locality_table"], level=2)
    _table(
        document,
        [w["district"], w["commune"], w["questions"], w["recommendations"]],
        [[d, c, str(n), str(r)] for d, c, n, r in synthesis.localities],
        WIDTHS_CM["localities"],
    )

    document.add_heading(w["counts"], level=2)
    _facts(
        document,
        [
            (w["received"], counts["received"]),
            (w["taken_up_count"], counts["taken_up"]),
            (w["recommendation_count"], counts["recommendations"]),
            (w["concern_count"], counts["concerns"]),
            (w["merged"], counts["merged"]),
            (w["not_accepted"], counts["rejected"]),
            (w["withdrawn"], counts["withdrawn"]),
            (w["unconsidered_count"], counts["unconsidered"]),
        ],
    )
    document.add_paragraph(f"{w['generated']}: {synthesis.generated}")
    _recipients(document, synthesis, w)
    out = BytesIO()
    document.save(out)
    return out.getvalue()


def _header(document, synthesis: Synthesis, w: dict[str, str]) -> None:
    """The two columns of an official document's head, then its title."""
    head = document.add_table(rows=2, cols=2)
    head.autofit = False
    left = [synthesis.issuer or w["issuer"], "———"]
    right = [f"{w['nation']}", w["motto"]]
    for column, lines in enumerate((left, right)):
        cell = head.cell(0, column)
        paragraph = cell.paragraphs[0]
        paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
        for n, line in enumerate(lines):
            if n:
                paragraph.add_run().add_break()
            run = paragraph.add_run(line)
            run.bold = True
            run.font.size = Pt(12 if column == 0 else 13)
    number = head.cell(1, 0).paragraphs[0]
    number.alignment = WD_ALIGN_PARAGRAPH.CENTER
    number.add_run(w["doc_number"])
    day, month, year = synthesis.today
    date = head.cell(1, 1).paragraphs[0]
    date.alignment = WD_ALIGN_PARAGRAPH.CENTER
    date.add_run(
        w["place_date"]
        % {"place": synthesis.place or w["place_blank"], "day": day, "month": month, "year": year}
    ).italic = True
    for column, width in zip(head.columns, (6.5, 9.5), strict=True):
        for cell in column.cells:
            cell.width = Cm(width)
    _centred(document, "")
    _centred(document, w["report"], bold=True, size=14)
    _centred(document, w["report_title"], bold=True)
    _centred(document, synthesis.title, bold=True)


def _recommendation(document, recommendation: Recommendation, w: dict[str, str]) -> None:
    paragraph = document.add_paragraph()
    paragraph.add_run(f"{recommendation.ref}. ").bold = True
    paragraph.add_run(recommendation.text)
    indent = Cm(1)
    halls = [f"{item.conference}: {', '.join(item.halls)}" for item in recommendation.items]
    raised = w["raised_in"] % {
        "conferences": len(recommendation.conferences),
        "halls": recommendation.hall_count,
    }
    document.add_paragraph(
        f"{w['raised_at']} ({raised}): {'; '.join(halls)}"
    ).paragraph_format.left_indent = indent
    places = ", ".join(f"{commune} ({district})" for district, commune in recommendation.localities)
    document.add_paragraph(f"{w['localities']}: {places}").paragraph_format.left_indent = indent
    agencies = ", ".join(recommendation.agencies) or w["no_agency"]
    document.add_paragraph(
        f"{w['agency_responsible']}: {agencies}"
    ).paragraph_format.left_indent = indent
    for item in recommendation.items:
        document.add_paragraph(_answer(item, w)).paragraph_format.left_indent = indent


def _answer(item: Item, w: dict[str, str]) -> str:
    parts = [item.conference, item.answer_label]
    if item.candidate:
        parts.append(f"{w['answered_by']}: {item.candidate}")
    if item.due_date:
        parts.append(f"{w['due']}: {item.due_date}")
    if item.agency:
        parts.append(f"{w['agency']}: {item.agency}")
    if item.summary:
        parts.append(f"{w['summary']}: {item.summary}")
    if item.written_answer:
        parts.append(f"{w['written_answer']}: {item.written_answer}")
    return f"– {'; '.join(parts)}"


def _recipients(document, synthesis: Synthesis, w: dict[str, str]) -> None:
    """ "Nơi nhận" on the left (the agencies named, and the file), the signature on the right."""
    block = document.add_table(rows=1, cols=2)
    left = block.cell(0, 0).paragraphs[0]
    run = left.add_run(w["recipients"])
    run.bold, run.italic = True, True
    for line in [a.agency for a in synthesis.agencies if a.agency] + [w["recipients_file"]]:
        left.add_run().add_break()
        left.add_run(f"- {line}").font.size = Pt(11)
    right = block.cell(0, 1).paragraphs[0]
    right.alignment = WD_ALIGN_PARAGRAPH.CENTER
    right.add_run(w["signature"]).bold = True
    right.add_run().add_break()
    right.add_run(w["sign_hint"]).italic = True
