"""The bare-server baseline: the same job as the platform, minus the platform's work.

One asyncio process. The websockets library serves the meeting stream (docs/protocol.md) and
writes each event, encoded once per audience, to every socket of that audience with its
`broadcast()`; aiohttp.web answers, on a second port of the same event loop, the HTTP calls the
load generators make. State lives in memory; the events are also appended to a file, so that
a restarted baseline can replay what its clients missed, as the platform does from its record.

Enough of the protocol for bench/realtime/clients.py to drive it exactly as it drives the
platform: `welcome`, `hello` (a small snapshot, or with `since` the missed events and
`synced`), `ping`/`pong`, `event` frames with `seq`/`prev` per audience stream. A phone's
question makes a staff `question.submitted` event (for the moderators), a moderator's approval
a `public.approved` (for everyone), and votes (a frame over the phone's websocket, or HTTP) are
counted and announced at most once a second in a `public.votes`. With --coalesce-ms, phones
get the events that come within that interval of the last frame they were sent together, as
one `batch` frame when it ends, as the platform's phones do (docs/protocol.md, `batch`).

    python -m bench.realtime.baseline CONFIG --ws-port 9001 --http-port 9002 --log events.jsonl

CONFIG is the JSON that bench/realtime/run.py writes: the meetings, their halls' links and
their moderators' sessions, in the shape bench/realtime/setup_meeting.py prints.
"""

import argparse
import asyncio
import contextlib
import json
import random
import signal
import time
from datetime import UTC, datetime
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from aiohttp import web
from websockets.asyncio.server import ServerConnection, broadcast, serve

HEARTBEAT_SECONDS = 20
REPLAY_LIMIT = 500
VOTE_PUBLISH_SECONDS = 1.0
LEVELS = {"public": 0, "halls": 1, "candidates": 2, "staff": 3}
# The audiences that have screens here, in the order an event is written to them: moderators
# and kiosks first (their bound is 100 ms), then the phones (500 ms).
STREAMS = (3, 1, 0)
KIND_OF_LEVEL = {0: "voter", 1: "operator", 3: "moderator"}
AUDIENCE_OF_LEVEL = {0: "public", 1: "halls", 3: "staff"}
FAKE_HASH = "0" * 64  # the platform's frames carry two sha256 digests: same size, no work


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


def dumps(value) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def send_all(sockets, frame: str) -> None:
    """broadcast(), but with --drop-one-in N one socket in N broadcasts misses the frame: the
    harness's own check that clients see the gap, repair it and lose nothing."""
    if DROP_ONE_IN and sockets and random.randrange(DROP_ONE_IN) == 0:
        left_out = random.choice(list(sockets))
        sockets = [socket for socket in sockets if socket is not left_out]
    broadcast(sockets, frame)


DROP_ONE_IN = 0


