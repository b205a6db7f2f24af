"""Redis crashes and comes back empty in the middle of a meeting.

Two web nodes share PostgreSQL and a Redis of the test's own. Screens of every audience (a
voter's phone, a hall's kiosk, a candidate, the chair) follow the stream on each node while the
meeting goes on: kiosks record attendance, phones send questions, the chair approves them,
all through both nodes. Redis is killed (SIGKILL), the meeting goes on without it for a few
seconds, then Redis starts again on the same port with nothing in it: the channel layer's
groups and every doorbell in flight are gone.

Every client must end holding every event of its audience in the record: each seq after its
first snapshot, once, in order; and its state, built by applying the events' patches, must be
exactly the snapshot the server gives now.
"""

import asyncio
import itertools
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass

import pytest
import requests

from tests.faults.clients import Account, StreamClient, wait_until, ws_url
from tests.faults.servers import DaphneNode

pytestmark = pytest.mark.services

BEFORE_SECONDS = 3
OUTAGE_SECONDS = 4
AFTER_SECONDS = 3
CATCH_UP_SECONDS = 90
ACTION_PAUSE = 0.15


class Meeting:
    """Drives the meeting through the API while the test breaks things: each action goes to
    the next node in turn. Failures (a node answering 500 while Redis is down) are counted,
    not fatal: a real screen would try again later."""

    def __init__(self, platform, chair: Account):
        self.platform = platform
        self.chair = chair
        self.slug = platform.slug
        self.nodes = itertools.cycle(platform.nodes)
        self.kiosks = [
            (hall["id"], platform.link_token(hall["kiosk"]), platform.kiosk_session(hall))
            for hall in platform.halls
        ]
        self.phones = [platform.link_token(hall["phone"]) for hall in platform.halls[1:]]
        self.outcomes: list[tuple[str, int | str]] = []
        self.questions: list[int] = []
        self.stop = threading.Event()
        self.step = itertools.count(1)

    def _call(self, what: str, send) -> dict | None:
        node = next(self.nodes)
        try:
            answer = send(node.base_url)
        except Exception as error:  # a node not answering at all
            self.outcomes.append((what, type(error).__name__))
            return None
        self.outcomes.append((what, answer.status_code))
        return answer.json() if answer.ok else None

    def act_once(self) -> None:
        step = next(self.step)
        hall_id, kiosk, session = self.kiosks[step % len(self.kiosks)]
        self._call(
            "attendance",
            lambda base: requests.post(
                f"{base}/api/meetings/{self.slug}/halls/{hall_id}/attendance",
                json={"count": step},
                headers={"X-Join-Link": kiosk, "X-Kiosk-Session": session},
                timeout=30,
            ),
        )
        if step % 2 == 0:
            phone = self.phones[step % len(self.phones)]
            # A new phone each time: its id from the server, then its question.
            device = self._call(
                "device",
                lambda base: requests.post(
                    f"{base}/api/meetings/{self.slug}/device",
                    headers={"X-Join-Link": phone},
                    timeout=30,
                ),
            )
            answer = device and self._call(
                "question",
                lambda base: requests.post(
                    f"{base}/api/meetings/{self.slug}/questions",
                    json={"client_id": str(uuid.uuid4()), "text": f"Câu hỏi số {step}?"},
                    headers={"X-Join-Link": phone, "X-Device-Id": device["device"]},
                    timeout=30,
                ),
            )
            if answer and answer.get("question"):
                self.questions.append(answer["question"]["id"])
        if step % 3 == 0 and self.questions:
            question = self.questions.pop(0)
            self._call(
                "approve",
                lambda base: self.chair.post(
                    base, f"/api/meetings/{self.slug}/questions/{question}/approve"
                ),
            )

    def run(self) -> None:
        while not self.stop.is_set():
            self.act_once()
            time.sleep(ACTION_PAUSE)


def record_head(platform) -> int:
    return platform.query(
        "SELECT seq FROM rooms_eventloghead WHERE meeting_id = %s", (platform.meeting_id,)
    )[0][0]


def visible_seqs(platform, client: StreamClient) -> list[int]:
    rows = platform.query(
        "SELECT seq, audience FROM rooms_event WHERE meeting_id = %s ORDER BY seq",
        (platform.meeting_id,),
    )
    return [seq for seq, audience in rows if client.sees(audience)]


