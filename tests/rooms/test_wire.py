"""Frames written straight to Daphne's sockets (meetings/rooms/realtime/wire.py), on a real
Daphne with real websocket clients: whole, in order, interleaved with the frames Daphne sends
itself, batches included; and a socket that stops reading is left behind without holding the
others up, then catches up."""

import asyncio
import json
import secrets
import subprocess
import sys
import time
from dataclasses import dataclass, field

import pytest
import requests
from autobahn.websocket.protocol import PreparedMessage

from meetings.rooms.realtime.consumer import FRAMES_PER_SECOND
from meetings.rooms.realtime.wire import encode_text_frame
from tests.faults.clients import (
    Account,
    Balancer,
    StreamClient,
    VoterPhone,
    WebSocket,
    claim_kiosk,
    wait_until,
    ws_url,
)
from tests.faults.servers import DaphneNode, base_environment, free_port, manage

PASSWORD = secrets.token_urlsafe(12)
SLUG = "demo"


@pytest.mark.parametrize("size", [0, 1, 125, 126, 65535, 65536, 200_000])
def test_a_frame_is_encoded_as_autobahn_frames_it(size):
    text = ("ữ" * size)[:size]  # three bytes a character: lengths cross each size class
    expected = PreparedMessage(text.encode(), False, False, False).payloadHybi
    assert encode_text_frame(text) == expected


@dataclass
class Server:
    node: DaphneNode
    demo: dict
    screens: dict = field(default_factory=dict)  # operator link -> its kiosk session's token

    @property
    def base(self) -> str:
        return self.node.base_url

    def link(self, hall: int, kind: str) -> str:
        url = self.demo["halls"][hall]["kiosk" if kind == "operator" else "phone"]
        return url.rstrip("/").rsplit("/", 1)[1]

    def screen(self, link: str) -> str:
        """The kiosk session with which the hall of this operator link is held."""
        if link not in self.screens:
            self.screens[link] = claim_kiosk(self.base, SLUG, link)
        return self.screens[link]

    def stream(self, name: str, *, link: str | None = None, cookie: str | None = None):
        operator = link is not None and link in {
            self.link(n, "operator") for n in range(len(self.demo["halls"]))
        }
        session = self.screen(link) if operator else None
        return StreamClient(name, [ws_url(self.node.ws_url, SLUG, link, session)], cookie=cookie)

    def record(self, chair: Account) -> list[dict]:
        entries, since = [], 0
        while True:
            page = chair.get(self.base, f"/api/meetings/{SLUG}/record?since={since}&limit=2000")
            page.raise_for_status()
            body = page.json()
            entries += body["entries"]
            if not body["more"]:
                return entries
            since = entries[-1]["seq"]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    var_dir = tmp_path_factory.mktemp("wire")
    port = free_port()
    env = base_environment(
        VAR_DIR=str(var_dir),
        SECRET_KEY=secrets.token_urlsafe(40),
        ALLOWED_HOSTS="127.0.0.1,localhost",
        QUESTION_LIMIT_PER_DEVICE="100000/60",
        QUESTION_LIMIT_PER_HALL="100000/60",
        QUESTION_LIMIT_PER_HALL_NEW_PHONES="100000/60",
        # Long enough that events sent one after another certainly share a phone's frame.
        PHONE_BATCH_MS="1000",
        LOG_LEVEL="DEBUG",
    )
    manage(env, "migrate", "--no-input")
    demo = json.loads(
        manage(
            env,
            "seed_demo",
            "--json",
            # One argument with "=": a password may start with "-", which argparse would
            # otherwise read as an option.
            f"--password={PASSWORD}",
            "--base-url",
            f"http://127.0.0.1:{port}",
        )
    )
    node = DaphneNode("web", "127.0.0.1", port, env, var_dir / "daphne.log")
    node.start()
    try:
        node.wait_until_healthy()
        yield Server(node, demo)
    finally:
        node.stop()


