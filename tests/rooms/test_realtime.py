"""The meeting websocket over the full ASGI application: who receives what, in what order,
and what happens after a disconnect or bad input."""

import asyncio
import itertools
from datetime import timedelta

import pytest
from channels.db import database_sync_to_async
from django.utils import timezone

from meetings.rooms.models import Event, JoinLink, JoinLinkKind
from meetings.rooms.realtime import fanout as fanout_module
from meetings.rooms.realtime import feed as feed_module
from meetings.rooms.realtime import stream
from meetings.rooms.services import agenda, halls, join_links, meetings
from meetings.rooms.services import events as event_service
from tests.factories import hold_hall, make_conference, make_user
from tests.realtime import count_calls, open_live, open_socket, record_head, stream_taken

pytestmark = [pytest.mark.django_db(transaction=True)]

build = database_sync_to_async(make_conference)


def attendance(conference, hall_index: int, count: int):
    return database_sync_to_async(halls.hall_set_attendance)(
        hall=conference.halls[hall_index], count=count, actor=conference.actor
    )


def rotate(conference, hall_index: int, kind: JoinLinkKind):
    return database_sync_to_async(join_links.join_link_rotate)(
        hall=conference.halls[hall_index], kind=kind, actor=conference.actor
    )


@database_sync_to_async
def token(conference, hall_index: int, kind: JoinLinkKind) -> str:
    return conference.token(conference.halls[hall_index], kind)


@database_sync_to_async
def kiosk_link(conference, hall_index: int) -> str:
    """A hall's operator link, its screen having claimed the hall already (as the kiosk page
    does when it opens, before its websocket): watchers see only what the socket does."""
    hold_hall(conference.halls[hall_index])
    return conference.token(conference.halls[hall_index], JoinLinkKind.OPERATOR)


async def test_welcome_names_the_viewer_and_hello_without_since_gives_a_snapshot():
    conference = await build()
    socket = await open_socket("hn-test", user=conference.chair)
    welcome = await socket.receive_type("welcome")
    assert welcome["viewer"]["kind"] == "moderator"
    assert welcome["viewer"]["is_chair"] is True
    await socket.send({"type": "hello"})
    snapshot = await socket.receive_type("snapshot")
    state = snapshot["state"]
    assert state["meeting"]["slug"] == "hn-test"
    assert len(state["halls"]) == 4  # studio and three halls
    assert "presence" in state and "hall_contacts" in state  # staff-only sections
    await socket.close()


async def test_voter_snapshot_has_no_staff_sections():
    conference = await build()
    voter, snapshot = await open_live(
        "hn-test", link=await token(conference, 0, JoinLinkKind.VOTER)
    )
    assert snapshot["state"]["halls"]
    assert "presence" not in snapshot["state"]
    assert "hall_contacts" not in snapshot["state"]
    await voter.close()


async def test_each_viewer_receives_only_what_its_audience_may_see():
    conference = await build()
    link = await kiosk_link(conference, 0)
    chair, _ = await open_live("hn-test", user=conference.chair)
    candidate, _ = await open_live("hn-test", user=conference.candidate_user)
    voter, _ = await open_live("hn-test", link=await token(conference, 1, JoinLinkKind.VOTER))
    # A kiosk connecting appends a staff-only event (hall.connected).
    kiosk, _ = await open_live("hn-test", link=link)
    await rotate(conference, 2, JoinLinkKind.VOTER)  # staff only
    await attendance(conference, 0, 85)  # public

    for socket in (chair, candidate, voter, kiosk):
        await socket.receive_until(
            lambda f: f["type"] == "event" and f["event"]["type"] == "hall.attendance_set"
        )
        assert await socket.nothing_more()

    assert chair.event_types() == ["hall.connected", "hall.link_rotated", "hall.attendance_set"]
    for socket in (candidate, voter, kiosk):
        assert socket.event_types() == ["hall.attendance_set"]
        for frame in socket.events():
            assert frame["event"]["audience"] in ("public", "halls", "candidates")
    for socket in (chair, candidate, voter, kiosk):
        await socket.close()


