"""Merges at any depth. A question merged into one that is merged in turn (#16 into #10, then
#10 into #1) belongs to the question at the end of the chain: that one carries the halls of
every question merged into it, however deep, and the askers of all of them follow it.

A merge always joins a question that is not merged itself, and an inner merge is undone only
after the outer one, so the merges of a conference form trees whose roots are not merged."""

from collections import defaultdict
from collections.abc import Iterable

from django.db.models.expressions import RawSQL

from meetings.questions.models import Question, QuestionStatus


class MergeTree:
    """The merged questions of a conference: who joined whom, and from which hall."""

    def __init__(self, rows: Iterable[tuple[int, int, int]]):
        """``rows``: (id, merged into, hall) of merged questions."""
        self.parent: dict[int, int] = {}
        self.hall: dict[int, int] = {}
        self.children: dict[int, list[int]] = defaultdict(list)
        for pk, into, hall in rows:
            self.parent[pk], self.hall[pk] = into, hall
            self.children[into].append(pk)

    @classmethod
    def of_meeting(cls, meeting_id: int) -> "MergeTree":
        """One query: every merged question of the conference (few, and three numbers each)."""
        return cls(
            Question.objects.filter(meeting_id=meeting_id, status=QuestionStatus.MERGED)
            .order_by()
            .values_list("pk", "merged_into_id", "hall_id")
        )

    @classmethod
    def of_questions(cls, questions: Iterable[Question]) -> "MergeTree":
        """From questions already read: every question of a conference, or at least its merged
        ones."""
        return cls(
            (q.pk, q.merged_into_id, q.hall_id)
            for q in questions
            if q.status == QuestionStatus.MERGED
        )

    def origins(self, pk: int) -> list[tuple[int, int]]:
        """(id, hall) of every question merged into ``pk`` at any depth, by id."""
        found: dict[int, int] = {}
        todo = list(self.children.get(pk, ()))
        while todo:
            child = todo.pop()
            if child in found or child == pk:
                continue  # a cycle cannot be made by the services; never loop on one
            found[child] = self.hall[child]
            todo.extend(self.children.get(child, ()))
        return sorted(found.items())

    def final_target(self, pk: int) -> int:
        """The question at the end of ``pk``'s chain of merges (``pk`` if it is not merged)."""
        seen = {pk}
        while pk in self.parent and self.parent[pk] not in seen:
            pk = self.parent[pk]
            seen.add(pk)
        return pk


def give_origins(questions: Iterable[Question], tree: MergeTree) -> None:
    """Give each question the questions merged into it at any depth, which its views read
    (``origins_of``)."""
    for question in questions:
        question._merge_origins = tree.origins(question.pk)


def origins_of(question: Question) -> list[tuple[int, int]]:
    """(id, hall) of every question merged into ``question`` at any depth: given by
    ``give_origins``, else read now (one query)."""
    origins = getattr(question, "_merge_origins", None)
    if origins is None:
        origins = MergeTree.of_meeting(question.meeting_id).origins(question.pk)
        question._merge_origins = origins
    return origins


def merged_into_sql(pk: int) -> RawSQL:
    """The ids of every question merged into ``pk`` at any depth, as a subquery (a recursive
    one, which SQLite and PostgreSQL both run): one query reads a question with them all."""
    table = Question._meta.db_table
    column = Question._meta.get_field("merged_into").column
    return RawSQL(
        f"WITH RECURSIVE tree(id) AS ("
        f"SELECT id FROM {table} WHERE {column} = %s "
        f"UNION SELECT q.id FROM {table} q JOIN tree ON q.{column} = tree.id"
        f") SELECT id FROM tree",
        [pk],
    )
