"""One entry point for every format of the minutes."""

from dataclasses import dataclass

from meetings.questions.minutes.data import gather
from meetings.questions.minutes.docx import render_docx
from meetings.questions.minutes.pdf import render_pdf
from meetings.questions.minutes.tabular import render_csv, render_xlsx
from meetings.rooms.models import Meeting


@dataclass(frozen=True)
class Format:
    render: object
    content_type: str
    extension: str


FORMATS = {
    "docx": Format(
        render_docx,
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "docx",
    ),
    "pdf": Format(render_pdf, "application/pdf", "pdf"),
    "csv": Format(render_csv, "text/csv; charset=utf-8", "csv"),
    "xlsx": Format(
        render_xlsx, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"
    ),
}


def export_minutes(
    meeting: Meeting, fmt: str, language: str = "vi", *, staff: bool = False
) -> bytes:
    """``staff``: the staff's copy, with the text of the questions no moderator read."""
    return FORMATS[fmt].render(gather(meeting, language, staff=staff))


def file_name(meeting: Meeting, fmt: str, language: str) -> str:
    return f"bien-ban-{meeting.slug}-{language}.{FORMATS[fmt].extension}"
