"""Merging keeps every original and sums votes; undoing restores both."""

import pytest

from meetings.questions.models import Question
from meetings.questions.services import merge, moderation, votes
from meetings.questions.services.record import fresh
from meetings.questions.state import question_moderation_view, question_public_view
from tests.questions.helpers import ask, open_conference, phone_device

pytestmark = pytest.mark.django_db


def approved_with_votes(conference, text, hall, voters):
    question = moderation.question_approve(
        question=ask(conference, text, hall=hall, device=100 + hall.pk), actor=conference.actor
    )
    for n in voters:
        votes.question_vote(
            meeting=question.meeting,
            question_id=question.pk,
            device=phone_device(conference, n, hall=hall),
        )
    return question


def test_merge_keeps_the_originals_and_sums_the_votes_and_undo_restores_both():
    conference = open_conference()
    target = approved_with_votes(conference, "Sửa đường liên thôn", conference.halls[0], [1, 2, 3])
    duplicate = approved_with_votes(conference, "Đường liên thôn hỏng", conference.halls[1], [4, 5])
    moderation.question_edit(
        question=duplicate, text="Đường liên thôn hỏng nặng", actor=conference.actor
    )

    merge.question_merge(question=duplicate, into=target, actor=conference.actor)
    merged, target = fresh(duplicate), fresh(target)
    assert merged.status == "merged" and merged.merged_into == target
    assert merged.text == "Đường liên thôn hỏng nặng"
    assert merged.original_text == "Đường liên thôn hỏng"
    assert merged.hall == conference.halls[1]
    assert merged.vote_count == 2  # its own votes stay with it
    assert target.vote_count == 5 and target.votes_published == 5
    assert question_public_view(target)["also_from_halls"] == [conference.halls[1].pk]
    assert question_moderation_view(target)["merged_from"] == [merged.pk]
    # Staff see where the supports came from: each hall's phones, the merged question's too.
    first, second = (str(hall.pk) for hall in conference.halls[:2])
    assert question_moderation_view(target)["supports"] == {first: 3, second: 2}
    assert question_moderation_view(merged)["supports"] == {second: 2}

    merge.question_unmerge(question=merged, actor=conference.actor)
    restored, target = fresh(merged), fresh(target)
    assert restored.status == "approved" and restored.merged_into is None
    assert restored.vote_count == 2 and target.vote_count == 3
    assert question_moderation_view(target)["supports"] == {first: 3}
    assert question_moderation_view(restored)["supports"] == {second: 2}
    assert question_public_view(target)["also_from_halls"] == []


def test_votes_after_a_merge_go_to_the_question_that_stayed():
    conference = open_conference()
    target = approved_with_votes(conference, "Một", conference.halls[0], [1])
    duplicate = approved_with_votes(conference, "Hai", conference.halls[1], [2])
    merge.question_merge(question=duplicate, into=target, actor=conference.actor)
    votes.question_vote(
        meeting=target.meeting, question_id=target.pk, device=phone_device(conference, 3)
    )
    assert Question.objects.get(pk=target.pk).vote_count == 3


def test_a_question_cannot_join_one_that_was_merged_away_or_itself():
    from meetings.rooms.errors import Conflict, Invalid

    conference = open_conference()
    a, b, c = (ask(conference, t, device=n) for n, t in enumerate(["a", "b", "c"], 1))
    merge.question_merge(question=b, into=a, actor=conference.actor)
    with pytest.raises(Conflict):
        merge.question_merge(question=c, into=b, actor=conference.actor)
    with pytest.raises(Invalid):
        merge.question_merge(question=c, into=c, actor=conference.actor)


def test_undo_of_an_inner_merge_waits_for_the_outer_one():
    from meetings.rooms.errors import Conflict

    conference = open_conference()
    a = moderation.question_approve(question=ask(conference, "a", device=1), actor=conference.actor)
    b = moderation.question_approve(question=ask(conference, "b", device=2), actor=conference.actor)
    c = ask(conference, "c", device=3)
    merge.question_merge(question=c, into=b, actor=conference.actor)
    merge.question_merge(question=b, into=a, actor=conference.actor)
    with pytest.raises(Conflict, match="undo that merge first"):
        merge.question_unmerge(question=c, actor=conference.actor)
    merge.question_unmerge(question=b, actor=conference.actor)
    merge.question_unmerge(question=c, actor=conference.actor)
    assert fresh(c).status == "submitted"
