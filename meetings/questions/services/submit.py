"""Receiving a question: from a voter's phone, typed from paper by a hall's clerk, or noted
from the floor by a moderator.

Fair intake (docs/questions.md, "Limits"): each phone has its own allowance; a hall's
established phones share one count and its new phones (ids issued in the last
DEVICE_NEW_SECONDS) a smaller one of their own, so a burst of fresh ids cannot use up what the
hall's other phones may send; and an established phone's first question of its window is
never refused for its hall's count. The clerk's paper questions have a count of their own, and
moderators' questions from the floor none: neither ever takes the phones' share.
"""

import uuid
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError
from django.utils.translation import gettext as _

from meetings.questions import limits
from meetings.questions.devices import Device, unknown_device
from meetings.questions.models import Question, QuestionSource, Topic
from meetings.questions.models.question import MAX_NAME, MAX_TEXT
from meetings.questions.services.record import announce, with_merged
from meetings.questions.text import clean_line, match_form, question_text
from meetings.rooms.actors import Actor
from meetings.rooms.errors import Conflict, Invalid, MeetingEnded, RateLimited
from meetings.rooms.models import BridgePoint, Candidate, Meeting, MeetingStatus
from meetings.rooms.services.events import ENDED_STATUSES, note_meeting_status, record_write

OPEN_STATUSES = (MeetingStatus.SCHEDULED, MeetingStatus.LIVE)


@dataclass(frozen=True)
class Submission:
    question: Question
    created: bool  # False: this client id had already been received; nothing new was made


def question_submit(
    *,
    meeting: Meeting,
    hall: BridgePoint,
    source: QuestionSource,
    client_id: uuid.UUID,
    text: str,
    actor: Actor,
    topic_code: str | None = None,
    candidate_id: int | None = None,
    asker_name: str = "",
    asker_group: str = "",
    asker_named_publicly: bool = False,
    device: Device | None = None,
) -> Submission:
    """Receive a question once: the same client id again returns the question it made.
    ``device``: the phone that sends it (phones only).

    Invalid input changes nothing and says what is wrong, in the caller's language.
    """
    existing = _already_received(meeting, client_id)
    if existing is not None:
        return Submission(existing, created=False)
    if hall.meeting_id != meeting.pk:
        raise Invalid(_("That hall belongs to another conference."))
    text = question_text(text)
    if len(text) > MAX_TEXT:
        raise Invalid(
            _("A question can be at most %(max)s characters; yours has %(n)s.")
            % {"max": MAX_TEXT, "n": len(text)}
        )
    asker_name, asker_group = clean_line(asker_name), clean_line(asker_group)
    if len(asker_name) > MAX_NAME or len(asker_group) > MAX_NAME:
        raise Invalid(
            _("A name or residential group can be at most %(max)s characters.") % {"max": MAX_NAME}
        )
    topic = _topic(meeting, topic_code)
    candidate = _candidate(meeting, candidate_id)
    # Checked on the caller's copy of the meeting first (the API reads it in the same request),
    # so that a question refused for a closed intake does not use up the phone's allowance;
    # checked again under the lock below, where it decides.
    _check_intake(meeting, source)
    _take_allowance(hall, source, device)
    try:
        with record_write(meeting=meeting):
            # Under the lock, so the intake cannot close between this check and the insert.
            # The intake governs phones; paper handed in and questions spoken from the floor
            # are recorded while the conference runs.
            current = Meeting.objects.only("status", "questions_open").get(pk=meeting.pk)
            note_meeting_status(meeting, current.status)
            _check_intake(current, source)
            question = Question.objects.create(
                meeting=meeting,
                hall=hall,
                source=source,
                client_id=client_id,
                text=text,
                original_text=text,
                match_text=match_form(text),
                asker_name=asker_name,
                asker_group=asker_group,
                asker_named_publicly=asker_named_publicly and bool(asker_name),
                device_hash=device.hash if device is not None else "",
                author=actor.user,
                topic=topic,
                candidate=candidate,
            )
            announce(
                action="submitted",
                questions=[with_merged(question, [])],
                actor=actor,
                details={"source": source.value, "hall": hall.pk},
                recount=True,
            )
    except IntegrityError:
        # The same client id arrived twice at once; the other request made it. Nothing of this
        # one was kept: its transaction was rolled back as a whole.
        existing = _already_received(meeting, client_id)
        if existing is None:
            raise
        return Submission(existing, created=False)
    return Submission(question, created=True)


def _take_allowance(hall: BridgePoint, source: QuestionSource, device: Device | None) -> None:
    """Count the question against what its sender may send; RateLimited when over."""
    if source == QuestionSource.FLOOR:
        return  # the moderators' own, from their accounts
    if source == QuestionSource.PAPER:
        limits.take(f"question:paper:{hall.pk}", settings.QUESTION_LIMIT_PER_HALL, _hall_busy())
        return
    if device is None or device.hall_id != hall.pk:
        raise unknown_device()
    own = limits.take(
        f"question:device:{device.hash}",
        settings.QUESTION_LIMIT_PER_DEVICE,
        limits.question_limits_message(),
    )
    try:
        if device.is_new():
            limits.take(
                f"question:new-phones:{hall.pk}",
                settings.QUESTION_LIMIT_PER_HALL_NEW_PHONES,
                _(
                    "Many phones that have just joined this hall are sending questions. "
                    "Yours will be sent by itself shortly."
                ),
            )
        else:
            # A phone's first question of its window passes however many the others sent.
            limits.take(
                f"question:phones:{hall.pk}",
                settings.QUESTION_LIMIT_PER_HALL,
                _hall_busy(),
                refuse=own.used > 1,
            )
    except RateLimited:
        own.give_back()  # refused for the others' sake: it does not use up this phone's own
        raise


def _hall_busy() -> str:
    return _("This hall has sent many questions in the last minute. Please try again shortly.")


def _check_intake(meeting: Meeting, source: QuestionSource) -> None:
    if meeting.status in ENDED_STATUSES:
        raise MeetingEnded(_("The conference has ended; it takes no more questions."))
    intake_closed = source == QuestionSource.PHONE and not meeting.questions_open
    if intake_closed or meeting.status not in OPEN_STATUSES:
        raise Conflict(_("The conference is not taking questions at the moment."))


def _already_received(meeting: Meeting, client_id: uuid.UUID) -> Question | None:
    # Unordered: the unique (meeting, client id) index finds the one row; the model's default
    # ordering (first()) would join the meeting, whose ordering it follows, and sort.
    for question in (
        Question.objects.filter(meeting=meeting, client_id=client_id)
        .select_related("topic")
        .order_by()[:1]
    ):
        question.meeting = meeting
        return question
    return None


def _topic(meeting: Meeting, code: str | None) -> Topic | None:
    if not code:
        return None
    topic = meeting.topics.filter(code=code).first()
    if topic is None:
        raise Invalid(_("Unknown topic: %s") % code)
    return topic


def _candidate(meeting: Meeting, candidate_id: int | None) -> Candidate | None:
    if candidate_id is None:
        return None
    candidate = meeting.candidates.filter(pk=candidate_id).first()
    if candidate is None:
        raise Invalid(_("There is no such candidate at this conference."))
    return candidate