def send_questions(server: Server, count: int, *, length: int) -> None:
    """Phones of every hall send ``count`` long questions over HTTP (in a thread: the test's
    event loop keeps reading the sockets meanwhile)."""
    balancer = Balancer([server.base])
    phones = [
        VoterPhone(f"phone {hall}", SLUG, server.link(hall, "voter"), balancer) for hall in range(3)
    ]
    for number in range(count):
        words = f"Câu hỏi {number}: đường liên thôn, trường học, trạm y tế, nước sạch. "
        phones[number % 3].add((words * (length // len(words) + 1))[:length])
    for phone in phones:
        phone.send_all(deadline=time.monotonic() + 120)
        assert not phone.items and not phone.failed, (phone.items, phone.failed)


def set_attendance(server: Server, counts: range) -> None:
    kiosk_link = server.link(0, "operator")
    for count in counts:
        answer = requests.post(
            f"{server.base}/api/meetings/{SLUG}/halls/{server.demo['halls'][0]['id']}/attendance",
            json={"count": count},
            headers={"X-Join-Link": kiosk_link, "X-Kiosk-Session": server.screen(kiosk_link)},
            timeout=30,
        )
        answer.raise_for_status()


def visible_seqs(record: list[dict], client: StreamClient) -> list[int]:
    return [entry["seq"] for entry in record if client.sees(entry["audience"])]


async def caught_up(server: Server, chair: Account, clients: list[StreamClient]) -> None:
    record = await asyncio.to_thread(server.record, chair)

    def everyone_has_everything():
        return all(not client.missing(visible_seqs(record, client)) for client in clients)

    await wait_until(
        everyone_has_everything,
        timeout=60,
        what=lambda: {
            c.name: c.missing(visible_seqs(record, c))[:5] for c in clients if c.first_snapshot
        },
    )


async def test_frames_written_to_the_sockets_arrive_whole_and_in_order(server):
    chair = await asyncio.to_thread(Account, server.base, "chair", PASSWORD)
    clients = [
        server.stream("chair", cookie=chair.cookie),
        server.stream("kiosk", link=server.link(0, "operator")),
        *(server.stream(f"phone {n}", link=server.link(n % 3, "voter")) for n in range(12)),
    ]
    for client in clients:
        client.start()
    await wait_until(
        lambda: all(c.first_snapshot is not None for c in clients),
        timeout=30,
        what="every client has its snapshot",
    )

    async def ping_all_the_while(stop: asyncio.Event) -> None:
        # Pongs go out through Daphne's own path, between the frames written straight.
        while not stop.is_set():
            for client in clients:
                if client.socket is not None:
                    await client.socket.send_text(json.dumps({"type": "ping"}))
            # Half the rate a client may send at: faster, and the server rightly refuses
            # pings with rate_limited once the burst is spent.
            await asyncio.sleep(2 / FRAMES_PER_SECOND)

    stop = asyncio.Event()
    pinging = asyncio.ensure_future(ping_all_the_while(stop))
    await asyncio.gather(
        asyncio.to_thread(send_questions, server, 30, length=1000),
        asyncio.to_thread(set_attendance, server, range(1, 41)),
    )
    await caught_up(server, chair, clients)
    stop.set()
    await pinging
    for client in clients:
        assert client.welcomes == 1 and not client.closes, (client.name, client.closes)
        assert not client.errors and not client.problems, (client.name, client.errors)
        assert client.applied == sorted(set(client.applied))
    # Phones had events in batches; kiosks and staff each event on its own.
    phones = [c for c in clients if c.name.startswith("phone")]
    assert sum(phone.batches for phone in phones) > 0
    assert all(c.batches == 0 for c in clients if not c.name.startswith("phone"))
    for client in clients:
        await client.stop()


async def test_a_socket_that_stops_reading_is_left_behind_then_catches_up(server):
    chair = await asyncio.to_thread(Account, server.base, "chair", PASSWORD)
    url = ws_url(server.node.ws_url, SLUG)
    stalled = await WebSocket.connect(
        url, origin=server.base, headers={"Cookie": chair.cookie}, receive_buffer=4096
    )
    assert json.loads(await stalled.recv())["type"] == "welcome"
    await stalled.send_text(json.dumps({"type": "hello"}))
    snapshot = json.loads(await stalled.recv())
    assert snapshot["type"] == "snapshot"
    # From here on the stalled screen reads nothing: its socket backs up.
    others = [
        server.stream("chair", cookie=chair.cookie),
        server.stream("kiosk", link=server.link(1, "operator")),
        server.stream("phone", link=server.link(2, "voter")),
    ]
    for client in others:
        client.start()
    await wait_until(
        lambda: all(c.first_snapshot is not None for c in others),
        timeout=30,
        what="every client has its snapshot",
    )
    log_before = server.node.log_path.stat().st_size
    await asyncio.to_thread(send_questions, server, 150, length=1000)
    # The others have everything while the stalled socket still holds most of it back.
    await caught_up(server, chair, others)
    with server.node.log_path.open("rb") as log:
        log.seek(log_before)
        assert b"a socket is backed up" in log.read()

    # It reads again: what it was sent continues its snapshot without a gap, up to the head.
    record = await asyncio.to_thread(server.record, chair)
    head = record[-1]["seq"]
    cursor, applied = snapshot["seq"], []
    async with asyncio.timeout(60):
        while cursor < head:
            frame = json.loads(await stalled.recv())
            if frame["type"] == "snapshot":
                cursor = frame["seq"]
            elif frame["type"] == "event":
                assert frame["prev"] <= cursor < frame["seq"], (frame["prev"], cursor)
                cursor = frame["seq"]
                applied.append(cursor)
    assert cursor == head
    assert applied == sorted(set(applied))
    await stalled.close()
    for client in others:
        await client.stop()


def test_record_json_streams_from_daphne_and_checks_out(server, tmp_path):
    """The export as Daphne serves it: streamed (no length known in advance), the same
    entries as the paged API, and accepted by the verifier printed in docs/record.md."""
    from tests.rooms.test_record_docs import _verifier_source

    chair = Account(server.base, "chair", PASSWORD)
    set_attendance(server, range(100, 103))  # something staff-only and public in the record
    response = chair.http.get(f"{server.base}/archive/{SLUG}/record.json", stream=True, timeout=60)
    response.raise_for_status()
    assert "Content-Length" not in response.headers
    assert response.headers.get("Transfer-Encoding") == "chunked"
    exported = tmp_path / "record.json"
    exported.write_bytes(response.content)
    record = json.loads(exported.read_text(encoding="utf-8"))
    paged = [e["hash"] for e in server.record(chair)]
    exported_hashes = [e["hash"] for e in record["entries"]]
    # Read after the export: the record may have grown meanwhile (a hall's presence, say), so
    # the export is the paged record's beginning, the attendance just set included.
    assert paged[: len(exported_hashes)] == exported_hashes
    assert len(exported_hashes) >= 3 and record["head"]["hash"] == exported_hashes[-1]
    # The chair is the conference's staff: every payload and salt is there.
    assert all(e["payload"] is not None and e["payload_salt"] for e in record["entries"])
    verifier = tmp_path / "verify_record_json.py"
    verifier.write_text(_verifier_source(), encoding="utf-8")
    result = subprocess.run(
        [sys.executable, str(verifier), str(exported)], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert f"final hash {record['head']['hash']}" in result.stdout
