"""A web node stores a phone's vote and dies (SIGKILL) before announcing it: another node
announces the count, read from the database, without another vote anywhere.

Two Daphne nodes; the announcement timers wait an hour (COUNTS_PUBLISH_SECONDS), so the node
that stored the vote could only announce it after the test, and its death loses nothing the
database does not hold. The other node serves a voter's screen and, in its periodic round
(every HEARTBEAT_SECONDS), announces whatever count differs from the last one announced
(questions/services/counts.py, ``counts_publish_pending``): the vote count (``public.votes``)
and the hall's tally (``public.tally``) reach that screen.
"""

import asyncio
import json
import uuid

import pytest
import requests

from tests.faults.clients import Account, StreamClient, WebSocket, wait_until, ws_url

pytestmark = pytest.mark.services


async def receive_frame(socket: WebSocket, kind: str, timeout: float = 30) -> dict:
    async with asyncio.timeout(timeout):
        while True:
            text = await socket.recv()
            assert text is not None, f"closed before a {kind} frame ({socket.close_code})"
            frame = json.loads(text)
            if frame["type"] == kind:
                return frame


async def test_a_vote_stored_by_a_node_that_died_is_announced_by_another(platform_factory):
    platform = await asyncio.to_thread(
        platform_factory,
        nodes=2,
        env={"COUNTS_PUBLISH_SECONDS": "3600", "HEARTBEAT_SECONDS": "1"},
    )
    doomed, survivor = platform.nodes
    hall = platform.halls[1]
    link = platform.link_token(hall["phone"])

    # A question from a phone of the hall, approved by the chair, through the survivor.
    phone = requests.Session()
    device = phone.post(
        f"{survivor.base_url}/api/meetings/{platform.slug}/device",
        headers={"X-Join-Link": link},
        timeout=30,
    )
    assert device.status_code == 201, device.text
    device_id = device.json()["device"]
    asked = phone.post(
        f"{survivor.base_url}/api/meetings/{platform.slug}/questions",
        json={"client_id": str(uuid.uuid4()), "text": "Khi nào sửa cầu treo bản Mông?"},
        headers={"X-Join-Link": link, "X-Device-Id": device_id},
        timeout=30,
    )
    assert asked.status_code == 201, asked.text
    question = asked.json()["question"]["id"]
    chair = await asyncio.to_thread(Account, survivor.base_url, "chair", platform.chair_password)
    approved = await asyncio.to_thread(
        chair.post,
        survivor.base_url,
        f"/api/meetings/{platform.slug}/questions/{question}/approve",
        {},
    )
    assert approved.ok, approved.text

    # A voter's screen on the survivor, following the stream.
    screen = StreamClient("voter-on-survivor", [ws_url(survivor.ws_url, platform.slug, link)])
    screen.start()
    voter = None
    try:
        await wait_until(
            lambda: (
                screen.state is not None
                and screen.state["questions"].get(str(question), {}).get("votes") == 0
            ),
            timeout=60,
            what="the survivor's screen shows the approved question with no vote",
        )

        # The vote, over a phone's websocket on the doomed node; stored once it is answered.
        url = ws_url(doomed.ws_url, platform.slug, link)
        voter = await WebSocket.connect(url, origin=doomed.base_url)
        await receive_frame(voter, "welcome")
        await voter.send_text(
            json.dumps({"type": "vote", "question": question, "device": device_id, "id": "v1"})
        )
        voted = await receive_frame(voter, "voted")
        assert voted == {"type": "voted", "id": "v1", "question": question, "voted": True}
        doomed.kill()  # SIGKILL: its timer, an hour away, dies with it

        await wait_until(
            lambda: screen.state["questions"][str(question)]["votes"] == 1,
            timeout=60,
            what="the survivor announces the vote the dead node stored",
        )
        # The hall's tally is announced in a round of its own (the approval's, or the
        # vote's), maybe a round later: wait for it in the record and on the screen.
        await wait_until(
            lambda: (
                "public.tally" in announced_since_the_approval(platform)
                and screen.state["tally"].get(str(hall["id"]), {}).get("approved", 0) >= 1
            ),
            timeout=60,
            what=lambda: (
                f"the hall's tally announced and on the survivor's screen: record "
                f"{announced_since_the_approval(platform)}, screen {screen.state['tally']}"
            ),
        )
    finally:
        if voter is not None:
            voter.abort()
        await screen.stop()

    # The vote was announced once, by the survivor alone.
    announced = await asyncio.to_thread(announced_since_the_approval, platform)
    assert announced.count("public.votes") == 1, announced


def announced_since_the_approval(platform) -> list[str]:
    """The types of the record's entries after the question's approval, in order."""
    rows = platform.query(
        "SELECT type FROM rooms_event WHERE meeting_id = %s AND seq > "
        "(SELECT max(seq) FROM rooms_event WHERE meeting_id = %s AND type = 'question.approved')"
        " ORDER BY seq",
        (platform.meeting_id, platform.meeting_id),
    )
    return [kind for (kind,) in rows]
