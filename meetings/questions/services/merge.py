"""Merging duplicates, so that one answer serves every hall that asked, and undoing it.

Nothing is lost: the merged question keeps its text, hall, asker and votes, and points to the
question it joined; that question's votes are the sum, and so are its supports by hall (staff
see them, counted again here). Undoing restores both.
"""

from django.db.models import F
from django.utils.translation import gettext as _

from meetings.questions.models import Question, QuestionStatus
from meetings.questions.services.moderation import next_position, was_public
from meetings.questions.services.moves import conflict, move
from meetings.questions.services.record import announce, fresh
from meetings.questions.similarity import MERGE_TARGETS
from meetings.questions.state import live_supports
from meetings.rooms.actors import Actor
from meetings.rooms.errors import Invalid
from meetings.rooms.services.events import record_write, refuse_after_end


def question_merge(
    *, question: Question, into: Question, actor: Actor, expected_version: int | None = None
) -> Question:
    if into.meeting_id != question.meeting_id:
        raise Invalid(_("Questions of different conferences cannot be merged."))
    if into.pk == question.pk:
        raise Invalid(_("A question cannot be merged into itself."))
    with record_write(meeting=question.meeting):
        refuse_after_end(question.meeting)
        target = Question.objects.select_for_update().get(pk=into.pk)
        if target.status not in MERGE_TARGETS:
            raise conflict(target.pk, _("That question can no longer take in others."))
        before = Question.objects.get(pk=question.pk)
        public_before = was_public(before, target)
        merged = move(
            question,
            to=QuestionStatus.MERGED,
            expected_version=expected_version,
            merged_into=target,
            status_before_merge=before.status,
            position=None,
        )
        Question.objects.filter(pk=target.pk).update(
            vote_count=F("vote_count") + merged.vote_count,
            votes_published=F("votes_published") + merged.votes_published,
            supports_published=live_supports(merged.meeting, [target.pk])[target.pk],
            version=F("version") + 1,
        )
        announce(
            action="merged",
            questions=[merged, fresh(target, meeting=merged.meeting)],
            actor=actor,
            was_public=public_before,
            details={"into": target.pk},
            public_details={"into": target.pk},
            status_changed=True,
            recount=True,
        )
    return merged


def question_unmerge(
    *, question: Question, actor: Actor, expected_version: int | None = None
) -> Question:
    """Undo a merge: the question returns to the status it had, the other loses its votes."""
    with record_write(meeting=question.meeting):
        refuse_after_end(question.meeting)
        current = Question.objects.get(pk=question.pk)
        if current.status != QuestionStatus.MERGED:
            raise conflict(question.pk, _("This question is not merged."))
        target = Question.objects.select_for_update().get(pk=current.merged_into_id)
        if target.status == QuestionStatus.MERGED:
            raise conflict(
                target.pk, _("The question it joined was merged in turn: undo that merge first.")
            )
        restored_status = current.status_before_merge or QuestionStatus.SUBMITTED
        restored = move(
            question,
            to=restored_status,
            expected_version=expected_version,
            merged_into=None,
            status_before_merge="",
            position=next_position(current.meeting_id)
            if restored_status == QuestionStatus.APPROVED
            else None,
        )
        Question.objects.filter(pk=target.pk).update(
            vote_count=F("vote_count") - restored.vote_count,
            votes_published=F("votes_published") - restored.votes_published,
            supports_published=live_supports(restored.meeting, [target.pk])[target.pk],
            version=F("version") + 1,
        )
        announce(
            action="unmerged",
            questions=[restored, fresh(target, meeting=restored.meeting)],
            actor=actor,
            details={"from": target.pk},
            public_details={"from": target.pk},
            status_changed=True,
            recount=True,
        )
    return restored
