"""What /metrics shows while another benchmark runs: a simple view of the scraped figures.

Not a Grafana dashboard (Grafana is not on the benchmark machine): this scrapes, once a
second, the ``/metrics`` of every Daphne process of the platform it finds running
(``meetings.asgi:application`` on ``-p <port>``), with ``METRICS_TOKEN`` from the environment,
until it is stopped (SIGINT/SIGTERM) or ``--seconds`` pass; then writes the samples to
bench/results/metrics-watch.json and draws the main series as an SVG page
(bench/results/metrics-watch.html), which ``--screenshot`` renders to a PNG with Chromium.

    METRICS_TOKEN=… python -m bench.metrics.watch --seconds 120 --screenshot out.png &
    METRICS_TOKEN=… python -m bench.realtime.run --quick --scenario fanout --target platform
"""

import argparse
import itertools
import json
import os
import signal
import subprocess
import time
import urllib.request
from pathlib import Path

import psutil
from prometheus_client.parser import text_string_to_metric_families

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "bench" / "results"


def daphne_ports() -> list[int]:
    ports = []
    for process in psutil.process_iter(["cmdline"]):
        line = process.info["cmdline"] or []
        if "meetings.asgi:application" in line and "-p" in line:
            ports.append(int(line[line.index("-p") + 1]))
    return sorted(set(ports))


def scrape(port: int, token: str) -> dict[str, float]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/metrics", headers={"Authorization": f"Bearer {token}"}
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        text = response.read().decode()
    figures: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels = sample.labels
            if sample.name == "meetings_sockets":
                key = f"sockets {labels['audience']}"
            elif sample.name == "meetings_stream_events_total":
                key = "events"
            elif sample.name == "meetings_stream_frames_total":
                key = "frames"
            elif sample.name == "meetings_stream_repairs_total":
                key = f"repairs {labels['reason']}"
            elif sample.name == "meetings_sockets_backed_up_total":
                key = "backed up"
            elif sample.name == "meetings_commit_to_screen_seconds_bucket":
                key = f"lag {labels['path']} le {labels['le']}"
            elif sample.name == "meetings_commit_to_screen_seconds_count":
                key = f"lag {labels['path']} count"
            else:
                continue
            figures[key] = figures.get(key, 0.0) + sample.value
    return figures


def quantile(buckets: list[tuple[float, float]], q: float) -> float | None:
    """The upper bound of the bucket holding the q-th of the observations (as Prometheus's
    histogram_quantile, without interpolation)."""
    if not buckets or buckets[-1][1] <= 0:
        return None
    for bound, count in buckets:
        if count >= q * buckets[-1][1]:
            return bound
    return None


def series(samples: list[dict]) -> dict[str, list[tuple[float, float]]]:
    """Per second rates of the counters, gauges as they are, lag quantiles per window."""
    out: dict[str, list[tuple[float, float]]] = {}
    start = samples[0]["t"]
    for previous, current in itertools.pairwise(samples):
        t = current["t"] - start
        seconds = current["t"] - previous["t"]
        fig, old = current["figures"], previous["figures"]
        for key in fig:
            if key.startswith("sockets"):
                out.setdefault(key, []).append((t, fig[key]))
        for key in ("events", "frames"):
            out.setdefault(f"{key} per second", []).append(
                (t, (fig.get(key, 0) - old.get(key, 0)) / seconds)
            )
        for path in ("direct", "phones"):
            buckets = sorted(
                (float(key.rsplit(" ", 1)[1]), fig[key] - old.get(key, 0))
                for key in fig
                if key.startswith(f"lag {path} le ")
            )
            p95 = quantile(buckets, 0.95)
            if p95 is not None and p95 != float("inf"):
                out.setdefault(f"lag {path} p95 (s, bucket bound)", []).append((t, p95))
        repairs = sum(v - old.get(k, 0) for k, v in fig.items() if k.startswith("repairs"))
        out.setdefault("repairs per second", []).append((t, repairs / seconds))
    return out


def svg_chart(title: str, points: list[tuple[float, float]], width=460, height=170) -> str:
    if not points:
        return ""
    t_max = max(t for t, _ in points) or 1
    v_max = max(v for _, v in points) or 1
    left, bottom = 50, height - 25
    path = " ".join(
        f"{'M' if i == 0 else 'L'}{left + t / t_max * (width - left - 10):.1f},"
        f"{bottom - v / v_max * (bottom - 25):.1f}"
        for i, (t, v) in enumerate(points)
    )
    return (
        f'<svg width="{width}" height="{height}" xmlns="http://www.w3.org/2000/svg">'
        f'<rect width="100%" height="100%" fill="#fff" stroke="#ccc"/>'
        f'<text x="8" y="16" font-size="13" font-family="sans-serif">{title}</text>'
        f'<text x="4" y="30" font-size="10" font-family="sans-serif">{v_max:.3g}</text>'
        f'<text x="4" y="{bottom}" font-size="10" font-family="sans-serif">0</text>'
        f'<text x="{width - 60}" y="{height - 8}" font-size="10" '
        f'font-family="sans-serif">{t_max:.0f} s</text>'
        f'<path d="{path}" fill="none" stroke="#b3261e" stroke-width="1.5"/></svg>'
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=600)
    parser.add_argument("--screenshot", type=Path)
    args = parser.parse_args()
    token = os.environ["METRICS_TOKEN"]
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))
    samples = []
    ended = time.monotonic() + args.seconds
    while not stop and time.monotonic() < ended:
        figures: dict[str, float] = {}
        for port in daphne_ports():
            try:
                for key, value in scrape(port, token).items():
                    figures[key] = figures.get(key, 0.0) + value
            except OSError:
                continue
        if figures:
            samples.append({"t": time.time(), "figures": figures})
        time.sleep(1)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "metrics-watch.json").write_text(json.dumps(samples) + "\n")
    charts = series(samples) if len(samples) > 1 else {}
    page = (
        "<!doctype html><meta charset=utf-8><body style='font-family:sans-serif;margin:12px'>"
        "<h3>/metrics of the platform's Daphne processes, scraped every second during "
        "bench/realtime (not Grafana)</h3><div style='display:flex;flex-wrap:wrap;gap:8px'>"
        + "".join(svg_chart(name, points) for name, points in sorted(charts.items()))
        + "</div>"
    )
    html = RESULTS / "metrics-watch.html"
    html.write_text(page)
    print(f"{len(samples)} scrapes; written {html}")
    if args.screenshot:
        subprocess.run(
            [
                os.environ.get("CHROMIUM", "/usr/bin/chromium"),
                "--headless",
                "--no-sandbox",
                f"--screenshot={args.screenshot}",
                "--window-size=1440,900",
                html.as_uri(),
            ],
            check=True,
            capture_output=True,
        )
        print(f"screenshot: {args.screenshot}")


if __name__ == "__main__":
    main()
