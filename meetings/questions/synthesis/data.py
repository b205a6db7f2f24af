"""Everything the synthesis says, read in one moment of the database, in the language asked.

Which questions go where (docs/rounds.md, "The synthesis"):

- A question taken up at its conference (approved, on air, answered) is an **item**: it is
  reported once, under its topic (grouped by the topic's ``code``, which every conference
  shares from the default list), with its answer. An approved question the conference did not
  reach is reported as not answered.
- A question merged into another is counted under the question at the end of its chain of
  merges (questions/merges.py): its hall is one of that item's halls, as in the minutes.
- The items of a confirmed concern (models/concern.py) are one **recommendation**, with every
  conference and hall that raised it; any other item is a recommendation by itself.
- Rejected, withdrawn and never-moderated questions are counted (in the report's summary) and
  listed in the workbook's sheet of every question, with their status; the report prints no
  text of theirs.
"""

import re
from collections import Counter, OrderedDict, defaultdict
from dataclasses import dataclass, field

from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from meetings.questions.merges import MergeTree
from meetings.questions.models import (
    PUBLIC_STATUSES,
    AnswerKind,
    ConcernMember,
    Question,
    QuestionStatus,
)
from meetings.questions.services.topics import DEFAULT_TOPICS
from meetings.questions.text import clean_line, match_form
from meetings.rooms.models import BridgePoint, Candidate, Round
from meetings.rooms.state import consistent_read

TOPIC_ORDER = [code for code, _vi, _en in DEFAULT_TOPICS]
OTHER = "other"  # questions filed under no topic are reported under "Other"
ROMAN = ["I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII", "XIII", "XIV"]


def roman(n: int) -> str:
    return ROMAN[n - 1] if n <= len(ROMAN) else str(n)


def agency_key(agency: str) -> str:
    """The form agencies are grouped by: "Sở Giáo dục và Đào tạo", "sở giáo dục và đào tạo."
    and "So Giao duc va Dao tao" are one agency."""
    return match_form(agency)


@dataclass
class Item:
    """A question taken up at its conference, with the halls of the questions merged into it."""

    id: int
    conference: str
    conference_slug: str
    hall: str
    text: str
    topic_code: str
    status: str
    votes: int
    halls: list[str]  # its own and those of the questions merged into it, by name
    hall_keys: list[int]
    localities: list[tuple[str, str]]  # (district, commune) of those halls
    concern: int | None
    candidate: str = ""
    answer_kind: str = ""  # code ("" when not answered)
    answer_label: str = ""
    summary: str = ""
    due_date: str = ""
    agency: str = ""
    written_answer: str = ""
    ref: str = ""  # its recommendation's place in the report ("II.3")


@dataclass
class Recommendation:
    """What the report lists once: a confirmed concern's items, or one item."""

    ref: str
    concern: int | None
    topic_code: str
    items: list[Item]

    @property
    def text(self) -> str:
        return self.items[0].text

    @property
    def conferences(self) -> list[str]:
        return list(OrderedDict.fromkeys(item.conference for item in self.items))

    @property
    def hall_count(self) -> int:
        return len({key for item in self.items for key in item.hall_keys})

    @property
    def localities(self) -> list[tuple[str, str]]:
        return sorted({place for item in self.items for place in item.localities})

    @property
    def agencies(self) -> list[str]:
        """The agencies its answers named, each once however it was spelt."""
        named: dict[str, str] = {}
        for item in self.items:
            if item.agency:
                named.setdefault(agency_key(item.agency), item.agency)
        return list(named.values())


@dataclass
class Topic:
    code: str
    label: str
    number: str  # roman
    recommendations: list[Recommendation]


@dataclass
class AgencyLine:
    agency: str  # as most often written; "" for answers that named none
    recommendations: int = 0
    questions: int = 0
    halls: int = 0
    kinds: Counter = field(default_factory=Counter)
    written_answers: int = 0


@dataclass
class Row:
    """Any question of any conference of the round, for the workbook's full list."""

    id: int
    conference: str
    conference_slug: str
    hall: str
    commune: str
    district: str
    source: str
    topic: str
    status: str
    reason: str
    merged_into: int | None
    concern: int | None
    ref: str
    votes: int
    text: str
    candidate: str
    answer: str
    summary: str
    due_date: str
    agency: str
    written_answer: str


@dataclass
class Synthesis:
    language: str
    round_slug: str
    title: str
    election: str
    level: str
    starts: str
    ends: str
    issuer: str
    place: str
    generated: str
    today: tuple[int, int, int]
    conferences: list[tuple[str, str, str, str]]  # slug, title, electoral unit, scheduled
    hall_count: int
    attendance: int
    candidate_count: int
    topics: list[Topic]
    agencies: list[AgencyLine]
    localities: list[tuple[str, str, int, int]]  # district, commune, questions, recommendations
    counts: dict[str, int]
    rows: list[Row]
    concerns: list[Recommendation]


