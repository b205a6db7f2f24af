"""The media benchmark: CPU of the hub per hall, ours against the naive aiortc way, and the
latency the hub adds. `make bench` runs it; the table goes into docs/benchmarks.md.

Each measurement starts a fresh hub process, a studio process sending a 640x360 test card at
25 fps with its send time stamped into the picture, and the halls in other processes: one
decoding hall that reads the stamps (latency) and the rest counting the frames they receive
without decoding them (so the receivers do not take the machine from the hub). The hub's CPU
is its own process's CPU time over the measuring window. The hub's process runs on one core
and every load generator on the other (taskset), so that sending and receiving take nothing
from the hub's core; `measure` also runs several conferences in one hub process, as a media
worker holds them (bench/media/province.py, the province's day).
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.machine import describe

ROOT = Path(__file__).resolve().parents[2]
HALL_COUNTS = [1, 2, 4, 8, 12, 16]
# The naive relay encodes once per hall: on the hub's one core it saturates from about 5 halls,
# and rows beyond that measure the core, not the halls.
NAIVE_MAX_HALLS = 4
HALLS_PER_PROCESS = 10
WARMUP, MEASURE = 7.0, 10.0
SATURATED_FPS, SATURATED_LATENCY_MS = 22, 500


HUB_CPU, LOAD_CPU = "0", "1"  # taskset's core lists: the hub's, the load generators'


def python(*args: str, cpus: str, **kwargs) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(ROOT), DJANGO_SETTINGS_MODULE="meetings.settings")
    env.setdefault("VAR_DIR", tempfile.gettempdir() + "/meetings-bench")
    env.pop("DATABASE_URL", None)
    env.pop("REDIS_URL", None)
    command = ["taskset", "-c", cpus, sys.executable, *args]
    return subprocess.Popen(command, cwd=ROOT, env=env, text=True, **kwargs)


def hub_stats(port: int) -> dict:
    import asyncio

    from bench.media.common import ask

    return asyncio.run(ask(port, {"type": "stats"}))


def measure(mode: str, halls: int, conferences: int = 1) -> dict:
    """One hub process with ``conferences`` conferences, each with its studio and ``halls``
    halls."""
    with tempfile.TemporaryDirectory() as tmp:
        port_file = Path(tmp) / "port"
        hub = python(
            "-m",
            "bench.media.hub_process",
            mode,
            str(port_file),
            "--conferences",
            str(conferences),
            cpus=HUB_CPU,
        )
        try:
            for _ in range(200):
                if port_file.exists() and port_file.read_text():
                    break
                time.sleep(0.05)
            port = int(port_file.read_text())
            total = WARMUP + MEASURE + 3
            studio = python(
                "-m",
                "bench.media.peers_process",
                "studio",
                str(port),
                "--seconds",
                str(total),
                "--conferences",
                str(conferences),
                cpus=LOAD_CPU,
                stdout=subprocess.DEVNULL,
            )
            time.sleep(1.5 * conferences)
            start_at = time.monotonic() + WARMUP
            names = [f"c{c}h{n}" for n in range(1, halls + 1) for c in range(conferences)]
            groups = [names[:1]] + [
                names[i : i + HALLS_PER_PROCESS] for i in range(1, len(names), HALLS_PER_PROCESS)
            ]
            processes = []
            for index, group in enumerate(groups):
                if not group:
                    continue
                args = [
                    "-m",
                    "bench.media.peers_process",
                    "halls",
                    str(port),
                    "--names",
                    ",".join(group),
                ]
                args += ["--start-at", str(start_at), "--seconds", str(MEASURE)]
                if index == 0:
                    args.append("--decode")
                processes.append(python(*args, cpus=LOAD_CPU, stdout=subprocess.PIPE))
            time.sleep(max(0, start_at - time.monotonic()))
            before = hub_stats(port)
            time.sleep(MEASURE)
            after = hub_stats(port)
            results = [
                json.loads(p.communicate(timeout=60)[0].strip().splitlines()[-1]) for p in processes
            ]
            studio.wait(timeout=30)
        finally:
            hub.terminate()
            hub.wait(timeout=10)
    wall = after["wall"] - before["wall"]
    latencies = results[0]["latencies_ms"] if results else []
    per_hall_fps = [r["frames_per_hall_per_second"] for r in results]
    return {
        "mode": mode,
        "conferences": conferences,
        "halls": halls,
        "hub_cpu_percent": round(100 * (after["cpu"] - before["cpu"]) / wall, 1),
        "hub_system_percent": round(100 * (after["system"] - before["system"]) / wall, 1),
        "hub_frames_per_second": round((after["frames"] - before["frames"]) / wall, 1)
        if mode == "ours"
        else None,
        "hall_fps_min": round(min(per_hall_fps), 1) if per_hall_fps else None,
        "latency_p50_ms": _percentile(latencies, 50),
        "latency_p95_ms": _percentile(latencies, 95),
    }


def direct_latency() -> dict:
    process = python(
        "-m",
        "bench.media.peers_process",
        "direct",
        "--seconds",
        "8",
        cpus=LOAD_CPU,
        stdout=subprocess.PIPE,
    )
    latencies = json.loads(process.communicate(timeout=60)[0].strip().splitlines()[-1])[
        "latencies_ms"
    ]
    return {
        "latency_p50_ms": _percentile(latencies, 50),
        "latency_p95_ms": _percentile(latencies, 95),
    }


def _percentile(values: list[int], q: int) -> float | None:
    if len(values) < 5:
        return None
    return round(statistics.quantiles(values, n=100)[q - 1], 1)


def saturated(row: dict) -> bool:
    """The hub no longer keeps up: its halls get under SATURATED_FPS of the 25 frames per
    second, or the picture arrives more than SATURATED_LATENCY_MS late. Its CPU then says how
    much the machine had left, not what the halls cost, so such rows stay out of the fit."""
    if not row["halls"]:
        return False  # nobody receives: nothing to be late for
    late = row["latency_p50_ms"] is None or row["latency_p50_ms"] > SATURATED_LATENCY_MS
    return row["hall_fps_min"] < SATURATED_FPS or late


def line(rows: list[dict], x=lambda row: row["halls"]) -> tuple[float, float]:
    """The hub's CPU (% of one core) as base + per_hall * halls, by least squares over the
    hall counts (or over ``x`` of each row): (per_hall, base)."""
    xs = [x(r) for r in rows]
    ys = [r["hub_cpu_percent"] for r in rows]
    mean_x, mean_y = statistics.fmean(xs), statistics.fmean(ys)
    per_hall = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / sum(
        (x - mean_x) ** 2 for x in xs
    )
    return per_hall, mean_y - per_hall * mean_x


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--halls", default=",".join(map(str, HALL_COUNTS)))
    parser.add_argument("--output", default=str(ROOT / "bench" / "results" / "media.json"))
    args = parser.parse_args()
    counts = [int(n) for n in args.halls.split(",")]
    rows = []
    for halls in counts:
        for mode in ("ours", "naive"):
            if mode == "naive" and halls > NAIVE_MAX_HALLS:
                continue
            row = measure(mode, halls)
            print(json.dumps(row), flush=True)
            rows.append(row)
    result = {
        "date": time.strftime("%Y-%m-%d %H:%M"),
        "machine": describe(),
        "rows": rows,
        "direct": direct_latency(),
    }
    for row in rows:
        row["saturated"] = saturated(row)
    ours = [r for r in rows if r["mode"] == "ours" and not r["saturated"]]
    naive = [r for r in rows if r["mode"] == "naive" and not r["saturated"]]
    if len(ours) > 1 and len(naive) > 1:
        (per_hall_ours, base_ours), (per_hall_naive, _base) = line(ours), line(naive)
        result["per_hall_ours"] = round(per_hall_ours, 2)
        result["base_ours"] = round(base_ours, 1)
        result["per_hall_naive"] = round(per_hall_naive, 2)
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output).write_text(json.dumps(result, indent=2))
    print(json.dumps({k: v for k, v in result.items() if k != "rows"}), flush=True)


if __name__ == "__main__":
    main()
