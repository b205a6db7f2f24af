"""A web node dies (SIGKILL) while voters send questions through it and through another.

Two Daphne nodes behind a balancer (clients.Balancer: round robin, a node that refuses a
connection is left out for a while). Voters' phones each send a few questions through their
outbox (clients.VoterPhone, as frontend/js/outbox.js does): the client id is made before the
first attempt and kept through every retry, failures are retried with the outbox's backoff.
Screens follow the stream through the same balancer. When part of the questions has been
received, the first node is killed with SIGKILL: requests under way on it break off, and the
next ones are refused.

Every question must be in the database exactly once under its client id, with its text, and
announced once in the record (its hall's counts follow in a batch); the record's hash chain
is intact; the screens that were on the dead node reconnect through the other and end with
every event of their audience.
"""

import asyncio
import threading
import time
from collections import Counter

import pytest

from tests.faults.clients import Balancer, StreamClient, VoterPhone, wait_until, ws_url

pytestmark = pytest.mark.services

PHONES = 24
QUESTIONS_PER_PHONE = 3  # within the default 5 per phone per 10 minutes, with a retry to spare
KILL_AFTER = PHONES * QUESTIONS_PER_PHONE // 3  # questions received before the kill
SEND_SECONDS = 150
PAUSE_BETWEEN_QUESTIONS = 0.3


def received_count(phones: list[VoterPhone]) -> int:
    return sum(len(phone.received) for phone in phones)


async def test_questions_survive_a_killed_web_node(platform_factory):
    platform = await asyncio.to_thread(platform_factory, nodes=2)
    doomed, survivor = platform.nodes
    balancer = Balancer([node.base_url for node in platform.nodes])
    halls = platform.halls[1:]  # the studio has no voters

    # Screens on the doomed node first: each reconnection goes to the next node in turn.
    streams = []
    for index, hall in enumerate(halls):
        for kind in ("phone", "kiosk"):
            session = platform.kiosk_session(hall) if kind == "kiosk" else None
            urls = [
                ws_url(node.ws_url, platform.slug, platform.link_token(hall[kind]), session)
                for node in (doomed, survivor)
            ]
            streams.append(StreamClient(f"{kind}-{index}", urls))
    for stream in streams:
        stream.start()

    phones = []
    sent: dict[str, str] = {}  # client id -> text
    for index in range(PHONES):
        hall = halls[index % len(halls)]
        phone = VoterPhone(
            f"phone-{index}", platform.slug, platform.link_token(hall["phone"]), balancer
        )
        for number in range(QUESTIONS_PER_PHONE):
            text = f"Điện thoại {index}, câu hỏi {number}: khi nào sửa đường liên xã?"
            sent[phone.add(text)] = text
        phones.append(phone)

    try:
        await wait_until(
            lambda: all(stream.cursor is not None for stream in streams),
            timeout=60,
            what="every screen has its first snapshot",
        )
        deadline = time.monotonic() + SEND_SECONDS
        threads = [
            threading.Thread(
                target=phone.send_all,
                kwargs={"deadline": deadline, "pause": PAUSE_BETWEEN_QUESTIONS},
                daemon=True,
            )
            for phone in phones
        ]
        for thread in threads:
            thread.start()

        await wait_until(
            lambda: received_count(phones) >= KILL_AFTER,
            timeout=90,
            what=f"{KILL_AFTER} questions received before the kill",
            every=0.05,
        )
        killed_at = time.monotonic()
        doomed.kill()  # SIGKILL
        for thread in threads:
            await asyncio.to_thread(thread.join, max(1, deadline - time.monotonic()) + 5)

        # Every phone's outbox is empty: each question received (201) or found again (200).
        left = {phone.name: [item["client_id"] for item in phone.items] for phone in phones}
        assert not any(left.values()), f"questions never received: {left}"
        failed = {cid: why for phone in phones for cid, why in phone.failed.items()}
        assert not failed, f"questions refused: {failed}"

        # The kill was felt: attempts on the doomed node broke off or were refused, and those
        # questions were sent again; what was sent after the kill went to the other node.
        attempts = [attempt for phone in phones for attempt in phone.attempts]
        broken = [a for a in attempts if not a.outcome.isdigit() or a.outcome.startswith("5")]
        assert any(a.base_url == doomed.base_url and a.ended >= killed_at for a in broken)
        retried = {a.client_id for a in broken}
        later = [a for a in attempts if a.started > killed_at and a.outcome in ("200", "201")]
        assert later and {a.base_url for a in later} == {survivor.base_url}

        # In the database: each client id exactly once, with its text.
        rows = await asyncio.to_thread(
            platform.query,
            "SELECT client_id::text, text FROM questions_question WHERE meeting_id = %s",
            (platform.meeting_id,),
        )
        per_client_id = Counter(client_id for client_id, _text in rows)
        assert set(per_client_id) == set(sent), (
            f"missing: {set(sent) - set(per_client_id)}; unknown: {set(per_client_id) - set(sent)}"
        )
        assert max(per_client_id.values()) == 1, per_client_id.most_common(3)
        assert {client_id: text for client_id, text in rows} == sent

        # Each question announced once, to the staff (the public learns the counts, in batches).
        events = await asyncio.to_thread(
            platform.query,
            "SELECT type, payload->>'question' FROM rooms_event "
            "WHERE meeting_id = %s AND type IN ('question.submitted', 'public.submitted')",
            (platform.meeting_id,),
        )
        announced = Counter(events)
        assert {kind for kind, _question in announced} == {"question.submitted"}, announced
        assert len(announced) == len(sent) and max(announced.values()) == 1, announced
        output = await asyncio.to_thread(platform.manage, "verify_record", platform.slug)
        assert "is intact" in output

        # The counts are announced after the last question, within COUNTS_PUBLISH_SECONDS, by
        # the node that received it: wait for that before taking the record's last entry.
        await wait_until(
            lambda: platform.query(
                "SELECT 1 FROM rooms_event WHERE meeting_id = %s AND type = 'public.tally' "
                "AND seq > (SELECT max(seq) FROM rooms_event "
                "WHERE meeting_id = %s AND type = 'question.submitted')",
                (platform.meeting_id, platform.meeting_id),
            ),
            timeout=60,
            what="the counts announced after the last question",
        )

        # The screens: those on the dead node came back through the other, and every screen
        # holds every event of its audience.
        head_rows = await asyncio.to_thread(
            platform.query,
            "SELECT seq, audience FROM rooms_event WHERE meeting_id = %s ORDER BY seq",
            (platform.meeting_id,),
        )
        visible = {
            stream.name: [seq for seq, audience in head_rows if stream.sees(audience)]
            for stream in streams
        }
        await wait_until(
            lambda: all(stream.cursor == visible[stream.name][-1] for stream in streams),
            timeout=60,
            what=lambda: (
                "every screen reaches the newest event of its audience: "
                + ", ".join(f"{s.name} at {s.cursor} of {visible[s.name][-1]}" for s in streams)
            ),
        )
        for stream in streams:
            assert stream.missing(visible[stream.name]) == [], stream.name
            assert stream.welcomes >= 2, f"{stream.name} never reconnected"
    finally:
        for stream in streams:
            await stream.stop()
    outcomes = Counter(
        f"{(a.base_url == doomed.base_url and 'doomed') or 'survivor'}:{a.outcome}"
        for a in attempts
    )
    print(
        f"{len(sent)} questions, {len(attempts)} attempts, {len(retried)} retried; "
        f"found again (200): {sum(1 for p in phones for s in p.received.values() if s == 200)}; "
        f"outcomes: {dict(outcomes)}"
    )
