"""Suggesting the same concern raised in several conferences of a round.

Every question taken up at a conference of the round (approved, on air, answered) against every
other, in one call of rapidfuzz's ``cdist`` (its C++ loop, a matrix of scores 0–100 as bytes):
under 3 s of CPU for 1,400 questions (bench/synthesis). ``token_set_ratio`` on the diacritic-free
form (questions/text.py ``match_form``), as the merges' suggestions within a conference use
(questions/similarity.py), with a higher threshold: across conferences the same words about
different places are common. Pairs of one conference are left out (there they are merged),
and so are pairs already in one concern and pairs an organiser dismissed. The pairs left are
grouped into clusters (connected pairs), best first: each is one suggested concern."""

from dataclasses import dataclass

import numpy
from rapidfuzz import fuzz, process

from meetings.questions.models import PUBLIC_STATUSES, ConcernMember, DismissedSuggestion, Question
from meetings.rooms.models import Round

SUGGEST_SCORE = 80


@dataclass
class Cluster:
    questions: list[Question]  # each with ``concern`` (id or None), by conference
    score: int  # the best pair's
    pairs: list[tuple[int, int, int]]  # (id, id, score)

    @property
    def ids(self) -> list[int]:
        return [q.pk for q in self.questions]


def suggestions(round: Round, *, min_score: int = SUGGEST_SCORE) -> list[Cluster]:
    questions = list(
        Question.objects.filter(meeting__round=round, status__in=PUBLIC_STATUSES)
        .exclude(match_text="")
        .select_related("meeting", "hall")
        .only(
            "id",
            "text",
            "match_text",
            "meeting__slug",
            "meeting__title",
            "hall__name",
            "hall__commune",
            "hall__district",
            "status",
        )
        .order_by("pk")
    )
    if len(questions) < 2:
        return []
    concern = dict(
        ConcernMember.objects.filter(question__in=questions).values_list(
            "question_id", "concern_id"
        )
    )
    dismissed = set(
        DismissedSuggestion.objects.filter(round=round).values_list("low_id", "high_id")
    )
    texts = [q.match_text for q in questions]
    scores = process.cdist(
        texts, texts, scorer=fuzz.token_set_ratio, score_cutoff=min_score, dtype=numpy.uint8
    )
    rows, columns = numpy.nonzero(numpy.triu(scores, 1))
    parent = list(range(len(questions)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    pairs: list[tuple[int, int, int]] = []
    for i, j in zip(rows.tolist(), columns.tolist(), strict=True):
        a, b = questions[i], questions[j]
        if a.meeting_id == b.meeting_id or (a.pk, b.pk) in dismissed:
            continue
        if a.pk in concern and concern.get(a.pk) == concern.get(b.pk):
            continue
        pairs.append((i, j, int(scores[i, j])))
        parent[root(i)] = root(j)
    clusters: dict[int, Cluster] = {}
    for i, j, score in pairs:
        cluster = clusters.setdefault(root(i), Cluster([], 0, []))
        cluster.score = max(cluster.score, score)
        cluster.pairs.append((questions[i].pk, questions[j].pk, score))
    members: dict[int, set[int]] = {}
    for i, j, _score in pairs:
        members.setdefault(root(i), set()).update((i, j))
    for key, cluster in clusters.items():
        cluster.questions = sorted(
            (questions[i] for i in members[key]), key=lambda q: (q.meeting.slug, q.pk)
        )
        for q in cluster.questions:
            q.concern = concern.get(q.pk)
    return sorted(clusters.values(), key=lambda c: (-c.score, -len(c.questions), c.ids))