async def test_events_carry_the_previous_seq_of_their_stream():
    conference = await build()
    voter, snapshot = await open_live(
        "hn-test", link=await token(conference, 0, JoinLinkKind.VOTER)
    )
    await rotate(conference, 1, JoinLinkKind.OPERATOR)  # staff event between the two
    await attendance(conference, 0, 10)
    await attendance(conference, 0, 11)
    first = await voter.receive_type("event")
    second = await voter.receive_type("event")
    assert first["prev"] == snapshot["seq"]
    assert second["prev"] == first["seq"]
    assert second["seq"] == first["seq"] + 1
    # The staff event took a seq the voter never sees.
    assert first["seq"] == snapshot["seq"] + 2
    await voter.close()


async def test_reconnecting_with_since_replays_exactly_the_missed_events_once_in_order():
    conference = await build()
    voter_link = await token(conference, 0, JoinLinkKind.VOTER)
    voter, _snapshot = await open_live("hn-test", link=voter_link)
    await attendance(conference, 0, 1)
    last_seen = (await voter.receive_type("event"))["seq"]
    await voter.close()

    for count in (2, 3, 4):
        await attendance(conference, 0, count)
    await rotate(conference, 1, JoinLinkKind.OPERATOR)  # not for voters
    await stream_taken(conference)

    again = await open_socket("hn-test", link=voter_link)
    await again.receive_type("welcome")
    await again.send({"type": "hello", "since": last_seen})
    synced = await again.receive_type("synced")
    replayed = again.events()
    assert [f["event"]["payload"]["count"] for f in replayed] == [2, 3, 4]
    assert [f["seq"] for f in replayed] == sorted({f["seq"] for f in replayed})
    assert replayed[0]["prev"] == last_seen
    assert synced["seq"] == replayed[-1]["seq"]
    # Live again: the next event arrives once, chained to the last replayed one.
    await attendance(conference, 0, 5)
    live = await again.receive_type("event")
    assert live["prev"] == replayed[-1]["seq"]
    assert live["event"]["payload"]["count"] == 5
    assert await again.nothing_more()
    await again.close()


async def test_a_replay_from_before_the_process_copy_is_read_from_the_record(monkeypatch):
    monkeypatch.setattr(fanout_module, "RING_SIZE", 2)  # the process keeps two entries
    conference = await build()
    for count in (1, 2, 3, 4, 5):
        await attendance(conference, 0, count)
    head = await record_head(conference)
    voter = await open_socket("hn-test", link=await token(conference, 0, JoinLinkKind.VOTER))
    await voter.receive_type("welcome")
    reads = count_calls(monkeypatch, stream, "events_after")
    await voter.send({"type": "hello", "since": head - 4})
    synced = await voter.receive_type("synced")
    assert [f["event"]["payload"]["count"] for f in voter.events()] == [2, 3, 4, 5]
    assert synced["seq"] == head
    assert len(reads) == 1
    await voter.close()


async def test_lost_doorbells_are_read_from_the_record_once_for_every_screen(monkeypatch):
    """The channel layer may drop messages. Drop the doorbells of three events: the next one
    that arrives shows the gap, and the web process reads the three back from the record, once
    for all its screens."""
    conference = await build()
    link = await token(conference, 0, JoinLinkKind.VOTER)
    voters = [(await open_live("hn-test", link=link))[0] for _ in range(3)]
    real_publish = event_service.publish_event
    monkeypatch.setattr(event_service, "publish_event", lambda *args, **kwargs: None)
    for count in (1, 2, 3):
        await attendance(conference, 0, count)
    monkeypatch.setattr(event_service, "publish_event", real_publish)
    reads = count_calls(monkeypatch, stream, "entries_after")
    await attendance(conference, 0, 4)
    for voter in voters:
        while len(voter.events()) < 4:
            await voter.receive_type("event")
        frames = voter.events()
        assert [f["event"]["payload"]["count"] for f in frames] == [1, 2, 3, 4]
        for before, after in itertools.pairwise(frames):
            assert after["prev"] == before["seq"]
        assert await voter.nothing_more()
        await voter.close()
    assert len(reads) == 1


