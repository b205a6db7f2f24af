"""The words the minutes print, translated in the language the minutes are made in."""

from django.utils.translation import gettext as _


def words() -> dict[str, str]:
    return {
        "nation": _("SOCIALIST REPUBLIC OF VIET NAM"),
        "motto": _("Independence – Freedom – Happiness"),
        "title": _("MINUTES OF THE VOTER CONTACT CONFERENCE"),
        "conference": _("Conference"),
        "electoral_unit": _("Electoral unit"),
        "time": _("Time"),
        "status": _("Status"),
        "presiding": _("Presiding"),
        "chair": _("Chair"),
        "secretary": _("Secretary"),
        "candidates": _("Candidates"),
        "name": _("Full name"),
        "position": _("Current position"),
        "halls": _("Bridge points and attendance"),
        "hall": _("Bridge point"),
        "attendance": _("Voters present"),
        "studio": _("central studio"),
        "total": _("Total"),
        "opinions": _("Voters' opinions and petitions, and the candidates' answers"),
        "none": _("No opinion or petition was taken up."),
        "asked_by": _("Asked by"),
        "a_voter": _("a voter"),
        "also_from": _("Also raised at"),
        "support": _("Voters supporting"),
        "answered_by": _("Answered by"),
        "answer": _("Answer"),
        "summary": _("Summary"),
        "due": _("Written answer due by"),
        "agency": _("Referred to"),
        "written_answer": _("Written answer"),
        "follow_ups": _("Follow-ups: written answers and referrals"),
        "not_taken": _("Questions received and not taken up"),
        "received": _("Questions received"),
        "merged": _("Merged with a similar question"),
        "withdrawn": _("Withdrawn by the voter"),
        "rejected": _("Not accepted, by reason"),
        "speaking": _("Speaking time per candidate"),
        "presentation": _("Presentation"),
        "allowance": _("Allowance"),
        "answers": _("Answers"),
        "record": _("The record"),
        "record_text": _(
            "This meeting's record has %(n)s entries, chained by SHA-256. Its final hash is "
            "printed below; anyone can recompute it from the published record (see "
            "docs/record.md) and compare."
        ),
        "final_hash": _("Final hash"),
        "generated": _("Generated"),
        "signature_chair": _("THE CHAIR"),
        "signature_secretary": _("THE SECRETARY"),
        "sign_hint": _("(signature and full name)"),
        "number": _("No."),
        "topic": _("Topic"),
        "text": _("Opinion or petition"),
        "source": _("Came in by"),
        "minutes_csv_answer_kind": _("How it was answered"),
    }


def duration(seconds: int) -> str:
    minutes, secs = divmod(max(0, int(seconds)), 60)
    return f"{minutes}:{secs:02d}"


def hall_label(name: str, is_studio: bool, w: dict[str, str]) -> str:
    """The hall's name, with "(central studio)" after the studio's unless its name says so."""
    if is_studio and w["studio"].casefold() not in name.casefold():
        return f"{name} ({w['studio']})"
    return name


def speaking_header(w: dict[str, str]) -> list[str]:
    return [w["name"], w["presentation"], w["allowance"], w["answers"], w["total"]]


def speaking_rows(speaking: list[dict]) -> list[list[str]]:
    """The equal-time table as the printed minutes (DOCX and PDF) show it: minutes and seconds,
    with the number of answers beside the time spent answering."""
    return [
        [
            s["name"],
            duration(s["presentation_seconds"]),
            duration(s["allowance_seconds"]),
            f"{duration(s['answer_seconds'])} ({s['answers']})",
            duration(s["total_seconds"]),
        ]
        for s in speaking
    ]
