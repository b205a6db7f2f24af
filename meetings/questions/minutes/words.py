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
        "addressed_to": _("Addressed to"),
        "answer": _("Answer"),
        "summary": _("Summary"),
        "due": _("Written answer due by"),
        "agency": _("Referred to"),
        "written_answer": _("Written answer"),
        "follow_ups": _("Follow-ups: written answers and referrals"),
        "not_taken": _("What became of the questions received"),
        "received": _("Questions received"),
        "taken_up": _("Taken up at the conference (listed above)"),
        "unconsidered_count": _("Not considered at the conference (not moderated before the end)"),
        "unconsidered": _("Questions not considered at the conference"),
        "unconsidered_note": _(
            "Received, and not moderated before the conference ended. No moderator read them: "
            "the public's copy of these minutes does not print their text."
        ),
        "received_at": _("Received at"),
        "text_withheld": _("(text not published: not moderated)"),
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


def answer_details(entry, w: dict[str, str]) -> list[str]:
    """Who answered and how, as the printed minutes (DOCX and PDF) say it. Only an answer names
    the candidate who gave it; a question addressed to a candidate and not answered says so."""
    details = []
    if entry.addressed_to and entry.addressed_to != entry.answered_by:
        details.append(f"{w['addressed_to']}: {entry.addressed_to}")
    if entry.answered_by:
        details.append(f"{w['answered_by']}: {entry.answered_by}")
    details.append(f"{w['answer']}: {entry.answer_kind}")
    if entry.due_date:
        details.append(f"{w['due']}: {entry.due_date}")
    if entry.agency:
        details.append(f"{w['agency']}: {entry.agency}")
    return details


def count_lines(minutes, w: dict[str, str]) -> list[tuple[str, str]]:
    """What became of every question received; the lines after the first add up to it."""
    lines = [
        (w["received"], str(minutes.received)),
        (w["taken_up"], str(minutes.listed)),
        (w["merged"], str(minutes.merged)),
        (w["withdrawn"], str(minutes.withdrawn)),
    ]
    lines += [(f"{w['rejected']}: {reason}", str(n)) for reason, n in minutes.rejected_by_reason]
    lines.append((w["unconsidered_count"], str(len(minutes.unconsidered))))
    return lines


def unconsidered_rows(minutes, w: dict[str, str]) -> list[list[str]]:
    return [
        [str(u.number), u.hall, u.source, u.received, u.text or w["text_withheld"]]
        for u in minutes.unconsidered
    ]


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
