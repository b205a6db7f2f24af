"""The one table of a question's allowed status moves.

    submitted -> approved | rejected | merged | withdrawn
    approved  -> on_air | merged
    on_air    -> answered | approved   (back to the queue without an answer)
    merged    -> submitted | approved  (undoing a merge restores the status it had)

Rejected, withdrawn and answered questions stay as they are, in the record. Services apply a
move with a conditional update on the status it comes from (services/moves.py).
"""

from meetings.questions.models import QuestionStatus as S

QUESTION_TRANSITIONS: dict[str, frozenset[str]] = {
    S.SUBMITTED: frozenset({S.APPROVED, S.REJECTED, S.MERGED, S.WITHDRAWN}),
    S.APPROVED: frozenset({S.ON_AIR, S.MERGED}),
    S.ON_AIR: frozenset({S.ANSWERED, S.APPROVED}),
    S.MERGED: frozenset({S.SUBMITTED, S.APPROVED}),
    S.REJECTED: frozenset(),
    S.WITHDRAWN: frozenset(),
    S.ANSWERED: frozenset(),
}


def allowed(current: str, target: str) -> bool:
    return target in QUESTION_TRANSITIONS[current]


def sources_of(target: str) -> frozenset[str]:
    """Every status a question may move to ``target`` from."""
    return frozenset(s for s, targets in QUESTION_TRANSITIONS.items() if target in targets)