async def every_client_reaches_the_record_head(platform, clients) -> dict[str, list[int]]:
    """Waits until each client holds the newest event of its audience in the record as it is
    now; returns, per client, the seqs it must have received."""
    deadline = time.monotonic() + CATCH_UP_SECONDS
    while True:
        expected = {
            client.name: await asyncio.to_thread(visible_seqs, platform, client)
            for client in clients
        }
        behind = [c for c in clients if c.cursor != expected[c.name][-1]]
        if not behind:
            return expected
        if time.monotonic() > deadline:
            raise AssertionError(
                f"not within {CATCH_UP_SECONDS}s, every client reaches the newest event of its "
                "audience: "
                + ", ".join(f"{c.name} at {c.cursor} of {expected[c.name][-1]}" for c in behind)
            )
        await asyncio.sleep(0.25)


@dataclass
class Screen:
    """A stream client, and how to ask its node for the snapshot of the same viewer."""

    client: StreamClient
    node: DaphneNode
    account: Account | None = None
    link: str | None = None
    session: str | None = None

    def snapshot(self, slug: str) -> dict:
        path = f"/api/meetings/{slug}/snapshot"
        if self.account is not None:
            return self.account.get(self.node.base_url, path).json()
        answer = requests.get(
            self.node.base_url + path,
            headers={
                "X-Join-Link": self.link,
                **({"X-Kiosk-Session": self.session} if self.session else {}),
            },
            timeout=30,
        )
        return answer.json()


async def test_every_client_ends_with_every_event_after_redis_restarts(platform_factory):
    platform = await asyncio.to_thread(platform_factory, nodes=2)
    first = platform.nodes[0].base_url
    chair = await asyncio.to_thread(Account, first, "chair", platform.chair_password)
    candidate = await asyncio.to_thread(Account, first, "candidate1", platform.chair_password)
    hall = platform.halls[1]
    screens = []
    for node in platform.nodes:
        for kind, link in (
            ("voter", platform.link_token(hall["phone"])),
            ("kiosk", platform.link_token(hall["kiosk"])),
        ):
            session = platform.kiosk_session(hall) if kind == "kiosk" else None
            url = ws_url(node.ws_url, platform.slug, link, session)
            client = StreamClient(f"{kind}@{node.name}", [url])
            screens.append(Screen(client, node, link=link, session=session))
        for kind, account in (("candidate", candidate), ("chair", chair)):
            client = StreamClient(
                f"{kind}@{node.name}", [ws_url(node.ws_url, platform.slug)], cookie=account.cookie
            )
            screens.append(Screen(client, node, account=account))
    clients = [screen.client for screen in screens]
    for client in clients:
        client.start()
    meeting = Meeting(platform, chair)
    try:
        await wait_until(
            lambda: all(client.cursor is not None for client in clients),
            timeout=60,
            what="every client has its first snapshot",
        )
        audiences = {client.audience for client in clients}
        assert audiences == {"public", "halls", "candidates", "staff"}, audiences

        driver = threading.Thread(target=meeting.run, daemon=True)
        driver.start()
        await asyncio.sleep(BEFORE_SECONDS)
        head_at_crash = await asyncio.to_thread(record_head, platform)
        platform.redis.kill()
        await asyncio.sleep(OUTAGE_SECONDS)
        head_at_restart = await asyncio.to_thread(record_head, platform)
        await asyncio.to_thread(platform.redis.start)  # the same port, empty
        await asyncio.sleep(AFTER_SECONDS)
        meeting.stop.set()
        await asyncio.to_thread(driver.join, 60)

        # The meeting went on while Redis was down: events were recorded with no doorbell.
        assert head_at_restart > head_at_crash, meeting.outcomes

        # The record may still grow after the driver stops (the vote counts are announced on
        # the next presence round), so what each client must reach is read again on each try.
        expected = await every_client_reaches_the_record_head(platform, clients)
        final_head = await asyncio.to_thread(record_head, platform)
        for client in clients:
            assert client.missing(expected[client.name]) == [], client.name
            assert not client.problems, (client.name, client.problems)

        # The state each client built from its events is the server's snapshot now.
        for screen in screens:
            snapshot = await asyncio.to_thread(screen.snapshot, platform.slug)
            assert snapshot["seq"] == screen.client.cursor, screen.client.name
            assert screen.client.state == snapshot["state"], screen.client.name
    finally:
        meeting.stop.set()
        for client in clients:
            await client.stop()
    print(
        f"record: {final_head} events, {head_at_restart - head_at_crash} during the outage; "
        f"requests: {dict(Counter(meeting.outcomes))}; clients (welcomes, closes): "
        f"{ {c.name: (c.welcomes, c.closes) for c in clients} }"
    )