async def test_doorbells_lost_at_the_end_of_a_burst_are_read_at_the_next_stream_check(
    monkeypatch, settings
):
    """No later doorbell shows the gap: the process's check of the record's head does."""
    settings.STREAM_CHECK_SECONDS = 0.2
    conference = await build()
    voter, _ = await open_live("hn-test", link=await token(conference, 0, JoinLinkKind.VOTER))
    monkeypatch.setattr(event_service, "publish_event", lambda *args, **kwargs: None)
    for count in (7, 8):
        await attendance(conference, 0, count)
    while len(voter.events()) < 2:
        await voter.receive_type("event")
    assert [f["event"]["payload"]["count"] for f in voter.events()] == [7, 8]
    await voter.close()


async def test_a_ping_is_answered_from_memory(database_queries):
    conference = await build()
    voter, _ = await open_live("hn-test", link=await token(conference, 0, JoinLinkKind.VOTER))
    await attendance(conference, 0, 7)
    event = await voter.receive_type("event")
    database_queries.clear()
    await voter.send({"type": "ping", "id": "p1"})
    pong = await voter.receive_type("pong")
    assert pong["id"] == "p1"
    assert pong["seq"] == event["seq"]
    assert database_queries == []
    await voter.close()


async def voter_with_two_events_unpublished(monkeypatch):
    """A voter's connection, and two new events whose doorbells are kept back for the test to
    ring as it likes."""
    conference = await build()
    voter, _ = await open_live("hn-test", link=await token(conference, 0, JoinLinkKind.VOTER))
    kept = []
    real_publish = event_service.publish_event
    monkeypatch.setattr(event_service, "publish_event", lambda event: kept.append(event))
    for count in (7, 8):
        await attendance(conference, 0, count)
    monkeypatch.setattr(event_service, "publish_event", real_publish)
    return voter, kept


async def test_doorbells_rung_out_of_order_reach_the_screen_in_order_from_the_doorbells(
    monkeypatch,
):
    # Two events committed by different threads may be published in the other order; the
    # first waits a moment for the one before it (a long moment here: the test publishes them
    # one after the other).
    monkeypatch.setattr(feed_module, "HOLD_SECONDS", 5)
    voter, kept = await voter_with_two_events_unpublished(monkeypatch)
    reads = count_calls(monkeypatch, stream, "entries_after")
    for event in reversed(kept):
        await database_sync_to_async(event_service.publish_event)(event)
    while len(voter.events()) < 2:
        await voter.receive_type("event")
    frames = voter.events()
    assert [f["event"]["payload"]["count"] for f in frames] == [7, 8]
    assert frames[1]["prev"] == frames[0]["seq"]
    assert reads == []
    assert await voter.nothing_more()
    await voter.close()


async def test_an_early_doorbell_whose_predecessor_is_lost_is_read_from_the_record(monkeypatch):
    voter, kept = await voter_with_two_events_unpublished(monkeypatch)
    reads = count_calls(monkeypatch, stream, "entries_after")
    await database_sync_to_async(event_service.publish_event)(kept[1])  # the first is lost
    while len(voter.events()) < 2:
        await voter.receive_type("event")
    assert [f["event"]["payload"]["count"] for f in voter.events()] == [7, 8]
    assert len(reads) == 1
    await voter.close()


async def test_since_beyond_the_head_gets_a_snapshot():
    conference = await build()
    socket = await open_socket("hn-test", user=conference.chair)
    welcome = await socket.receive_type("welcome")
    await socket.send({"type": "hello", "since": welcome["seq"] + 1000})
    snapshot = await socket.receive_type("snapshot")
    assert snapshot["seq"] == welcome["seq"]
    await socket.close()


async def test_a_client_too_far_behind_gets_a_snapshot(settings):
    settings.EVENT_REPLAY_LIMIT = 3
    conference = await build()
    socket = await open_socket("hn-test", user=conference.chair)
    await socket.receive_type("welcome")
    await socket.send({"type": "hello", "since": 0})
    snapshot = await socket.receive_type("snapshot")
    assert snapshot["state"]["meeting"]["slug"] == "hn-test"
    assert socket.events() == []
    await socket.close()


