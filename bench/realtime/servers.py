"""The servers under test, started pinned to their core and cleaned up whatever happens.

`Platform` is the meetings platform: one Daphne on SQLite and the in-memory channel layer
(embedded), or two Daphnes on PostgreSQL and Redis (services). `Baseline` is the bare server of
bench/realtime/baseline.py. Both give the load generators the same things: each meeting's
links and moderators' sessions, the websocket and HTTP bases of each process, the process ids
to measure, the meeting's record to count losses against, and a way to kill the server
(SIGKILL) and start it again.
"""

import contextlib
import ctypes
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[2]
SERVER_CORE, GENERATOR_CORE = 0, 1
PR_SET_PDEATHSIG = 1


class RunFailed(Exception):
    """A run that cannot go on (a server or a generator died, or did not answer): it is
    reported as failed and the benchmark goes on with the next one."""


def pinned(core: int) -> list[str]:
    """The command prefix that pins a process (and its threads) to one core, when the machine
    has a core for the servers and another for the load."""
    if (os.cpu_count() or 1) < 2 or shutil.which("taskset") is None:
        return []
    return ["taskset", "-c", str(core)]


def die_with_parent() -> None:
    """Run in the child before exec: a SIGKILLed orchestrator takes its servers with it."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_healthy(process: subprocess.Popen, url: str, what: str, timeout: float = 60) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if process.poll() is not None:
            raise RunFailed(f"{what} exited with {process.returncode}")
        try:
            urllib.request.urlopen(url, timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RunFailed(f"{what} did not answer {url} in {timeout:.0f} s")


def wait_listening(process: subprocess.Popen, port: int, what: str, timeout: float = 60) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if process.poll() is not None:
            raise RunFailed(f"{what} exited with {process.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.02)
    raise RunFailed(f"{what} did not listen on {port} in {timeout:.0f} s")


def stop_processes(processes: list[subprocess.Popen], grace: float = 10) -> None:
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def psql(sql: str, check: bool = True) -> None:
    subprocess.run(
        ["psql", "-h", "127.0.0.1", "-U", "postgres", "-v", "ON_ERROR_STOP=1", "-c", sql],
        check=check,
        capture_output=True,
    )


class Server:
    """What run.py needs of a server under test."""

    name = ""
    processes_count = 1

    def __init__(self, workdir: Path):
        self.workdir = workdir
        self.processes: list[subprocess.Popen] = []
        self.bases: list[tuple[str, str]] = []  # (ws base, http base) per process
        self.meetings: list[dict] = []

    def pids(self) -> list[int]:
        return [process.pid for process in self.processes if process.poll() is None]

    def extra_pids(self) -> list[int]:
        return []

    def log(self, name: str):
        return open(self.workdir / name, "a")

    def restart(self) -> dict:
        """SIGKILL every process, then start each again on its port; times of each moment."""
        killed_at = time.time()
        for process in self.processes:
            process.kill()
        for process in self.processes:
            process.wait()
        started_at = time.time()
        self.processes = [self.spawn(index) for index in range(len(self.bases))]
        # Listening, not /healthz: with every screen reconnecting at once a health check can
        # wait long behind them, and the screens are the measure.
        for process, (ws, _http) in zip(self.processes, self.bases, strict=True):
            wait_listening(process, int(ws.rsplit(":", 1)[1]), self.name)
        return {"killed_at": killed_at, "started_at": started_at, "ready_at": time.time()}

    def spawn(self, index: int) -> subprocess.Popen:
        raise NotImplementedError

    def stop(self) -> None:
        stop_processes(self.processes)

    def tear_down(self) -> None:
        self.stop()


class Platform(Server):
    """The meetings platform under Daphne."""

    label = "realtime"  # names the benchmark's own PostgreSQL database and Redis prefix

    def __init__(self, workdir: Path, mode: str):
        super().__init__(workdir)
        self.mode = mode
        self.name = f"platform ({mode})"
        self.processes_count = 1 if mode == "embedded" else 2
        self.database = ""
        self.redis_prefix = ""
        self.env = dict(
            os.environ,
            PYTHONPATH=str(ROOT),
            VAR_DIR=str(workdir),
            DEBUG="0",
            SECRET_KEY=secrets.token_hex(32),  # a fresh key for each run
            # The clients connect to 127.0.0.1 and send it as Origin, as a browser would.
            ALLOWED_HOSTS="127.0.0.1,localhost",
            # The benchmark's phones send far more than a voter may in ten minutes.
            QUESTION_LIMIT_PER_DEVICE="100000/60",
            QUESTION_LIMIT_PER_HALL="100000/60",
            QUESTION_LIMIT_PER_HALL_NEW_PHONES="100000/60",
            VOTE_LIMIT_PER_DEVICE="100000/60",
            LOG_LEVEL="WARNING",
        )
        for variable in ("DATABASE_URL", "REDIS_URL", "REDIS_PREFIX", "DJANGO_SETTINGS_MODULE"):
            self.env.pop(variable, None)
        if mode == "services":
            # Our own database and key prefix: others use this PostgreSQL and Redis too.
            prefix = os.environ.get("BENCH_DATABASE_PREFIX", "bench")
            self.database = f"{prefix}_{self.label}_{uuid.uuid4().hex[:8]}"
            psql(f"CREATE DATABASE {self.database}")
            self.redis_url = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
            self.redis_prefix = f"bench-{self.label}-{uuid.uuid4().hex[:8]}"
            self.env["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{self.database}"
            self.env["REDIS_URL"] = self.redis_url
            self.env["REDIS_PREFIX"] = self.redis_prefix
            self.env["MEDIA_WORKER"] = "thread"  # no media in this benchmark: no worker needed

    def manage(self, *args: str, stdin: str | None = None, env: dict | None = None) -> str:
        return subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env={**self.env, **(env or {})},
            input=stdin,
            capture_output=True,
            text=True,
            check=True,
        ).stdout

    def set_up(self, meetings: list[tuple[str, int]], *, devices_per_hall: int = 64) -> list[dict]:
        self.manage("migrate", "--no-input")
        script = (ROOT / "bench" / "realtime" / "setup_meeting.py").read_text()
        for slug, halls in meetings:
            env = {
                "BENCH_SLUG": slug,
                "BENCH_HALLS": str(halls),
                "BENCH_DEVICES_PER_HALL": str(devices_per_hall),
            }
            output = self.manage("shell", stdin=script, env=env)
            line = next(line for line in output.splitlines() if line.startswith("BENCH "))
            self.meetings.append(json.loads(line[len("BENCH ") :]))
        return self.meetings

    def spawn(self, index: int) -> subprocess.Popen:
        daphne = shutil.which("daphne", path=str(Path(sys.executable).parent)) or "daphne"
        port = int(self.bases[index][1].rsplit(":", 1)[1])
        return subprocess.Popen(
            [
                *pinned(SERVER_CORE),
                daphne,
                "-b",
                "127.0.0.1",
                "-p",
                str(port),
                # As the production launcher runs it (meetings/serve.py).
                "--ping-interval",
                "30",
                "meetings.asgi:application",
            ],
            cwd=ROOT,
            # Each Daphne is a node to Prometheus (scraped on its own): "Sockets by node".
            env={**self.env, "METRICS_NODE": self.env.get("METRICS_NODE") or f"daphne-{port}"},
            stdout=self.log(f"daphne-{port}.log"),
            stderr=subprocess.STDOUT,
            preexec_fn=die_with_parent,
        )

    def start(self) -> list[tuple[str, str]]:
        for _ in range(self.processes_count):
            port = free_port()
            self.bases.append((f"ws://127.0.0.1:{port}", f"http://127.0.0.1:{port}"))
        self.processes = [self.spawn(index) for index in range(len(self.bases))]
        for process, (_ws, http) in zip(self.processes, self.bases, strict=True):
            wait_healthy(process, http + "/healthz", self.name)
        return self.bases

    def extra_pids(self) -> list[int]:
        """Our PostgreSQL backends and the Redis server: what the services mode adds."""
        if not self.database:
            return []
        pids = []
        for process in psutil.process_iter(["name", "cmdline"]):
            cmdline = " ".join(process.info["cmdline"] or [])
            if (process.info["name"] == "postgres" and f" {self.database} " in cmdline) or (
                process.info["name"] == "redis-server"
            ):
                pids.append(process.pid)
        return pids

    def record(self, meeting: dict) -> list[dict]:
        """The meeting's whole record, read as its moderator (every payload readable). A server
        still buried under its backlog may refuse: then it is read from the database."""
        cookie = f"{meeting['session_cookie']}={meeting['moderators'][0]['session']}"
        for attempt in range(3):
            try:
                return read_record(self.bases[-1][1], meeting["slug"], cookie)
            except OSError as error:  # urllib's HTTPError and URLError, timeouts
                print(f"[{self.name}] reading the record: {error}; trying again", flush=True)
                time.sleep(5 * (attempt + 1))
        output = self.manage("shell", stdin=RECORD_SCRIPT, env={"BENCH_SLUG": meeting["slug"]})
        return [
            json.loads(line[len("RECORD ") :])
            for line in output.splitlines()
            if line.startswith("RECORD ")
        ]

    def tear_down(self) -> None:
        self.stop()
        if self.database:
            psql(f"DROP DATABASE IF EXISTS {self.database} WITH (FORCE)", check=False)
        if self.redis_prefix:
            import redis

            client = redis.Redis.from_url(self.redis_url)
            keys = list(client.scan_iter(match=f"*{self.redis_prefix}*", count=1000))
            for start in range(0, len(keys), 500):
                client.delete(*keys[start : start + 500])
            client.close()


RECORD_SCRIPT = """
import json, os
from meetings.rooms.models import Event
from meetings.rooms.record import format_time
for event in Event.objects.filter(meeting__slug=os.environ["BENCH_SLUG"]).order_by("seq"):
    print("RECORD " + json.dumps({
        "seq": event.seq, "audience": event.audience, "type": event.type,
        "created": format_time(event.created_at), "payload": event.payload,
    }))