class Meeting:
    def __init__(self, spec: dict, coalesce_seconds: float):
        self.slug = spec["slug"]
        self.halls = {hall["id"]: f"Điểm cầu {n:03d}" for n, hall in enumerate(spec["halls"], 1)}
        self.links: dict[str, tuple[int, int]] = {}  # token -> (level, hall)
        for hall in spec["halls"]:
            self.links[hall["voter"]] = (0, hall["id"])
            self.links[hall["operator"]] = (1, hall["id"])
        self.sessions = {moderator["session"] for moderator in spec["moderators"]}
        self.coalesce_seconds = coalesce_seconds
        self.phones_sent_at = 0.0  # when phones were last sent a frame (monotonic)
        self.flush_timer: asyncio.TimerHandle | None = None
        # The record: (seq, level, encoded event), oldest first.
        self.log: list[tuple[int, int, str]] = []
        self.head = 0
        self.last = dict.fromkeys(STREAMS, 0)  # each stream's newest seq (its next prev)
        self.sent = dict.fromkeys(STREAMS, 0)  # each stream's newest seq written to sockets
        self.sockets: dict[int, set[ServerConnection]] = {level: set() for level in STREAMS}
        self.pending: list[tuple[int, str]] = []  # phones' events waiting for the next batch
        self.pending_prev = 0
        self.questions: dict[int, dict] = {}
        self.by_client_id: dict[str, int] = {}
        self.votes: dict[int, int] = {}
        self.voters: set[tuple[int, str]] = set()
        self.votes_changed: set[int] = set()

    # --- the record and its fan-out ---------------------------------------------------------

    def restore(self, seq: int, level: int, body: str) -> None:
        """An event read back from the log file at start."""
        self.log.append((seq, level, body))
        self.head = seq
        for stream in STREAMS:
            if stream >= level:
                self.last[stream] = self.sent[stream] = seq
        event = json.loads(body)
        payload = event["payload"]
        if event["type"] == "question.submitted":
            qid = payload["question"]
            self.questions[qid] = {"id": qid, "hall": payload["hall"], "status": "submitted"}
        elif event["type"] == "public.approved":
            self.questions[payload["question"]]["status"] = "approved"
        elif event["type"] == "public.votes":
            for qid, count in payload["votes"].items():
                self.votes[int(qid)] = count

    def append(self, kind: str, audience: str, actor: str, actor_kind: str, payload: dict):
        seq = self.head + 1
        self.head = seq
        level = LEVELS[audience]
        body = dumps(
            {
                "seq": seq,
                "type": kind,
                "audience": audience,
                "created": now_iso(),
                "actor": actor,
                "actor_kind": actor_kind,
                "actor_id": None,
                "payload": payload,
                "prev_hash": FAKE_HASH,
                "hash": FAKE_HASH,
            }
        )
        self.log.append((seq, level, body))
        SERVER.persist(self.slug, seq, level, body)
        for stream in STREAMS:
            if stream < level:
                continue
            prev, self.last[stream] = self.last[stream], seq
            if stream == 0 and self.coalesce_seconds:
                if not self.pending:
                    self.pending_prev = prev
                self.pending.append((seq, body))
                due = self.phones_sent_at + self.coalesce_seconds
                if self.flush_timer is None:
                    loop = asyncio.get_running_loop()
                    self.flush_timer = loop.call_at(max(due, loop.time()), self.flush_batch)
                continue
            self.sent[stream] = seq
            send_all(
                self.sockets[stream],
                f'{{"type":"event","seq":{seq},"prev":{prev},"event":{body}}}',
            )

    def flush_batch(self) -> None:
        """The phones' waiting events: one `event` frame if alone, else one `batch` frame."""
        self.flush_timer = None
        if not self.pending:
            return
        self.phones_sent_at = asyncio.get_running_loop().time()
        if len(self.pending) == 1:
            seq, body = self.pending.pop()
            self.sent[0] = seq
            send_all(
                self.sockets[0],
                f'{{"type":"event","seq":{seq},"prev":{self.pending_prev},"event":{body}}}',
            )
            return
        seq = self.pending[-1][0]
        events = ",".join(body for _seq, body in self.pending)
        self.pending = []
        self.sent[0] = seq
        send_all(
            self.sockets[0],
            f'{{"type":"batch","seq":{seq},"prev":{self.pending_prev},"events":[{events}]}}',
        )

    def vote(self, qid, device: str) -> bool | None:
        """A phone's vote (over HTTP or its websocket): whether it is new; None when there is
        no such approved question."""
        question = self.questions.get(qid)
        if question is None or question["status"] != "approved":
            return None
        voted = (qid, device) not in self.voters
        if voted:
            self.voters.add((qid, device))
            self.votes[qid] = self.votes.get(qid, 0) + 1
            self.votes_changed.add(qid)
        return voted

    def publish_votes(self) -> None:
        if not self.votes_changed:
            return
        changed = sorted(self.votes_changed)
        self.votes_changed = set()
        self.append(
            "public.votes",
            "public",
            "votes",
            "system",
            {
                "patch": [
                    {
                        "op": "merge",
                        "path": ["questions", str(q)],
                        "value": {"votes": self.votes[q]},
                    }
                    for q in changed
                ],
                "votes": {str(q): self.votes[q] for q in changed},
            },
        )

    # --- what a screen is sent --------------------------------------------------------------

    def visible_head(self, level: int) -> int:
        return self.last[level]

    def snapshot(self, level: int) -> str:
        state = {
            "meeting": {"slug": self.slug, "title": "Hội nghị đo tải", "status": "live"},
            "halls": {
                str(hall): {"id": hall, "name": name, "is_studio": False, "attendance": None}
                for hall, name in self.halls.items()
            },
            "questions": {
                str(q["id"]): {"id": q["id"], "hall_id": q["hall"], "status": q["status"]}
                | {"votes": self.votes.get(q["id"], 0)}
                for q in self.questions.values()
                if q["status"] == "approved"
            },
        }
        if level == 3:
            state["moderation"] = {
                str(q["id"]): {"id": q["id"], "status": q["status"]}
                for q in self.questions.values()
                if q["status"] == "submitted"
            }
        return dumps({"type": "snapshot", "seq": self.visible_head(level), "state": state})

    def replay(self, level: int, since: int) -> list[str] | None:
        """The frames that answer `hello` with `since`, or None when a snapshot must."""
        if since > self.head:
            return None
        start = _first_after(self.log, since)
        visible = [(seq, body) for seq, lvl, body in self.log[start:] if lvl <= level]
        if len(visible) > REPLAY_LIMIT:
            return None
        frames, prev = [], since
        for seq, body in visible:
            frames.append(f'{{"type":"event","seq":{seq},"prev":{prev},"event":{body}}}')
            prev = seq
        frames.append(dumps({"type": "synced", "seq": prev}))
        return frames


