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
            "These minutes were made from the conference's record as it stood at its entry "
            "%(n)s. Each entry is chained to the one before it by SHA-256, so the hash of entry "
            "%(n)s, printed below, pins every entry up to it: anyone can recompute the chain "
            "from the published record (docs/record.md) and check that it passes through this "
            "hash."
        ),
        "record_seq": _("Entry the minutes were made at (seq)"),
        "record_hash": _("Hash of that entry"),
        "checkpoint": _("Signed checkpoint"),
        "checkpoint_at_head": _(
            "The platform signed the record at this very entry: its checkpoint is below."
        ),
        "checkpoint_before": _(
            "The platform had not signed the record at this entry when the minutes were made; "
            "below is its latest signed checkpoint before it, at entry %(seq)s."
        ),
        "checkpoint_none": _(
            "The platform had signed no checkpoint of this record when the minutes were made."
        ),
        "checkpoint_seq": _("Entry (seq)"),
        "checkpoint_hash": _("Hash"),
        "checkpoint_reason": _("Signed"),
        "checkpoint_signed": _("Signed at"),
        "key_id": _("Key id"),
        "signature": _("Signature (Ed25519, base64)"),
        "site_key_id": _("The site's public key id"),
        "site_key": _("The site's public key (Ed25519, base64)"),
        "statement": _("Signed statement and signature"),
        "qr_note": _(
            "The QR code holds the checkpoint's signed statement and its signature line, "
            "printed below. To check it: verify the signature with the site's public key "
            "(Ed25519, over the statement's lines as UTF-8), then check that the published "
            "record still passes through the checkpoint's hash at its entry (docs/record.md, "
            '"Signed checkpoints").'
        ),
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


def record_lines(minutes, w: dict[str, str]) -> list[tuple[str, str | int]]:
    """The record's head the minutes were made at, as label and value (a seq as a number, for
    the spreadsheets)."""
    return [(w["record_seq"], minutes.record_seq), (w["record_hash"], minutes.record_hash)]


# The labels of a signed checkpoint's fields, in the order checkpoint_values gives them.
CHECKPOINT_FIELDS = (
    "checkpoint_seq",
    "checkpoint_hash",
    "checkpoint_reason",
    "checkpoint_signed",
    "key_id",
    "signature",
)


def checkpoint_values(checkpoint, *, printed: bool) -> list[str | int]:
    """``printed``: the time in the minutes' time zone beside the exact time signed (DOCX and
    PDF), rather than the exact time alone (the spreadsheets)."""
    signed = checkpoint.signed_utc
    if printed:
        signed = f"{checkpoint.signed} ({signed})"
    return [
        checkpoint.seq,
        checkpoint.hash,
        f"{checkpoint.reason} ({checkpoint.reason_code})",
        signed,
        checkpoint.key_id,
        checkpoint.signature,
    ]


def site_key_lines(minutes, w: dict[str, str]) -> list[tuple[str, str]]:
    return [(w["site_key_id"], minutes.site_key_id), (w["site_key"], minutes.site_public_key)]


def checkpoint_lines(minutes, w: dict[str, str], *, printed: bool) -> list[tuple[str, str | int]]:
    """The signed checkpoint's fields, if there is one, then the site's key, as label and
    value."""
    lines = []
    if minutes.checkpoint is not None:
        values = checkpoint_values(minutes.checkpoint, printed=printed)
        lines += [(w[field], value) for field, value in zip(CHECKPOINT_FIELDS, values, strict=True)]
    return lines + site_key_lines(minutes, w)


def checkpoint_sentence(minutes, w: dict[str, str]) -> str:
    checkpoint = minutes.checkpoint
    if checkpoint is None:
        return w["checkpoint_none"]
    if checkpoint.at_head:
        return w["checkpoint_at_head"]
    return w["checkpoint_before"] % {"seq": checkpoint.seq}


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
