"""The synthesis as a workbook, written by meetings/spreadsheets.py (every cell inert): every
question of every conference of the round, exactly once, with its status, on the first sheet;
then the recommendations by field, the agencies, the localities and the concerns.

It is the organiser's working copy: it lists every question received with its text, including
those not accepted or never moderated (the report, sent to the agencies, prints only the ones
taken up)."""

from meetings.questions.models import AnswerKind
from meetings.questions.synthesis.data import Synthesis
from meetings.questions.synthesis.words import words
from meetings.spreadsheets import add_sheet, workbook, xlsx_document


def render_xlsx(synthesis: Synthesis) -> bytes:
    w = words(synthesis.language)
    book = workbook()
    add_sheet(
        book,
        w["all_questions"],
        [
            w["id"],
            w["conference"],
            w["hall"],
            w["commune"],
            w["district"],
            w["source"],
            w["topic"],
            w["status"],
            w["reason"],
            w["merged_into"],
            w["concern"],
            w["ref"],
            w["support"],
            w["text"],
            w["candidate"],
            w["answer_kind"],
            w["summary"],
            w["due"],
            w["agency"],
            w["written_answer"],
        ],
        [
            [
                r.id,
                r.conference,
                r.hall,
                r.commune,
                r.district,
                r.source,
                r.topic,
                r.status,
                r.reason,
                r.merged_into,
                r.concern,
                r.ref,
                r.votes,
                r.text,
                r.candidate,
                r.answer,
                r.summary,
                r.due_date,
                r.agency,
                r.written_answer,
            ]
            for r in synthesis.rows
        ],
    )
    add_sheet(
        book,
        w["by_topic"],
        [
            w["ref"],
            w["topic"],
            w["concern"],
            w["conferences"],
            w["halls_count"],
            w["text"],
            w["agency_responsible"],
        ],
        [
            [
                r.ref,
                topic.label,
                r.concern,
                len(r.conferences),
                r.hall_count,
                r.text,
                ", ".join(r.agencies),
            ]
            for topic in synthesis.topics
            for r in topic.recommendations
        ],
    )
    kinds = (AnswerKind.LIVE, AnswerKind.WRITTEN, AnswerKind.REFERRED)
    add_sheet(
        book,
        w["by_agency"],
        [
            w["agency_responsible"],
            w["recommendations"],
            w["questions"],
            w["halls_count"],
            w["answered_live"],
            w["to_answer_in_writing"],
            w["referred"],
            w["written_received"],
        ],
        [
            [
                a.agency or w["no_agency"],
                a.recommendations,
                a.questions,
                a.halls,
                *(a.kinds[kind] for kind in kinds),
                a.written_answers,
            ]
            for a in synthesis.agencies
        ],
    )
    add_sheet(
        book,
        w["by_locality"],
        [w["district"], w["commune"], w["questions"], w["recommendations"]],
        [list(line) for line in synthesis.localities],
    )
    add_sheet(
        book,
        w["concerns"],
        [w["concern"], w["ref"], w["id"], w["conference"], w["hall"], w["text"], w["agency"]],
        [
            [
                r.concern,
                r.ref,
                item.id,
                item.conference,
                ", ".join(item.halls),
                item.text,
                item.agency,
            ]
            for r in synthesis.concerns
            for item in r.items
        ],
    )
    return xlsx_document(book)
