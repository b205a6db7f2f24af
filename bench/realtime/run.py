"""The realtime load benchmark: one meeting with 150 hall kiosks, 2,000 voters' phones and two
moderators. Phones send questions and votes at set rates; the moderators approve each question
as it reaches them. Measured per rate: submit -> the moderators' screens and approve -> every
kiosk and phone (p50, p95, p99), the events each client lost (by sequence number, against the
meeting's record), and the web processes' CPU and memory.

    python -m bench.realtime.run                      both modes, the ramp (under 10 min)
    python -m bench.realtime.run --mode embedded      one Daphne, SQLite, in-memory layer
    python -m bench.realtime.run --mode services      two Daphnes, PostgreSQL, Redis
    python -m bench.realtime.run --quick              200 phones, 20 halls, short steps

The rates rise step by step (questions per second, and ten votes per question): 1, 2, 5, 10,
20 (the target, 200 votes/s) and 40. Once p99 passes 250 ms the ramp jumps to the target rate
(or ends, at or above it); --full-ramp runs every step. Results go to bench/results/realtime.json
(a run of one mode keeps the other mode's last results); `python -m bench.report` turns them
into the table of docs/benchmarks.md.

The load generators run in their own processes, on the same machine as the servers: on a
small machine they take CPU from them, which the figures include (their CPU is reported).
"""

import argparse
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from datetime import datetime
from pathlib import Path

import numpy as np
import psutil

from bench.machine import describe
from bench.realtime.clients import LEVELS

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "bench" / "results" / "realtime.json"
SLUG = "load"
TARGET_SUBMIT_RATE = 20  # questions per second (issue 6), with 200 votes per second
VOTES_PER_QUESTION = 10
TARGET_P99_MS, LIMIT_P99_MS = 100, 250
SERVERS = {"embedded": 1, "services": 2}
MODERATORS = 2


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def psql(sql: str) -> None:
    subprocess.run(
        ["psql", "-h", "127.0.0.1", "-U", "postgres", "-v", "ON_ERROR_STOP=1", "-c", sql],
        check=True,
        capture_output=True,
    )


