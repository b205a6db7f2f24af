"""Announcing counts in batches: the votes of the public questions and each hall's tally.

A vote, a new question or a moderator's decision is stored at once, but announcing every
change of a count to every screen would not scale: a busy conference sees hundreds of votes
and dozens of questions a second, and each public entry goes to every kiosk and phone. So
counts are announced in batches: ``counts_publish`` appends one ``public.votes`` with every
vote count that changed (and, for staff, ``moderation.supports`` with those questions' votes by
hall) and one ``public.tally`` with every hall whose counts changed, in one transaction, at
most every COUNTS_PUBLISH_SECONDS per conference. Snapshots show the announced counts
(``Question.votes_published`` and ``supports_published``, ``AnnouncedTally``), so a screen's
copy and a fresh snapshot always agree; the public page, the API's tally and the minutes count
the questions.

The record closes when the conference ends (docs/record.md, "After the end"): the counts still
pending then are announced in the transaction that ends it, before its status changes
(``meeting_ending``), and no batch is appended after it. Votes are refused once it has ended,
so there is nothing left to announce; a count that still differs afterwards (a vote that
committed while the end was being written) is left unannounced, with a line in the log.
"""

import asyncio
import contextvars
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, QuerySet
from django.dispatch import receiver

from meetings.questions.models import PUBLIC_STATUSES, AnnouncedTally, Question
from meetings.questions.state import announced_tally, live_supports, meeting_tally
from meetings.rooms import patch
from meetings.rooms.actors import Actor
from meetings.rooms.models import Audience, Meeting
from meetings.rooms.services.events import (
    ENDED_STATUSES,
    event_append,
    meeting_has_ended,
    record_write,
)
from meetings.rooms.signals import meeting_ending, stream_round

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class CountsAnnounced:
    questions: int  # questions whose vote count was announced
    halls: int  # halls whose tally was announced

    def __bool__(self) -> bool:
        return bool(self.questions or self.halls)


def counts_publish(*, meeting: Meeting) -> CountsAnnounced:
    """Announce every count that changed since the last announcement: ``public.votes`` (with
    ``moderation.supports`` for staff) then ``public.tally``, each only if something in it
    changed."""
    with record_write(meeting=meeting):
        # Locked until the end of the transaction: a vote cannot move a count between this
        # read and its announcement.
        votes = _votes_to_announce(meeting, Question.objects.select_for_update())
        tallies = _tallies_to_announce(meeting)
        if (votes or tallies) and meeting_has_ended(meeting):
            logger.info(
                "counts of meeting %s not announced: it has ended, its record is closed "
                "(%s questions, %s halls)",
                meeting.pk,
                len(votes),
                len(tallies),
            )
            return CountsAnnounced(questions=0, halls=0)
        if votes:
            # The counts were read with their rows locked (_votes_to_announce): no vote for
            # these questions can commit before this transaction does, so the votes by hall
            # are those the counts were read from, and one statement records them all.
            supports = live_supports(meeting, votes)
            Question.objects.bulk_update(
                [
                    Question(pk=pk, votes_published=count, supports_published=supports[pk])
                    for pk, count in votes.items()
                ],
                ["votes_published", "supports_published"],
            )
            event_append(
                meeting=meeting,
                type="public.votes",
                audience=Audience.PUBLIC,
                payload={
                    "votes": {str(pk): count for pk, count in votes.items()},
                    "patch": [
                        patch.merge("questions", pk, value={"votes": count})
                        for pk, count in votes.items()
                    ],
                },
                actor=Actor.system("votes"),
            )
            event_append(
                meeting=meeting,
                type="moderation.supports",
                audience=Audience.STAFF,
                payload={
                    "supports": {str(pk): supports[pk] for pk in votes},
                    "patch": [
                        patch.merge("moderation", pk, value={"supports": supports[pk]})
                        for pk in votes
                    ],
                },
                actor=Actor.system("votes"),
            )
        if tallies:
            AnnouncedTally.objects.bulk_create(
                [
                    AnnouncedTally(hall_id=int(hall), meeting=meeting, counts=counts)
                    for hall, counts in tallies.items()
                ],
                update_conflicts=True,
                unique_fields=["hall"],
                update_fields=["counts"],
            )
            event_append(
                meeting=meeting,
                type="public.tally",
                audience=Audience.PUBLIC,
                payload={
                    "tally": tallies,
                    "patch": [
                        patch.merge("tally", hall, value=counts) for hall, counts in tallies.items()
                    ],
                },
                actor=Actor.system("tally"),
            )
    return CountsAnnounced(questions=len(votes), halls=len(tallies))


