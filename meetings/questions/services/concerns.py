"""Linking the same concern raised in several conferences of a round (docs/rounds.md, "The
synthesis"): an organiser of the round confirms the platform's suggestion, or takes a question
out again, or dismisses a suggestion.

A link or an unlink is on the record of every conference whose question it concerns
(``concern.linked`` / ``concern.unlinked``, staff, allowed after the end): the synthesis is
made from these questions after the conferences end, and each conference's staff (and its
record's reader) can see which of its questions the round's report counts with others. The
entries are for staff: a link is the organiser's judgement, not something said at the
conference. A dismissed suggestion changes nothing in any conference and is on no record.

One transaction for the whole change (``records_write``): the heads of every conference it
writes to are locked first, in the order of their ids, then each record is written in turn;
every other writer takes one conference's head only, so no two writers wait on each other.
"""

from collections import defaultdict
from itertools import combinations

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from meetings.questions.models import (
    PUBLIC_STATUSES,
    Concern,
    ConcernMember,
    DismissedSuggestion,
    Question,
)
from meetings.rooms.actors import Actor
from meetings.rooms.errors import Conflict, Forbidden, Invalid
from meetings.rooms.models import Audience, Meeting, Round, RoundGrant
from meetings.rooms.services.events import event_append, record_write, records_write


def may_synthesise(user: AbstractBaseUser, round: Round) -> bool:
    """The round's organisers and the platform's superusers."""
    if not user.is_authenticated or not user.is_active:
        return False
    return user.is_superuser or RoundGrant.objects.filter(round=round, user=user).exists()


def _refuse_unless_organiser(user: AbstractBaseUser, round: Round) -> None:
    if not may_synthesise(user, round):
        raise Forbidden(_("Only the round's organisers can link its concerns."))


def _questions_of_round(round: Round, question_ids: list[int]) -> list[Question]:
    ids = sorted(set(question_ids))
    questions = list(Question.objects.filter(pk__in=ids).select_related("meeting"))
    if len(questions) != len(ids):
        raise Invalid(_("A question to link does not exist."))
    if any(q.meeting.round_id != round.pk for q in questions):
        raise Invalid(_("Only questions of the round's conferences can be linked."))
    return questions


def concern_link(*, round: Round, question_ids: list[int], user: AbstractBaseUser) -> Concern:
    """Link these questions (two at least, each of a conference of the round, each taken up
    at its conference: approved, on air or answered) as one concern. Questions already in a
    concern bring the others into it; questions of two different concerns are refused."""
    _refuse_unless_organiser(user, round)
    if len(set(question_ids)) < 2:
        raise Invalid(_("Choose at least two questions to link."))
    actor, now = Actor.for_user(user), timezone.now()
    questions = _questions_of_round(round, question_ids)
    # The conferences of the questions already in a concern with these come into it too, and
    # their records say so: their heads are taken with the others.
    concerned = Meeting.objects.filter(
        questions__concern_member__concern__members__question__in=questions
    )
    with records_write(meetings=[q.meeting for q in questions] + list(concerned)):
        existing = {
            m.question_id: m.concern
            for m in ConcernMember.objects.filter(question__in=questions).select_related("concern")
        }
        concerns = {c.pk: c for c in existing.values()}
        if len(concerns) > 1:
            raise Conflict(
                _("These questions are already in two different concerns: unlink one first.")
            )
        concern = next(iter(concerns.values()), None)
        if concern is None:
            concern = Concern.objects.create(round=round, confirmed_by=user, confirmed_at=now)
        else:
            concern.confirmed_by, concern.confirmed_at = user, now
            concern.save(update_fields=["confirmed_by", "confirmed_at"])
        new = [q for q in questions if q.pk not in existing]
        if not new:
            raise Conflict(_("These questions are already linked."))
        try:
            with transaction.atomic():
                ConcernMember.objects.bulk_create(
                    ConcernMember(concern=concern, question=q, added_by=user, added_at=now)
                    for q in new
                )
        except IntegrityError:
            raise Conflict(_("A question was linked to another concern meanwhile.")) from None
        conferences = sorted(
            Meeting.objects.filter(questions__concern_member__concern=concern)
            .distinct()
            .values_list("slug", flat=True)
        )
        for meeting, linked in _by_meeting(new):
            with record_write(meeting=meeting):
                # Read again under the conference's lock: still taken up at its conference.
                statuses = Question.objects.filter(pk__in=[q.pk for q in linked]).values_list(
                    "status", flat=True
                )
                if any(status not in PUBLIC_STATUSES for status in statuses):
                    raise Invalid(_("Only questions taken up at their conference can be linked."))
                event_append(
                    meeting=meeting,
                    type="concern.linked",
                    audience=Audience.STAFF,
                    payload={
                        "concern": concern.pk,
                        "round": round.slug,
                        "questions": [q.pk for q in linked],
                        "conferences": conferences,
                    },
                    actor=actor,
                )
    return concern