class Mode:
    """One mode's servers, from a fresh database to their end."""

    label = "realtime"  # names this benchmark's own database and Redis prefix

    def __init__(self, name: str, workdir: Path):
        self.name = name
        self.workdir = workdir
        self.servers: list[tuple[subprocess.Popen, str]] = []
        self.database = ""
        self.redis_prefix = ""
        self.env = dict(
            os.environ,
            PYTHONPATH=str(ROOT),
            VAR_DIR=str(workdir),
            DEBUG="0",
            SECRET_KEY="bench-" + uuid.uuid4().hex * 2,
            # The clients connect to 127.0.0.1 and send it as Origin, as a browser would.
            ALLOWED_HOSTS="127.0.0.1,localhost",
            # The benchmark's phones send far more than a voter may in ten minutes.
            QUESTION_LIMIT_PER_DEVICE="100000/60",
            QUESTION_LIMIT_PER_HALL="100000/60",
            VOTE_LIMIT_PER_DEVICE="100000/60",
            LOG_LEVEL="WARNING",
            BENCH_HALLS=str(ARGS.halls),
        )
        for variable in ("DATABASE_URL", "REDIS_URL", "REDIS_PREFIX", "DJANGO_SETTINGS_MODULE"):
            self.env.pop(variable, None)
        if name == "services":
            # Our own database and key prefix: others use this PostgreSQL and Redis too.
            self.database = f"bench_{self.label}_{uuid.uuid4().hex[:8]}"
            psql(f"CREATE DATABASE {self.database}")
            self.redis_url = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
            self.redis_prefix = f"bench-{self.label}-{uuid.uuid4().hex[:8]}"
            self.env["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{self.database}"
            self.env["REDIS_URL"] = self.redis_url
            self.env["REDIS_PREFIX"] = self.redis_prefix
            self.env["MEDIA_WORKER"] = "thread"  # no media in this benchmark: no worker needed

    def manage(self, *args: str, stdin: str | None = None) -> str:
        return subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            input=stdin,
            capture_output=True,
            text=True,
            check=True,
        ).stdout

    def set_up(self) -> dict:
        self.manage("migrate", "--no-input")
        script = (ROOT / "bench" / "realtime" / "setup_meeting.py").read_text()
        output = self.manage("shell", stdin=script)
        line = next(line for line in output.splitlines() if line.startswith("BENCH "))
        return json.loads(line[len("BENCH ") :])

    def start_servers(self) -> list[str]:
        daphne = shutil.which("daphne", path=str(Path(sys.executable).parent)) or "daphne"
        for _ in range(SERVERS[self.name]):
            port = free_port()
            log = open(self.workdir / f"daphne-{port}.log", "w")  # noqa: SIM115
            process = subprocess.Popen(
                [daphne, "-b", "127.0.0.1", "-p", str(port), "meetings.asgi:application"],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            self.servers.append((process, f"http://127.0.0.1:{port}"))
        for process, base in self.servers:
            for _ in range(300):
                if process.poll() is not None:
                    raise SystemExit(f"Daphne at {base} exited; see {self.workdir}")
                try:
                    urllib.request.urlopen(base + "/healthz", timeout=1)
                    break
                except OSError:
                    time.sleep(0.1)
        return [base for _process, base in self.servers]

    def pids(self) -> list[int]:
        return [process.pid for process, _base in self.servers]

    def tear_down(self) -> None:
        # Daphne can take long to stop when requests are still queued; it gets ten seconds.
        for process, _base in self.servers:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process, _base in self.servers:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if self.database:
            subprocess.run(
                [
                    "psql",
                    "-h",
                    "127.0.0.1",
                    "-U",
                    "postgres",
                    "-c",
                    f"DROP DATABASE IF EXISTS {self.database} WITH (FORCE)",
                ],
                capture_output=True,
            )
        if self.redis_prefix:
            import redis

            client = redis.Redis.from_url(self.redis_url)
            keys = list(client.scan_iter(match=f"*{self.redis_prefix}*", count=1000))
            for start in range(0, len(keys), 500):
                client.delete(*keys[start : start + 500])
            client.close()


class Usage:
    """CPU (% of one core, summed over processes) and peak memory of a set of processes."""

    def __init__(self, pids: list[int]):
        self.processes = []
        for pid in pids:
            with contextlib.suppress(psutil.NoSuchProcess):
                self.processes.append(psutil.Process(pid))
        self.rss_peak = 0
        self.frozen: tuple[float, float] | None = None
        self.begin()

    def begin(self) -> None:
        self.started, self.cpu, self.frozen = time.monotonic(), self._cpu(), None

    def _cpu(self) -> float:
        total = 0.0
        for process in self.processes:
            try:
                times = process.cpu_times()
                total += times.user + times.system
            except psutil.NoSuchProcess:
                pass
        return total

    def sample(self) -> None:
        rss = 0
        for process in self.processes:
            with contextlib.suppress(psutil.NoSuchProcess):
                rss += process.memory_info().rss
        self.rss_peak = max(self.rss_peak, rss)

    def freeze(self) -> None:
        """The CPU used from begin() until now; later calls change nothing."""
        if self.frozen is None:
            self.frozen = (time.monotonic() - self.started, self._cpu() - self.cpu)

    def result(self) -> tuple[float, float]:
        self.freeze()
        seconds, cpu = self.frozen
        return round(cpu / seconds * 100, 1), round(self.rss_peak / 2**20, 1)


def database_pids(database: str) -> list[int]:
    """Our PostgreSQL backends and the Redis server: what the services mode adds."""
    pids = []
    for process in psutil.process_iter(["name", "cmdline"]):
        cmdline = " ".join(process.info["cmdline"] or [])
        if (database and process.info["name"] == "postgres" and f" {database} " in cmdline) or (
            process.info["name"] == "redis-server"
        ):
            pids.append(process.pid)
    return pids


class Generators:
    """The load-generator processes, and the files through which they are driven."""

    def __init__(self, workdir: Path, plan: dict, count: int):
        self.workdir = workdir
        plan_path = workdir / "plan.json"
        plan_path.write_text(json.dumps(plan))
        # The first process carries the two moderators; the kiosks and phones are shared out.
        shares = [(0, 2)]
        rest = len(plan["clients"]) - 2
        size = -(-rest // count)
        shares += [(2 + i * size, min(size, rest - i * size)) for i in range(count)]
        self.shares = [(first, n) for first, n in shares if n > 0]
        self.processes = []
        for first, n in self.shares:
            log = open(workdir / f"generator-{first}.log", "w")  # noqa: SIM115
            self.processes.append(
                subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "bench.realtime.clients",
                        str(plan_path),
                        "--first",
                        str(first),
                        "--count",
                        str(n),
                        "--output",
                        str(workdir / f"generator-{first}"),
                    ],
                    cwd=ROOT,
                    env=dict(os.environ, PYTHONPATH=str(ROOT)),
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )
        self.commands = 0

    def pids(self) -> list[int]:
        return [process.pid for process in self.processes]

    def wait_for(self, paths: list[Path], timeout: float, sampler=None) -> list[dict]:
        deadline = time.time() + timeout
        while not all(path.exists() for path in paths):
            for process in self.processes:
                if process.poll() is not None and process.returncode != 0:
                    raise SystemExit(f"a load generator failed; see {self.workdir}/generator-*.log")
            if time.time() > deadline:
                raise SystemExit(f"the load generators did not answer in {timeout:.0f} s")
            if sampler is not None:
                sampler()
            time.sleep(0.2)
        return [json.loads(path.read_text()) for path in paths]

    def ready(self) -> list[dict]:
        paths = [self.workdir / f"generator-{first}.ready" for first, _n in self.shares]
        return self.wait_for(paths, timeout=900)

    def send(self, command: dict) -> int:
        number = self.commands
        self.commands += 1
        path = self.workdir / f"cmd-{number}.json"
        path.with_name(path.name + ".part").write_text(json.dumps(command))
        path.with_name(path.name + ".part").rename(path)
        return number

    def collect(self, number: int, timeout: float, sampler=None) -> list[dict]:
        paths = [self.workdir / f"res-{number}-{first}.json" for first, _n in self.shares]
        return self.wait_for(paths, timeout, sampler)

    def command(self, command: dict, timeout: float) -> list[dict]:
        return self.collect(self.send(command), timeout)

    def stop(self) -> None:
        for process in self.processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def fetch_record(mode: Mode, base: str, cookie: str) -> list[dict]:
    """The meeting's whole record, read as a moderator (every payload readable). A server still
    buried under its backlog may refuse (its database pool is busy): then the record is read
    from the database itself."""
    for attempt in range(3):
        try:
            return _record_over_http(base, cookie)
        except OSError as error:  # urllib's HTTPError and URLError, timeouts
            print(f"[{mode.name}] reading the record: {error}; trying again", flush=True)
            time.sleep(5 * (attempt + 1))
    output = mode.manage("shell", stdin=RECORD_SCRIPT)
    return [
        json.loads(line[len("RECORD ") :])
        for line in output.splitlines()
        if line.startswith("RECORD ")
    ]


RECORD_SCRIPT = """
import json
from meetings.rooms.models import Event
from meetings.rooms.record import format_time
for event in Event.objects.filter(meeting__slug="load").order_by("seq"):
    print("RECORD " + json.dumps({
        "seq": event.seq, "audience": event.audience, "type": event.type,
        "created": format_time(event.created_at), "payload": event.payload,
    }))
"""


def _record_over_http(base: str, cookie: str) -> list[dict]:
    entries, since = [], 0
    while True:
        request = urllib.request.Request(
            f"{base}/api/meetings/{SLUG}/record?since={since}&limit=2000",
            headers={"Cookie": cookie},
        )
        with urllib.request.urlopen(request, timeout=120) as response:
            page = json.loads(response.read())
        entries += page["entries"]
        if not page["more"] or not page["entries"]:
            return entries
        since = entries[-1]["seq"]


def step_of(moments: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Index of the step each moment falls in (a step lasts until the next one starts); -1
    before the first."""
    return np.searchsorted(starts, moments, side="right") - 1


def percentiles(values: np.ndarray, missing: int = 0) -> dict:
    """p50/p95/p99 in ms; what never arrived counts as slower than everything that did, so a
    percentile that falls among the missing is null."""
    total = len(values) + missing
    result = {"n": len(values), "missing": int(missing)}
    if total < 20:
        return result
    ordered = np.sort(values)
    for name, q in (("p50", 50), ("p95", 95), ("p99", 99)):
        rank = int(np.ceil(q / 100 * total)) - 1
        result[name] = round(float(ordered[rank]) * 1000, 1) if rank < len(ordered) else None
    return result


def over_limit(row: dict, limit_ms: float) -> bool:
    for key in ("submit_to_moderator_ms", "approve_to_screens_ms"):
        latency = row[key]
        if "p99" not in latency:
            continue  # too few samples to say
        if latency["p99"] is None or latency["p99"] > limit_ms:
            return True
    return False


def run_mode(name: str) -> dict:
    workdir = Path(tempfile.mkdtemp(prefix=f"meetings-bench-realtime-{name}-"))
    mode = Mode(name, workdir)
    generators = None
    load_before = os.getloadavg()[0]
    began = time.time()
    try:
        print(f"[{name}] setting up in {workdir}", flush=True)
        meeting = mode.set_up()
        bases = mode.start_servers()
        moderator = meeting["moderators"][0]
        cookie = f"{meeting['session_cookie']}={moderator['session']}"
        clients = [("moderator", m) for m in meeting["moderators"]]
        clients += [("kiosk", {"link": hall["operator"]}) for hall in meeting["halls"]]
        clients += [
            ("phone", {"link": meeting["halls"][n % len(meeting["halls"])]["voter"]})
            for n in range(ARGS.phones)
        ]
        plan = {
            "bases": bases,
            "clients": clients,
            "session_cookie": meeting["session_cookie"],
            "total_phones": ARGS.phones,
        }
        generators = Generators(workdir, plan, ARGS.generators)
        connect_started = time.time()
        ready = generators.ready()
        connected = sum(r["connected"] for r in ready)
        print(
            f"[{name}] {connected} of {len(clients)} clients connected in "
            f"{time.time() - connect_started:.0f} s",
            flush=True,
        )
        idle = Usage(mode.pids())
        idle.sample()
        time.sleep(2)
        idle_cpu, idle_rss = idle.result()

        steps = [{"name": "warmup", "submit_rate": ARGS.rates[0], "seconds": ARGS.warmup}]
        for rate in ARGS.rates:
            seconds = ARGS.target_seconds if rate == TARGET_SUBMIT_RATE else ARGS.step
            steps.append({"name": f"{rate:g}/s", "submit_rate": rate, "seconds": seconds})
        done: list[dict] = []
        reports: list[dict] = []
        skip_to_target = False
        for step in steps:
            if skip_to_target and step["submit_rate"] != TARGET_SUBMIT_RATE:
                continue
            reports += run_step(name, step, mode, generators)
            done.append(step)
            if step["name"] == "warmup":
                continue
            row = summarise_step(step, reports)
            print(f"[{name}] {progress_line(row)}", flush=True)
            if ARGS.full_ramp or not over_limit(row, LIMIT_P99_MS):
                continue
            # Past 250 ms: the rates between here and the target say little more; the
            # target's own row is still measured (after a pause to let the backlog clear).
            if step["submit_rate"] < TARGET_SUBMIT_RATE and TARGET_SUBMIT_RATE in ARGS.rates:
                skip_to_target = True
                time.sleep(ARGS.recover)
            else:
                break
        load_after = os.getloadavg()[0]
        reports += generators.command(
            {"type": "sync", "seconds": ARGS.sync}, timeout=ARGS.sync + 120
        )
        record = fetch_record(mode, bases[-1], cookie)
        record_path = save_record(record, done, workdir)
        finals = generators.command(
            {"type": "finish", "record": str(record_path), "steps": [s["name"] for s in done]},
            timeout=600,
        )
        generators.stop()
        result = summarise(name, done, reports, finals, record, (idle_cpu, idle_rss), ready)
        # Anything else running on the machine takes from the figures: say how busy it was.
        result["load_average_1min"] = {
            "before": round(load_before, 2),
            "after": round(load_after, 2),
        }
        result["run_seconds"] = round(time.time() - began)
        print(f"[{name}] done in {result['run_seconds']} s", flush=True)
        return result
    finally:
        if generators is not None:
            for process in generators.processes:
                if process.poll() is None:
                    process.kill()
        mode.tear_down()
        if ARGS.keep:
            print(f"[{name}] work folder kept: {workdir}", flush=True)
        else:
            shutil.rmtree(workdir, ignore_errors=True)


def run_step(name: str, step: dict, mode: Mode, generators: Generators) -> list[dict]:
    """One step of load; the servers' (and generators') CPU and memory while it lasts."""
    step["vote_rate"] = step["submit_rate"] * VOTES_PER_QUESTION
    step["start"] = time.time() + 1.5
    step["drain"] = ARGS.drain
    meters = {"servers": Usage(mode.pids()), "generators": Usage(generators.pids())}
    if name == "services":
        meters["database_and_redis"] = Usage(database_pids(mode.database))
    end = step["start"] + step["seconds"]

    def sample() -> None:
        for meter in meters.values():  # the step itself, not its drain
            if time.time() < end:
                meter.sample()
            else:
                meter.freeze()

    number = generators.send({"type": "step", **step})
    time.sleep(max(0.0, step["start"] - time.time()))
    for meter in meters.values():
        meter.begin()
    results = generators.collect(number, step["seconds"] + ARGS.drain + 120, sample)
    step["usage"] = {key: meter.result() for key, meter in meters.items()}
    return results


def save_record(record: list[dict], steps: list[dict], workdir: Path) -> Path:
    starts = np.array([s["start"] for s in steps])
    created = np.array([datetime.fromisoformat(e["created"]).timestamp() for e in record])
    approved = [e for e in record if e["type"] == "public.approved"]
    path = workdir / "record.npz"
    np.savez(
        path,
        seq=np.array([e["seq"] for e in record], dtype=np.int64),
        level=np.array([LEVELS[e["audience"]] for e in record], dtype=np.int64),
        step=step_of(created, starts) if len(created) else np.empty(0, dtype=np.int64),
        approved_seq=np.array([e["seq"] for e in approved], dtype=np.int64),
        approved_qid=np.array([e["payload"]["question"] for e in approved], dtype=np.int64),
    )
    return path


def gather(reports: list[dict], extra_receipts: list[str] = ()) -> dict:
    """Every report added up: latencies as arrays, approvals' send times, counts by step."""
    submit = [pair for r in reports for pair in r["submit_latencies"]]
    sent: dict[int, float] = {}
    for report in reports:
        for qid, moment in report["approve_sent"].items():
            sent.setdefault(int(qid), moment)
    files = [r["receipts"] for r in reports] + list(extra_receipts)
    receipts = [np.load(f) for f in files if Path(f).exists()]
    receipts = np.concatenate(receipts) if receipts else np.empty((0, 2))
    counts: dict[str, dict[str, int]] = {}
    problems: dict[str, int] = {}
    for report in reports:
        for step, values in report["counts"].items():
            into = counts.setdefault(step, {})
            for key, value in values.items():
                into[key] = into.get(key, 0) + value
        for key, value in report["problems"].items():
            problems[key] = problems.get(key, 0) + value
    return {
        "submit": np.array(submit, dtype=np.float64).reshape(-1, 2),
        "sent": sent,
        "receipts": receipts,
        "counts": counts,
        "problems": problems,
        "lateness_max_ms": max((r["lateness_max_ms"] for r in reports), default=0.0),
    }


def latencies_for(step: dict, data: dict, receivers: int, approved: set[int] | None) -> dict:
    end = step["start"] + step["seconds"]
    submit = data["submit"]
    inside = (submit[:, 0] >= step["start"]) & (submit[:, 0] < end)
    # Approvals sent during the step, and their receipts on the kiosks and phones.
    qids = [
        q
        for q, moment in data["sent"].items()
        if step["start"] <= moment < end and (approved is None or q in approved)
    ]
    receipts = data["receipts"]
    chosen = np.isin(receipts[:, 0], qids) if len(receipts) else np.zeros(0, dtype=bool)
    ids, moments = receipts[chosen, 0], receipts[chosen, 1]
    known = np.array(sorted(data["sent"]), dtype=np.float64)
    sent_at = np.array([data["sent"][int(q)] for q in known])
    sent = sent_at[np.searchsorted(known, ids)] if len(ids) else np.empty(0)
    expected = len(qids) * receivers
    approve = percentiles(moments - sent, missing=max(0, expected - len(ids)))
    approve["approvals"] = len(qids)
    # Every question accepted during the step should reach both moderators' screens.
    accepted = data["counts"].get(step["name"], {}).get("submits", 0) * MODERATORS
    return {
        "submit_to_moderator_ms": percentiles(
            submit[inside, 1], missing=max(0, accepted - int(inside.sum()))
        ),
        "approve_to_screens_ms": approve,
    }


def row_for(step: dict, data: dict, receivers: int, approved: set[int] | None) -> dict:
    counts = data["counts"].get(step["name"], {})
    servers_cpu, servers_rss = step["usage"]["servers"]
    row = {
        "step": step["name"],
        "submit_rate": step["submit_rate"],
        "vote_rate": step["vote_rate"],
        "seconds": step["seconds"],
        "submitted_per_second": round(counts.get("submits", 0) / step["seconds"], 1),
        "votes_per_second": round(counts.get("votes", 0) / step["seconds"], 1),
        **latencies_for(step, data, receivers, approved),
        "errors": {key: value for key, value in sorted(counts.items()) if key.endswith("_errors")},
        "votes_skipped": counts.get("votes_skipped", 0),
        "server_cpu_percent": servers_cpu,
        "server_rss_mib": servers_rss,
        "generators_cpu_percent": step["usage"]["generators"][0],
    }
    if "database_and_redis" in step["usage"]:
        row["database_and_redis_cpu_percent"] = step["usage"]["database_and_redis"][0]
    return row


def summarise_step(step: dict, reports: list[dict]) -> dict:
    """A first look at a step, to decide whether to go on: every kiosk and phone is expected
    to show every approval, and what has not arrived by the end of the drain counts as slow."""
    receivers = ARGS.phones + ARGS.halls
    return row_for(step, gather(reports), receivers, None)


def progress_line(row: dict) -> str:
    def three(latency: dict) -> str:
        values = [latency.get(k) for k in ("p50", "p95", "p99")]
        return "/".join("-" if v is None else f"{v:.0f}" for v in values) + f" (n={latency['n']})"

    return (
        f"{row['step']}: submit->moderator {three(row['submit_to_moderator_ms'])} ms, "
        f"approve->screens {three(row['approve_to_screens_ms'])} ms, "
        f"server CPU {row['server_cpu_percent']}%, errors {row['errors'] or 0}"
    )


def summarise(name, steps, reports, finals, record, idle, ready) -> dict:
    data = gather(reports + finals, [f["snapshot_receipts"] for f in finals])
    kinds = {k: sum(f["kinds"][k] for f in finals) for k in ("phone", "kiosk", "moderator")}
    receivers = sum(f["clients"]["connected"] for f in finals) - kinds["moderator"]
    approved = {e["payload"]["question"] for e in record if e["type"] == "public.approved"}
    lost_by_step: dict[str, dict[str, int]] = {}
    for final in finals:
        for step, values in final["lost"].items():
            into = lost_by_step.setdefault(step, {})
            for key, value in values.items():
                into[key] = into.get(key, 0) + value
    starts = np.array([s["start"] for s in steps])
    created = np.array([datetime.fromisoformat(e["created"]).timestamp() for e in record])
    where = step_of(created, starts)
    rows = []
    for index, step in enumerate(steps):
        if step["name"] == "warmup":
            continue
        row = row_for(step, data, receivers, approved)
        lost = lost_by_step.get(step["name"], {})
        row["events"] = int((where == index).sum())
        row["vote_announcements"] = sum(
            1
            for e, w in zip(record, where, strict=True)
            if w == index and e["type"] == "public.votes"
        )
        row["events_lost"] = lost.get("missing", 0) + lost.get("undelivered", 0)
        row["events_skipped_by_snapshot"] = lost.get("skipped_by_snapshot", 0)
        rows.append(row)
    passed = next((r for r in rows if over_limit(r, LIMIT_P99_MS)), None)
    highest = max((r["submit_rate"] for r in rows), default=0)
    under = [
        r["submit_rate"]
        for r in rows
        if not over_limit(r, LIMIT_P99_MS)
        and (passed is None or r["submit_rate"] < passed["submit_rate"])
    ]
    target = next((r for r in rows if r["submit_rate"] == TARGET_SUBMIT_RATE), None)
    totals = {
        key: sum(v.get(key, 0) for v in lost_by_step.values())
        for key in ("missing", "undelivered", "skipped_by_snapshot")
    }
    return {
        "mode": name,
        "date": time.strftime("%Y-%m-%d %H:%M %Z"),
        "machine": describe(),
        "web_processes": SERVERS[name],
        "clients": kinds,
        "connect_seconds": max(r["connect_seconds"] for r in ready),
        "idle_server_cpu_percent": idle[0],
        "idle_server_rss_mib": idle[1],
        "rows": rows,
        "target": {
            "submit_rate": TARGET_SUBMIT_RATE,
            "vote_rate": TARGET_SUBMIT_RATE * VOTES_PER_QUESTION,
            "p99_ms": TARGET_P99_MS,
            "met": (
                target is not None
                and not over_limit(target, TARGET_P99_MS)
                and target["events_lost"] == 0
                and not target["errors"]
            ),
        },
        "p99_over_250ms_at": (
            {"submit_rate": passed["submit_rate"], "vote_rate": passed["vote_rate"]}
            if passed
            else f"not reached up to {highest:g} questions/s"
        ),
        "p99_under_250ms_up_to": (
            {"submit_rate": max(under), "vote_rate": max(under) * VOTES_PER_QUESTION}
            if under
            else None
        ),
        "events_lost": totals["missing"] + totals["undelivered"],
        "events_lost_detail": totals,
        "events_lost_by_step": lost_by_step,
        "record_events": len(record),
        "gaps_seen_by_clients": sum(f["gaps_seen"] for f in finals),
        "snapshots_after_start": sum(f["snapshots_after_start"] for f in finals),
        "reconnects": sum(f["clients"]["reconnects"] for f in finals),
        "clients_given_up": sum(f["clients"]["dead"] for f in finals),
        "unanswered_final_pings": sum(r.get("unanswered_pings", 0) for r in reports),
        "problems": data["problems"],
        "generator_lateness_max_ms": data["lateness_max_ms"],
    }


def parse_arguments(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--mode", choices=["embedded", "services", "both"], default="both")
    parser.add_argument("--phones", type=int, default=2000)
    parser.add_argument("--halls", type=int, default=150)
    parser.add_argument(
        "--rates",
        default="1,2,5,10,20,40",
        help="questions per second, one step each, rising (votes: ten per question)",
    )
    parser.add_argument("--no-ramp", action="store_true", help="only the target rate, 20/s")
    parser.add_argument(
        "--full-ramp", action="store_true", help="run every step even after p99 passed 250 ms"
    )
    parser.add_argument("--warmup", type=float, default=10, help="seconds at the lowest rate")
    parser.add_argument("--step", type=float, default=15, help="seconds of each step")
    parser.add_argument("--target-seconds", type=float, default=30, help="seconds at 20/s")
    parser.add_argument("--drain", type=float, default=4, help="seconds without load after each")
    parser.add_argument("--sync", type=float, default=30, help="seconds for the final catch-up")
    parser.add_argument(
        "--recover", type=float, default=10, help="pause before jumping to the target rate"
    )
    parser.add_argument("--generators", type=int, default=4, help="load processes (+1 for mods)")
    parser.add_argument(
        "--quick", action="store_true", help="200 phones, 20 halls, short steps: a smoke test"
    )
    parser.add_argument("--output", type=Path, default=RESULTS)
    parser.add_argument("--keep", action="store_true", help="keep the work folder and logs")
    args = parser.parse_args(argv)
    if args.quick:
        args.phones, args.halls = min(args.phones, 200), min(args.halls, 20)
        args.warmup, args.step, args.target_seconds, args.drain = 5, 8, 8, 3
        args.sync, args.generators = 15, 2
    args.rates = sorted(float(r) for r in args.rates.split(","))
    if args.no_ramp:
        args.rates = [TARGET_SUBMIT_RATE]
    return args


def main() -> None:
    global ARGS
    ARGS = parse_arguments()
    # A plain kill still stops the servers and drops the database (the finally blocks).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("stopped"))
    modes = ["embedded", "services"] if ARGS.mode == "both" else [ARGS.mode]
    output = ARGS.output
    previous = json.loads(output.read_text()) if output.exists() else {}
    results = {"modes": previous.get("modes", {})}
    for name in modes:
        results["modes"][name] = run_mode(name)
        output.parent.mkdir(parents=True, exist_ok=True)
        results.update(
            {
                "benchmark": "realtime",
                "machine": describe(),
                "date": time.strftime("%Y-%m-%d %H:%M %Z"),
                "target": {
                    "submit_rate": TARGET_SUBMIT_RATE,
                    "vote_rate": TARGET_SUBMIT_RATE * VOTES_PER_QUESTION,
                    "p99_ms": TARGET_P99_MS,
                    "report_p99_over_ms": LIMIT_P99_MS,
                },
            }
        )
        output.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    for name in modes:
        mode = results["modes"][name]
        print(f"\n[{name}] p99 over 250 ms at: {mode['p99_over_250ms_at']}")
        print(f"[{name}] events lost: {mode['events_lost']} {mode['events_lost_detail']}")
        for row in mode["rows"]:
            print(f"[{name}] {progress_line(row)}, lost {row['events_lost']}")
    print(f"\nwritten: {output}")


ARGS = parse_arguments([])

if __name__ == "__main__":
    main()