def counts_pending(*, meeting: Meeting) -> bool:
    """Whether any count differs from what was last announced (reads only, takes no lock)."""
    return bool(_votes_to_announce(meeting, Question.objects) or _tallies_to_announce(meeting))


def counts_publish_pending(*, meeting_ids: Iterable[int]) -> dict[int, CountsAnnounced]:
    """Announce whatever counts are pending in these conferences; returns what was announced,
    by conference. For each web process to call periodically: it covers a node that died with
    a timer armed (its changes were committed, their announcement never made). A conference
    with nothing pending costs three reads and takes no lock."""
    announced = {}
    meetings = Meeting.objects.filter(pk__in=list(meeting_ids)).exclude(status__in=ENDED_STATUSES)
    for meeting in meetings.order_by("pk"):
        if counts_pending(meeting=meeting):
            result = counts_publish(meeting=meeting)
            if result:
                announced[meeting.pk] = result
    return announced


def _votes_to_announce(meeting: Meeting, questions: QuerySet[Question]) -> dict[int, int]:
    """The counts that changed since announced, read from ``questions``."""
    return dict(
        questions.filter(meeting=meeting, status__in=PUBLIC_STATUSES)
        .exclude(vote_count=F("votes_published"))
        .order_by("pk")
        .values_list("pk", "vote_count")
    )


def _tallies_to_announce(meeting: Meeting) -> dict[str, dict[str, Any]]:
    announced = announced_tally(meeting)
    live = meeting_tally(meeting)
    return {hall: live[hall] for hall in sorted(live, key=int) if announced.get(hall) != live[hall]}


class CountsPublisher:
    """Batches the announcements of counts per conference on the server's event loop.

    Daphne runs one asyncio loop per process; meetings/asgi.py hands it over when the first
    request or connection arrives. A change to a count arms a timer for its conference once it
    commits (if none is armed); when the timer fires, every pending count is announced. Without
    a server loop (management commands, the Django test client) there is nothing to wait on, so
    the announcement is made at once, in the caller's transaction. A node that dies with a
    timer armed leaves its counts unannounced until the next change, or until a web process
    calls ``counts_publish_pending`` (which they do periodically).
    """

    def __init__(self) -> None:
        self.loop: asyncio.AbstractEventLoop | None = None
        self.armed: set[int] = set()

    def attach(self, loop: asyncio.AbstractEventLoop | None) -> None:
        self.loop = loop
        self.armed.clear()

    def schedule(self, meeting: Meeting) -> None:
        """Announce this conference's counts soon (at once without a server loop)."""
        loop = self.loop
        if loop is None or loop.is_closed() or not loop.is_running():
            counts_publish(meeting=meeting)
            return
        meeting_id = meeting.pk
        # A fresh context: the timer's work must not inherit the request's (asgiref sends
        # thread-sensitive calls made in a request's context to that request's own thread,
        # which is gone or busy by the time the timer fires). robust: the change is committed
        # by then; a loop closing under us must not fail the request that made it (the
        # periodic counts_publish_pending announces it anyway).
        transaction.on_commit(
            lambda: loop.call_soon_threadsafe(self._arm, meeting_id, context=contextvars.Context()),
            robust=True,
        )

    def _arm(self, meeting_id: int) -> None:
        if meeting_id in self.armed:
            return
        self.armed.add(meeting_id)
        self.loop.call_later(
            settings.COUNTS_PUBLISH_SECONDS, lambda: self.loop.create_task(self._fire(meeting_id))
        )

    async def _fire(self, meeting_id: int) -> None:
        from channels.db import database_sync_to_async

        self.armed.discard(meeting_id)
        try:
            await database_sync_to_async(_publish_by_id)(meeting_id)
        except Exception:
            logger.exception("could not announce the counts of meeting %s", meeting_id)


def _publish_by_id(meeting_id: int) -> CountsAnnounced:
    return counts_publish(meeting=Meeting.objects.get(pk=meeting_id))


publisher = CountsPublisher()


@receiver(meeting_ending, dispatch_uid="meetings.questions.counts_at_the_end")
def _announce_what_is_pending_at_the_end(sender, *, meeting: Meeting, **kwargs) -> None:
    counts_publish(meeting=meeting)


@receiver(stream_round, dispatch_uid="meetings.questions.counts_pending")
def _announce_what_a_dead_node_left(sender, *, meeting_ids: list[int], **kwargs) -> None:
    counts_publish_pending(meeting_ids=meeting_ids)
