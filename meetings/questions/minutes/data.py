"""Everything the minutes say, gathered from the record in one place, in the language asked."""

from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime

from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from meetings.questions.merges import MergeTree
from meetings.questions.models import (
    PUBLIC_STATUSES,
    AnswerKind,
    Question,
    QuestionStatus,
    RejectReason,
)
from meetings.questions.speaking import speaking_time
from meetings.questions.state import meeting_tally
from meetings.rooms.checkpoints import (
    checkpoint_at,
    checkpoint_before,
    checkpoint_note,
    public_key_for_client,
)
from meetings.rooms.models import (
    CheckpointReason,
    EventLogHead,
    Meeting,
    Role,
)
from meetings.rooms.record import format_time
from meetings.rooms.state import consistent_read


@dataclass
class Entry:
    """One voter's opinion or petition, as the minutes give it."""

    number: int
    text: str
    hall: str
    also_from: list[str]
    source: str
    asker: str
    votes: int
    answered_by: str  # the candidate who answered; only an answer names one
    addressed_to: str  # the candidate the question was addressed to, if any
    answer_kind: str
    answer_summary: str
    due_date: str
    agency: str
    written_answer: str
    status: str


@dataclass
class Unconsidered:
    """A question received and never moderated before the end: not considered at the
    conference. Its text was read by no moderator, so the public's copy of the minutes does
    not print it (as no public screen ever showed it); the staff's copy does."""

    number: int
    hall: str
    source: str
    received: str
    text: str  # "" in the public's copy


@dataclass
class Checkpoint:
    """The platform's signed checkpoint the minutes print: the one of the head they were made
    at, or else the latest signed before it (``at_head`` says which)."""

    seq: int
    hash: str
    reason: str  # in the minutes' language
    reason_code: str  # as signed
    signed: str  # in the minutes' language and time zone
    signed_utc: str  # exactly as signed
    key_id: str
    signature: str  # Ed25519, base64
    note: str  # the signed statement and its signature line: what the QR code holds
    at_head: bool


@dataclass
class Minutes:
    language: str
    title: str
    electoral_unit: str
    scheduled: str
    status: str
    chairs: list[str]
    secretaries: list[str]
    candidates: list[tuple[str, str]]  # name, current position
    halls: list[tuple[str, int | None, bool]]  # name, attendance, is studio
    attendance_total: int
    topics: "OrderedDict[str, OrderedDict[str, list[Entry]]]"  # topic -> hall -> entries
    received: int
    rejected_by_reason: list[tuple[str, int]]
    merged: int
    withdrawn: int
    listed: int  # the questions taken up (approved, on air, answered), each an entry
    rejected: int
    speaking: list[dict]
    record_seq: int  # the record's head when the minutes were made, read with everything else
    record_hash: str
    checkpoint: Checkpoint | None  # None while no checkpoint of the record is signed yet
    site_key_id: str  # the key the site signs with now (docs/record.md, "Signed checkpoints")
    site_public_key: str  # base64
    generated: str
    follow_ups: list[Entry] = field(default_factory=list)
    unconsidered: list[Unconsidered] = field(default_factory=list)


def gather(meeting: Meeting, language: str = "vi", *, staff: bool = False) -> Minutes:
    """``staff``: the copy for the conference's staff, which prints the text of the questions
    no moderator read (``Unconsidered``)."""
    # One moment of the database: the head printed is the one the questions and counts were
    # read at (every write moves the head in its own transaction).
    with translation.override(language), consistent_read():
        return _gather(Meeting.objects.get(pk=meeting.pk), language, staff)


def _format(moment: datetime | None) -> str:
    return date_format(timezone.localtime(moment), "DATETIME_FORMAT") if moment else ""


