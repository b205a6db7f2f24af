"""One load-generator process: some of the meeting's phones and kiosks, or its two moderators.

Every client speaks the websocket protocol of docs/protocol.md: it sends an Origin header (the
server refuses a handshake without one), answers `welcome` with `hello`, keeps a cursor, follows
the seq/prev rule (a gap is repaired with `hello` `since` the cursor, one request at a time, as
the frame rate limit allows), accepts a snapshot at any time, pings every heartbeat and
reconnects after a close that is not permanent. Phones send questions and votes over the HTTP
API at this process's share of the rates; moderators approve each question as it reaches them.

The orchestrator (run.py) drives the process through files in its work folder: it writes
`cmd-<n>.json` (a step of load, the final catch-up, the finish) and waits for
`res-<n>-<first>.json`. What a client received is kept per client (a bitmap of the seqs it
applied, and the snapshots that moved its cursor), so that the events it lost are counted
against the meeting's record at the end, by sequence number.
"""

import argparse
import asyncio
import contextlib
import json
import os
import random
import re
import time
import uuid
from array import array
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import aiohttp
import numpy as np

SLUG = "load"
# Audiences nest (docs/protocol.md): a viewer sees its level and every level below.
LEVELS = {"public": 0, "halls": 1, "candidates": 2, "staff": 3}
VIEWER_LEVEL = {"phone": 0, "kiosk": 1, "moderator": 3}
# Close codes after which the protocol says not to reconnect.
PERMANENT_CLOSES = {4401, 4403, 4404}
# The head of every event frame, as the server writes it (compact JSON, these keys first), so
# that most frames are read without parsing the whole text; anything else is parsed in full.
EVENT_HEAD = re.compile(
    r'\{"type":"event","seq":(\d+),"prev":(\d+),"event":\{"seq":\d+,"type":"([^"]+)"'
)
CONNECTS_AT_ONCE = 20
REPAIR_RETRY_SECONDS = 3.0


@dataclass(eq=False)
class Client:
    kind: str  # phone, kiosk, moderator
    base: str
    link: str | None = None
    cookie: str | None = None
    csrf: str | None = None
    device: str = ""
    socket: aiohttp.ClientWebSocketResponse | None = None
    heartbeat: float = 20.0
    cursor: int = -1  # -1: no state yet
    start: int | None = None  # the seq of its first snapshot
    applied: bytearray = field(default_factory=bytearray)  # applied[seq] = 1
    received: int = 0
    duplicates: int = 0
    gaps: int = 0  # events whose prev was beyond the cursor
    repair_asked: float = 0.0  # when a hello since was sent and not yet answered
    jumps: list = field(default_factory=list)  # (cursor before, snapshot seq, time)
    snapshot_waiter: asyncio.Future | None = None
    pong_waiter: asyncio.Future | None = None
    reconnects: int = 0
    dead: bool = False

    def apply(self, seq: int) -> None:
        if seq >= len(self.applied):
            self.applied.extend(bytes(max(seq + 1 - len(self.applied), len(self.applied), 4096)))
        self.applied[seq] = 1
        self.cursor = seq
        self.received += 1


