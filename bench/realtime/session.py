"""One server under test with its meetings' screens connected: the load-generator processes
that drive them, the steps of load, and the figures of each step (CPU per frame, latencies,
what limited it), then the losses counted against the record. bench/realtime/run.py composes
the scenarios from it."""

import json
import math
import os
import shutil
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import numpy as np

from bench.realtime.clients import LEVELS, MEETING_KEY, VIEWER_LEVEL
from bench.realtime.measure import (
    CoreUsage,
    Usage,
    frames_between,
    other_work,
    percentiles,
    saturation,
)
from bench.realtime.servers import (
    GENERATOR_CORE,
    ROOT,
    RunFailed,
    Server,
    die_with_parent,
    pinned,
)

MODERATORS = 2  # per meeting


class Generators:
    """The load-generator processes, pinned to their core, and the files that drive them."""

    def __init__(self, workdir: Path, plan: dict, options):
        self.workdir = workdir
        count = options.generators
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
                        str(options.connects_at_once),
                        "--loop",
                        options.generator_loop,
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

    def __init__(self, label: str, server: Server, meetings: list[tuple[str, int, int]], options):
        self.label = label
        self.options = options  # run.py's command line
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
        # A device id for each phone of the busiest hall (phones go to the halls in turn).
        devices = max(-(-phones // max(kiosks, 1)) for _slug, kiosks, phones in self.layout)
        self.specs = self.server.set_up(
            [(slug, kiosks) for slug, kiosks, _phones in self.layout],
            devices_per_hall=max(devices, 1),
        )
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
            mine += [
                ("kiosk", {"link": hall["operator"], "session": hall.get("operator_session")})
                for hall in meeting["halls"]
            ]
            halls = meeting["halls"]
            mine += [
                (
                    "phone",
                    {
                        "link": halls[n % len(halls)]["voter"],
                        "device": halls[n % len(halls)]["devices"][n // len(halls)],
                    },
                )
                for n in range(phones)
            ]
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
        self.generators = Generators(self.server.workdir, plan, self.options)
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
            "vote_rate": self.options.vote_rate if vote_rate is None else vote_rate,
            "seconds": seconds,
            "start": start,
            "drain": self.options.drain,
        }
        meters = {
            "servers": Usage(self.server.pids()),
            "generators": Usage(self.generators.pids()),
        }
        if self.server.extra_pids():
            meters["database_and_redis"] = Usage(self.server.extra_pids())
        meters["cores"] = CoreUsage()
        end = start + seconds + self.options.drain

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
        reports = self.generators.collect(number, seconds + self.options.drain + 300, sample)
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
            self.generators.command(
                {"type": "sync", "seconds": self.options.sync}, timeout=self.options.sync + 120
            )
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
        if self.options.keep:
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
