"""One load-generator process: some of the screens of one or more meetings.

Every client speaks the websocket protocol of docs/protocol.md, to the platform and to the
bare-server baseline alike: it sends an Origin header, answers `welcome` with `hello`, keeps
a cursor, follows the seq/prev rule (a gap is repaired with `hello` `since` the cursor, one
request at a time), applies `batch` frames as the run of events they carry, accepts a snapshot
at any time, pings every heartbeat and, after a close that is not permanent, reconnects with
the protocol's jittered backoff (`min(30 s, 1 s × 2^attempt) × random(0.5…1.5)`) and resumes
from its cursor. Phones send questions over the HTTP API and votes over their websocket (as the
phone page does; over HTTP while the socket is down) at this process's share of
the rates; moderators approve each question of their meeting as it reaches them.

The orchestrator (run.py) drives the process through files in its work folder: it writes
`cmd-<n>.json` (a step of load, the final catch-up, the restart check, the finish) and waits
for `res-<n>-<first>.json`. What a client received is kept per client (a bitmap of the seqs it
applied, the snapshots that moved its cursor), so that the events it lost are counted against
the meeting's record at the end, by sequence number. Frames and events received are counted
per second of the clock, for the server's CPU per delivered frame.
"""

import argparse
import asyncio
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

from bench.realtime import wire

# Audiences nest (docs/protocol.md): a viewer sees its level and every level below.
LEVELS = {"public": 0, "halls": 1, "candidates": 2, "staff": 3}
VIEWER_LEVEL = {"phone": 0, "kiosk": 1, "moderator": 3}
# Close codes after which the protocol says not to reconnect.
PERMANENT_CLOSES = {4401, 4403, 4404}
# The head of every event frame, as both servers write it (compact JSON, these keys first), so
# that most frames are read without parsing the whole text; anything else is parsed in full.
EVENT_HEAD = re.compile(
    rb'\{"type":"event","seq":(\d+),"prev":(\d+),"event":\{"seq":\d+,"type":"([^"]+)"'
)
BATCH_HEAD = b'{"type":"batch"'
QUESTION_KEY = b'"question":'
NUMBER = re.compile(rb"\d+")
APPROVED, SUBMITTED = b"public.approved", b"question.submitted"
# A question's key across meetings: the meeting's index, then its id in that meeting.
MEETING_KEY = 10_000_000
REPAIR_RETRY_SECONDS = 3.0
BACKOFF_CAP_SECONDS = 30.0


def backoff(attempt: int) -> float:
    """docs/protocol.md, Close codes: the reference client's delay before reconnecting."""
    return min(BACKOFF_CAP_SECONDS, 2.0**attempt) * random.uniform(0.5, 1.5)


@dataclass(eq=False)
class Client:
    kind: str  # phone, kiosk, moderator
    meeting: int  # index of its meeting in the plan
    slug: str
    ws: str  # ws://host:port
    http: str  # http://host:port
    link: str | None = None
    session: str | None = None  # a kiosk's session token: the screen that holds its hall
    cookie: str | None = None
    csrf: str | None = None
    device: str = ""
    moderator_index: int = 0
    moderators: int = 1
    socket: wire.WebSocket | None = None
    heartbeat: float = 20.0
    cursor: int = -1  # -1: no state yet
    start: int | None = None  # the seq of its first snapshot
    applied: bytearray = field(default_factory=bytearray)  # applied[seq] = 1
    received: int = 0
    duplicates: int = 0
    gaps: int = 0  # events whose prev was beyond the cursor
    repair_asked: float = 0.0  # when a hello since was sent and not yet answered
    jumps: list = field(default_factory=list)  # (cursor before, snapshot seq, time)
    welcome: asyncio.Future | None = None
    first_state: asyncio.Future | None = None
    awaiting_state: bool = False  # a (re)connection that has not had its state yet
    state_times: list = field(default_factory=list)  # when each connection had its state
    pong_waiter: asyncio.Future | None = None
    reconnecting: bool = False
    reconnects: int = 0
    dead: bool = False

    def apply(self, seq: int) -> None:
        if seq >= len(self.applied):
            self.applied.extend(bytes(max(seq + 1 - len(self.applied), len(self.applied), 4096)))
        self.applied[seq] = 1
        self.cursor = seq
        self.received += 1

    def send(self, frame: dict) -> None:
        # A socket closing meanwhile writes nothing: its close brings the reconnection.
        if self.socket is not None and not self.socket.closed:
            self.socket.send_text(json.dumps(frame))


