"""One entry point for the synthesis in either format: the command, the organiser's downloads
and the benchmark call this."""

from meetings.questions.synthesis.data import gather
from meetings.questions.synthesis.docx import render_docx
from meetings.questions.synthesis.xlsx import render_xlsx
from meetings.rooms.models import Round

FORMATS = {
    "docx": (
        render_docx,
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ),
    "xlsx": (render_xlsx, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
}


def export_synthesis(round: Round, fmt: str, language: str = "vi", **details: str) -> bytes:
    """``details``: ``issuer`` and ``place`` for the report's head (dotted blanks if not
    given)."""
    render, _content_type = FORMATS[fmt]
    return render(gather(round, language, **details))


def file_name(round: Round, fmt: str, language: str) -> str:
    return f"tong-hop-y-kien-{round.slug}-{language}.{fmt}"
