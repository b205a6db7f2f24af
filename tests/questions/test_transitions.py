"""Every allowed and every forbidden move of the transition table, through the services."""

import datetime

import pytest

from meetings.questions.models import Question, QuestionStatus
from meetings.questions.services import air, merge, moderation
from meetings.questions.transitions import QUESTION_TRANSITIONS
from meetings.rooms.errors import Conflict
from meetings.rooms.models import Event
from tests.questions.helpers import ask, open_conference, phone_device

pytestmark = pytest.mark.django_db
S = QuestionStatus


def bring_to(conference, status: str) -> Question:
    """A question in ``status``, reached through the services."""
    question = ask(conference, device=1)
    actor = conference.actor
    if status == S.SUBMITTED:
        return question
    if status == S.WITHDRAWN:
        return moderation.question_withdraw(
            question=question, device_hash=phone_device(conference, 1).hash, actor=actor
        )
    if status == S.REJECTED:
        return moderation.question_reject(question=question, reason="off_topic", actor=actor)
    if status == S.MERGED:
        other = ask(conference, "Đường liên thôn bao giờ sửa?", device=2)
        return merge.question_merge(question=question, into=other, actor=actor)
    question = moderation.question_approve(question=question, actor=actor)
    if status == S.APPROVED:
        return question
    question = air.question_put_on_air(question=question, actor=actor)
    if status == S.ON_AIR:
        return question
    return air.question_answer(question=question, kind="live", actor=actor)


def attempt(conference, question: Question, target: str) -> Question:
    """Ask the service that moves a question to ``target``."""
    actor = conference.actor
    if target == S.APPROVED and question.status == S.ON_AIR:
        return air.question_back_to_queue(question=question, actor=actor)
    if target in (S.SUBMITTED, S.APPROVED) and question.status == S.MERGED:
        return merge.question_unmerge(question=question, actor=actor)
    match target:
        case S.APPROVED:
            return moderation.question_approve(question=question, actor=actor)
        case S.REJECTED:
            return moderation.question_reject(question=question, reason="unclear", actor=actor)
        case S.MERGED:
            other = ask(conference, "Một câu hỏi khác về đường", device=9)
            return merge.question_merge(question=question, into=other, actor=actor)
        case S.WITHDRAWN:
            return moderation.question_withdraw(
                question=question, device_hash=phone_device(conference, 1).hash, actor=actor
            )
        case S.ON_AIR:
            return air.question_put_on_air(question=question, actor=actor)
        case S.ANSWERED:
            return air.question_answer(
                question=question, kind="written", due_date=datetime.date(2026, 12, 31), actor=actor
            )
        case S.SUBMITTED:
            return merge.question_unmerge(question=question, actor=actor)
    raise AssertionError(target)


# A merged question leaves "merged" only by undoing the merge, which restores the status it
# had; test_undoing_a_merge_* cover both ways back. Every other pair is tried here.
ALL_PAIRS = [
    (a, b)
    for a in S.values
    for b in S.values
    if a != b and not (a == S.MERGED and b in (S.SUBMITTED, S.APPROVED))
]


@pytest.mark.parametrize(("current", "target"), ALL_PAIRS)
def test_every_move_follows_the_table(current, target):
    conference = open_conference()
    question = bring_to(conference, current)
    assert question.status == current
    before = Event.objects.count()
    if target in QUESTION_TRANSITIONS[current]:
        moved = attempt(conference, question, target)
        assert moved.status == target
        assert Event.objects.filter(type__startswith="question.").latest("seq").seq > 0
        assert Event.objects.count() > before
    else:
        with pytest.raises(Conflict) as refused:
            attempt(conference, question, target)
        question.refresh_from_db()
        assert question.status == current
        assert refused.value.detail["question"]["status"] == current
        assert Event.objects.filter(type__startswith="question.", seq__gt=before).count() == 0 or (
            target == S.MERGED  # the other question made for the attempt was recorded
        )


def test_table_is_as_documented():
    assert {
        "submitted": {"approved", "rejected", "merged", "withdrawn"},
        "approved": {"on_air", "merged"},
        "on_air": {"answered", "approved"},
        "merged": {"submitted", "approved"},
        "rejected": set(),
        "withdrawn": set(),
        "answered": set(),
    } == QUESTION_TRANSITIONS


def test_undoing_a_merge_of_a_submitted_question_returns_it_to_moderation():
    conference = open_conference()
    merged = bring_to(conference, S.MERGED)
    restored = merge.question_unmerge(question=merged, actor=conference.actor)
    assert restored.status == S.SUBMITTED and restored.merged_into is None


def test_undoing_a_merge_of_an_approved_question_returns_it_to_the_queue():
    conference = open_conference()
    question = moderation.question_approve(
        question=ask(conference, device=1), actor=conference.actor
    )
    other = ask(conference, "khác", device=2)
    merged = merge.question_merge(question=question, into=other, actor=conference.actor)
    assert merged.status == S.MERGED and merged.position is None
    restored = merge.question_unmerge(question=merged, actor=conference.actor)
    assert restored.status == S.APPROVED and restored.position is not None


def test_only_one_question_on_air():
    conference = open_conference()
    first, second = (
        moderation.question_approve(question=ask(conference, device=n), actor=conference.actor)
        for n in (1, 2)
    )
    air.question_put_on_air(question=first, actor=conference.actor)
    with pytest.raises(Conflict) as refused:
        air.question_put_on_air(question=second, actor=conference.actor)
    assert refused.value.detail["question"]["id"] == first.pk
    assert Question.objects.filter(status=S.ON_AIR).count() == 1


def test_stale_version_is_a_conflict():
    conference = open_conference()
    question = ask(conference)
    moderation.question_edit(question=question, text="Sửa lại câu hỏi", actor=conference.actor)
    with pytest.raises(Conflict):
        moderation.question_approve(
            question=question, actor=conference.actor, expected_version=question.version
        )


def test_doing_what_someone_just_did_says_so():
    conference = open_conference()
    question = ask(conference)
    moderation.question_approve(question=question, actor=conference.actor)
    with pytest.raises(Conflict, match="already done"):
        moderation.question_approve(question=question, actor=conference.actor)