@pytest.mark.parametrize(
    "frame",
    [
        "not json",
        "[1, 2]",
        '{"no": "type"}',
        '{"type": "launch_missiles"}',
        '{"type": "hello", "since": -1}',
        '{"type": "hello", "since": "5"}',
        '{"type": "hello", "since": 1, "extra": true}',
        '{"type": "ping", "id": "' + "x" * 100 + '"}',
    ],
)
async def test_malformed_frames_get_an_error_frame_and_the_connection_stays_open(frame):
    conference = await build()
    socket, _ = await open_live("hn-test", user=conference.chair)
    await socket.send(frame)
    error = await socket.receive_type("error")
    assert error["code"] == "bad_frame"
    assert error["message"]
    await socket.send({"type": "ping", "id": "still-here"})
    assert (await socket.receive_type("pong"))["id"] == "still-here"
    await socket.close()


async def test_binary_and_oversized_frames_are_refused_without_closing():
    conference = await build()
    socket, _ = await open_live("hn-test", user=conference.chair)
    await socket.communicator.send_to(bytes_data=b"\x00\x01")
    assert (await socket.receive_type("error"))["code"] == "bad_frame"
    await socket.send('{"type": "ping", "id": "' + "x" * 70_000 + '"}')
    assert (await socket.receive_type("error"))["code"] == "too_large"
    await socket.send({"type": "ping"})
    await socket.receive_type("pong")
    await socket.close()


async def test_a_client_that_floods_bad_frames_is_disconnected():
    conference = await build()
    socket, _ = await open_live("hn-test", user=conference.chair)
    for _ in range(80):
        await socket.send("garbage")
    assert await socket.closed_with() == 4429
    assert any(f["type"] == "error" for f in socket.frames)


async def test_unknown_meeting_closes_with_4404():
    socket = await open_socket("no-such-meeting")
    assert await socket.closed_with() == 4404


async def test_no_session_and_no_link_closes_with_4401():
    await build()
    socket = await open_socket("hn-test")
    assert await socket.closed_with() == 4401


async def test_an_account_without_a_grant_closes_with_4403():
    await build()
    stranger = await database_sync_to_async(make_user)("stranger")
    socket = await open_socket("hn-test", user=stranger)
    assert await socket.closed_with() == 4403


async def test_rotated_expired_malformed_and_foreign_links_close_with_4403():
    conference = await build()
    other = await database_sync_to_async(make_conference)("hn-other")
    rotated = await token(conference, 0, JoinLinkKind.VOTER)
    await rotate(conference, 0, JoinLinkKind.VOTER)
    expired = await token(conference, 1, JoinLinkKind.VOTER)
    await database_sync_to_async(
        lambda: JoinLink.objects.filter(hall=conference.halls[1]).update(
            expires_at=timezone.now() - timedelta(minutes=1)
        )
    )()
    foreign = await token(other, 0, JoinLinkKind.VOTER)
    events_before = await database_sync_to_async(Event.objects.count)()
    for link in (rotated, expired, "garbage", rotated + "x", foreign):
        socket = await open_socket("hn-test", link=link)
        assert await socket.closed_with() == 4403, link
    # A refused link created nothing.
    assert await database_sync_to_async(Event.objects.count)() == events_before


async def test_rotating_a_link_closes_the_connections_it_admitted_at_once():
    conference = await build()
    voter, _ = await open_live("hn-test", link=await token(conference, 0, JoinLinkKind.VOTER))
    other_hall, _ = await open_live("hn-test", link=await token(conference, 1, JoinLinkKind.VOTER))
    await rotate(conference, 0, JoinLinkKind.VOTER)
    assert await voter.closed_with() == 4403
    # Another hall's voters are not affected.
    await other_hall.send({"type": "ping"})
    await other_hall.receive_type("pong")
    await other_hall.close()


async def test_origin_from_another_site_is_refused_at_the_handshake():
    from channels.testing import WebsocketCommunicator

    from meetings.asgi import application

    conference = await build()
    link = await token(conference, 0, JoinLinkKind.VOTER)
    for headers in ([(b"origin", b"https://evil.example")], []):
        communicator = WebsocketCommunicator(
            application, f"/ws/meetings/hn-test/?link={link}", headers=headers
        )
        connected, _ = await communicator.connect()
        assert not connected
        await communicator.disconnect()


