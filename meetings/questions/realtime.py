"""The questions' frames on the meeting websocket (rooms/realtime/consumer.py routes them here).

``vote``: a voter's phone supports a question over its websocket, as ``POST .../vote`` does.
Votes are what a conference's phones send most (a hundred a second in a busy one). Over HTTP
each costs a request's whole way through Django and a transaction of its own, which contend for
the database's write lock with everything else; here the votes of VOTE_BATCH_SECONDS are stored
in one transaction (``question_votes``), and each phone is answered once its vote is committed.
A phone whose answer never comes (the process died first) sends its vote again: a second vote
of the same phone changes nothing. The frame's ``device`` is checked as the HTTP API checks
``X-Device-Id``: an id the server did not issue for the phone's hall is refused
(``unknown_device``) before anything is stored.
"""

import asyncio
import logging
import weakref

from channels.db import database_sync_to_async

from meetings.questions.api.endpoints import phone_device
from meetings.questions.services.votes import VoteRequest, question_votes
from meetings.rooms.errors import DomainError
from meetings.rooms.models import Meeting
from meetings.rooms.realtime import frames

logger = logging.getLogger(__name__)

VOTE_BATCH_SECONDS = 0.05


async def on_vote(consumer, frame: frames.VoteFrame) -> None:
    device = phone_device(consumer.viewer, frame.device)
    request = VoteRequest(question_id=frame.question, device=device)
    outcome = await _batcher().vote(consumer.meeting, request)
    if isinstance(outcome, DomainError):
        raise outcome
    await consumer.send(
        text_data=frames.voted_frame(question=frame.question, voted=outcome, frame_id=frame.id)
    )


class VoteBatcher:
    """Collects the votes of this process for VOTE_BATCH_SECONDS, then stores them together."""

    def __init__(self):
        self.waiting: list[tuple[Meeting, VoteRequest, asyncio.Future]] = []
        self.timer: asyncio.TimerHandle | None = None
        self.storing: set[asyncio.Task] = set()

    def vote(self, meeting: Meeting, request: VoteRequest) -> asyncio.Future:
        loop = asyncio.get_running_loop()
        answer = loop.create_future()
        self.waiting.append((meeting, request, answer))
        if self.timer is None:
            self.timer = loop.call_later(VOTE_BATCH_SECONDS, self._store_waiting)
        return answer

    def _store_waiting(self) -> None:
        self.timer = None
        batch, self.waiting = self.waiting, []
        task = asyncio.ensure_future(self._store(batch))
        self.storing.add(task)
        task.add_done_callback(self.storing.discard)

    async def _store(self, batch: list[tuple[Meeting, VoteRequest, asyncio.Future]]) -> None:
        by_meeting: dict[int, tuple[Meeting, list]] = {}
        for meeting, request, answer in batch:
            by_meeting.setdefault(meeting.pk, (meeting, []))[1].append((request, answer))
        try:
            outcomes = await database_sync_to_async(_store_all)(
                [
                    (meeting, [request for request, _ in votes])
                    for meeting, votes in by_meeting.values()
                ]
            )
        except Exception as error:
            logger.exception("could not store %s votes", len(batch))
            for _meeting, _request, answer in batch:
                if not answer.done():
                    answer.set_exception(error)
            return
        for (_meeting, votes), results in zip(by_meeting.values(), outcomes, strict=True):
            for (_request, answer), result in zip(votes, results, strict=True):
                if not answer.done():  # its phone may have gone meanwhile
                    answer.set_result(result)


def _store_all(batches: list[tuple[Meeting, list[VoteRequest]]]) -> list[list]:
    return [question_votes(meeting=meeting, votes=votes) for meeting, votes in batches]


_batchers: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, VoteBatcher]" = (
    weakref.WeakKeyDictionary()
)


def _batcher() -> VoteBatcher:
    loop = asyncio.get_running_loop()
    batcher = _batchers.get(loop)
    if batcher is None:
        batcher = _batchers[loop] = VoteBatcher()
    return batcher