class Generator:
    def __init__(self, args, plan: dict):
        self.args = args
        self.plan = plan
        self.workdir = Path(args.plan).parent
        self.clients: list[Client] = []
        self.moderators: list[Client] = []
        self.phones: list[Client] = []
        self.http: aiohttp.ClientSession | None = None  # the API calls
        self.sockets: aiohttp.ClientSession | None = None  # the websockets, each its own
        self.tasks: set[asyncio.Task] = set()
        self.finishing = False
        self.reports = 0
        self.parent = os.getppid()
        self.step = "connect"  # the step whose load is being sent now
        # Since the last report to the orchestrator:
        self.problems: dict[str, int] = {}
        self.counts: dict[str, dict[str, int]] = {}
        self.receipt_ids = array("q")
        self.receipt_times = array("d")
        self.submit_latencies: list[tuple[float, float]] = []  # (sent at, seconds)
        self.approve_sent: dict[int, float] = {}
        self.lateness: list[float] = []
        # Kept for the whole run:
        self.approved: list[int] = []
        self.approved_set: set[int] = set()
        self.voted: set[tuple[int, int]] = set()

    # --- bookkeeping ------------------------------------------------------------------------

    def note(self, what: str) -> None:
        """Count what went wrong, by kind (an HTTP status, a close code, an error frame)."""
        self.problems[what] = self.problems.get(what, 0) + 1

    def count(self, step: str, what: str) -> None:
        counts = self.counts.setdefault(step, {})
        counts[what] = counts.get(what, 0) + 1

    def spawn(self, coroutine) -> None:
        task = asyncio.ensure_future(coroutine)
        self.tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task) -> None:
        self.tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            self.note(f"client task failed: {task.exception()!r}"[:120])

    # --- connecting -------------------------------------------------------------------------

    async def connect(self, client: Client) -> bool:
        """Open the socket, read `welcome`, send `hello` (with `since` when resuming)."""
        url = client.base.replace("http", "ws", 1) + f"/ws/meetings/{SLUG}/"
        if client.link:
            url += "?link=" + quote(client.link, safe="")
        headers = {"Origin": client.base}  # the server's AllowedHostsOriginValidator needs it
        if client.cookie:
            headers["Cookie"] = client.cookie
        try:
            socket = await self.sockets.ws_connect(
                url, headers=headers, autoping=True, heartbeat=None, max_msg_size=0
            )
        except aiohttp.WSServerHandshakeError as error:
            self.note(f"handshake refused {error.status}")
            return False
        except (TimeoutError, aiohttp.ClientError, OSError) as error:
            self.note(f"connect failed {type(error).__name__}")
            return False
        try:
            message = await socket.receive(timeout=60)
        except TimeoutError:
            self.note("no welcome")
            await socket.close()
            return False
        if message.type != aiohttp.WSMsgType.TEXT:
            self.note(f"closed on connect {socket.close_code}")
            if socket.close_code in PERMANENT_CLOSES:
                client.dead = True
            return False
        welcome = json.loads(message.data)
        if welcome.get("type") != "welcome":
            self.note(f"first frame {welcome.get('type')}")
        client.heartbeat = float(welcome.get("heartbeat_seconds") or 20)
        client.socket = socket
        hello = (
            {"type": "hello"} if client.cursor < 0 else {"type": "hello", "since": client.cursor}
        )
        if client.cursor >= 0:
            client.repair_asked = time.monotonic()
        await socket.send_str(json.dumps(hello))
        self.spawn(self.read(client, socket))
        return True

    async def read(self, client: Client, socket: aiohttp.ClientWebSocketResponse) -> None:
        while True:
            message = await socket.receive()
            if message.type == aiohttp.WSMsgType.TEXT:
                try:
                    self.on_frame(client, message.data)
                except (ValueError, KeyError, TypeError, IndexError) as error:
                    self.note(f"unreadable frame: {error!r}"[:120])
            elif message.type == aiohttp.WSMsgType.BINARY:
                self.note("binary frame")
            else:
                break
        if self.finishing:
            return
        code = socket.close_code
        self.note(f"closed {code}")
        if code in PERMANENT_CLOSES:
            client.dead = True
            return
        # Reconnect after a growing, jittered delay, and resume from the cursor.
        for attempt in range(8):
            await asyncio.sleep(min(30.0, 2.0**attempt) * random.uniform(0.5, 1.5))
            if self.finishing:
                return
            client.reconnects += 1
            if await self.connect(client):
                return
            if client.dead:
                return
        client.dead = True

    # --- frames from the server -------------------------------------------------------------

    def on_frame(self, client: Client, text: str) -> None:
        head = EVENT_HEAD.match(text)
        if head is not None:
            self.on_event(client, int(head[1]), int(head[2]), head[3], text, None)
            return
        frame = json.loads(text)
        kind = frame.get("type")
        if kind == "event":
            event = frame["event"]
            self.on_event(client, frame["seq"], frame["prev"], event["type"], None, event)
        elif kind == "snapshot":
            self.on_snapshot(client, frame)
        elif kind == "synced":
            client.repair_asked = 0.0
        elif kind == "pong":
            if frame["seq"] > client.cursor >= 0:
                self.ask_since(client)  # the protocol's catch-up check
            if client.pong_waiter is not None and not client.pong_waiter.done():
                client.pong_waiter.set_result(frame["seq"])
        elif kind == "error":
            self.note(f"error frame {frame.get('code')}")
        elif kind != "welcome":
            self.note(f"frame {kind}")

    def on_snapshot(self, client: Client, frame: dict) -> None:
        seq = frame["seq"]
        if client.start is None:
            client.start = seq
            for qid, question in frame["state"].get("questions", {}).items():
                if question.get("status") in ("approved", "on_air"):
                    self.remember_approved(int(qid))
        elif seq > client.cursor:
            client.jumps.append((client.cursor, seq, time.time()))
        client.cursor = max(client.cursor, seq)
        client.repair_asked = 0.0
        if client.snapshot_waiter is not None and not client.snapshot_waiter.done():
            client.snapshot_waiter.set_result(seq)

    def on_event(self, client, seq, prev, kind, text, event) -> None:
        if client.cursor < 0:
            return  # no state yet: the snapshot asked for includes it
        if seq <= client.cursor:
            client.duplicates += 1
            return
        if prev > client.cursor:
            client.gaps += 1
            self.ask_since(client)
            return
        now = time.time()
        client.apply(seq)
        if kind == "public.approved":
            if event is None:
                event = json.loads(text)["event"]
            qid = event["payload"]["question"]
            if client.kind != "moderator":
                self.receipt_ids.append(qid)
                self.receipt_times.append(now)
            self.remember_approved(qid)
        elif kind == "question.submitted" and client.kind == "moderator":
            if event is None:
                event = json.loads(text)["event"]
            qid = event["payload"]["question"]
            view = next(
                op["value"]
                for op in event["payload"]["patch"]
                if op["path"] == ["moderation", str(qid)]
            )
            sent = float(view["text"].rsplit(" ", 1)[1])
            self.submit_latencies.append((sent, now - sent))
            # The two moderators share the work: each approves the questions of its parity.
            if qid % len(self.moderators) == self.moderators.index(client):
                self.spawn(self.approve(client, qid))

    def ask_since(self, client: Client) -> None:
        """Ask for what was missed, once at a time: each frame counts against the rate limit."""
        now = time.monotonic()
        if client.repair_asked and now - client.repair_asked < REPAIR_RETRY_SECONDS:
            return
        client.repair_asked = now
        self.spawn(self.send(client, {"type": "hello", "since": client.cursor}))

    async def send(self, client: Client, frame: dict) -> None:
        if client.socket is not None and not client.socket.closed:
            # A socket closing meanwhile: its reader sees the close and reconnects.
            with contextlib.suppress(ConnectionError, RuntimeError):
                await client.socket.send_str(json.dumps(frame))

    def remember_approved(self, qid: int) -> None:
        if qid not in self.approved_set:
            self.approved_set.add(qid)
            self.approved.append(qid)

    # --- acting over HTTP -------------------------------------------------------------------

    async def post(self, url: str, body: dict, headers: dict, step: str, what: str) -> int:
        try:
            async with self.http.post(url, json=body, headers=headers) as response:
                await response.read()
                status = response.status
        except (TimeoutError, aiohttp.ClientError) as error:
            self.count(step, f"{what}_errors")
            self.note(f"{what} {type(error).__name__}")
            return 0
        if status in (200, 201):
            self.count(step, what + "s")
        else:
            self.count(step, f"{what}_errors")
            self.note(f"{what} HTTP {status}")
        return status

    async def approve(self, moderator: Client, qid: int) -> None:
        step, sent = self.step, time.time()
        status = await self.post(
            f"{moderator.base}/api/meetings/{SLUG}/questions/{qid}/approve",
            {},
            {
                "Cookie": moderator.cookie,
                "X-CSRFToken": moderator.csrf,
                "Origin": moderator.base,
                "Referer": moderator.base + "/",
            },
            step,
            "approve",
        )
        if status == 200:
            self.approve_sent[qid] = sent  # only approvals that happened are awaited on screens

    async def submit(self, phone: Client, step: str) -> None:
        # The send time travels in the text, so the moderators can time its arrival.
        text = f"Câu hỏi đo tải {uuid.uuid4().hex[:8]} {time.time():.6f}"
        await self.post(
            f"{phone.base}/api/meetings/{SLUG}/questions",
            {"client_id": str(uuid.uuid4()), "text": text},
            {"X-Join-Link": phone.link, "X-Device-Id": phone.device},
            step,
            "submit",
        )

    async def vote(self, phone: Client, step: str) -> None:
        """A vote for a recently approved question this phone has not supported yet."""
        recent = self.approved[-200:]
        candidates = [random.choice(recent) for _ in range(5)] if recent else []
        qid = next((q for q in candidates if (q, id(phone)) not in self.voted), None)
        if qid is None:
            self.count(step, "votes_skipped")
            return
        self.voted.add((qid, id(phone)))
        await self.post(
            f"{phone.base}/api/meetings/{SLUG}/questions/{qid}/vote",
            {},
            {"X-Join-Link": phone.link, "X-Device-Id": phone.device},
            step,
            "vote",
        )

    async def drive(self, step: dict, rate_key: str, action) -> None:
        """Poisson arrivals at this process's share of the step's rate, on an open schedule: a
        late arrival is sent at once, and how late it was is recorded."""
        if not self.phones or step[rate_key] <= 0:
            return
        rate = step[rate_key] * len(self.phones) / self.plan["total_phones"]
        at, end = step["start"], step["start"] + step["seconds"]
        while True:
            at += random.expovariate(rate)
            if at >= end:
                return
            delay = at - time.time()
            if delay > 0:
                await asyncio.sleep(delay)
            else:
                self.lateness.append(-delay)
            self.spawn(action(random.choice(self.phones), step["name"]))

    async def heartbeats(self) -> None:
        """Each client pings every heartbeat interval, at its own moment in it."""
        await asyncio.sleep(random.uniform(0, 1))
        order = list(self.clients)
        random.shuffle(order)
        interval = order[0].heartbeat if order else 20.0
        while not self.finishing:
            started = time.monotonic()
            for index, client in enumerate(order):
                if self.finishing:
                    return
                due = started + interval * index / len(order)
                await asyncio.sleep(max(0.0, due - time.monotonic()))
                if not client.dead:
                    self.spawn(self.send(client, {"type": "ping"}))
            await asyncio.sleep(max(0.0, started + interval - time.monotonic()))

    # --- the run ----------------------------------------------------------------------------

    def build_clients(self) -> None:
        plan, args = self.plan, self.args
        bases = plan["bases"]
        for index in range(args.first, args.first + args.count):
            kind, spec = plan["clients"][index]
            base = bases[index % len(bases)]
            if kind == "moderator":
                client = Client(
                    "moderator",
                    base,
                    cookie=f"{plan['session_cookie']}={spec['session']}; csrftoken={spec['csrf']}",
                    csrf=spec["csrf"],
                )
                self.moderators.append(client)
            else:
                client = Client(kind, base, link=spec["link"], device=str(uuid.UUID(int=index + 1)))
                if kind == "phone":
                    self.phones.append(client)
            self.clients.append(client)

    async def connect_all(self) -> dict:
        started = time.time()
        gate = asyncio.Semaphore(CONNECTS_AT_ONCE)
        loop = asyncio.get_running_loop()

        async def one(client: Client) -> None:
            async with gate:
                client.snapshot_waiter = loop.create_future()
                for attempt in range(5):
                    if await self.connect(client):
                        try:
                            await asyncio.wait_for(asyncio.shield(client.snapshot_waiter), 60)
                        except TimeoutError:
                            self.note("no snapshot after connecting")
                        return
                    if client.dead:
                        return
                    await asyncio.sleep(0.5 * 2**attempt)

        await asyncio.gather(*(one(client) for client in self.clients))
        connected = sum(1 for c in self.clients if c.start is not None)
        return {
            "connect_seconds": round(time.time() - started, 1),
            "connected": connected,
            "clients": len(self.clients),
        }

    async def run(self) -> None:
        # Each request names its own credentials: no cookie jar. A websocket holds its
        # connection for good, so the sockets get a pool without a limit of their own.
        self.http = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=200),
            timeout=aiohttp.ClientTimeout(total=30),
            cookie_jar=aiohttp.DummyCookieJar(),
        )
        self.sockets = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=0),
            timeout=aiohttp.ClientTimeout(total=None, connect=60),
            cookie_jar=aiohttp.DummyCookieJar(),
        )
        self.build_clients()
        connected = await self.connect_all()
        self.write(Path(self.args.output + ".ready"), connected)
        self.spawn(self.heartbeats())
        number = 0
        while True:
            command_path = self.workdir / f"cmd-{number}.json"
            while not command_path.exists():
                if os.getppid() != self.parent:
                    raise SystemExit("the orchestrator has gone")
                await asyncio.sleep(0.1)
            command = json.loads(command_path.read_text())
            if command["type"] == "step":
                result = await self.run_step(command)
            elif command["type"] == "sync":
                result = await self.final_sync(command)
            else:
                result = self.finish(command)
            self.write(self.workdir / f"res-{number}-{self.args.first}.json", result)
            if command["type"] == "finish":
                break
            number += 1
        await self.http.close()
        await self.sockets.close()

    async def run_step(self, step: dict) -> dict:
        await asyncio.sleep(max(0.0, step["start"] - time.time()))
        self.step = step["name"]
        await asyncio.gather(
            self.drive(step, "submit_rate", self.submit), self.drive(step, "vote_rate", self.vote)
        )
        self.step = "between"
        # Let the step's last events arrive before reporting.
        await asyncio.sleep(max(0.0, step["start"] + step["seconds"] + step["drain"] - time.time()))
        return self.report()

    def report(self) -> dict:
        """What happened since the last report; the orchestrator adds the reports up."""
        self.reports += 1
        receipts = self.workdir / f"receipts-{self.args.first}-{self.reports}.npy"
        ids = np.frombuffer(self.receipt_ids, dtype=np.int64).astype(np.float64)
        times = np.frombuffer(self.receipt_times, dtype=np.float64)
        np.save(receipts, np.column_stack([ids, times]) if len(ids) else np.empty((0, 2)))
        self.receipt_ids, self.receipt_times = array("q"), array("d")
        lateness = sorted(self.lateness)
        result = {
            "receipts": str(receipts),
            "submit_latencies": self.submit_latencies,
            "approve_sent": self.approve_sent,
            "counts": self.counts,
            "problems": self.problems,
            "late_arrivals": len(lateness),
            "lateness_max_ms": round(lateness[-1] * 1000, 1) if lateness else 0.0,
        }
        self.submit_latencies, self.approve_sent, self.counts = [], {}, {}
        self.problems, self.lateness = {}, []
        return result

    async def final_sync(self, command: dict) -> dict:
        """Ping every client once more: the server sends what it is still missing before the
        pong (docs/protocol.md, Heartbeats). Whatever has not arrived by the deadline counts
        as undelivered."""
        loop = asyncio.get_running_loop()
        deadline = time.time() + command["seconds"]
        alive = [c for c in self.clients if not c.dead and c.socket is not None]
        for index, client in enumerate(alive):
            client.pong_waiter = loop.create_future()
            self.spawn(self.send(client, {"type": "ping", "id": "final"}))
            if index % 50 == 49:
                await asyncio.sleep(0.05)
        waiting = [c.pong_waiter for c in alive]
        if waiting:
            await asyncio.wait(waiting, timeout=max(1.0, deadline - time.time()))
        # A replay the pong asked for may still be under way.
        await asyncio.sleep(1.0)
        result = self.report()
        result["unanswered_pings"] = sum(1 for w in waiting if not w.done())
        return result

    def finish(self, command: dict) -> dict:
        """Count, per client and by sequence number, the events of the record it may see that
        it never applied, and say which step each belonged to (by the event's time)."""
        self.finishing = True
        record = np.load(command["record"])
        seqs, levels, steps = record["seq"], record["level"], record["step"]
        approved_seq, approved_qid = record["approved_seq"], record["approved_qid"]
        head = int(seqs[-1]) if len(seqs) else 0
        names = command["steps"]
        lost = {
            name: dict.fromkeys(("skipped_by_snapshot", "missing", "undelivered"), 0)
            for name in names
        }
        lost["before"] = dict.fromkeys(("skipped_by_snapshot", "missing", "undelivered"), 0)
        snapshot_receipts = []
        clients = {"connected": 0, "dead": 0, "reconnects": 0}
        gaps = duplicates = 0
        for client in self.clients:
            clients["reconnects"] += client.reconnects
            clients["dead"] += int(client.dead)
            if client.start is None:
                continue
            clients["connected"] += 1
            gaps += client.gaps
            duplicates += client.duplicates
            visible = (levels <= VIEWER_LEVEL[client.kind]) & (seqs > client.start)
            applied = np.zeros(head + 1, dtype=bool)
            marks = np.frombuffer(bytes(client.applied[: head + 1]), dtype=np.uint8)
            applied[: len(marks)] = marks.astype(bool)
            not_applied = visible & ~applied[seqs]
            if not not_applied.any():
                continue
            where = seqs[not_applied]
            kind = np.full(len(where), "missing", dtype=object)
            kind[where > client.cursor] = "undelivered"
            for before, after, moment in client.jumps:
                inside = (where > before) & (where <= after)
                kind[inside] = "skipped_by_snapshot"
                if client.kind != "moderator":
                    # The approvals a snapshot brought show on the screen when it arrives.
                    covered = (approved_seq > before) & (approved_seq <= after)
                    snapshot_receipts += [(float(q), moment) for q in approved_qid[covered]]
            for step_index, how in zip(steps[not_applied], kind, strict=True):
                name = names[step_index] if step_index >= 0 else "before"
                lost[name][how] += 1
        result = self.report()
        extra = self.workdir / f"receipts-snapshots-{self.args.first}.npy"
        np.save(extra, np.array(snapshot_receipts, dtype=np.float64).reshape(-1, 2))
        result.update(
            {
                "snapshot_receipts": str(extra),
                "lost": lost,
                "clients": clients,
                "kinds": {k: sum(1 for c in self.clients if c.kind == k) for k in VIEWER_LEVEL},
                "gaps_seen": gaps,
                "duplicates": duplicates,
                "snapshots_after_start": sum(len(c.jumps) for c in self.clients),
                "closed_sockets": sum(
                    1 for c in self.clients if c.socket is None or c.socket.closed
                ),
            }
        )
        return result

    @staticmethod
    def write(path: Path, value: dict) -> None:
        partial = path.with_name(path.name + ".part")
        partial.write_text(json.dumps(value))
        partial.rename(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("plan")
    parser.add_argument("--first", type=int, required=True)
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--output", required=True)
    args = parser.parse_args()
    plan = json.loads(Path(args.plan).read_text())
    asyncio.run(Generator(args, plan).run())


if __name__ == "__main__":
    main()
