"""Voters' support for approved questions.

A vote is stored at once (one per phone per question). Announcing every vote to every screen
would not scale (a busy conference sees hundreds a second), so votes are announced in
batches: ``votes_publish`` appends one ``public.votes`` event with every count that changed,
at most every VOTE_PUBLISH_SECONDS per conference. Snapshots show the announced counts, so a
screen's copy and a fresh snapshot always agree.
"""

import asyncio
import logging

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils.translation import gettext as _

from meetings.questions import limits
from meetings.questions.models import PUBLIC_STATUSES, Question, QuestionStatus, Vote
from meetings.rooms import patch
from meetings.rooms.actors import Actor
from meetings.rooms.errors import Conflict
from meetings.rooms.models import Audience, Meeting
from meetings.rooms.services.events import event_append, event_log_lock

logger = logging.getLogger(__name__)

VOTABLE = (QuestionStatus.APPROVED, QuestionStatus.ON_AIR)


def question_vote(*, question: Question, device_hash: str) -> tuple[int, bool]:
    """Support a question from one phone; returns (its live count, whether this vote is new).
    Voting twice is not an error: the second changes nothing."""
    limits.take(
        f"vote:device:{device_hash}",
        settings.VOTE_LIMIT_PER_DEVICE,
        _("You have voted many times in a short while. Please wait a minute."),
    )
    with transaction.atomic():
        current = Question.objects.select_for_update().get(pk=question.pk)
        if current.status not in VOTABLE:
            raise Conflict(_("Only questions in the queue or on air can be supported."))
        try:
            with transaction.atomic():
                Vote.objects.create(question=current, device_hash=device_hash)
        except IntegrityError:
            return current.vote_count, False
        Question.objects.filter(pk=current.pk).update(vote_count=F("vote_count") + 1)
    publisher.schedule(question.meeting_id)
    return current.vote_count + 1, True


def votes_publish(*, meeting: Meeting) -> int:
    """Announce every count that changed since the last announcement; returns how many."""
    with transaction.atomic():
        event_log_lock(meeting=meeting)
        changed = list(
            Question.objects.filter(meeting=meeting, status__in=PUBLIC_STATUSES)
            .exclude(vote_count=F("votes_published"))
            .values_list("pk", "vote_count")
        )
        if not changed:
            return 0
        for pk, count in changed:
            Question.objects.filter(pk=pk).update(votes_published=count)
        event_append(
            meeting=meeting,
            type="public.votes",
            audience=Audience.PUBLIC,
            payload={
                "votes": {str(pk): count for pk, count in changed},
                "patch": [patch.merge("questions", pk, value={"votes": n}) for pk, n in changed],
            },
            actor=Actor.system("votes"),
        )
    return len(changed)


def votes_pending(meeting_id: int) -> bool:
    return (
        Question.objects.filter(meeting_id=meeting_id, status__in=PUBLIC_STATUSES)
        .exclude(vote_count=F("votes_published"))
        .exists()
    )


class VotePublisher:
    """Batches announcements per conference on the server's event loop.

    Daphne runs one asyncio loop per process; meetings/asgi.py hands it over when the first
    connection arrives. A vote arms a timer for its conference (if none is armed); when it
    fires, the pending counts are announced. Without a server loop (management commands, the
    Django test client) there is nothing to wait on, so the announcement is made at once.
    Consumers also announce pending votes on pings, which covers a web node that died with a
    timer armed.
    """

    def __init__(self) -> None:
        self.loop: asyncio.AbstractEventLoop | None = None
        self.armed: set[int] = set()

    def attach(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop

    def schedule(self, meeting_id: int) -> None:
        loop = self.loop
        if loop is None or loop.is_closed() or not loop.is_running():
            votes_publish(meeting=Meeting.objects.get(pk=meeting_id))
            return
        loop.call_soon_threadsafe(self._arm, meeting_id)

    def _arm(self, meeting_id: int) -> None:
        if meeting_id in self.armed:
            return
        self.armed.add(meeting_id)
        self.loop.call_later(
            settings.VOTE_PUBLISH_SECONDS, lambda: self.loop.create_task(self._fire(meeting_id))
        )

    async def _fire(self, meeting_id: int) -> None:
        from channels.db import database_sync_to_async

        self.armed.discard(meeting_id)
        try:
            await database_sync_to_async(_publish_by_id)(meeting_id)
        except Exception:
            logger.exception("could not announce the votes of meeting %s", meeting_id)


def _publish_by_id(meeting_id: int) -> int:
    return votes_publish(meeting=Meeting.objects.get(pk=meeting_id))


publisher = VotePublisher()
