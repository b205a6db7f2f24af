"""A province's voter-contact day: many conferences at once on the media workers (issue 14).

Lao Cai held 14 conferences at once over about 150 halls. A media worker process holds the hubs
of every conference whose id modulo MEDIA_WORKERS is its index, on one loop with one pool of
encoding threads (meetings/rooms/media/manager.py); so this benchmark runs several conferences,
each with its studio (sending the test card and a tone, receiving the programme as the
studio's kiosk does) and its halls, in one hub process pinned to one core, the load generators
on the other (bench/media/run.py's `measure`). It fits the hub process's CPU (% of one core):

- per conference with no hall (the base): over 1, 2 and 3 conferences without halls;
- per hall: over 2 conferences with 0 to 9 halls each;

and projects the day: 14 conferences and 150 halls, in cores of this machine, against the
target of at most 3. aiortc's MediaRelay (one encoder per hall) is measured in the same run,
in the same shape, as the baseline: on a busy machine the ratio to it holds better than the
absolute figures. The day runs on three workers (MEDIA_WORKERS=3: 14 conferences, 4 or 5
each); on this 2-core machine the hub process has one core, shared with whatever else runs,
so the figures are measured on up to 3 conferences and projected.

    python -m bench.media.province                       the measurements above
    python -m bench.media.province --serve-metrics 9101 --conferences 2 --halls 2 \
        --seconds 180 --cpus 1                           no measurement: one hub process with
                                                         its studios and halls for that long,
                                                         its /metrics on that port (recording)

The second form is what bench/metrics/dashboard.py runs beside bench/realtime, so that its
Prometheus has hubs to scrape: hall tiers, loss, round trip, recording bytes, worker CPU.
"""

import argparse
import json
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.machine import describe
from bench.media.run import ROOT, SATURATED_FPS, line, measure, python, saturated

DAY_CONFERENCES, DAY_HALLS = 14, 150
DAY_WORKERS = 3  # media worker processes (MEDIA_WORKERS), one per core of the target
TARGET_CORES = 3.0
BASE_CONFERENCES = [1, 2, 3]
HALL_CONFERENCES = 2
HALLS_EACH = [0, 3, 6, 9]
# The naive relay encodes per hall (about 7% of a core each): fewer halls keep it unsaturated.
NAIVE_HALL_CONFERENCES = 2
NAIVE_HALLS_EACH = [0, 1, 2, 3]


def cases() -> list[tuple[str, int, int]]:
    """(mode, conferences, halls per conference)."""
    found = []
    for mode in ("ours", "naive"):
        found += [(mode, conferences, 0) for conferences in BASE_CONFERENCES]
    found += [("ours", HALL_CONFERENCES, each) for each in HALLS_EACH if each]
    found += [("naive", NAIVE_HALL_CONFERENCES, each) for each in NAIVE_HALLS_EACH if each]
    return found


def overloaded(row: dict) -> bool:
    """The hub process no longer keeps up: its halls are late or short of frames, or (ours)
    it makes under SATURATED_FPS programme frames per second per conference. Such rows say how
    much the core had left, not what a conference costs: they stay out of the fits."""
    fps = row["hub_frames_per_second"]
    return saturated(row) or (fps is not None and fps / row["conferences"] < SATURATED_FPS)


def fit(rows: list[dict], mode: str) -> dict | None:
    mine = [r for r in rows if r["mode"] == mode and not r["saturated"]]
    base_rows = [r for r in mine if r["halls"] == 0]
    conferences = HALL_CONFERENCES if mode == "ours" else NAIVE_HALL_CONFERENCES
    hall_rows = [r for r in mine if r["conferences"] == conferences]
    if len({r["conferences"] for r in base_rows}) < 2:
        return None  # too few rows the hub kept up with
    per_conference, idle = line(base_rows, x=lambda r: r["conferences"])
    result = {
        "per_conference": round(per_conference, 2),
        "process": round(idle, 1),
        "per_hall": None,
        "day_cores": None,
    }
    if len({r["halls"] for r in hall_rows}) >= 2:
        per_hall, _base = line(hall_rows, x=lambda r: r["halls"] * r["conferences"])
        day = DAY_WORKERS * idle + DAY_CONFERENCES * per_conference + DAY_HALLS * per_hall
        result.update(per_hall=round(per_hall, 2), day_cores=round(day / 100, 2))
    return result