class Generator:
    def __init__(self, args, plan: dict):
        self.args = args
        self.plan = plan
        self.workdir = Path(args.plan).parent
        self.clients: list[Client] = []
        self.phones: dict[int, list[Client]] = {}  # by meeting
        self.http: aiohttp.ClientSession | None = None
        self.tasks: set[asyncio.Task] = set()
        self.finishing = False
        self.reports = 0
        self.parent = os.getppid()
        self.step = "connect"  # the step whose load is being sent now
        # Since the last report to the orchestrator:
        self.problems: dict[str, int] = {}
        self.counts: dict[str, dict[str, int]] = {}
        self.seconds: dict[int, list[int]] = {}  # clock second -> [frames, events] received
        self.receipt_keys = array("q")
        self.receipt_times = array("d")
        self.receipt_kinds = array("b")
        self.submit_latencies: list[tuple[float, float]] = []  # (sent at, seconds)
        self.approve_sent: dict[int, float] = {}
        self.lateness: list[float] = []
        # Kept for the whole run, by meeting:
        self.approved: dict[int, list[int]] = {}
        self.approved_set: set[int] = set()
        self.voted: set[tuple[int, int]] = set()
        self.vote_ids = 0
        self.votes_waiting: dict[str, str] = {}  # vote frame id -> its step, until answered

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
        url = f"{client.ws}/ws/meetings/{client.slug}/"
        if client.link:
            url += "?link=" + quote(client.link, safe="")
            if client.session:
                url += "&session=" + quote(client.session, safe="")
        headers = {"Origin": client.http}  # the platform's origin check needs one
        if client.cookie:
            headers["Cookie"] = client.cookie
        loop = asyncio.get_running_loop()
        client.welcome = loop.create_future()
        holder: list[wire.WebSocket] = []
        try:
            socket = await wire.connect(
                url,
                headers,
                lambda data: self.on_frame(client, data),
                lambda code: self.on_close(client, holder[0] if holder else None, code),
                timeout=60,
            )
        except wire.HandshakeRefused as error:
            self.note(f"handshake refused {error.status}")
            return False
        except (TimeoutError, OSError) as error:
            self.note(f"connect failed {type(error).__name__}")
            return False
        holder.append(socket)
        client.socket = socket
        try:
            welcome = await asyncio.wait_for(asyncio.shield(client.welcome), 60)
        except TimeoutError:
            self.note("no welcome")
            socket.abort()
            client.socket = None
            return False
        if welcome is None:  # closed before its welcome
            if socket.close_code in PERMANENT_CLOSES:
                client.dead = True
            client.socket = None
            return False
        client.heartbeat = float(welcome.get("heartbeat_seconds") or 20)
        client.awaiting_state = True
        if client.cursor >= 0:
            client.repair_asked = time.monotonic()
            client.send({"type": "hello", "since": client.cursor})
        else:
            client.send({"type": "hello"})
        return True

    def on_close(self, client: Client, socket: wire.WebSocket | None, code: int) -> None:
        if client.welcome is not None and not client.welcome.done():
            client.welcome.set_result(None)
        if self.finishing or socket is None or socket is not client.socket:
            return
        client.socket = None
        self.note(f"closed {code}")
        if code in PERMANENT_CLOSES:
            client.dead = True
            return
        if not client.reconnecting:
            self.spawn(self.reconnect(client))

    async def reconnect(self, client: Client) -> None:
        """After a close that is not permanent: the protocol's jittered backoff, for good."""
        client.reconnecting = True
        try:
            for attempt in range(10_000):
                await asyncio.sleep(backoff(attempt))
                if self.finishing or client.dead:
                    return
                client.reconnects += 1
                if await self.connect(client):
                    return
        finally:
            client.reconnecting = False

    # --- frames from the server -------------------------------------------------------------

    def on_frame(self, client: Client, data: bytes) -> None:
        now = time.time()
        second = self.seconds.get(int(now))
        if second is None:
            second = self.seconds[int(now)] = [0, 0]
        second[0] += 1
        try:
            head = EVENT_HEAD.match(data)
            if head is not None:
                second[1] += 1
                self.on_event(client, int(head[1]), int(head[2]), head[3], data, None, now)
                return
            frame = json.loads(data)
            kind = frame.get("type")
            if kind == "batch":
                # A run of event frames: the first's prev is the batch's, each next one's
                # prev the element before it (docs: the phones' coalesced events).
                events = frame["events"]
                second[1] += len(events)
                prev = frame["prev"]
                for event in events:
                    self.on_event(
                        client, event["seq"], prev, event["type"].encode(), None, event, now
                    )
                    prev = event["seq"]
            elif kind == "event":
                second[1] += 1
                event = frame["event"]
                self.on_event(
                    client, frame["seq"], frame["prev"], event["type"].encode(), None, event, now
                )
            elif kind == "welcome":
                if client.welcome is not None and not client.welcome.done():
                    client.welcome.set_result(frame)
            elif kind == "snapshot":
                self.on_snapshot(client, frame, now)
            elif kind == "synced":
                client.repair_asked = 0.0
                self.had_state(client, now)
            elif kind == "pong":
                if frame["seq"] > client.cursor >= 0:
                    self.ask_since(client)  # the protocol's catch-up check
                if client.pong_waiter is not None and not client.pong_waiter.done():
                    client.pong_waiter.set_result(frame["seq"])
            elif kind == "voted":
                step = self.votes_waiting.pop(frame.get("id"), None)
                if step is not None:
                    self.count(step, "votes")
            elif kind == "error":
                step = self.votes_waiting.pop(frame.get("id"), None)
                if step is not None:
                    self.count(step, "vote_errors")
                self.note(f"error frame {frame.get('code')}")
            else:
                self.note(f"frame {kind}")
        except (ValueError, KeyError, TypeError, IndexError) as error:
            self.note(f"unreadable frame: {error!r}"[:120])

    def had_state(self, client: Client, now: float) -> None:
        if client.awaiting_state:
            client.awaiting_state = False
            client.state_times.append(now)
            if client.first_state is not None and not client.first_state.done():
                client.first_state.set_result(now)

    def on_snapshot(self, client: Client, frame: dict, now: float) -> None:
        seq = frame["seq"]
        if client.start is None:
            client.start = seq
            for qid, question in frame["state"].get("questions", {}).items():
                if question.get("status") in ("approved", "on_air"):
                    self.remember_approved(client.meeting, int(qid))
        elif seq > client.cursor:
            client.jumps.append((client.cursor, seq, now))
        client.cursor = max(client.cursor, seq)
        client.repair_asked = 0.0
        self.had_state(client, now)

    def on_event(self, client, seq, prev, kind, data, event, now) -> None:
        if client.cursor < 0:
            return  # no state yet: the snapshot asked for includes it
        if seq <= client.cursor:
            client.duplicates += 1
            return
        if prev > client.cursor:
            client.gaps += 1
            self.ask_since(client)
            return
        client.apply(seq)
        if kind == APPROVED:
            if event is not None:
                qid = event["payload"]["question"]
            else:  # the payload's own key: the last one of its name in the frame
                qid = int(NUMBER.match(data, data.rfind(QUESTION_KEY) + len(QUESTION_KEY))[0])
            self.receipt_keys.append(client.meeting * MEETING_KEY + qid)
            self.receipt_times.append(now)
            self.receipt_kinds.append(VIEWER_LEVEL[client.kind])
            self.remember_approved(client.meeting, qid)
        elif kind == SUBMITTED and client.kind == "moderator":
            if event is None:
                event = json.loads(data)["event"]
            qid = event["payload"]["question"]
            view = next(
                op["value"]
                for op in event["payload"]["patch"]
                if op["path"] == ["moderation", str(qid)]
            )
            sent = float(view["text"].rsplit(" ", 1)[1])
            self.submit_latencies.append((sent, now - sent))
            # The meeting's moderators share the work: each approves the ids of its residue.
            if qid % client.moderators == client.moderator_index:
                self.spawn(self.approve(client, qid))

    def ask_since(self, client: Client) -> None:
        """Ask for what was missed, once at a time: each frame counts against the rate limit."""
        now = time.monotonic()
        if client.repair_asked and now - client.repair_asked < REPAIR_RETRY_SECONDS:
            return
        client.repair_asked = now
        client.send({"type": "hello", "since": client.cursor})

    def remember_approved(self, meeting: int, qid: int) -> None:
        key = meeting * MEETING_KEY + qid
        if key not in self.approved_set:
            self.approved_set.add(key)
            self.approved.setdefault(meeting, []).append(qid)

    # --- acting over HTTP -------------------------------------------------------------------

    async def post(self, url: str, body: dict, headers: dict, step: str, what: str) -> int:
        try:
            async with self.http.post(url, json=body, headers=headers) as response:
                await response.read()
                status = response.status
        except (TimeoutError, aiohttp.ClientError, OSError) as error:
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
            f"{moderator.http}/api/meetings/{moderator.slug}/questions/{qid}/approve",
            {},
            {
                "Cookie": moderator.cookie,
                "X-CSRFToken": moderator.csrf,
                "Origin": moderator.http,
                "Referer": moderator.http + "/",
            },
            step,
            "approve",
        )
        if status == 200:  # only approvals that happened are awaited on screens
            self.approve_sent[moderator.meeting * MEETING_KEY + qid] = sent

    async def submit(self, phone: Client, step: str) -> None:
        # The send time travels in the text, so the moderators can time its arrival.
        text = f"Câu hỏi đo tải {uuid.uuid4().hex[:8]} {time.time():.6f}"
        await self.post(
            f"{phone.http}/api/meetings/{phone.slug}/questions",
            {"client_id": str(uuid.uuid4()), "text": text},
            {"X-Join-Link": phone.link, "X-Device-Id": phone.device},
            step,
            "submit",
        )

    async def vote(self, phone: Client, step: str) -> None:
        """A vote for a recently approved question this phone has not supported yet."""
        recent = self.approved.get(phone.meeting, [])[-200:]
        candidates = [random.choice(recent) for _ in range(5)] if recent else []
        qid = next((q for q in candidates if (q, id(phone)) not in self.voted), None)
        if qid is None:
            self.count(step, "votes_skipped")
            return
        self.voted.add((qid, id(phone)))
        if phone.socket is not None and not phone.socket.closed:
            # As the phone page does: a vote frame over its websocket (docs/protocol.md), its
            # answer counted when it comes (``voted``, or an error naming the frame).
            self.vote_ids += 1
            frame_id = f"v{self.vote_ids}"
            self.votes_waiting[frame_id] = step
            phone.send({"type": "vote", "question": qid, "device": phone.device, "id": frame_id})
            return
        await self.post(
            f"{phone.http}/api/meetings/{phone.slug}/questions/{qid}/vote",
            {},
            {"X-Join-Link": phone.link, "X-Device-Id": phone.device},
            step,
            "vote",
        )

    async def drive(self, step: dict, meeting: int, rate_key: str, action) -> None:
        """Poisson arrivals at this process's share of the meeting's rate, on an open schedule:
        a late arrival is sent at once, and how late it was is recorded."""
        phones = self.phones.get(meeting, [])
        if not phones or step[rate_key] <= 0:
            return
        rate = step[rate_key] * len(phones) / self.plan["phones_per_meeting"][meeting]
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
            self.spawn(action(random.choice(phones), step["name"]))

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
                    client.send({"type": "ping"})
            await asyncio.sleep(max(0.0, started + interval - time.monotonic()))

    # --- the run ----------------------------------------------------------------------------

    def build_clients(self) -> None:
        plan, args = self.plan, self.args
        for index in range(args.first, args.first + args.count):
            kind, spec = plan["clients"][index]
            client = Client(
                kind,
                spec["meeting"],
                spec["slug"],
                spec["ws"],
                spec["http"],
                device=spec.get("device", ""),  # the id the server issued the phone
            )
            if kind == "moderator":
                client.cookie = (
                    f"{plan['session_cookie']}={spec['session']}; csrftoken={spec['csrf']}"
                )
                client.csrf = spec["csrf"]
                client.moderator_index, client.moderators = spec["index"], spec["of"]
            else:
                client.link = spec["link"]
                client.session = spec.get("session")
                if kind == "phone":
                    self.phones.setdefault(client.meeting, []).append(client)
            self.clients.append(client)

    async def connect_all(self) -> dict:
        """Every client at once, at most `connects_at_once` handshakes in flight; the time until
        each had its first state (welcome, hello, snapshot)."""
        started = time.time()
        gate = asyncio.Semaphore(self.args.connects_at_once)
        loop = asyncio.get_running_loop()

        async def one(client: Client) -> None:
            async with gate:
                client.first_state = loop.create_future()
                for attempt in range(6):
                    if await self.connect(client):
                        try:
                            await asyncio.wait_for(asyncio.shield(client.first_state), 60)
                        except TimeoutError:
                            self.note("no snapshot after connecting")
                        return
                    if client.dead:
                        return
                    await asyncio.sleep(backoff(attempt))

        await asyncio.gather(*(one(client) for client in self.clients))
        firsts = sorted(c.state_times[0] for c in self.clients if c.state_times)
        times = [moment - started for moment in firsts]
        return {
            "started": started,
            "last_state_at": firsts[-1] if firsts else None,
            "connect_seconds": round(times[-1], 2) if times else None,
            "connect_p50_seconds": round(times[len(times) // 2], 2) if times else None,
            "connected": len(times),
            "clients": len(self.clients),
            "problems": dict(self.problems),
        }

    async def run(self) -> None:
        # Each request names its own credentials: no cookie jar.
        self.http = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=200),
            timeout=aiohttp.ClientTimeout(total=30),
            cookie_jar=aiohttp.DummyCookieJar(),
        )
        self.build_clients()
        # Every process starts connecting at the same moment, so that "all connected" is one
        # figure for all of them.
        await asyncio.sleep(max(0.0, self.plan["connect_at"] - time.time()))
        connected = await self.connect_all()
        self.write(Path(self.args.output + ".ready"), connected)
        self.spawn(self.heartbeats())
        number = 0
        while True:
            command_path = self.workdir / f"cmd-{number}.json"
            while not command_path.exists():
                if os.getppid() != self.parent:
                    raise SystemExit("the orchestrator has gone")
                await asyncio.sleep(0.05)
            command = json.loads(command_path.read_text())
            if command["type"] == "step":
                result = await self.run_step(command)
            elif command["type"] == "sync":
                result = await self.final_sync(command)
            elif command["type"] == "back":
                result = await self.back(command)
            else:
                result = self.finish(command)
            self.write(self.workdir / f"res-{number}-{self.args.first}.json", result)
            if command["type"] == "finish":
                break
            number += 1
        for client in self.clients:
            if client.socket is not None:
                client.socket.close()
        await self.http.close()

    async def run_step(self, step: dict) -> dict:
        await asyncio.sleep(max(0.0, step["start"] - time.time()))
        self.step = step["name"]
        await asyncio.gather(
            *(
                self.drive(step, meeting, key, action)
                for meeting in self.phones
                for key, action in (("submit_rate", self.submit), ("vote_rate", self.vote))
            )
        )
        # The step lasts its time even in a process without phones (the moderators' approvals
        # count in it), then its last events arrive before the report.
        await asyncio.sleep(max(0.0, step["start"] + step["seconds"] - time.time()))
        self.step = "between"
        await asyncio.sleep(max(0.0, step["start"] + step["seconds"] + step["drain"] - time.time()))
        return self.report()

    def report(self) -> dict:
        """What happened since the last report; the orchestrator adds the reports up."""
        self.reports += 1
        receipts = self.workdir / f"receipts-{self.args.first}-{self.reports}.npy"
        keys = np.frombuffer(self.receipt_keys, dtype=np.int64).astype(np.float64)
        times = np.frombuffer(self.receipt_times, dtype=np.float64)
        kinds = np.frombuffer(self.receipt_kinds, dtype=np.int8).astype(np.float64)
        np.save(receipts, np.column_stack([keys, times, kinds]) if len(keys) else np.empty((0, 3)))
        self.receipt_keys, self.receipt_times, self.receipt_kinds = (
            array("q"),
            array("d"),
            array("b"),
        )
        lateness = sorted(self.lateness)
        result = {
            "receipts": str(receipts),
            "seconds": self.seconds,
            "submit_latencies": self.submit_latencies,
            "approve_sent": self.approve_sent,
            "counts": self.counts,
            "problems": self.problems,
            "late_arrivals": len(lateness),
            "lateness_max_ms": round(lateness[-1] * 1000, 1) if lateness else 0.0,
        }
        self.submit_latencies, self.approve_sent, self.counts = [], {}, {}
        self.problems, self.lateness, self.seconds = {}, [], {}
        return result

    async def final_sync(self, command: dict) -> dict:
        """Ping every client once more: the server sends what it is still missing before the
        pong (docs/protocol.md, Heartbeats), or its pong says how far the stream is and the
        client asks for the rest. Whatever has not arrived by the deadline counts as
        undelivered."""
        loop = asyncio.get_running_loop()
        deadline = time.time() + command["seconds"]
        alive = [c for c in self.clients if not c.dead and c.socket is not None]
        for index, client in enumerate(alive):
            client.pong_waiter = loop.create_future()
            client.send({"type": "ping", "id": "final"})
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

    async def back(self, command: dict) -> dict:
        """After a restart: when each client had its state again (reconnected, and its missed
        events replayed up to `synced`, or a snapshot), in seconds after `after`; waits for
        them until `deadline`."""
        after = command["after"]

        def back_at(client: Client) -> float | None:
            return next((t for t in client.state_times if t > after), None)

        while time.time() < command["deadline"]:
            if all(back_at(c) is not None or c.dead for c in self.clients):
                break
            await asyncio.sleep(0.2)
        times = [back_at(c) for c in self.clients]
        result = self.report()
        result["back_seconds"] = [round(t - after, 3) for t in times if t is not None]
        result["not_back"] = sum(1 for t in times if t is None)
        return result

    def finish(self, command: dict) -> dict:
        """Count, per client and by sequence number, the events of its meeting's record it may
        see that it never applied, and say which step each belonged to (by the event's time)."""
        self.finishing = True
        records = {int(m): np.load(path) for m, path in command["records"].items()}
        names = command["steps"]
        empty = dict.fromkeys(("skipped_by_snapshot", "missing", "undelivered"), 0)
        lost = {name: dict(empty) for name in [*names, "before"]}
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
            record = records[client.meeting]
            seqs, levels, steps = record["seq"], record["level"], record["step"]
            head = int(seqs[-1]) if len(seqs) else 0
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
            approved_seq, approved_qid = record["approved_seq"], record["approved_qid"]
            for before, after, moment in client.jumps:
                inside = (where > before) & (where <= after)
                kind[inside] = "skipped_by_snapshot"
                # The approvals a snapshot brought show on the screen when it arrives.
                covered = (approved_seq > before) & (approved_seq <= after)
                snapshot_receipts += [
                    (float(client.meeting * MEETING_KEY + q), moment, VIEWER_LEVEL[client.kind])
                    for q in approved_qid[covered]
                ]
            for step_index, how in zip(steps[not_applied], kind, strict=True):
                name = names[step_index] if step_index >= 0 else "before"
                lost[name][how] += 1
        result = self.report()
        extra = self.workdir / f"receipts-snapshots-{self.args.first}.npy"
        np.save(extra, np.array(snapshot_receipts, dtype=np.float64).reshape(-1, 3))
        result.update(
            {
                "snapshot_receipts": str(extra),
                "lost": lost,
                "clients": clients,
                "kinds": {k: sum(1 for c in self.clients if c.kind == k) for k in VIEWER_LEVEL},
                "connected_by_kind": {
                    k: sum(1 for c in self.clients if c.kind == k and c.start is not None)
                    for k in VIEWER_LEVEL
                },
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
    parser.add_argument("--connects-at-once", type=int, default=50)
    parser.add_argument("--loop", choices=["uvloop", "asyncio"], default="uvloop")
    args = parser.parse_args()
    plan = json.loads(Path(args.plan).read_text())
    if args.loop == "uvloop":
        # Each frame costs the generators an event-loop turn and a read, as it costs the
        # server a write: libuv's loop takes less of their core for it.
        import uvloop

        uvloop.run(Generator(args, plan).run())
    else:
        asyncio.run(Generator(args, plan).run())


if __name__ == "__main__":
    main()
