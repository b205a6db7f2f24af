"""The provisioned Grafana dashboard, as an operator would see it during bench/realtime.

Grafana cannot be installed on the benchmark machine (no container engine, not in Debian), so
this runs the rest for real and draws the panels itself:

1. Debian's Prometheus (``/usr/bin/prometheus``, or ``PROMETHEUS``) in a temporary folder, with
   a configuration derived from deploy/prometheus/prometheus.yml: the same jobs, metrics
   paths and bearer-token file; only the targets (a file Prometheus watches, rewritten as the
   Daphne nodes come and go), the scrape interval and the storage path are replaced.
2. ``bench.realtime.run`` (default: the services scenario, two Daphne nodes on PostgreSQL and
   Redis, ``--screens`` screens, the idle window and a steady step of ``--load`` seconds at 5
   questions/s and 100 votes/s), with METRICS_TOKEN in its environment, which its Daphnes
   inherit; the job "web" scrapes each Daphne it starts. Beside it, ``bench.media.province
   --serve-metrics`` (pinned with taskset to the other core than the Daphnes): one hub process
   with its conferences' studios and halls (aiortc peers), its programmes recorded; the job
   "media" scrapes its /metrics.
3. After the run, every target of every panel of deploy/grafana/dashboards/meetings.json: its
   ``expr`` through Prometheus's /api/v1/query_range over the run's window (step ``--step``),
   named by its ``legendFormat`` (Grafana's default name without one), in the panel's unit.
   The panels are drawn in their gridPos layout (24 columns) as one HTML page of SVG line
   charts, which Debian's Chromium (Playwright) screenshots to docs/images/dashboard.png.
   A panel whose queries returned no series says "no data". The raw answers go to
   bench/results/dashboard.json, the page to bench/results/dashboard.html.

    python -m bench.metrics.dashboard                    about 4 minutes, 2-3 of load
    python -m bench.metrics.dashboard --screens 500 --load 60 --halls 1
    python -m bench.metrics.dashboard --render-only      draw again from dashboard.json

Nothing of this is needed by the tests or `make bench`.
"""

import argparse
import contextlib
import html
import json
import math
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

import psutil
import yaml

from bench.realtime.servers import GENERATOR_CORE, SERVER_CORE, die_with_parent, free_port, pinned

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "bench" / "results"
DASHBOARD = ROOT / "deploy" / "grafana" / "dashboards" / "meetings.json"
PROMETHEUS_CONFIG = ROOT / "deploy" / "prometheus" / "prometheus.yml"
PNG = ROOT / "docs" / "images" / "dashboard.png"
PROMETHEUS = os.environ.get("PROMETHEUS", "/usr/bin/prometheus")


# --- finding the platform's Daphne nodes --------------------------------------------------------


def daphne_ports(ancestor: int | None = None) -> dict[int, int]:
    """port -> pid of the platform's Daphne processes (``meetings.asgi:application`` on
    ``-p <port>``); only the descendants of ``ancestor`` when given (others' Daphnes may run
    on this machine)."""
    if ancestor is None:
        candidates = list(psutil.process_iter())
    else:
        try:
            candidates = psutil.Process(ancestor).children(recursive=True)
        except psutil.NoSuchProcess:
            return {}
    ports = {}
    for process in candidates:
        try:
            line = process.cmdline()
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
        if "meetings.asgi:application" in line and "-p" in line:
            ports[int(line[line.index("-p") + 1])] = process.pid
    return ports


def token_of(pid: int) -> str | None:
    """The METRICS_TOKEN a process was started with (to check it reached the Daphnes)."""
    try:
        return psutil.Process(pid).environ().get("METRICS_TOKEN")
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return None


# --- Prometheus -------------------------------------------------------------------------------