async def test_kiosk_presence_is_on_the_record_for_staff():
    conference = await build()
    link = await kiosk_link(conference, 0)
    chair, snapshot = await open_live("hn-test", user=conference.chair)
    hall_id = str(conference.halls[0].pk)
    assert hall_id not in snapshot["state"]["presence"]
    kiosk, _ = await open_live("hn-test", link=link)
    connected = await chair.receive_type("event")
    assert connected["event"]["type"] == "hall.connected"
    assert connected["event"]["payload"]["hall"] == conference.halls[0].pk
    await kiosk.close()
    disconnected = await chair.receive_type("event")
    assert disconnected["event"]["type"] == "hall.disconnected"
    await chair.close()


async def test_agenda_timer_events_reach_halls_live():
    conference = await build()
    kiosk, _snapshot = await open_live(
        "hn-test", link=await token(conference, 1, JoinLinkKind.OPERATOR)
    )
    items = await database_sync_to_async(agenda.agenda_build_default)(
        meeting=conference.meeting, actor=conference.actor
    )
    await database_sync_to_async(agenda.agenda_item_start)(item=items[0], actor=conference.actor)
    started = await kiosk.receive_until(
        lambda f: f["type"] == "event" and f["event"]["type"] == "agenda.item_started"
    )
    assert started["event"]["payload"]["item"] == items[0].pk
    await kiosk.close()


async def test_error_messages_come_in_the_clients_language():
    from channels.testing import WebsocketCommunicator

    from meetings.asgi import application

    conference = await build()
    link = await token(conference, 0, JoinLinkKind.VOTER)
    messages = {}
    for language in ("vi", "en"):
        communicator = WebsocketCommunicator(
            application,
            f"/ws/meetings/hn-test/?link={link}",
            headers=[
                (b"origin", b"http://127.0.0.1:8000"),
                (b"cookie", f"django_language={language}".encode()),
            ],
        )
        assert (await communicator.connect())[0]
        await communicator.receive_json_from()  # welcome
        await communicator.send_to(text_data="not json")
        messages[language] = (await communicator.receive_json_from())["message"]
        await communicator.disconnect()
    assert messages["en"].startswith("This message is not a valid frame")
    assert messages["vi"] != messages["en"]


async def test_a_revoked_role_or_deactivated_account_is_closed_at_once():
    from meetings.rooms.models import RoleGrant
    from meetings.rooms.services import roles

    conference = await build()
    secretary, _ = await open_live("hn-test", user=conference.secretary)
    observer, _ = await open_live("hn-test", user=conference.observer)
    chair, _ = await open_live("hn-test", user=conference.chair)
    grant = await database_sync_to_async(RoleGrant.objects.get)(user=conference.secretary)
    await database_sync_to_async(roles.role_revoke)(grant=grant, actor=conference.actor)
    assert await secretary.closed_with() == 4403
    conference.observer.is_active = False
    await database_sync_to_async(conference.observer.save)()
    assert await observer.closed_with() == 4403
    # Nobody else was closed: the chair still gets events and answers.
    await chair.send({"type": "ping", "id": "still"})
    assert (await chair.receive_type("pong"))["id"] == "still"
    await chair.close()


async def test_a_kiosk_ended_by_another_node_counts_again_while_it_pings(settings):
    from meetings.rooms.models import KioskConnection
    from meetings.rooms.services import presence

    settings.HEARTBEAT_SECONDS = 1
    conference = await build()
    link = await kiosk_link(conference, 0)
    chair, _ = await open_live("hn-test", user=conference.chair)
    kiosk, _ = await open_live("hn-test", link=link)
    await chair.receive_type("event")  # hall.connected
    # This node looked dead for a while: another node ended the kiosk's connection.
    await database_sync_to_async(
        lambda: KioskConnection.objects.update(last_seen_at=timezone.now() - timedelta(hours=1))
    )()
    await database_sync_to_async(presence.kiosk_reap_stale)(meeting=conference.meeting)
    gone = await chair.receive_type("event")
    assert gone["event"]["type"] == "hall.disconnected"
    assert gone["event"]["payload"]["reason"] == "heartbeat_lost"
    await kiosk.send({"type": "ping"})
    await kiosk.receive_type("pong")
    back = await chair.receive_type("event", timeout=5)
    assert back["event"]["type"] == "hall.connected"
    await kiosk.close()
    await chair.close()