"""


def read_record(http: str, slug: str, cookie: str) -> list[dict]:
    entries, since = [], 0
    while True:
        request = urllib.request.Request(
            f"{http}/api/meetings/{slug}/record?since={since}&limit=2000",
            headers={"Cookie": cookie},
        )
        with urllib.request.urlopen(request, timeout=120) as response:
            page = json.loads(response.read())
        entries += page["entries"]
        if not page["more"] or not page["entries"]:
            return entries
        since = entries[-1]["seq"]


class Baseline(Server):
    """bench/realtime/baseline.py: one process, in-memory state, no database."""

    SESSION_COOKIE = "sessionid"

    def __init__(self, workdir: Path, coalesce_ms: float = 0, drop_one_in: int = 0):
        super().__init__(workdir)
        self.coalesce_ms = coalesce_ms
        self.drop_one_in = drop_one_in
        self.name = "baseline" + (
            f" (phones' events in {coalesce_ms:g} ms batches)" * bool(coalesce_ms)
        )
        self.config = workdir / "baseline.json"
        self.events = workdir / "baseline-events.jsonl"

    def set_up(self, meetings: list[tuple[str, int]], *, devices_per_hall: int = 64) -> list[dict]:
        hall_id = 1
        for slug, halls in meetings:
            made = []
            for _ in range(halls):
                hall_id += 1  # id 1 is the studio, as on the platform
                made.append(
                    {
                        "id": hall_id,
                        "voter": secrets.token_urlsafe(40),
                        "operator": secrets.token_urlsafe(40),
                        "devices": [secrets.token_urlsafe(60) for _ in range(devices_per_hall)],
                    }
                )
            moderators = [
                {"session": secrets.token_hex(16), "csrf": secrets.token_hex(16)} for _ in range(2)
            ]
            self.meetings.append(
                {
                    "slug": slug,
                    "halls": made,
                    "moderators": moderators,
                    "session_cookie": self.SESSION_COOKIE,
                }
            )
        self.config.write_text(
            json.dumps({"meetings": self.meetings, "session_cookie": self.SESSION_COOKIE})
        )
        return self.meetings

    def spawn(self, index: int) -> subprocess.Popen:
        ws, http = self.bases[index]
        return subprocess.Popen(
            [
                *pinned(SERVER_CORE),
                sys.executable,
                "-m",
                "bench.realtime.baseline",
                str(self.config),
                "--ws-port",
                ws.rsplit(":", 1)[1],
                "--http-port",
                http.rsplit(":", 1)[1],
                "--log",
                str(self.events),
                "--coalesce-ms",
                str(self.coalesce_ms),
                "--drop-one-in",
                str(self.drop_one_in),
            ],
            cwd=ROOT,
            env=dict(os.environ, PYTHONPATH=str(ROOT)),
            stdout=self.log("baseline.log"),
            stderr=subprocess.STDOUT,
            preexec_fn=die_with_parent,
        )

    def start(self) -> list[tuple[str, str]]:
        self.bases = [(f"ws://127.0.0.1:{free_port()}", f"http://127.0.0.1:{free_port()}")]
        self.processes = [self.spawn(0)]
        wait_healthy(self.processes[0], self.bases[0][1] + "/healthz", self.name)
        return self.bases

    def record(self, meeting: dict) -> list[dict]:
        cookie = f"{meeting['session_cookie']}={meeting['moderators'][0]['session']}"
        return read_record(self.bases[0][1], meeting["slug"], cookie)
