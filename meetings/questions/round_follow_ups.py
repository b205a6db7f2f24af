"""Reads for a round's follow-through: every question of the round's conferences promised a
written answer or referred to an agency, with where it stands (follow_through.py), filtered by
locality, topic, agency, state and free text, overdue ones first; and the counts by state and
by agency. The public page of the round (public_round.py) reads only what is public; the
organisers' page (round_views.py) reads everything."""

from collections import Counter
from dataclasses import dataclass, fields

from django.db.models import Q, QuerySet
from django.http import QueryDict

from meetings.questions.follow_through import (
    FOLLOW_UP_KINDS,
    FollowState,
    Standing,
    conference_today,
    standing,
)
from meetings.questions.models import PUBLIC_STATUSES, Answer, Topic
from meetings.rooms.models import BridgePoint, Meeting, Round

# Overdue first (the longest overdue first), then awaiting (the soonest due first), then answered.
_RANK = {FollowState.OVERDUE: 0, FollowState.AWAITING: 1, FollowState.ANSWERED: 2}


@dataclass(frozen=True)
class Filters:
    """What the page's form asks for, as GET parameters (a link to a search can be shared)."""

    q: str = ""
    district: str = ""
    commune: str = ""
    topic: str = ""
    agency: str = ""
    state: str = ""
    conference: str = ""

    @classmethod
    def from_query(cls, query: QueryDict) -> "Filters":
        # Without NULs (PostgreSQL refuses them in a query), one line each, at most 200 chars.
        values = {
            f.name: " ".join(query.get(f.name, "").replace("\x00", "").split())[:200]
            for f in fields(cls)
        }
        if values["state"] not in {s.value for s in FollowState}:
            values["state"] = ""
        return cls(**values)

    def as_query(self) -> str:
        """The filters as a query string, for the pages' links (empty ones left out)."""
        query = QueryDict(mutable=True)
        for f in fields(self):
            if getattr(self, f.name):
                query[f.name] = getattr(self, f.name)
        return query.urlencode()


@dataclass(frozen=True)
class RoundFollowUp:
    answer: Answer
    standing: Standing

    @property
    def question(self):
        return self.answer.question


def _meetings(round: Round, *, public: bool) -> QuerySet[Meeting]:
    meetings = Meeting.objects.filter(round=round)
    if public:
        meetings = meetings.filter(published_at__isnull=False)
    return meetings


def _answers(round: Round, *, public: bool) -> QuerySet[Answer]:
    answers = Answer.objects.filter(
        kind__in=FOLLOW_UP_KINDS, question__meeting__in=_meetings(round, public=public)
    )
    if public:
        answers = answers.filter(question__status__in=PUBLIC_STATUSES)
    return answers


def round_follow_ups(round: Round, filters: Filters, *, public: bool) -> list[RoundFollowUp]:
    """The round's follow-ups that match ``filters`` (but its state: see ``in_state``), overdue
    first. ``public``: only those a visitor may see (published conferences, public statuses)."""
    answers = _answers(round, public=public).select_related(
        "question__meeting", "question__hall", "question__topic", "candidate"
    )
    if filters.district:
        answers = answers.filter(question__hall__district=filters.district)
    if filters.commune:
        answers = answers.filter(question__hall__commune=filters.commune)
    if filters.topic:
        answers = answers.filter(question__topic__code=filters.topic)
    if filters.agency:
        answers = answers.filter(agency=filters.agency)
    if filters.conference:
        answers = answers.filter(question__meeting__slug=filters.conference)
    if filters.q:
        text = filters.q
        answers = answers.filter(
            Q(question__text__icontains=text)
            | Q(agency__icontains=text)
            | Q(summary__icontains=text)
            | Q(written_answer__icontains=text)
            | Q(question__hall__name__icontains=text)
            | Q(question__hall__commune__icontains=text)
            | Q(question__hall__district__icontains=text)
        )
    today = conference_today()
    items = [RoundFollowUp(answer, standing(answer, today=today)) for answer in answers]
    items.sort(
        key=lambda item: (
            _RANK[item.standing.state],
            -item.standing.days_overdue,
            item.answer.due_date,
            item.answer.question_id,
        )
    )
    return items


def in_state(items: list[RoundFollowUp], state: str) -> list[RoundFollowUp]:
    """Those of ``items`` in ``state``; all of them for no state. The counts at the top of the
    pages are those of the search without its state, so that each state's count stays shown."""
    return [item for item in items if item.standing.state == state] if state else items


def counts(items: list[RoundFollowUp]) -> dict:
    """How many are in each state, and per agency (the written answers promised without an
    agency are counted under ""), the agencies with the most first."""
    states = Counter(item.standing.state for item in items)
    agencies: dict[str, Counter] = {}
    for item in items:
        agencies.setdefault(item.answer.agency, Counter())[item.standing.state] += 1
    return {
        "total": len(items),
        "states": {state.value: states.get(state, 0) for state in FollowState},
        "agencies": sorted(
            (
                {
                    "agency": agency,
                    "total": sum(c.values()),
                    **{state.value: c.get(state, 0) for state in FollowState},
                }
                for agency, c in agencies.items()
            ),
            key=lambda row: (-row["total"], row["agency"].casefold()),
        ),
    }


def choices(round: Round, *, public: bool) -> dict:
    """What the filters offer: the round's districts, communes, topics, agencies and
    conferences (only the published ones on the public page)."""
    meetings = _meetings(round, public=public)
    halls = BridgePoint.objects.filter(meeting__in=meetings)
    topics: dict[str, Topic] = {}
    for topic in Topic.objects.filter(meeting__in=meetings).order_by("position", "pk"):
        topics.setdefault(topic.code, topic)
    return {
        "districts": sorted(
            set(halls.exclude(district="").values_list("district", flat=True)), key=str.casefold
        ),
        "communes": sorted(
            set(halls.exclude(commune="").values_list("commune", flat=True)), key=str.casefold
        ),
        "topics": list(topics.values()),
        "agencies": sorted(
            set(_answers(round, public=public).exclude(agency="").values_list("agency", flat=True)),
            key=str.casefold,
        ),
        "conferences": list(meetings.order_by("scheduled_start", "title")),
    }