async def test_a_silent_kiosk_is_shown_as_gone_after_three_heartbeats(settings):
    settings.HEARTBEAT_SECONDS = 1
    conference = await build()
    link = await kiosk_link(conference, 0)
    chair, _ = await open_live("hn-test", user=conference.chair)
    kiosk, _ = await open_live("hn-test", link=link)
    assert (await chair.receive_type("event"))["event"]["type"] == "hall.connected"
    # The kiosk's link went quiet without a close: no pings. The chair keeps pinging.
    while True:
        await chair.send({"type": "ping"})
        frame = await chair.receive_until(lambda f: f["type"] in ("pong", "event"))
        if frame["type"] == "event":
            break
        await asyncio.sleep(0.5)
    assert frame["event"]["type"] == "hall.disconnected"
    assert frame["event"]["payload"]["reason"] == "heartbeat_lost"
    await kiosk.close()
    await chair.close()


async def test_a_link_that_expires_closes_its_connections(settings):
    settings.HEARTBEAT_SECONDS = 1
    settings.JOIN_LINK_HOURS_AFTER_START = 1
    conference = await build()
    voter, _ = await open_live("hn-test", link=await token(conference, 0, JoinLinkKind.VOTER))
    # The conference moves to an hour ago: its links now expire in two seconds.
    await database_sync_to_async(meetings.meeting_update)(
        meeting=conference.meeting,
        actor=conference.actor,
        scheduled_start=timezone.now() - timedelta(hours=1) + timedelta(seconds=2),
    )
    await voter.receive_type("event")  # meeting.updated
    await voter.send({"type": "ping"})
    await voter.receive_type("pong")  # still admitted
    assert await voter.closed_with(timeout=8) == 4403


async def test_phones_get_events_close_together_in_one_frame_kiosks_each_at_once(settings):
    settings.PHONE_BATCH_MS = 2000
    conference = await build()
    voter, _ = await open_live("hn-test", link=await token(conference, 0, JoinLinkKind.VOTER))
    kiosk, _ = await open_live("hn-test", link=await token(conference, 0, JoinLinkKind.OPERATOR))
    for count in (1, 2, 3):
        await attendance(conference, 0, count)
    for socket in (voter, kiosk):
        while len(socket.events()) < 3:
            await socket.receive_type("event", timeout=5)
        frames = socket.events()
        assert [f["event"]["payload"]["count"] for f in frames] == [1, 2, 3]
        for before, after in itertools.pairwise(frames):
            assert after["prev"] == before["seq"]
    assert kiosk.batches == []
    # The first went at once; the two that followed within the window came together.
    assert len(voter.batches) == 1
    assert [e["payload"]["count"] for e in voter.batches[0]["events"]] == [2, 3]
    await voter.close()
    await kiosk.close()


async def test_occasional_refusals_do_not_add_up_to_a_disconnect(monkeypatch):
    import asyncio

    from meetings.rooms.realtime import consumer

    monkeypatch.setattr(consumer, "REFUSAL_WINDOW_SECONDS", 0.3)
    conference = await build()
    socket, _ = await open_live("hn-test", user=conference.chair)
    for _ in range(3):  # 120 refusals in all, but never more than 40 within the window
        for _ in range(40):
            await socket.send("garbage")
            await socket.receive_type("error")
        await asyncio.sleep(0.4)
    await socket.send({"type": "ping"})
    await socket.receive_type("pong")
    await socket.close()


async def test_a_channel_layer_down_at_the_first_connection_is_tried_again_at_the_next():
    conference = await build()
    link = await token(conference, 0, JoinLinkKind.VOTER)
    layer = fanout_module.fanout().layer
    group_add, failures = layer.group_add, []

    async def down_once(group, channel):
        if not failures:
            failures.append(group)
            raise ConnectionError("Redis is restarting")
        await group_add(group, channel)

    layer.group_add = down_once
    first = await open_socket("hn-test", link=link)
    assert await first.closed_with() == 1011
    second, snapshot = await open_live("hn-test", link=link)
    assert snapshot["state"]["meeting"]["slug"] == "hn-test"
    await second.close()