def gather(round: Round, language: str = "vi", *, issuer: str = "", place: str = "") -> Synthesis:
    with translation.override(language), consistent_read():
        return _gather(Round.objects.get(pk=round.pk), language, issuer, place)


def _format_date(value) -> str:
    return date_format(value, "DATE_FORMAT") if value else ""


def _gather(round: Round, language: str, issuer: str, place: str) -> Synthesis:
    meetings = {m.pk: m for m in round.meetings.order_by("scheduled_start", "slug")}
    halls = {h.pk: h for h in BridgePoint.objects.filter(meeting__in=meetings)}
    topic_labels = {code: (vi if language == "vi" else en) for code, vi, en in DEFAULT_TOPICS}
    questions = list(
        Question.objects.filter(meeting__in=meetings)
        .select_related("topic", "answer__candidate")
        .order_by("meeting__scheduled_start", "meeting__slug", "created_at", "pk")
    )
    concern_of = dict(
        ConcernMember.objects.filter(question__meeting__in=meetings).values_list(
            "question_id", "concern_id"
        )
    )
    by_meeting: dict[int, list[Question]] = defaultdict(list)
    for q in questions:
        by_meeting[q.meeting_id].append(q)
        if q.topic is not None:
            topic_labels.setdefault(
                q.topic.code,
                q.topic.label if language == "vi" else q.topic.label_en or q.topic.label,
            )
    trees = {pk: MergeTree.of_questions(qs) for pk, qs in by_meeting.items()}
    topic_labels[OTHER] = topic_labels.get(OTHER) or _("Other")

    items: dict[int, Item] = {}
    for q in questions:
        if q.status not in PUBLIC_STATUSES:
            continue
        origins = trees[q.meeting_id].origins(q.pk)
        hall_keys = sorted({q.hall_id, *(hall for _pk, hall in origins)})
        # A question merged into it that was linked before the merge brings its concern.
        concern = concern_of.get(q.pk) or next(
            (concern_of[pk] for pk, _hall in origins if pk in concern_of), None
        )
        item = Item(
            id=q.pk,
            conference=meetings[q.meeting_id].title,
            conference_slug=meetings[q.meeting_id].slug,
            hall=halls[q.hall_id].name,
            text=q.text,
            topic_code=q.topic.code if q.topic else OTHER,
            status=str(q.get_status_display()),
            votes=q.vote_count,
            halls=[halls[k].name for k in hall_keys],
            hall_keys=hall_keys,
            localities=sorted({(halls[k].district, halls[k].commune) for k in hall_keys}),
            concern=concern,
        )
        answer = getattr(q, "answer", None)
        if answer is not None:
            item.candidate = answer.candidate.name if answer.candidate else ""
            item.answer_kind = answer.kind
            item.answer_label = str(answer.get_kind_display())
            item.summary = answer.summary
            item.due_date = _format_date(answer.due_date)
            item.agency = clean_line(answer.agency)
            item.written_answer = answer.written_answer
        else:
            item.answer_label = _("Not answered at the conference")
        items[q.pk] = item

    # Recommendations: a concern's items together, every other item alone.
    grouped: dict[object, list[Item]] = OrderedDict()
    for item in items.values():
        grouped.setdefault(("concern", item.concern) if item.concern else item.id, []).append(item)
    by_topic: dict[str, list[Recommendation]] = defaultdict(list)
    concerns: list[Recommendation] = []
    for members in grouped.values():
        # The topic most of its questions were filed under (on a tie, its first question's).
        code = Counter(item.topic_code for item in members).most_common(1)[0][0]
        recommendation = Recommendation("", members[0].concern, code, members)
        by_topic[code].append(recommendation)
        if recommendation.concern:
            concerns.append(recommendation)
    ordered = sorted(by_topic, key=lambda c: (TOPIC_ORDER.index(c) if c in TOPIC_ORDER else 99, c))
    # "Other" last, whatever else came in.
    ordered.sort(key=lambda c: c == OTHER)
    topics = []
    for n, code in enumerate(ordered, start=1):
        recommendations = sorted(
            by_topic[code], key=lambda r: (-len(r.conferences), -r.hall_count, r.items[0].id)
        )
        for k, recommendation in enumerate(recommendations, start=1):
            recommendation.ref = f"{roman(n)}.{k}"
            for item in recommendation.items:
                item.ref = recommendation.ref
        topics.append(Topic(code, topic_labels.get(code, code), roman(n), recommendations))
    concerns.sort(key=lambda r: r.concern)

    rows = [_row(q, meetings, halls, items, trees, concern_of, topic_labels) for q in questions]
    statuses = Counter(q.status for q in questions)
    attendance = sum(h.attendance or 0 for h in halls.values())
    return Synthesis(
        language=language,
        round_slug=round.slug,
        title=round.title,
        election=round.election,
        level=str(round.get_level_display()),
        starts=_format_date(round.starts_on),
        ends=_format_date(round.ends_on),
        issuer=issuer,
        place=place,
        generated=date_format(timezone.localtime(timezone.now()), "DATETIME_FORMAT"),
        today=(lambda d: (d.day, d.month, d.year))(timezone.localdate()),
        conferences=[
            (
                m.slug,
                m.title,
                m.electoral_unit,
                date_format(timezone.localtime(m.scheduled_start), "DATETIME_FORMAT"),
            )
            for m in meetings.values()
        ],
        hall_count=len(halls),
        attendance=attendance,
        candidate_count=Candidate.objects.filter(meeting__in=meetings).count(),
        topics=topics,
        agencies=_agencies(topics),
        localities=_localities(questions, halls, items, trees),
        counts={
            "received": len(questions),
            "taken_up": len(items),
            "recommendations": sum(len(t.recommendations) for t in topics),
            "concerns": len(concerns),
            "merged": statuses[QuestionStatus.MERGED],
            "rejected": statuses[QuestionStatus.REJECTED],
            "withdrawn": statuses[QuestionStatus.WITHDRAWN],
            "unconsidered": statuses[QuestionStatus.SUBMITTED],
        },
        rows=rows,
        concerns=concerns,
    )