def _first_after(log: list[tuple[int, int, str]], since: int) -> int:
    low, high = 0, len(log)
    while low < high:
        middle = (low + high) // 2
        if log[middle][0] <= since:
            low = middle + 1
        else:
            high = middle
    return low


class Server:
    def __init__(self, config: dict, log_path: Path, coalesce_ms: float):
        self.meetings = {
            spec["slug"]: Meeting(spec, coalesce_ms / 1000) for spec in config["meetings"]
        }
        self.session_cookie = config["session_cookie"]
        self.coalesce_ms = coalesce_ms
        self.log_path = log_path
        if log_path.exists():
            for line in log_path.read_text().splitlines():
                try:
                    slug, seq, level, body = json.loads(line)
                except ValueError:
                    break  # the last line, cut short by the kill: never announced either
                self.meetings[slug].restore(seq, level, body)
        self.log_file = log_path.open("a")

    def persist(self, slug: str, seq: int, level: int, body: str) -> None:
        self.log_file.write(dumps([slug, seq, level, body]) + "\n")
        self.log_file.flush()

    # --- websockets -------------------------------------------------------------------------

    async def stream(self, connection: ServerConnection) -> None:
        request = connection.request
        parts = urlsplit(request.path)
        path = parts.path.strip("/").split("/")
        meeting = (
            self.meetings.get(path[2])
            if len(path) == 3 and path[:2] == ["ws", "meetings"]
            else None
        )
        if meeting is None:
            await connection.close(4404)
            return
        link = parse_qs(parts.query).get("link", [None])[0]
        if link is not None:
            admitted = meeting.links.get(link)
            if admitted is None:
                await connection.close(4403)
                return
            level, hall = admitted
        elif self.session_of(request.headers.get("Cookie")) in meeting.sessions:
            level, hall = 3, None
        else:
            await connection.close(4401)
            return
        viewer = {
            "kind": KIND_OF_LEVEL[level],
            "audience": AUDIENCE_OF_LEVEL[level],
            "name": None,
            "hall": hall,
            "candidate": None,
            "roles": [] if level < 3 else ["chair"],
            "can_moderate": level == 3,
            "is_chair": level == 3,
        }
        # Written synchronously (a broadcast to one socket): nothing can come between the
        # welcome and joining the audience, nor between the frames of a replay.
        broadcast(
            [connection],
            dumps(
                {
                    "type": "welcome",
                    "seq": meeting.visible_head(level),
                    "viewer": viewer,
                    "heartbeat_seconds": HEARTBEAT_SECONDS,
                    "server_time": now_iso(),
                }
            ),
        )
        sockets = meeting.sockets[level]
        sockets.add(connection)
        try:
            async for message in connection:
                self.on_frame(connection, meeting, level, message)
        finally:
            sockets.discard(connection)

    def on_frame(self, connection, meeting: Meeting, level: int, message) -> None:
        try:
            frame = json.loads(message)
            kind = frame["type"]
        except (ValueError, TypeError, KeyError):
            broadcast([connection], dumps({"type": "error", "code": "bad_frame", "message": ""}))
            return
        if kind == "hello":
            since = frame.get("since")
            frames = None if since is None else meeting.replay(level, since)
            for text in frames or [meeting.snapshot(level)]:
                broadcast([connection], text)
        elif kind == "ping":
            pong = {"type": "pong", "seq": meeting.sent[level], "id": frame.get("id")}
            broadcast([connection], dumps(pong | {"server_time": now_iso()}))
        elif kind == "vote" and level == 0:
            answer = meeting.vote(frame.get("question"), frame.get("device", ""))
            if answer is None:
                refusal = {"type": "error", "code": "conflict", "message": ""}
                broadcast([connection], dumps(refusal | {"id": frame.get("id")}))
            else:
                voted = {"type": "voted", "id": frame.get("id"), "question": frame["question"]}
                broadcast([connection], dumps(voted | {"voted": answer}))
        else:
            broadcast([connection], dumps({"type": "error", "code": "bad_frame", "message": ""}))

    def session_of(self, cookie_header: str | None) -> str | None:
        if not cookie_header:
            return None
        cookie = SimpleCookie()
        cookie.load(cookie_header)
        morsel = cookie.get(self.session_cookie)
        return morsel.value if morsel else None

    # --- HTTP -------------------------------------------------------------------------------

    def meeting_of(self, request: web.Request) -> Meeting:
        meeting = self.meetings.get(request.match_info["slug"])
        if meeting is None:
            raise web.HTTPNotFound()
        return meeting

    def voter_hall(self, meeting: Meeting, request: web.Request) -> int:
        admitted = meeting.links.get(request.headers.get("X-Join-Link", ""))
        if admitted is None or admitted[0] != 0:
            raise web.HTTPForbidden()
        return admitted[1]

    def require_moderator(self, meeting: Meeting, request: web.Request) -> None:
        if self.session_of(request.headers.get("Cookie")) not in meeting.sessions:
            raise web.HTTPForbidden()

    async def ask(self, request: web.Request) -> web.Response:
        meeting = self.meeting_of(request)
        hall = self.voter_hall(meeting, request)
        body = await request.json()
        client_id, text = str(body["client_id"]), str(body["text"])[:2000]
        known = meeting.by_client_id.get(client_id)
        if known is not None:
            return web.json_response({"created": False, "question": {"id": known}}, status=200)
        qid = len(meeting.questions) + 1
        meeting.by_client_id[client_id] = qid
        question = {"id": qid, "hall": hall, "status": "submitted", "text": text}
        meeting.questions[qid] = question
        created = now_iso()
        view = {
            "answer": None,
            "answered_at": None,
            "asker_group": "",
            "asker_name": "",
            "asker_named_publicly": False,
            "candidate_id": None,
            "created_at": created,
            "hall_id": hall,
            "id": qid,
            "merged_from": [],
            "merged_into": None,
            "on_air_at": None,
            "original_text": text,
            "reject_note": "",
            "reject_reason": None,
            "source": "phone",
            "status": "submitted",
            "text": text,
            "topic": None,
            "version": 1,
        }
        meeting.append(
            "question.submitted",
            "staff",
            f"voter: {meeting.halls[hall]}",
            "voter",
            {
                "hall": hall,
                "patch": [{"op": "merge", "path": ["moderation", str(qid)], "value": view}],
                "question": qid,
                "source": "phone",
            },
        )
        return web.json_response(
            {"created": True, "question": {"id": qid, "status": "submitted"}}, status=201
        )

    async def approve(self, request: web.Request) -> web.Response:
        meeting = self.meeting_of(request)
        self.require_moderator(meeting, request)
        question = meeting.questions.get(int(request.match_info["qid"]))
        if question is None:
            raise web.HTTPNotFound()
        if question["status"] != "submitted":
            return web.json_response({"code": "conflict", "detail": question}, status=409)
        question["status"] = "approved"
        public = {
            "also_from_halls": [],
            "answer": None,
            "answered_at": None,
            "asker": None,
            "candidate_id": None,
            "hall_id": question["hall"],
            "id": question["id"],
            "on_air_at": None,
            "position": question["id"],
            "source": "phone",
            "status": "approved",
            "text": question.get("text", ""),
            "topic": None,
            "votes": meeting.votes.get(question["id"], 0),
        }
        meeting.append(
            "public.approved",
            "public",
            "bench-chair",
            "user",
            {
                "hall": question["hall"],
                "patch": [
                    {"op": "merge", "path": ["questions", str(question["id"])], "value": public}
                ],
                "question": question["id"],
                "status": "approved",
            },
        )
        return web.json_response({"id": question["id"], "status": "approved"})

    async def vote(self, request: web.Request) -> web.Response:
        meeting = self.meeting_of(request)
        self.voter_hall(meeting, request)
        qid = int(request.match_info["qid"])
        question = meeting.questions.get(qid)
        if question is None or question["status"] != "approved":
            raise web.HTTPNotFound()
        voted = meeting.vote(qid, request.headers.get("X-Device-Id", ""))
        return web.json_response({"question": qid, "voted": voted})

    async def record(self, request: web.Request) -> web.Response:
        meeting = self.meeting_of(request)
        self.require_moderator(meeting, request)
        since = int(request.query.get("since", 0))
        limit = min(2000, int(request.query.get("limit", 500)))
        start = _first_after(meeting.log, since)
        rows = meeting.log[start : start + limit + 1]
        entries = [json.loads(body) for _seq, _level, body in rows[:limit]]
        return web.json_response(
            {"entries": entries, "head_seq": meeting.head, "more": len(rows) > limit},
            dumps=dumps,
        )

    async def healthz(self, request: web.Request) -> web.Response:
        return web.json_response({"ok": True})

    # --- timers -----------------------------------------------------------------------------

    async def every(self, seconds: float, action) -> None:
        while True:
            await asyncio.sleep(seconds)
            for meeting in self.meetings.values():
                action(meeting)


