"""The delivery engine without sockets: a meeting's feed (realtime/feed.py) with outlets that
keep what they are given. The real socket writes are checked on a real Daphne in test_wire.py;
here, the order of delivery, the fast path and leaving it."""

import asyncio
import itertools
import json

import pytest

from meetings.rooms.actors import Actor
from meetings.rooms.models import Audience
from meetings.rooms.realtime import frames
from meetings.rooms.realtime.connection import Connection, Delivery
from meetings.rooms.realtime.feed import MeetingFeed
from meetings.rooms.realtime.stream import LoggedEvent, Origin
from meetings.rooms.realtime.wire import HIGH_WATER, Frame
from meetings.rooms.viewers import Viewer, ViewerKind

KIND_OF = {
    Audience.PUBLIC: ViewerKind.VOTER,
    Audience.HALLS: ViewerKind.OPERATOR,
    Audience.STAFF: ViewerKind.MODERATOR,
}


class KeepingOutlet:
    """Keeps every frame it is given, in one list shared by all outlets (the order of writes
    across sockets); ``backed_up`` makes it refuse what is not urgent, as a full socket does."""

    def __init__(self, name: str, written: list):
        self.name = name
        self.written = written
        self.backed_up = False

    def write(self, frame: Frame) -> bool:
        if self.backed_up:
            return False
        self.send(frame)
        return True

    def send(self, frame: Frame) -> None:
        self.written.append((self.name, json.loads(frame.text)))

    def backlog(self) -> int:
        return HIGH_WATER * 2 if self.backed_up else 0

    async def drain(self) -> None:
        return

    def frames(self) -> list[dict]:
        return [frame for name, frame in self.written if name == self.name]

    def seqs(self) -> list[int]:
        """Every event seq it was sent, batches unfolded."""
        seqs = []
        for frame in self.frames():
            if frame["type"] == "event":
                seqs.append(frame["seq"])
            elif frame["type"] == "batch":
                seqs += [event["seq"] for event in frame["events"]]
        return seqs


def entry(seq: int, audience: Audience) -> LoggedEvent:
    event = {"seq": seq, "type": "test", "audience": audience.value, "payload": {"patch": []}}
    return LoggedEvent(seq=seq, type="test", audience=audience, json=frames.dumps(event))


async def live_feed(settings, *audiences: Audience, batch_ms: int = 0):
    settings.PHONE_BATCH_MS = batch_ms
    feed = MeetingFeed(1, on_event=lambda feed, event: None)
    feed.start(Origin(seq=10, last_visible=dict.fromkeys(Audience, 10), recent=[]))
    written: list = []
    outlets = []
    for number, audience in enumerate(audiences):
        outlet = KeepingOutlet(f"{audience.value}-{number}", written)
        connection = Connection(
            viewer=Viewer(meeting_id=1, kind=KIND_OF[audience], actor=Actor.system()),
            outlet=outlet,
            channel_name=f"channel-{number}",
            close=_never_closed,
        )
        feed.add(connection)
        feed.hello(connection, since=10)  # up to date: caught up at once, then live
        outlets.append((connection, outlet))
    await settled(feed)
    written.clear()  # the "synced" frames
    return feed, written, outlets


async def _never_closed(code: int) -> None:
    raise AssertionError(f"closed with {code}")


async def settled(feed: MeetingFeed) -> None:
    while feed.tasks:
        await asyncio.gather(*feed.tasks, return_exceptions=True)


async def test_each_event_is_written_once_to_each_socket_that_may_see_it(settings):
    feed, _written, outlets = await live_feed(settings, Audience.PUBLIC, Audience.STAFF)
    (voter, voter_out), (chair, chair_out) = outlets
    for seq, audience in ((11, Audience.PUBLIC), (12, Audience.STAFF), (13, Audience.PUBLIC)):
        feed.receive(entry(seq, audience))
    assert chair_out.seqs() == [11, 12, 13]
    assert voter_out.seqs() == [11, 13]
    assert [f["prev"] for f in voter_out.frames()] == [10, 11]  # the staff entry skipped
    assert [f["prev"] for f in chair_out.frames()] == [10, 11, 12]
    assert voter.cursor == 13 and chair.cursor == 13
    assert voter.delivery is chair.delivery is Delivery.LIVE


async def test_kiosks_and_staff_are_written_before_the_phones(settings):
    feed, written, _outlets = await live_feed(
        settings, Audience.PUBLIC, Audience.PUBLIC, Audience.HALLS, Audience.STAFF
    )
    feed.receive(entry(11, Audience.PUBLIC))
    order = [name.split("-")[0] for name, _frame in written]
    assert order == ["staff", "halls", "public", "public"]


async def test_entries_that_come_out_of_order_are_written_in_order(settings):
    feed, _written, outlets = await live_feed(settings, Audience.STAFF)
    feed.receive(entry(12, Audience.STAFF))
    feed.receive(entry(13, Audience.STAFF))
    assert outlets[0][1].seqs() == []  # held: 11 has not come
    feed.receive(entry(11, Audience.STAFF))
    feed.receive(entry(12, Audience.STAFF))  # a second copy: taken once
    assert outlets[0][1].seqs() == [11, 12, 13]
    feed.close()


async def test_phones_get_close_events_in_one_batch(settings):
    feed, _written, outlets = await live_feed(
        settings, Audience.PUBLIC, Audience.HALLS, batch_ms=100
    )
    (_voter, voter_out), (_kiosk, kiosk_out) = outlets
    for seq in (11, 12, 13):
        feed.receive(entry(seq, Audience.PUBLIC))
    assert kiosk_out.seqs() == [11, 12, 13]  # each at once
    assert voter_out.seqs() == [11]  # the first at once, the others wait for the interval
    while voter_out.seqs() != [11, 12, 13]:
        await asyncio.sleep(0.02)
    batch = voter_out.frames()[-1]
    assert batch["type"] == "batch"
    assert (batch["prev"], batch["seq"]) == (11, 13)


async def test_a_backed_up_socket_leaves_the_fast_path_and_catches_up_alone(settings):
    feed, _written, outlets = await live_feed(settings, Audience.HALLS, Audience.HALLS)
    (slow, slow_out), (_other, other_out) = outlets
    slow_out.backed_up = True
    for seq in range(11, 21):
        feed.receive(entry(seq, Audience.PUBLIC))
    assert other_out.seqs() == list(range(11, 21))  # not held up
    assert slow_out.seqs() == []
    assert slow.delivery is Delivery.CATCHING_UP
    slow_out.backed_up = False  # it drained
    while slow.delivery is not Delivery.LIVE:
        await asyncio.sleep(0.02)
    assert slow_out.seqs() == list(range(11, 21))
    frames_sent = slow_out.frames()
    assert frames_sent[0]["prev"] == 10
    for before, after in itertools.pairwise(frames_sent):
        assert after["prev"] == before["seq"]
    feed.receive(entry(21, Audience.PUBLIC))  # and it is on the fast path again
    assert slow_out.seqs()[-1] == 21 and other_out.seqs()[-1] == 21
    feed.close()


@pytest.fixture(autouse=True)
def _no_database(django_db_blocker):
    """None of this touches the database: the feed's copy serves every catch-up here."""
    with django_db_blocker.block():
        yield