def _row(q, meetings, halls, items, trees, concern_of, topic_labels) -> Row:
    hall = halls[q.hall_id]
    target = trees[q.meeting_id].final_target(q.pk) if q.status == QuestionStatus.MERGED else q.pk
    item = items.get(target)
    answer = getattr(q, "answer", None)
    return Row(
        id=q.pk,
        conference=meetings[q.meeting_id].title,
        conference_slug=meetings[q.meeting_id].slug,
        hall=hall.name,
        commune=hall.commune,
        district=hall.district,
        source=str(q.get_source_display()),
        topic=topic_labels.get(q.topic.code, q.topic.label) if q.topic else "",
        status=str(q.get_status_display()),
        reason=str(q.get_reject_reason_display()) if q.reject_reason else "",
        merged_into=target if target != q.pk else None,
        concern=item.concern if item else concern_of.get(q.pk),
        ref=item.ref if item else "",
        votes=q.vote_count,
        text=q.text,
        candidate=answer.candidate.name if answer and answer.candidate else "",
        answer=str(answer.get_kind_display()) if answer else "",
        summary=answer.summary if answer else "",
        due_date=_format_date(answer.due_date) if answer else "",
        agency=clean_line(answer.agency) if answer else "",
        written_answer=answer.written_answer if answer else "",
    )


def _agencies(topics: list[Topic]) -> list[AgencyLine]:
    lines: dict[str, AgencyLine] = {}
    spellings: dict[str, Counter] = defaultdict(Counter)
    for topic in topics:
        for recommendation in topic.recommendations:
            seen = set()
            for item in recommendation.items:
                key = agency_key(item.agency)
                spellings[key][item.agency] += 1
                line = lines.setdefault(key, AgencyLine(""))
                if key not in seen:
                    line.recommendations += 1
                    seen.add(key)
                line.questions += 1
                line.halls += len(item.hall_keys)
                line.kinds[item.answer_kind or ""] += 1
                line.written_answers += bool(item.written_answer)
    for key, line in lines.items():
        line.agency = spellings[key].most_common(1)[0][0] if key else ""
    # The agencies by how much they must answer; answers naming none last.
    return sorted(lines.values(), key=lambda a: (not a.agency, -a.questions, agency_key(a.agency)))


def _localities(questions, halls, items, trees) -> list[tuple[str, str, int, int]]:
    """Each commune's questions taken up or merged into one taken up, and the distinct
    recommendations they are in."""
    counted: dict[tuple[str, str], int] = Counter()
    refs: dict[tuple[str, str], set[str]] = defaultdict(set)
    for q in questions:
        if q.status not in PUBLIC_STATUSES and q.status != QuestionStatus.MERGED:
            continue
        target = trees[q.meeting_id].final_target(q.pk)
        if target not in items:
            continue  # merged into a question not taken up (cannot be made by the services)
        place = (halls[q.hall_id].district, halls[q.hall_id].commune)
        counted[place] += 1
        refs[place].add(items[target].ref)
    return [
        (d, c, counted[(d, c)], len(refs[(d, c)]))
        for d, c in sorted(counted, key=lambda place: [natural(part) for part in place])
    ]


def natural(text: str) -> list:
    """A sort key in which "Xã 4" comes before "Xã 49" and "Xã 6"."""
    return [int(part) if part.isdigit() else part.casefold() for part in re.split(r"(\d+)", text)]


def answer_kinds() -> list[tuple[str, str]]:
    return [(value, str(label)) for value, label in AnswerKind.choices]