def derived_config(folder: Path, token_file: Path, interval: str) -> dict:
    """deploy/prometheus/prometheus.yml with its targets, scrape interval and token file's
    path replaced: each job's targets come from ``<folder>/targets-<job>.json``."""
    config = yaml.safe_load(PROMETHEUS_CONFIG.read_text())
    config["global"]["scrape_interval"] = interval
    config["global"]["evaluation_interval"] = interval
    for job in config["scrape_configs"]:
        job.pop("static_configs", None)
        job["file_sd_configs"] = [{"files": [str(folder / f"targets-{job['job_name']}.json")]}]
        authorization = job.get("authorization")
        if authorization and "credentials_file" in authorization:
            authorization["credentials_file"] = str(token_file)
    return config


def write_targets(folder: Path, job: str, targets: list[str]) -> None:
    """Atomically, so Prometheus never reads half a file."""
    path = folder / f"targets-{job}.json"
    scratch = path.with_suffix(".tmp")
    scratch.write_text(json.dumps([{"targets": targets}]))
    scratch.replace(path)


class Prometheus:
    def __init__(self, folder: Path, config: dict):
        if not Path(PROMETHEUS).exists():
            sys.exit(
                f"Prometheus is not at {PROMETHEUS}: `apt-get install prometheus` (Debian's), "
                "or set PROMETHEUS to its binary"
            )
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        (folder / "prometheus.yml").write_text(yaml.safe_dump(config, sort_keys=False))
        self.process = subprocess.Popen(
            [
                *pinned(GENERATOR_CORE),
                PROMETHEUS,
                f"--config.file={folder / 'prometheus.yml'}",
                f"--storage.tsdb.path={folder / 'data'}",
                f"--web.listen-address=127.0.0.1:{self.port}",
                "--log.level=warn",
            ],
            stdout=open(folder / "prometheus.log", "w"),  # noqa: SIM115
            stderr=subprocess.STDOUT,
            preexec_fn=die_with_parent,
        )
        deadline = time.time() + 60
        while True:
            if self.process.poll() is not None:
                sys.exit(f"Prometheus exited: see {folder / 'prometheus.log'}")
            with contextlib.suppress(OSError):
                urllib.request.urlopen(self.base + "/-/ready", timeout=1).close()
                return
            if time.time() > deadline:
                sys.exit("Prometheus was not ready in 60 s")
            time.sleep(0.2)

    def api(self, path: str, **params) -> dict:
        url = f"{self.base}/api/v1/{path}?{urllib.parse.urlencode(params)}"
        with urllib.request.urlopen(url, timeout=60) as response:
            return json.loads(response.read())

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()


# --- the run -----------------------------------------------------------------------------------


def python_module(module: str, *args: str, core: int | None, env: dict, log: Path):
    return subprocess.Popen(
        [*(pinned(core) if core is not None else []), sys.executable, "-m", module, *args],
        cwd=ROOT,
        env=env,
        stdout=open(log, "w"),
        stderr=subprocess.STDOUT,
        preexec_fn=die_with_parent,
    )


