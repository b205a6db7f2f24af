"""The realtime benchmark: the meeting stream at a conference's real size, on the platform and,
in the same run with the same client harness, on a bare asyncio server that does the same job
minus the platform's work (bench/realtime/baseline.py): the distance to the hardware's limit.

The servers run pinned to core 0 (`taskset -c 0`), the load generators and this orchestrator to
core 1. PostgreSQL and Redis are the machine's own services, not pinned; their CPU is measured
on its own. Scenarios (each on the platform and on the baseline):

  fanout       500, 1,000 and 2,150 screens (150 kiosks + the rest phones, kiosks scaled down
               for the smaller counts) and two moderators: the time for every screen to connect
               and get its first state; the idle cost (everyone pinging every 20 s, no events);
               a steady step at 5 questions/s and 100 votes/s (the moderators approve each
               question): server CPU per delivered frame, and at 2,150 screens the latencies;
               then a ramp of the question rate until the server's core saturates or its frames
               fall behind (frames per core-second), and the rate at which p99 passes 100 ms
               (moderators and kiosks) or 500 ms (phones).
  services     the platform on PostgreSQL + Redis with two Daphnes (both on core 0), 2,150
               screens at 5 questions/s and 100 votes/s; beside it the baseline's 2,150 run.
  conferences  three meetings at once, 100 kiosks and 1,600 phones each, each at 5 questions/s
               and 100 votes/s (the platform in services mode): every screen connected, nothing
               lost.
  restart      2,150 screens, events flowing; the server is killed (SIGKILL) and started again:
               how long until every screen is back, with every event it missed.

    python -m bench.realtime.run                        every scenario (about 25 minutes)
    python -m bench.realtime.run --quick                a smoke test: small and short
    python -m bench.realtime.run --scenario fanout      one scenario (repeat to pick several)
    python -m bench.realtime.run --target baseline      only one side
    python -m bench.realtime.run --sizes 500 --rates 5,10 --step 8

Results go to bench/results/realtime.json (a run of some scenarios keeps the others' last
results); `python -m bench.report` turns them into the tables of docs/benchmarks.md.
"""

import argparse
import json
import math
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import numpy as np

from bench.machine import describe
from bench.realtime.clients import LEVELS, MEETING_KEY, VIEWER_LEVEL
from bench.realtime.measure import (
    BEHIND_P99_MS,
    SATURATED_CPU_PERCENT,
    CoreUsage,
    Usage,
    frames_between,
    other_work,
    p99_over,
    percentiles,
    saturation,
)
from bench.realtime.servers import (
    GENERATOR_CORE,
    ROOT,
    SERVER_CORE,
    Baseline,
    Platform,
    RunFailed,
    Server,
    die_with_parent,
    pinned,
)

RESULTS = ROOT / "bench" / "results" / "realtime.json"
SCENARIOS = ("fanout", "services", "conferences", "restart")
FULL_SCREENS, FULL_KIOSKS = 2150, 150
TARGET_SUBMIT_RATE, TARGET_VOTE_RATE = 5, 100  # questions and votes per second (issue 10)
BOUND_STAFF_MS, BOUND_PHONES_MS = 100, 500
TARGETS = {
    "cpu_per_frame_ratio": 2.0,  # platform / baseline, at 500, 1,000 and 2,150 screens
    "idle_ratio": 2.0,
    "approve_to_staff_and_kiosks_p99_ms": BOUND_STAFF_MS,
    "approve_to_phones_p99_ms": BOUND_PHONES_MS,
    "connect_seconds": 10,
    "back_after_restart_seconds": 15,
}
MODERATORS = 2  # per meeting


def kiosks_for(screens: int) -> int:
    return max(1, round(FULL_KIOSKS * screens / FULL_SCREENS))