async def serve_all(args) -> None:
    global SERVER, DROP_ONE_IN
    DROP_ONE_IN = args.drop_one_in
    SERVER = Server(json.loads(Path(args.config).read_text()), Path(args.log), args.coalesce_ms)
    app = web.Application()
    app.add_routes(
        [
            web.get("/healthz", SERVER.healthz),
            web.post("/api/meetings/{slug}/questions", SERVER.ask),
            web.post("/api/meetings/{slug}/questions/{qid}/approve", SERVER.approve),
            web.post("/api/meetings/{slug}/questions/{qid}/vote", SERVER.vote),
            web.get("/api/meetings/{slug}/record", SERVER.record),
        ]
    )
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", args.http_port, backlog=1024)
    await site.start()
    timers = [asyncio.ensure_future(SERVER.every(VOTE_PUBLISH_SECONDS, Meeting.publish_votes))]
    stop = asyncio.get_running_loop().create_future()
    for signum in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(signum, stop.set_result, None)
    # Protocol pings every 20 s, as Daphne's; no compression, as the generators offer none.
    async with serve(
        SERVER.stream,
        "127.0.0.1",
        args.ws_port,
        ping_interval=20,
        ping_timeout=20,
        max_size=64 * 1024,
        backlog=1024,
        compression=None,
    ):
        print(f"baseline ready at {time.time():.3f}", flush=True)
        await stop
    for timer in timers:
        timer.cancel()
    with contextlib.suppress(Exception):
        await runner.cleanup()


SERVER: Server


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("config")
    parser.add_argument("--ws-port", type=int, required=True)
    parser.add_argument("--http-port", type=int, required=True)
    parser.add_argument("--log", required=True, help="the events, appended; read back at start")
    parser.add_argument(
        "--coalesce-ms", type=float, default=0, help="send phones their events in batch frames"
    )
    parser.add_argument(
        "--drop-one-in", type=int, default=0, help="a test of the harness: drop some frames"
    )
    asyncio.run(serve_all(parser.parse_args()))


if __name__ == "__main__":
    main()