def concern_unlink(*, question: Question, user: AbstractBaseUser) -> None:
    """Take the question out of its concern; a concern left with one question is dissolved
    (that question is unlinked too)."""
    meeting = Meeting.objects.get(pk=question.meeting_id)
    if meeting.round is None:
        raise Invalid(_("This question is in no concern."))
    _refuse_unless_organiser(user, meeting.round)
    actor = Actor.for_user(user)
    # Every conference of its concern: a concern left with one question is dissolved, and
    # that question's record says so too.
    concerned = Meeting.objects.filter(
        questions__concern_member__concern__members__question=question
    )
    locked = {meeting.pk, *concerned.values_list("pk", flat=True)}
    with records_write(meetings=[meeting, *concerned]):
        member = (
            ConcernMember.objects.select_for_update()
            .filter(question=question)
            .select_related("concern")
            .first()
        )
        if member is None:
            raise Conflict(_("This question is in no concern."))
        concern = member.concern
        concern_id = concern.pk
        remaining = list(concern.members.exclude(pk=member.pk).select_related("question__meeting"))
        if any(m.question.meeting_id not in locked for m in remaining):
            raise Conflict(_("The concern changed meanwhile: try again."))
        question.meeting = meeting
        unlinked = [question]
        member.delete()
        dissolved = len(remaining) < 2
        if dissolved:
            unlinked += [m.question for m in remaining]
            concern.members.all().delete()
            concern.delete()
        for target, questions in _by_meeting(unlinked):
            with record_write(meeting=target):
                event_append(
                    meeting=target,
                    type="concern.unlinked",
                    audience=Audience.STAFF,
                    payload={
                        "concern": concern_id,
                        "round": meeting.round.slug,
                        "questions": [q.pk for q in questions],
                        "dissolved": dissolved,
                    },
                    actor=actor,
                )


def suggestion_dismiss(*, round: Round, question_ids: list[int], user: AbstractBaseUser) -> int:
    """The organiser says these questions are not one concern: no pair of them (of two
    different conferences) is suggested again. Returns how many pairs were newly dismissed."""
    _refuse_unless_organiser(user, round)
    if len(set(question_ids)) < 2:
        raise Invalid(_("Choose at least two questions."))
    now, made = timezone.now(), 0
    with transaction.atomic():
        questions = _questions_of_round(round, question_ids)
        for a, b in combinations(sorted(questions, key=lambda q: q.pk), 2):
            if a.meeting_id == b.meeting_id:
                continue
            _dismissal, created = DismissedSuggestion.objects.get_or_create(
                low=a,
                high=b,
                defaults={"round": round, "dismissed_by": user, "dismissed_at": now},
            )
            made += created
    return made


def _by_meeting(questions: list[Question]) -> list[tuple[Meeting, list[Question]]]:
    """The questions by conference, in the order of the conferences' ids (the order every
    change of several records takes their locks in)."""
    groups: dict[int, list[Question]] = defaultdict(list)
    meetings: dict[int, Meeting] = {}
    for q in questions:
        groups[q.meeting_id].append(q)
        meetings.setdefault(q.meeting_id, q.meeting)
    return [(meetings[pk], sorted(groups[pk], key=lambda q: q.pk)) for pk in sorted(groups)]