class Generators:
    """The load-generator processes, pinned to their core, and the files that drive them."""

    def __init__(self, workdir: Path, plan: dict, count: int):
        self.workdir = workdir
        plan_path = workdir / "plan.json"
        plan_path.write_text(json.dumps(plan))
        # The first process carries the moderators; the kiosks and phones are shared out.
        moderators = sum(1 for kind, _spec in plan["clients"] if kind == "moderator")
        shares = [(0, moderators)]
        rest = len(plan["clients"]) - moderators
        size = -(-rest // count)
        shares += [(moderators + i * size, min(size, rest - i * size)) for i in range(count)]
        self.shares = [(first, n) for first, n in shares if n > 0]
        self.processes = []
        for first, n in self.shares:
            log = open(workdir / f"generator-{first}.log", "w")  # noqa: SIM115
            self.processes.append(
                subprocess.Popen(
                    [
                        *pinned(GENERATOR_CORE),
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
                        "--connects-at-once",
                        str(ARGS.connects_at_once),
                        "--loop",
                        ARGS.generator_loop,
                    ],
                    cwd=ROOT,
                    env=dict(os.environ, PYTHONPATH=str(ROOT)),
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    preexec_fn=die_with_parent,
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
                    raise RunFailed(f"a load generator failed; see {self.workdir}/generator-*.log")
            if time.time() > deadline:
                raise RunFailed(f"the load generators did not answer in {timeout:.0f} s")
            if sampler is not None:
                sampler()
            time.sleep(0.05)
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

    def kill(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.kill()
                process.wait()


class Session:
    """One server under test with its meetings and screens connected, from a fresh start to a
    clean end (servers stopped, database and Redis keys dropped, work folder removed)."""

    def __init__(self, label: str, server: Server, meetings: list[tuple[str, int, int]]):
        self.label = label
        self.server = server
        self.layout = meetings  # (slug, kiosks, phones)
        self.generators: Generators | None = None
        self.steps: list[dict] = []
        self.reports: list[dict] = []
        self.seconds: dict[int, list[int]] = {}

    def say(self, text: str) -> None:
        print(f"[{self.label}] {text}", flush=True)

    # --- start ------------------------------------------------------------------------------

    def start(self) -> dict:
        self.say(f"setting up in {self.server.workdir}")
        self.specs = self.server.set_up([(slug, kiosks) for slug, kiosks, _phones in self.layout])
        bases = self.server.start()
        clients = []
        for index, ((slug, _kiosks, phones), meeting) in enumerate(
            zip(self.layout, self.specs, strict=True)
        ):
            common = {"meeting": index, "slug": slug}
            mine = [
                ("moderator", {**m, "index": n, "of": MODERATORS})
                for n, m in enumerate(meeting["moderators"])
            ]
            mine += [("kiosk", {"link": hall["operator"]}) for hall in meeting["halls"]]
            halls = meeting["halls"]
            mine += [("phone", {"link": halls[n % len(halls)]["voter"]}) for n in range(phones)]
            for kind, spec in mine:
                clients.append((kind, {**common, **spec}))
        # Moderators first (they get their own generator process), then the screens.
        clients.sort(key=lambda pair: pair[0] != "moderator")
        for number, (_kind, spec) in enumerate(clients):
            spec["ws"], spec["http"] = bases[number % len(bases)]
        self.clients = clients
        connect_at = time.time() + 4.0  # the generators' start and imports come first
        plan = {
            "clients": clients,
            "session_cookie": self.specs[0]["session_cookie"],
            "phones_per_meeting": [phones for _slug, _kiosks, phones in self.layout],
            "connect_at": connect_at,
        }
        self.generators = Generators(self.server.workdir, plan, ARGS.generators)
        time.sleep(max(0.0, connect_at - time.time()))
        usage = Usage(self.server.pids())
        ready = self.generators.ready()
        connect_cpu = usage.percent
        connected = sum(r["connected"] for r in ready)
        last = max((r["last_state_at"] for r in ready if r["last_state_at"]), default=None)
        screens = sum(k + p for _s, k, p in self.layout)
        result = {
            "screens": screens,
            "kiosks": sum(k for _s, k, _p in self.layout),
            "phones": sum(p for _s, _k, p in self.layout),
            "moderators": MODERATORS * len(self.layout),
            "clients": len(clients),
            "connected": connected,
            "connect_seconds": round(last - connect_at, 2) if last else None,
            "connect_server_cpu_percent": connect_cpu,
            "connect_problems": _add_up(r["problems"] for r in ready),
            # A generator that began after the common moment makes the figure longer.
            "connect_late_start_seconds": round(
                max(0.0, max(r["started"] for r in ready) - connect_at), 2
            ),
        }
        self.say(
            f"{connected} of {len(clients)} clients connected in {result['connect_seconds']} s"
        )
        return result

    # --- measuring --------------------------------------------------------------------------

    def idle(self, seconds: float) -> dict:
        """Every client connected and pinging, no events: the server's CPU."""
        time.sleep(1.0)  # the heartbeat loops start after the connecting
        usage, cores = Usage(self.server.pids()), CoreUsage()
        time.sleep(seconds)
        screens = sum(k + p for _s, k, p in self.layout)
        result = {
            "seconds": seconds,
            "cores_busy_percent": cores.percents,
            "server_cpu_percent": usage.percent,
            "per_1000_screens_cpu_percent": round(usage.percent * 1000 / screens, 2),
            "server_rss_mib": usage.rss_mib,
        }
        self.say(f"idle: {result['server_cpu_percent']}% of a core")
        return result

    def step(self, name: str, submit_rate: float, seconds: float, at=None, vote_rate=None) -> dict:
        """A step of load (rates per meeting). CPU and frames are counted over the step and its
        drain, when the step's last frames arrive. `at`: (seconds into the step, callable)."""
        start = math.ceil(time.time() + 1.5)  # on a whole second: frames are counted by second
        step = {
            "type": "step",
            "name": name,
            "submit_rate": submit_rate,
            "vote_rate": ARGS.vote_rate if vote_rate is None else vote_rate,
            "seconds": seconds,
            "start": start,
            "drain": ARGS.drain,
        }
        meters = {
            "servers": Usage(self.server.pids()),
            "generators": Usage(self.generators.pids()),
        }
        if self.server.extra_pids():
            meters["database_and_redis"] = Usage(self.server.extra_pids())
        meters["cores"] = CoreUsage()
        end = start + seconds + ARGS.drain

        pending = [at] if at is not None else []

        def sample() -> None:
            for meter in meters.values():
                if time.time() < end:
                    meter.sample()
                else:
                    meter.freeze()
            # On this thread: a server started from a thread that then ends would die with it
            # (it is spawned to die with its parent).
            if pending and time.time() >= start + pending[0][0]:
                pending.pop()[1]()
                meters["servers"].add(self.server.pids())

        number = self.generators.send(step)
        time.sleep(max(0.0, start - time.time()))
        for meter in meters.values():
            meter.begin()
        reports = self.generators.collect(number, seconds + ARGS.drain + 300, sample)
        cores = meters.pop("cores")
        step["usage"] = {
            key: {"cpu_percent": m.percent, "cpu_seconds": m.cpu_seconds, "rss_mib": m.rss_mib}
            for key, m in meters.items()
        }
        step["usage"]["cores_busy_percent"] = cores.percents
        self.absorb(reports)
        self.steps.append(step)
        return step

    def absorb(self, reports: list[dict]) -> None:
        self.reports += reports
        for report in reports:
            for second, (frames, events) in report["seconds"].items():
                into = self.seconds.setdefault(int(second), [0, 0])
                into[0] += frames
                into[1] += events

    def row(self, step: dict, extra_receipts: list[str] = ()) -> dict:
        """A step's figures, from every report received so far."""
        data = gather(self.reports, extra_receipts)
        window_end = step["start"] + step["seconds"] + step["drain"]
        frames, events = frames_between(self.seconds, step["start"], window_end)
        servers = step["usage"]["servers"]
        counts = data["counts"].get(step["name"], {})
        row = {
            "step": step["name"],
            "submit_rate": step["submit_rate"],
            "vote_rate": step["vote_rate"],
            "seconds": step["seconds"],
            "submitted_per_second": round(counts.get("submits", 0) / step["seconds"], 1),
            "votes_per_second": round(counts.get("votes", 0) / step["seconds"], 1),
            "approved_per_second": round(counts.get("approves", 0) / step["seconds"], 1),
            "frames": frames,
            "events_delivered": events,
            "frames_per_second": round(frames / (window_end - step["start"])),
            "server_cpu_percent": servers["cpu_percent"],
            "server_cpu_seconds": round(servers["cpu_seconds"], 3),
            "server_rss_mib": servers["rss_mib"],
            "cpu_us_per_frame": round(servers["cpu_seconds"] * 1e6 / frames, 2) if frames else None,
            "cpu_us_per_event_delivered": (
                round(servers["cpu_seconds"] * 1e6 / events, 2) if events else None
            ),
            "frames_per_core_second": (
                round(frames / servers["cpu_seconds"]) if servers["cpu_seconds"] > 0 else None
            ),
            "generators_cpu_percent": step["usage"]["generators"]["cpu_percent"],
            **self.latencies(step, data),
            "errors": {k: v for k, v in sorted(counts.items()) if k.endswith("_errors")},
            "votes_skipped": counts.get("votes_skipped", 0),
        }
        if "database_and_redis" in step["usage"]:
            row["database_and_redis_cpu_percent"] = step["usage"]["database_and_redis"][
                "cpu_percent"
            ]
        # What else ran meanwhile: each core's busy share beside our processes' own.
        row["cores_busy_percent"] = step["usage"]["cores_busy_percent"]
        ours = row["server_cpu_percent"] + row["generators_cpu_percent"]
        ours += row.get("database_and_redis_cpu_percent", 0.0)
        row["other_work_percent"] = other_work(row["cores_busy_percent"], ours)
        row["limited_by"] = saturation(row)
        return row

    def latencies(self, step: dict, data: dict) -> dict:
        end = step["start"] + step["seconds"]
        submit = data["submit"]
        inside = (submit[:, 0] >= step["start"]) & (submit[:, 0] < end)
        keys = [k for k, moment in data["sent"].items() if step["start"] <= moment < end]
        receipts = data["receipts"]
        chosen = np.isin(receipts[:, 0], keys) if len(receipts) else np.zeros(0, dtype=bool)
        ids, moments, kinds = receipts[chosen, 0], receipts[chosen, 1], receipts[chosen, 2]
        known = np.array(sorted(data["sent"]), dtype=np.float64)
        sent_at = np.array([data["sent"][int(k)] for k in known])
        sent = sent_at[np.searchsorted(known, ids)] if len(ids) else np.empty(0)
        delays = moments - sent
        # Every screen of the approval's meeting should show it.
        per_meeting = {}
        for kind, spec in self.clients:
            counts = per_meeting.setdefault(spec["meeting"], {"staff_kiosks": 0, "phones": 0})
            counts["phones" if kind == "phone" else "staff_kiosks"] += 1
        expected = {"staff_kiosks": 0, "phones": 0}
        for key in keys:
            for group, n in per_meeting[key // MEETING_KEY].items():
                expected[group] += n
        phones = kinds == VIEWER_LEVEL["phone"]
        staff = percentiles(
            delays[~phones], missing=max(0, expected["staff_kiosks"] - int((~phones).sum()))
        )
        to_phones = percentiles(
            delays[phones], missing=max(0, expected["phones"] - int(phones.sum()))
        )
        accepted = data["counts"].get(step["name"], {}).get("submits", 0) * MODERATORS
        return {
            "approvals": len(keys),
            "approve_to_staff_and_kiosks_ms": staff,
            "approve_to_phones_ms": to_phones,
            "submit_to_moderators_ms": percentiles(
                submit[inside, 1], missing=max(0, accepted - int(inside.sum()))
            ),
        }

    # --- the end ----------------------------------------------------------------------------

    def finish(self) -> dict:
        """The final catch-up, then every client's losses against the meeting's record."""
        self.absorb(
            self.generators.command({"type": "sync", "seconds": ARGS.sync}, timeout=ARGS.sync + 120)
        )
        starts = np.array([s["start"] for s in self.steps])
        records = {}
        record_events = 0
        for index, meeting in enumerate(self.specs):
            record = self.server.record(meeting)
            record_events += len(record)
            records[str(index)] = str(save_record(record, starts, self.server.workdir, index))
        names = [s["name"] for s in self.steps]
        finals = self.generators.command(
            {"type": "finish", "records": records, "steps": names}, timeout=600
        )
        self.generators.stop()
        self.absorb(finals)
        lost_by_step: dict[str, dict[str, int]] = {}
        for final in finals:
            for step, values in final["lost"].items():
                into = lost_by_step.setdefault(step, {})
                for key, value in values.items():
                    into[key] = into.get(key, 0) + value
        totals = {
            key: sum(v.get(key, 0) for v in lost_by_step.values())
            for key in ("missing", "undelivered", "skipped_by_snapshot")
        }
        self.snapshot_receipts = [f["snapshot_receipts"] for f in finals]
        self.lost_by_step = lost_by_step
        return {
            "record_events": record_events,
            "events_lost": totals["missing"] + totals["undelivered"],
            "events_lost_detail": totals,
            "events_lost_by_step": lost_by_step,
            "connected_at_end": sum(f["clients"]["connected"] for f in finals),
            "clients_given_up": sum(f["clients"]["dead"] for f in finals),
            "reconnects": sum(f["clients"]["reconnects"] for f in finals),
            "gaps_seen_by_clients": sum(f["gaps_seen"] for f in finals),
            "snapshots_after_start": sum(f["snapshots_after_start"] for f in finals),
            "unanswered_final_pings": sum(r.get("unanswered_pings", 0) for r in self.reports),
            "problems": _add_up(r["problems"] for r in self.reports),
            "generator_lateness_max_ms": max(
                (r["lateness_max_ms"] for r in self.reports), default=0.0
            ),
        }

    def rows(self) -> list[dict]:
        """Every step's figures after the finish (late receipts and snapshots included)."""
        rows = []
        for step in self.steps:
            row = self.row(step, self.snapshot_receipts)
            lost = self.lost_by_step.get(step["name"], {})
            row["events_lost"] = lost.get("missing", 0) + lost.get("undelivered", 0)
            row["events_skipped_by_snapshot"] = lost.get("skipped_by_snapshot", 0)
            rows.append(row)
        return rows

    def close(self) -> None:
        if self.generators is not None:
            self.generators.kill()
        self.server.tear_down()
        if ARGS.keep:
            self.say(f"work folder kept: {self.server.workdir}")
        else:
            shutil.rmtree(self.server.workdir, ignore_errors=True)


def _add_up(dicts) -> dict:
    total: dict = {}
    for values in dicts:
        for key, value in values.items():
            total[key] = total.get(key, 0) + value
    return total


def save_record(record: list[dict], starts: np.ndarray, workdir: Path, index: int) -> Path:
    created = np.array([datetime.fromisoformat(e["created"]).timestamp() for e in record])
    approved = [e for e in record if e["type"] == "public.approved" and e.get("payload")]
    path = workdir / f"record-{index}.npz"
    np.savez(
        path,
        seq=np.array([e["seq"] for e in record], dtype=np.int64),
        level=np.array([LEVELS[e["audience"]] for e in record], dtype=np.int64),
        step=(
            np.searchsorted(starts, created, side="right") - 1
            if len(created)
            else np.empty(0, dtype=np.int64)
        ),
        approved_seq=np.array([e["seq"] for e in approved], dtype=np.int64),
        approved_qid=np.array([e["payload"]["question"] for e in approved], dtype=np.int64),
    )
    return path


def gather(reports: list[dict], extra_receipts=()) -> dict:
    """Every report added up: latencies as arrays, approvals' send times, counts by step."""
    submit = [pair for r in reports for pair in r["submit_latencies"]]
    sent: dict[int, float] = {}
    for report in reports:
        for key, moment in report["approve_sent"].items():
            sent.setdefault(int(key), moment)
    files = [r["receipts"] for r in reports] + list(extra_receipts)
    receipts = [np.load(f) for f in files if Path(f).exists()]
    receipts = np.concatenate(receipts) if receipts else np.empty((0, 3))
    counts: dict[str, dict[str, int]] = {}
    for report in reports:
        for step, values in report["counts"].items():
            into = counts.setdefault(step, {})
            for key, value in values.items():
                into[key] = into.get(key, 0) + value
    return {
        "submit": np.array(submit, dtype=np.float64).reshape(-1, 2),
        "sent": sent,
        "receipts": receipts,
        "counts": counts,
    }


def progress_line(row: dict) -> str:
    def two(latency: dict) -> str:
        values = [latency.get(k) for k in ("p50", "p99")]
        return "/".join("-" if v is None else f"{v:.0f}" for v in values)

    return (
        f"{row['step']}: {row['frames_per_second']} frames/s, server CPU "
        f"{row['server_cpu_percent']}% ({row['cpu_us_per_frame']} µs/frame), generators "
        f"{row['generators_cpu_percent']}%; approve->staff+kiosks "
        f"{two(row['approve_to_staff_and_kiosks_ms'])} ms, ->phones "
        f"{two(row['approve_to_phones_ms'])} ms, submit->moderators "
        f"{two(row['submit_to_moderators_ms'])} ms; errors {row['errors'] or 0}"
        + (f"; limited by the {row['limited_by']}" if row["limited_by"] else "")
    )


# --- the scenarios ------------------------------------------------------------------------


def new_server(target: str, label: str) -> Server:
    workdir = Path(tempfile.mkdtemp(prefix=f"meetings-bench-realtime-{label}-"))
    if target == "baseline":
        return Baseline(workdir, ARGS.coalesce_ms, ARGS.baseline_drop_one_in)
    return Platform(workdir, "services" if target == "platform-services" else "embedded")


def screens_layout(screens: int, slug: str = "load") -> tuple[str, int, int]:
    kiosks = kiosks_for(screens)
    return (slug, kiosks, screens - kiosks)


def session_run(label: str, target: str, layout, body) -> dict:
    """Start a session, run `body(session, result)`, finish and close it, whatever happens."""
    began = time.time()
    load_before = os.getloadavg()[0]
    session = Session(label, new_server(target, label), layout)
    try:
        result = {"server": session.server.name, **session.start()}
        body(session, result)
        result["load_average_1min_after_load"] = round(os.getloadavg()[0], 2)
        result.update(session.finish())
        result["rows"] = session.rows()
        for key in ("steady", "restart_step"):
            if key in result:
                result[key] = next(r for r in result["rows"] if r["step"] == result[key])
        result["load_average_1min_before"] = round(load_before, 2)
        result["run_seconds"] = round(time.time() - began)
        session.say(
            f"done in {result['run_seconds']} s; events lost {result['events_lost']} "
            f"{result['events_lost_detail']}"
        )
        return result
    finally:
        session.close()


def ramp(session: Session, result: dict) -> None:
    """The steady step at the target rate, then higher question rates until the server's core
    saturates, its frames fall behind, or the generators' core saturates."""
    steady = session.step(f"{TARGET_SUBMIT_RATE:g}/s", TARGET_SUBMIT_RATE, ARGS.steady)
    row = session.row(steady)
    session.say(progress_line(row))
    result["steady"] = steady["name"]
    if ARGS.no_ramp:
        return
    limited = row["limited_by"]
    for rate in ARGS.rates:
        if limited or rate <= TARGET_SUBMIT_RATE:
            continue
        step = session.step(f"{rate:g}/s", rate, ARGS.step)
        row = session.row(step)
        session.say(progress_line(row))
        limited = row["limited_by"]


def summarise_ramp(result: dict) -> None:
    """Frames per core-second at saturation, and the rate at which p99 passes the bounds."""
    rows = result["rows"]
    stop = next((r for r in rows if r["limited_by"]), None)
    if stop is None:
        result["saturation"] = {
            "limited_by": None,
            "frames_per_core_second": None,
            "note": f"not saturated up to {rows[-1]['submit_rate']:g} questions/s"
            if rows
            else "no step",
        }
    else:
        server_figure = stop["limited_by"].startswith("server")
        result["saturation"] = {
            "limited_by": stop["limited_by"],
            "at_submit_rate": stop["submit_rate"],
            "frames_per_second": stop["frames_per_second"],
            "server_cpu_percent": stop["server_cpu_percent"],
            "generators_cpu_percent": stop["generators_cpu_percent"],
            "frames_per_core_second": stop["frames_per_core_second"] if server_figure else None,
        }
    passed = next(
        (
            r
            for r in rows
            if p99_over(r["approve_to_staff_and_kiosks_ms"], BOUND_STAFF_MS)
            or p99_over(r["approve_to_phones_ms"], BOUND_PHONES_MS)
        ),
        None,
    )
    result["p99_passes_bounds_at"] = (
        {"submit_rate": passed["submit_rate"], "vote_rate": passed["vote_rate"]}
        if passed
        else f"not passed up to {max((r['submit_rate'] for r in rows), default=0):g} questions/s"
    )


def fanout(target: str, screens: int) -> dict:
    def body(session: Session, result: dict) -> None:
        result["idle"] = session.idle(ARGS.idle)
        ramp(session, result)

    result = session_run(f"{target}-{screens}", target, [screens_layout(screens)], body)
    summarise_ramp(result)
    return result


def services(target: str) -> dict:
    def body(session: Session, result: dict) -> None:
        result["idle"] = session.idle(ARGS.idle)
        step = session.step(f"{TARGET_SUBMIT_RATE:g}/s", TARGET_SUBMIT_RATE, ARGS.steady)
        session.say(progress_line(session.row(step)))
        result["steady"] = step["name"]

    return session_run(f"{target}-services", target, [screens_layout(ARGS.screens_full)], body)


def conferences(target: str) -> dict:
    kiosks, phones = ARGS.conference_kiosks, ARGS.conference_phones
    layout = [(f"load-{n}", kiosks, phones) for n in range(1, 4)]

    def body(session: Session, result: dict) -> None:
        step = session.step(f"{TARGET_SUBMIT_RATE:g}/s", TARGET_SUBMIT_RATE, ARGS.steady)
        session.say(progress_line(session.row(step)))
        result["steady"] = step["name"]

    return session_run(f"{target}-conferences", target, layout, body)


def restart(target: str) -> dict:
    def body(session: Session, result: dict) -> None:
        votes = ARGS.restart_rate * TARGET_VOTE_RATE / TARGET_SUBMIT_RATE
        flowing = session.step("flowing", ARGS.restart_rate, ARGS.step, vote_rate=votes)
        session.say(progress_line(session.row(flowing)))
        moments: dict = {}

        def kill_and_start() -> None:
            session.say("SIGKILL, and starting again")
            try:
                moments.update(session.server.restart())
            except RunFailed as error:
                moments["error"] = str(error)

        session.step(
            "restart",
            ARGS.restart_rate,
            ARGS.restart_window,
            at=(3.0, kill_and_start),
            vote_rate=votes,
        )
        if "killed_at" not in moments:
            raise RunFailed(f"the restart failed: {moments.get('error')}")
        reports = session.generators.command(
            {
                "type": "back",
                "after": moments["killed_at"],
                "deadline": moments["killed_at"] + ARGS.back_deadline,
            },
            timeout=ARGS.back_deadline + 120,
        )
        session.absorb(reports)
        back = sorted(t for r in reports for t in r["back_seconds"])
        not_back = sum(r["not_back"] for r in reports)
        result["restart"] = {
            "server_listening_seconds": round(moments["ready_at"] - moments["started_at"], 2),
            "clients_back": len(back),
            "clients_not_back": not_back,
            "all_back_seconds": round(back[-1], 2) if back and not not_back else None,
            "back_p50_seconds": round(back[len(back) // 2], 2) if back else None,
            "last_back_seconds": round(back[-1], 2) if back else None,
            "deadline_seconds": ARGS.back_deadline,
        }
        session.say(f"restart: {result['restart']}")
        result["restart_step"] = "restart"

    layout = [screens_layout(ARGS.screens_full)]
    result = session_run(f"{target}-restart", target, layout, body)
    restart_row = result["restart_step"]
    result["restart"]["events_lost_in_restart_step"] = restart_row["events_lost"]
    result["restart"]["events_lost"] = result["events_lost"]
    return result


# --- the whole run ------------------------------------------------------------------------


def verdicts(results: dict) -> list[dict]:
    """Each target of the issue, met or missed, with the measured figure."""
    found = []

    def add(name: str, met: bool | None, figure: str) -> None:
        found.append({"target": name, "met": met, "figure": figure})

    fan = results.get("fanout", {})
    for screens in map(str, sorted(int(s) for s in fan.get("platform", {}))):
        platform, baseline = fan["platform"][screens], fan.get("baseline", {}).get(screens)
        ours = platform.get("steady", {}).get("cpu_us_per_frame")
        theirs = (baseline or {}).get("steady", {}).get("cpu_us_per_frame")
        ratio = ours / theirs if ours and theirs else None
        add(
            f"server CPU per delivered frame within 2x of the baseline at {screens} screens",
            None if ratio is None else ratio <= TARGETS["cpu_per_frame_ratio"],
            f"{ours} µs vs {theirs} µs" + (f" ({ratio:.1f}x)" if ratio else ""),
        )
        ours, theirs = platform["idle"]["per_1000_screens_cpu_percent"], None
        if baseline:
            theirs = baseline["idle"]["per_1000_screens_cpu_percent"]
        ratio = ours / theirs if theirs else None
        add(
            f"idle cost within 2x of the baseline's at {screens} screens",
            None if ratio is None else ratio <= TARGETS["idle_ratio"],
            f"{ours}% vs {theirs}% of a core per 1,000 screens"
            + (f" ({ratio:.1f}x)" if ratio else ""),
        )
        if int(screens) == results.get("full_screens", FULL_SCREENS):
            seconds = platform["connect_seconds"]
            every = platform["connected"] == platform["clients"]
            add(
                f"{screens} screens connect in under {TARGETS['connect_seconds']} s",
                every and seconds is not None and seconds < TARGETS["connect_seconds"],
                f"{platform['connected']} of {platform['clients']} in {seconds} s",
            )
            steady = platform["steady"]
            staff = steady["approve_to_staff_and_kiosks_ms"].get("p99")
            phones = steady["approve_to_phones_ms"].get("p99")
            add(
                f"at {TARGET_SUBMIT_RATE} q/s + {TARGET_VOTE_RATE} votes/s (embedded): approve → "
                f"moderators and kiosks p99 < {BOUND_STAFF_MS} ms, → phones p99 < "
                f"{BOUND_PHONES_MS} ms, nothing lost",
                staff is not None
                and phones is not None
                and staff < BOUND_STAFF_MS
                and phones < BOUND_PHONES_MS
                and steady["events_lost"] == 0,
                f"{staff} ms, {phones} ms, {steady['events_lost']} lost",
            )
    for name in ("services", "conferences"):
        platform = results.get(name, {}).get("platform")
        if platform:
            every = platform["connected"] == platform["clients"]
            every = every and platform["clients_given_up"] == 0
            add(
                f"{name}: every screen connected, nothing lost",
                every and platform["events_lost"] == 0,
                f"{platform['connected']} of {platform['clients']} connected, "
                f"{platform['events_lost']} lost",
            )
    platform = results.get("restart", {}).get("platform")
    if platform:
        back = platform["restart"]
        met = (
            back["all_back_seconds"] is not None
            and back["all_back_seconds"] < TARGETS["back_after_restart_seconds"]
            and back["events_lost"] == 0
        )
        add(
            f"after a restart every screen is back with every missed event within "
            f"{TARGETS['back_after_restart_seconds']} s",
            met,
            f"{back['clients_back']} back (last at {back['last_back_seconds']} s), "
            f"{back['clients_not_back']} not back, {back['events_lost']} lost",
        )
    return found


def parse_arguments(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scenario", action="append", choices=SCENARIOS, help="default: all")
    parser.add_argument(
        "--target", choices=["both", "platform", "baseline"], default="both", help="which side"
    )
    parser.add_argument("--sizes", default="500,1000,2150", help="screens, for fanout")
    parser.add_argument(
        "--rates", default="10,20,40,80,160", help="questions/s of the ramp after the steady 5/s"
    )
    parser.add_argument("--no-ramp", action="store_true", help="the steady step only")
    parser.add_argument("--vote-rate", type=float, default=TARGET_VOTE_RATE, help="per meeting")
    parser.add_argument("--idle", type=float, default=20, help="seconds of the idle window")
    parser.add_argument("--steady", type=float, default=20, help="seconds at 5 questions/s")
    parser.add_argument("--step", type=float, default=10, help="seconds of each ramp step")
    parser.add_argument("--drain", type=float, default=3, help="seconds without load after each")
    parser.add_argument("--sync", type=float, default=30, help="seconds for the final catch-up")
    parser.add_argument(
        "--screens",
        type=int,
        default=FULL_SCREENS,
        help="screens of the services and restart runs, and of the fan-out size whose steady "
        "step gives the latencies",
    )
    parser.add_argument("--conference-kiosks", type=int, default=100)
    parser.add_argument("--conference-phones", type=int, default=1600)
    parser.add_argument(
        "--restart-rate", type=float, default=1, help="questions/s meanwhile (20 votes each)"
    )
    parser.add_argument("--restart-window", type=float, default=30, help="seconds of that step")
    parser.add_argument("--back-deadline", type=float, default=90, help="seconds to wait")
    parser.add_argument("--generators", type=int, default=2, help="processes (+1 for moderators)")
    parser.add_argument("--connects-at-once", type=int, default=50, help="per generator process")
    parser.add_argument(
        "--generator-loop",
        choices=["uvloop", "asyncio"],
        default="uvloop",
        help="the load generators' event loop (the servers keep their own)",
    )
    parser.add_argument(
        "--coalesce-ms",
        type=float,
        default=0,
        help="the baseline sends phones their events in batch frames, one per interval",
    )
    parser.add_argument(
        "--baseline-drop-one-in",
        type=int,
        default=0,
        help="a test of the harness: the baseline leaves one socket out of one broadcast in N",
    )
    parser.add_argument("--quick", action="store_true", help="a smoke test: small and short")
    parser.add_argument("--note", help="printed above the tables (e.g. how busy the machine was)")
    parser.add_argument("--output", type=Path, default=RESULTS)
    parser.add_argument("--keep", action="store_true", help="keep the work folders and logs")
    args = parser.parse_args(argv)
    args.screens_full = args.screens
    if args.quick:
        args.sizes, args.rates, args.screens_full = "200", "10,20", 200
        args.idle, args.steady, args.step, args.drain, args.sync = 5, 6, 5, 2, 10
        args.conference_kiosks, args.conference_phones = 10, 60
        args.restart_window, args.back_deadline = 15, 60
    args.sizes = sorted(int(s) for s in str(args.sizes).split(","))
    args.rates = sorted(float(r) for r in str(args.rates).split(","))
    args.scenarios = args.scenario or list(SCENARIOS)
    return args


def run_scenario(scenario: str, target: str, into: dict, results: dict, save) -> None:
    if scenario == "fanout":
        sizes = into.setdefault(target, {})
        sizes.pop("error", None)
        for screens in ARGS.sizes:
            sizes[str(screens)] = fanout(target, screens)
            save()
        return
    if scenario == "services" and target == "baseline":
        # The baseline has no services: its figures at this load are those of its 2,150-screen
        # fan-out run (one process), measured now unless this run already did.
        fan = results.get("fanout", {}).get("baseline", {}).get(str(ARGS.screens_full))
        fresh = fan and "fanout" in ARGS.scenarios and "error" not in fan
        into[target] = fan if fresh else fanout(target, ARGS.screens_full)
        return
    runner = {"services": services, "conferences": conferences, "restart": restart}
    in_services = target == "platform" and scenario in ("services", "conferences")
    into[target] = runner[scenario]("platform-services" if in_services else target)


def main() -> None:
    global ARGS
    ARGS = parse_arguments()
    # The orchestrator shares the generators' core: the servers' core is theirs alone.
    if pinned(GENERATOR_CORE):
        os.sched_setaffinity(0, {GENERATOR_CORE})
    # A plain kill still stops the servers and drops the database (the finally blocks).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("stopped"))
    targets = ["platform", "baseline"] if ARGS.target == "both" else [ARGS.target]
    output = ARGS.output
    results = json.loads(output.read_text()) if output.exists() else {}
    if results.get("quick") != ARGS.quick:
        results = {}  # a smoke test and a real run are not mixed in one file
    began = time.time()

    def save() -> None:
        results.update(
            {
                "benchmark": "realtime",
                "machine": describe(),
                "date": time.strftime("%Y-%m-%d %H:%M %Z"),
                "quick": ARGS.quick,
                "note": ARGS.note,
                "pinning": {
                    "servers": f"core {SERVER_CORE} (taskset -c {SERVER_CORE})"
                    if pinned(SERVER_CORE)
                    else "not pinned (fewer than two cores, or no taskset)",
                    "generators": f"core {GENERATOR_CORE} (taskset -c {GENERATOR_CORE}), with "
                    "the orchestrator"
                    if pinned(GENERATOR_CORE)
                    else "not pinned",
                    "postgresql_and_redis": "the machine's services, not pinned (on either "
                    "core); their CPU is measured on its own",
                },
                "load": {
                    "submit_rate": TARGET_SUBMIT_RATE,
                    "vote_rate": ARGS.vote_rate,
                    "ramp_rates": ARGS.rates,
                    "idle_seconds": ARGS.idle,
                    "steady_seconds": ARGS.steady,
                    "step_seconds": ARGS.step,
                    "drain_seconds": ARGS.drain,
                    "coalesce_ms": ARGS.coalesce_ms,
                    "generator_loop": ARGS.generator_loop,
                    "baseline_drop_one_in": ARGS.baseline_drop_one_in,
                    "saturated_cpu_percent": SATURATED_CPU_PERCENT,
                    "behind_p99_ms": BEHIND_P99_MS,
                },
                "full_screens": ARGS.screens_full,
                "targets": TARGETS,
            }
        )
        results["verdicts"] = verdicts(results)
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")

    for scenario in ARGS.scenarios:
        into = results.setdefault(scenario, {})
        for target in targets:
            # One run that fails is reported as such; the others still run.
            try:
                run_scenario(scenario, target, into, results, save)
            except Exception as error:
                print(f"[{scenario} {target}] failed: {error!r}", flush=True)
                if scenario == "fanout":
                    into.setdefault(target, {})["error"] = repr(error)
                else:
                    into[target] = {"error": repr(error)}
            save()
    print(f"\nrealtime benchmark done in {time.time() - began:.0f} s")
    for verdict in results.get("verdicts", []):
        state = {True: "met", False: "MISSED", None: "n/a"}[verdict["met"]]
        print(f"  {state:6} {verdict['target']}: {verdict['figure']}")
    print(f"written: {output}")


ARGS = parse_arguments([])

if __name__ == "__main__":
    main()