def _gather(meeting: Meeting, language: str, staff: bool) -> Minutes:
    grants = meeting.grants.select_related("user")
    names = {
        role: sorted(
            g.user.get_full_name() or g.user.get_username() for g in grants if g.role == role
        )
        for role in (Role.CHAIR, Role.SECRETARY)
    }
    halls = list(meeting.bridge_points.all())
    hall_names = {hall.pk: hall.name for hall in halls}
    topic_labels = {
        t.pk: (t.label if language == "vi" else (t.label_en or t.label))
        for t in meeting.topics.all()
    }
    other = _("Other")
    questions = (
        Question.objects.filter(meeting=meeting, status__in=PUBLIC_STATUSES)
        .select_related("topic", "candidate", "answer__candidate")
        .order_by("topic__position", "hall__position", "created_at")
    )
    tree = MergeTree.of_meeting(meeting.pk)
    topics: OrderedDict[str, OrderedDict[str, list[Entry]]] = OrderedDict()
    follow_ups: list[Entry] = []
    number = 0
    for number, question in enumerate(questions, start=1):
        entry = _entry(number, question, hall_names, tree)
        topic = topic_labels.get(question.topic_id, other)
        topics.setdefault(topic, OrderedDict()).setdefault(entry.hall, []).append(entry)
        answer = getattr(question, "answer", None)
        if answer is not None and answer.kind in (AnswerKind.WRITTEN, AnswerKind.REFERRED):
            follow_ups.append(entry)
    unconsidered = [
        Unconsidered(
            number=at,
            hall=hall_names[question.hall_id],
            source=str(question.get_source_display()),
            received=_format(question.created_at),
            text=question.text if staff else "",
        )
        for at, question in enumerate(
            Question.objects.filter(meeting=meeting, status=QuestionStatus.SUBMITTED).order_by(
                "hall__position", "created_at", "pk"
            ),
            start=number + 1,
        )
    ]
    tally = meeting_tally(meeting)
    rejected: dict[str, int] = {}
    for counts in tally.values():
        for reason, n in counts["rejected_by_reason"].items():
            rejected[reason] = rejected.get(reason, 0) + n
    head = EventLogHead.objects.get(meeting=meeting)
    site_key = public_key_for_client()
    return Minutes(
        language=language,
        title=meeting.title,
        electoral_unit=meeting.electoral_unit,
        scheduled=_format(meeting.scheduled_start),
        status=str(meeting.get_status_display()),
        chairs=names[Role.CHAIR],
        secretaries=names[Role.SECRETARY],
        candidates=[(c.name, c.current_position) for c in meeting.candidates.all()],
        halls=[(hall.name, hall.attendance, hall.is_studio) for hall in halls],
        attendance_total=sum(hall.attendance or 0 for hall in halls),
        topics=topics,
        received=sum(counts["received"] for counts in tally.values()),
        rejected_by_reason=[
            (str(RejectReason(code).label), n) for code, n in sorted(rejected.items())
        ],
        merged=sum(counts["merged"] for counts in tally.values()),
        withdrawn=sum(counts["withdrawn"] for counts in tally.values()),
        listed=sum(counts["approved"] for counts in tally.values()),
        rejected=sum(counts["rejected"] for counts in tally.values()),
        speaking=[time.as_dict() for time in speaking_time(meeting)],
        record_seq=head.seq,
        record_hash=head.hash,
        checkpoint=_checkpoint(meeting, head.seq),
        site_key_id=site_key["key_id"],
        site_public_key=site_key["public_key"],
        generated=_format(timezone.now()),
        follow_ups=follow_ups,
        unconsidered=unconsidered,
    )


def _checkpoint(meeting: Meeting, seq: int) -> Checkpoint | None:
    signed = checkpoint_at(meeting, seq) or checkpoint_before(meeting, seq)
    if signed is None:
        return None
    return Checkpoint(
        seq=signed.seq,
        hash=signed.hash,
        reason=str(CheckpointReason(signed.reason).label),
        reason_code=signed.reason,
        signed=_format(signed.signed_at),
        signed_utc=format_time(signed.signed_at),
        key_id=signed.key_id,
        signature=signed.signature,
        note=checkpoint_note(signed, meeting.slug),
        at_head=signed.seq == seq,
    )


def _entry(number: int, question: Question, hall_names: dict[int, str], tree: MergeTree) -> Entry:
    answer = getattr(question, "answer", None)
    # The halls of every question merged into it, at any depth of merges.
    also = sorted(
        {hall_names[hall] for _pk, hall in tree.origins(question.pk)}
        - {hall_names[question.hall_id]}
    )
    return Entry(
        number=number,
        text=question.text,
        hall=hall_names[question.hall_id],
        also_from=also,
        source=str(question.get_source_display()),
        asker=question.asker_name if question.asker_named_publicly else "",
        votes=question.vote_count,
        answered_by=answer.candidate.name if answer and answer.candidate else "",
        addressed_to=question.candidate.name if question.candidate else "",
        answer_kind=str(answer.get_kind_display()) if answer else _("Not answered"),
        answer_summary=answer.summary if answer else "",
        due_date=date_format(answer.due_date, "DATE_FORMAT") if answer and answer.due_date else "",
        agency=answer.agency if answer else "",
        written_answer=answer.written_answer if answer else "",
        status=question.status,
    )