def run(args, folder: Path) -> dict:
    token = os.environ.get("METRICS_TOKEN") or secrets.token_hex(24)
    token_file = folder / "metrics_token"
    token_file.write_text(token)
    token_file.chmod(0o600)
    media_port = free_port()
    write_targets(folder, "web", [])
    write_targets(folder, "media", [f"127.0.0.1:{media_port}"])
    config = derived_config(folder, token_file, f"{args.scrape_interval}s")
    prometheus = Prometheus(folder, config)
    print(f"Prometheus {prometheus.base} (config {folder / 'prometheus.yml'})", flush=True)
    env = dict(os.environ, PYTHONPATH=str(ROOT), METRICS_TOKEN=token)
    env.setdefault("BENCH_REDIS_URL", "redis://127.0.0.1:6379/6")
    env.setdefault("BENCH_DATABASE_PREFIX", "meetings_dash")
    realtime_args = [
        "--scenario",
        args.scenario,
        "--target",
        "platform",
        "--screens",
        str(args.screens),
        "--sizes",
        str(args.screens),
        "--no-ramp",
        "--idle",
        str(args.idle),
        "--steady",
        str(args.load),
        "--sync",
        "20",
        "--output",
        str(folder / "realtime.json"),
    ]
    began = time.time()

    def start_media():
        return python_module(
            "bench.media.province",
            "--serve-metrics",
            str(media_port),
            "--conferences",
            str(args.conferences),
            "--halls",
            str(args.halls),
            "--seconds",
            "3600",  # until stopped with the realtime run
            "--cpus",
            str(GENERATOR_CORE if pinned(GENERATOR_CORE) else 0),
            core=None,
            env=env,
            log=folder / "media.log",
        )

    realtime = python_module(
        "bench.realtime.run", *realtime_args, core=None, env=env, log=folder / "realtime.log"
    )
    print(
        f"bench.realtime.run {' '.join(realtime_args)}  (log: {folder / 'realtime.log'})\n"
        f"bench.media.province --serve-metrics {media_port}  (log: {folder / 'media.log'})",
        flush=True,
    )
    nodes: dict[int, dict] = {}
    health: dict[str, dict] = {}
    last_look = 0.0
    media = None
    try:
        while realtime.poll() is None:
            ports = daphne_ports(realtime.pid)
            if ports and media is None:
                # Once the platform is up: its database's setup takes both cores for a while,
                # which the media peers' connections would have to survive otherwise.
                media = start_media()
            if set(ports) != {p for p, n in nodes.items() if n["running"]}:
                for port, node in nodes.items():
                    node["running"] = port in ports
                for port, pid in ports.items():
                    if port not in nodes:
                        nodes[port] = {
                            "pid": pid,
                            "core": SERVER_CORE,
                            "token_reached": token_of(pid) == token,
                            "first_seen": time.time(),
                        }
                        print(
                            f"Daphne node on {port} (pid {pid}), METRICS_TOKEN "
                            f"{'reached it' if nodes[port]['token_reached'] else 'MISSING'}",
                            flush=True,
                        )
                    nodes[port]["running"] = True
                write_targets(folder, "web", [f"127.0.0.1:{port}" for port in sorted(ports)])
            if nodes and time.time() - last_look > 10:  # each target's health, as it ran
                last_look = time.time()
                for target in prometheus.api("targets")["data"]["activeTargets"]:
                    health[target["labels"]["instance"]] = {
                        "job": target["labels"].get("job"),
                        "instance": target["labels"]["instance"],
                        "health": target["health"],
                        "last_error": target["lastError"],
                    }
            if time.time() - began > args.timeout:
                print("the realtime run takes too long: stopped", flush=True)
                realtime.send_signal(signal.SIGTERM)
                realtime.wait(timeout=60)
                break
            time.sleep(0.5)
        ended = time.time()
    finally:
        processes = [realtime] + ([media] if media else [])
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
    # From a little before the first Daphne answered (the database and meetings are set up
    # before): the window the dashboard has something to show for.
    first = min((node["first_seen"] for node in nodes.values()), default=began)
    window = {"start": max(began, first - 10), "end": ended, "step": args.step}
    answers = query_panels(prometheus, window)
    prometheus.stop()
    realtime_result = {}
    with contextlib.suppress(OSError, ValueError):
        realtime_result = json.loads((folder / "realtime.json").read_text())
    return {
        "date": datetime.fromtimestamp(began, UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "prometheus": prometheus_version(),
        "prometheus_config": config,
        "scrape_interval_seconds": args.scrape_interval,
        "window": window,
        "realtime_command": ["python", "-m", "bench.realtime.run", *realtime_args],
        "realtime_verdicts": realtime_result.get("verdicts"),
        "media": {"conferences": args.conferences, "halls_each": args.halls, "port": media_port},
        "nodes": {str(port): node for port, node in nodes.items()},
        "targets_last_seen": list(health.values()),
        "panels": answers,
    }


def prometheus_version() -> str:
    with contextlib.suppress(OSError, subprocess.CalledProcessError):
        output = subprocess.run(
            [PROMETHEUS, "--version"], capture_output=True, text=True, check=True
        )
        return (output.stdout or output.stderr).splitlines()[0]
    return "unknown"


def query_panels(prometheus: Prometheus, window: dict) -> list[dict]:
    """Every target of every panel, over the window, as Prometheus answers it."""
    panels = json.loads(DASHBOARD.read_text())["panels"]
    answers = []
    for panel in panels:
        targets = []
        for target in panel.get("targets", []):
            expr = target.get("expr", "")
            try:
                answer = prometheus.api(
                    "query_range",
                    query=expr,
                    start=window["start"],
                    end=window["end"],
                    step=window["step"],
                )
                result, error = answer["data"]["result"], None
            except (OSError, KeyError, ValueError) as failure:
                result, error = [], str(failure)
            targets.append(
                {
                    "refId": target.get("refId"),
                    "expr": expr,
                    "legendFormat": target.get("legendFormat"),
                    "result": result,
                    "error": error,
                }
            )
        answers.append(
            {
                "title": panel.get("title", ""),
                "type": panel.get("type"),
                "gridPos": panel.get("gridPos", {}),
                "unit": panel.get("fieldConfig", {}).get("defaults", {}).get("unit", "short"),
                "targets": targets,
            }
        )
    return answers


# --- drawing -----------------------------------------------------------------------------------

PAGE_WIDTH = 1560
MARGIN = 8
ROW_HEIGHT = 36  # one gridPos unit of height (Grafana's is 30 px + 8 px gap)
COLOURS = [
    "#56a64b", "#e0b400", "#3274d9", "#fa6400", "#e02f44", "#a352cc",
    "#37872d", "#c4162a", "#1f60c4", "#8f3bb8", "#fa6400", "#6e9fff",
]  # fmt: skip
FONT = "font-family='DejaVu Sans, Arial, sans-serif'"


def series_name(metric: dict, legend: str | None, expr: str) -> str:
    """Grafana's name for a Prometheus series: the legendFormat with {{label}} filled in, or
    the metric's name and labels, or the expression itself for a series with neither."""
    if legend:
        return re.sub(r"\{\{\s*([a-zA-Z_]\w*)\s*\}\}", lambda m: metric.get(m.group(1), ""), legend)
    return labelled(metric) or expr


def labelled(metric: dict) -> str:
    labels = ", ".join(f'{k}="{v}"' for k, v in sorted(metric.items()) if k != "__name__")
    name = metric.get("__name__", "")
    return f"{name}{{{labels}}}" if name or labels else ""


def shared_labels(series: list[dict]) -> dict:
    """The labels (and name) every series of a panel carries with the same value. Grafana's
    legend repeats them on every line, where a panel this narrow would cut off the labels that
    tell the lines apart: the legend here writes them once, above the chart."""
    if len(series) < 2:
        return {}
    first = series[0]
    return {k: v for k, v in first.items() if all(s.get(k) == v for s in series[1:])}


def scaled(value: float, sizes: tuple, small: str) -> str:
    """``value`` in the largest of ``sizes`` ((size, suffix), largest first) it reaches."""
    for size, suffix in sizes:
        if abs(value) >= size:
            return f"{value / size:.3g}{suffix}"
    return small


def format_value(value: float, unit: str) -> str:
    """A value in the panel's unit, as Grafana writes the common ones."""

    def short(v: float) -> str:
        return scaled(v, ((1e9, " Bil"), (1e6, " Mil"), (1e3, "K")), f"{v:.3g}")

    if unit == "percentunit":
        return f"{short(value * 100) if value else '0'}%"
    if unit == "percent":
        return f"{short(value)}%"
    if unit == "s":
        if value == 0:
            return "0 s"
        if abs(value) < 1e-3:
            return f"{short(value * 1e6)} µs"
        if abs(value) < 1:
            return f"{short(value * 1e3)} ms"
        return f"{short(value)} s"
    if unit == "bytes":
        sizes = ((1 << 30, " GiB"), (1 << 20, " MiB"), (1 << 10, " KiB"))
        return scaled(value, sizes, f"{value:.0f} B")
    if unit == "ops":
        return f"{short(value)} ops/s"
    if unit == "reqps":
        return f"{short(value)} req/s"
    return short(value)


def nice_ticks(low: float, high: float, count: int = 4) -> list[float]:
    if high <= low:
        high = low + 1
    raw = (high - low) / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    first = math.floor(low / step) * step
    ticks, value = [], first
    while value <= high + step * 1e-9:
        ticks.append(round(value, 12))
        value += step
    if ticks[-1] < high:
        ticks.append(ticks[-1] + step)
    return ticks


def time_ticks(start: float, end: float) -> list[float]:
    span = end - start
    step = next((s for s in (10, 15, 30, 60, 120, 300, 600, 1800) if span / s <= 7), 3600)
    first = math.ceil(start / step) * step
    return [first + i * step for i in range(int((end - first) // step) + 1)]


def text(x, y, content, size=11, anchor="start", fill="#464c54", weight="normal") -> str:
    return (
        f"<text x='{x:.1f}' y='{y:.1f}' font-size='{size}' text-anchor='{anchor}' "
        f"fill='{fill}' font-weight='{weight}' {FONT}>{html.escape(str(content))}</text>"
    )


def legend_layout(names: list[str], width: float, max_rows: int) -> list[list[int]]:
    """Series indices per legend row, each entry as wide as its text (Grafana's list legend,
    at the bottom); entries that do not fit in ``max_rows`` rows are left for "+ n more"."""
    rows: list[list[int]] = [[]]
    used = 0.0
    for index, name in enumerate(names):
        entry = min(width, 22 + 6.1 * len(name))
        if rows[-1] and used + entry > width:
            if len(rows) == max_rows:
                break
            rows.append([])
            used = 0.0
        rows[-1].append(index)
        used += entry + 10
    return rows


def draw_panel(panel: dict, width: float, height: float, window: dict) -> str:
    unit = panel["unit"]
    lines = []  # (name, [(t, v) or None for a gap])
    errors = []
    unnamed = [
        series["metric"]
        for target in panel["targets"]
        if not target["legendFormat"]
        for series in target["result"]
    ]
    shared = shared_labels(unnamed)
    for target in panel["targets"]:
        if target.get("error"):
            errors.append(target["error"])
        for series in target["result"]:
            points = []
            for t, v in series["values"]:
                value = float(v)
                points.append((float(t), value) if math.isfinite(value) else None)
            if any(points):
                metric = {k: v for k, v in series["metric"].items() if k not in shared}
                name = series_name(metric, target["legendFormat"], target["expr"])
                lines.append((name, points))
    parts = [
        f"<svg xmlns='http://www.w3.org/2000/svg' width='{width:.0f}' height='{height:.0f}'>",
        f"<rect x='0.5' y='0.5' width='{width - 1:.0f}' height='{height - 1:.0f}' rx='3' "
        "fill='#ffffff' stroke='#d8d9da'/>",
        text(10, 19, panel["title"], size=13, fill="#24292e", weight="bold"),
    ]
    top = 30
    if shared and lines:
        every = f"every series: {labelled(shared)}"
        room = int((width - 20) / 5.6)
        for row in range(2):
            if not every:
                break
            cut = len(every) if len(every) <= room else every.rfind(", ", 0, room) + 2 or room
            parts.append(text(10, 35 + 12 * row, every[:cut], size=9.5, fill="#8e9196"))
            every = every[cut:]
            top += 12
    if not lines:
        note = "no data" if not errors else f"no data ({errors[0][:60]})"
        parts.append(text(width / 2, height / 2 + 6, note, size=16, anchor="middle", fill="#999"))
        parts.append("</svg>")
        return "".join(parts)
    names = [name for name, _ in lines]
    max_rows = max(1, int((height - 130) / 15))
    legend_rows = legend_layout(names, width - 20, max_rows)
    shown = sum(len(row) for row in legend_rows)
    legend_height = 15 * len(legend_rows) + (14 if shown < len(names) else 0) + 6
    values = [p[1] for _, points in lines for p in points if p]
    low, high = min(0.0, min(values)), max(values)
    high = high if high > low else low + (abs(low) or 1)
    # Bytes in steps of KiB, MiB... (as the axis labels are written).
    scale = 1024 ** math.floor(math.log(high, 1024)) if unit == "bytes" and high >= 1024 else 1
    ticks = [tick * scale for tick in nice_ticks(low / scale, high / scale)]
    span = ticks[-1] - ticks[0]
    labels = [format_value(tick, unit) for tick in ticks]
    left = 14 + 6.2 * max(len(label) for label in labels)
    right = width - 14
    bottom = height - legend_height - 22
    start, end = window["start"], window["end"]

    def x_of(t: float) -> float:
        return left + (t - start) / (end - start) * (right - left)

    def y_of(v: float) -> float:
        return bottom - (v - ticks[0]) / span * (bottom - top)

    for tick, label in zip(ticks, labels, strict=True):
        y = y_of(tick)
        parts.append(
            f"<line x1='{left:.1f}' x2='{right:.1f}' y1='{y:.1f}' y2='{y:.1f}' stroke='#eceded'/>"
        )
        parts.append(text(left - 5, y + 4, label, size=10.5, anchor="end"))
    for t in time_ticks(start, end):
        x = x_of(t)
        parts.append(
            f"<line x1='{x:.1f}' x2='{x:.1f}' y1='{top}' y2='{bottom:.1f}' stroke='#f2f2f2'/>"
        )
        clock = datetime.fromtimestamp(t, UTC).strftime("%H:%M:%S")
        parts.append(text(x, bottom + 14, clock, size=10.5, anchor="middle"))
    parts.append(
        f"<line x1='{left:.1f}' x2='{right:.1f}' y1='{bottom:.1f}' y2='{bottom:.1f}' "
        "stroke='#c7c8ca'/>"
    )
    for index, (_name, points) in enumerate(lines):
        colour = COLOURS[index % len(COLOURS)]
        path, pen_down = [], False
        for point in points:
            if point is None:
                pen_down = False
                continue
            path.append(f"{'L' if pen_down else 'M'}{x_of(point[0]):.1f},{y_of(point[1]):.1f}")
            pen_down = True
        parts.append(
            f"<path d='{' '.join(path)}' fill='none' stroke='{colour}' stroke-width='1.6' "
            "stroke-linejoin='round'/>"
        )
    y = bottom + 34
    for row in legend_rows:
        x = 10.0
        for index in row:
            colour = COLOURS[index % len(COLOURS)]
            room = int((width - 10 - x - 22) / 6.1)
            name = names[index] if len(names[index]) <= room else names[index][: room - 1] + "…"
            parts.append(
                f"<rect x='{x:.1f}' y='{y - 8:.1f}' width='14' height='4' rx='1' fill='{colour}'/>"
            )
            parts.append(text(x + 18, y - 2, name, size=10.5, fill="#464c54"))
            x += min(width - 20, 22 + 6.1 * len(name)) + 10
        y += 15
    if shown < len(names):
        parts.append(text(10, y - 2, f"+ {len(names) - shown} more series", size=10.5))
    parts.append("</svg>")
    return "".join(parts)


def page(result: dict) -> str:
    column = (PAGE_WIDTH - 2 * MARGIN) / 24
    window = result["window"]
    boxes, bottom = [], 0
    for panel in result["panels"]:
        grid = panel["gridPos"]
        x, y = MARGIN + grid.get("x", 0) * column, 70 + grid.get("y", 0) * ROW_HEIGHT
        width = grid.get("w", 12) * column - MARGIN
        height = grid.get("h", 8) * ROW_HEIGHT - MARGIN
        bottom = max(bottom, y + height)
        boxes.append(
            f"<div style='position:absolute;left:{x:.0f}px;top:{y:.0f}px'>"
            f"{draw_panel(panel, width, height, window)}</div>"
        )
    title = json.loads(DASHBOARD.read_text()).get("title", "dashboard")
    start = datetime.fromtimestamp(window["start"], UTC).strftime("%Y-%m-%d %H:%M:%S")
    end = datetime.fromtimestamp(window["end"], UTC).strftime("%H:%M:%S UTC")
    version = result["prometheus"].split("(")[0].replace("prometheus, version", "Prometheus")
    subtitle = (
        f"{start} – {end} · {version.strip()}, query_range step {window['step']:g} s · "
        "the queries and layout of deploy/grafana/dashboards/meetings.json, drawn by "
        "bench/metrics/dashboard.py (not Grafana) · load: bench.realtime.run + "
        "bench.media.province --serve-metrics"
    )
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>"
        + html.escape(title)
        + "</title></head><body style='margin:0;background:#f4f5f5'>"
        f"<div style='position:relative;width:{PAGE_WIDTH}px;height:{bottom + MARGIN:.0f}px'>"
        + f"<div style='position:absolute;left:{MARGIN}px;top:10px' {FONT}>"
        + f"<div style='font:600 20px DejaVu Sans,sans-serif;color:#24292e'>{html.escape(title)}"
        + "</div><div style='font:12px DejaVu Sans,sans-serif;color:#6e7175;margin-top:6px'>"
        + html.escape(subtitle)
        + "</div></div>"
        + "".join(boxes)
        + "</div></body></html>"
    )


def screenshot(page_path: Path, png: Path) -> None:
    from playwright.sync_api import sync_playwright

    sys.path.insert(0, str(ROOT))
    from tests.chromium import ARGS, CHROMIUM

    png.parent.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            tab = browser.new_page(viewport={"width": PAGE_WIDTH, "height": 900})
            tab.goto(page_path.as_uri())
            tab.screenshot(path=str(png), full_page=True)
        finally:
            browser.close()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scenario", default="services", help="of bench.realtime.run")
    parser.add_argument("--screens", type=int, default=1000)
    parser.add_argument("--idle", type=float, default=20, help="seconds without events")
    parser.add_argument("--load", type=float, default=120, help="seconds at 5 questions/s")
    parser.add_argument("--conferences", type=int, default=2, help="media hubs")
    parser.add_argument("--halls", type=int, default=2, help="per media conference")
    parser.add_argument("--scrape-interval", type=int, default=2, help="seconds")
    parser.add_argument("--step", type=float, default=2, help="seconds, of query_range")
    parser.add_argument("--timeout", type=float, default=900, help="seconds for the run")
    parser.add_argument("--render-only", action="store_true", help="from dashboard.json")
    parser.add_argument("--png", type=Path, default=PNG)
    parser.add_argument("--keep", action="store_true", help="keep Prometheus's folder")
    args = parser.parse_args()
    RESULTS.mkdir(parents=True, exist_ok=True)
    raw = RESULTS / "dashboard.json"
    if args.render_only:
        result = json.loads(raw.read_text())
    else:
        folder = Path(tempfile.mkdtemp(prefix="meetings-bench-dashboard-"))
        try:
            result = run(args, folder)
        except BaseException:
            print(f"kept {folder} (Prometheus's data, the runs' logs)")
            raise
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)
        raw.write_text(json.dumps(result, indent=1) + "\n")
        print(f"written {raw}")
    page_path = RESULTS / "dashboard.html"
    page_path.write_text(page(result))
    screenshot(page_path, args.png)
    for panel in result["panels"]:
        count = sum(len(target["result"]) for target in panel["targets"])
        print(f"  {count:3} series  {panel['title']}")
    print(f"written {page_path} and {args.png}")


if __name__ == "__main__":
    main()