def serve_metrics(port: int, conferences: int, halls: int, seconds: float, cpus: str) -> None:
    """One hub process (its /metrics on ``port``, its programmes recorded) with each
    conference's studio and halls, for ``seconds`` or until SIGTERM; nothing is measured."""
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(1))
    with tempfile.TemporaryDirectory(prefix="meetings-bench-hubs-") as tmp:
        port_file = Path(tmp) / "port"
        args = ["--conferences", str(conferences), "--metrics-port", str(port)]
        hub = python(
            "-m",
            "bench.media.hub_process",
            "ours",
            str(port_file),
            *args,
            "--record",
            tmp,
            cpus=cpus,
        )
        processes = [hub]
        try:
            deadline = time.monotonic() + 60
            while not (port_file.exists() and port_file.read_text()):
                if hub.poll() is not None or time.monotonic() > deadline:
                    sys.exit("the hub process did not start")
                time.sleep(0.05)
            signalling = port_file.read_text()
            ends = time.monotonic() + seconds
            peers = ["--seconds", str(seconds + 5)]
            processes.append(
                python(
                    "-m",
                    "bench.media.peers_process",
                    "studio",
                    signalling,
                    *peers,
                    "--conferences",
                    str(conferences),
                    cpus=cpus,
                    stdout=subprocess.DEVNULL,
                )
            )
            time.sleep(1.5 * conferences)  # the studios first: the halls receive their picture
            names = [f"c{c}h{n}" for c in range(conferences) for n in range(1, halls + 1)]
            if names:
                processes.append(
                    python(
                        "-m",
                        "bench.media.peers_process",
                        "halls",
                        signalling,
                        *peers,
                        "--names",
                        ",".join(names),
                        cpus=cpus,
                        stdout=subprocess.DEVNULL,
                    )
                )
            print(f"hubs: {conferences} conferences, {halls} halls each, /metrics on {port}")
            while not stopping and time.monotonic() < ends:
                time.sleep(0.2)
        finally:
            for process in reversed(processes):
                process.terminate()
            for process in processes:
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--output", default=str(ROOT / "bench" / "results" / "media_province.json"))
    parser.add_argument("--serve-metrics", type=int, metavar="PORT", help="see above")
    parser.add_argument("--conferences", type=int, default=2, help="with --serve-metrics")
    parser.add_argument("--halls", type=int, default=2, help="per conference, likewise")
    parser.add_argument("--seconds", type=float, default=180, help="likewise")
    parser.add_argument("--cpus", default="1", help="likewise: taskset's core list")
    args = parser.parse_args()
    if args.serve_metrics:
        serve_metrics(args.serve_metrics, args.conferences, args.halls, args.seconds, args.cpus)
        return
    rows = []
    for mode, conferences, each in cases():
        row = measure(mode, each, conferences)
        row["saturated"] = overloaded(row)
        print(json.dumps(row), flush=True)
        rows.append(row)
    result = {
        "date": time.strftime("%Y-%m-%d %H:%M"),
        "machine": describe(),
        "day": {"conferences": DAY_CONFERENCES, "halls": DAY_HALLS, "workers": DAY_WORKERS},
        "target_cores": TARGET_CORES,
        "rows": rows,
        "ours": fit(rows, "ours"),
        "naive": fit(rows, "naive"),
    }
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output).write_text(json.dumps(result, indent=2))
    print(json.dumps({k: v for k, v in result.items() if k != "rows"}), flush=True)


if __name__ == "__main__":
    main()
