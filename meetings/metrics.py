"""What an operator watches during a conference, in Prometheus's format at ``/metrics``.

The endpoint answers only ``Authorization: Bearer <METRICS_TOKEN>`` (compared in constant
time); without METRICS_TOKEN it does not exist (404). docs/architecture.md, "Monitoring",
lists the series and how they are meant to be read.

Where the figures come from:

- **Sockets, events, frames, commit-to-screen lag, repairs** — each web process's stream
  (meetings/rooms/realtime/feed.py) counts as it works.
- **HTTP latency** — ``RequestMetricsMiddleware``, by the URL pattern's name (never the raw
  path, which holds join-link tokens and would make a series per link).
- **Database pool** — psycopg's pool statistics of the process that answers the scrape.
- **Media hubs** (tier, loss, round trip, recording bytes, per conference and hall) — read at
  scrape time from the hubs of the process that runs them: Daphne's in the embedded tier; in
  production the media worker, which serves its own ``/metrics`` on MEDIA_METRICS_PORT
  (``serve_media_metrics``), scraped separately. The worker's CPU is prometheus-client's
  ``process_cpu_seconds_total`` of that process, which its hubs share; each hub's own part
  (``meetings_media_hub_cpu_seconds_total``) is what it measured itself
  (meetings/rooms/media/cpu.py: its encoding jobs, its steps on the loop, aiortc's decoding
  of its peers' tracks).

Several Daphne processes on one node (``python -m meetings.serve``): set
PROMETHEUS_MULTIPROC_DIR to an empty directory, and prometheus-client's multiprocess mode sums
their counters and histograms and their live gauges; each node is scraped on its own
(``node`` label), as the load balancer sends a scrape to one node at a time otherwise.
"""

import contextlib
import hmac
import os
import re
import socket
import time
import weakref
from datetime import datetime

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import REGISTRY, CounterMetricFamily, GaugeMetricFamily

from meetings.wrapping import AroundResponseMiddleware

NODE = os.environ.get("METRICS_NODE") or socket.gethostname()
MULTIPROCESS = bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))

SOCKETS = Gauge(
    "meetings_sockets",
    "Websockets open, by audience (staff, candidates, halls, public = phones) and node.",
    ["audience", "node"],
    multiprocess_mode="livesum",
)
EVENTS = Counter("meetings_stream_events", "Record entries taken by a process's stream.", ["node"])
FRAMES = Counter(
    "meetings_stream_frames",
    "Frames written to sockets (one per socket), by audience.",
    ["audience", "node"],
)
LAG = Histogram(
    "meetings_commit_to_screen_seconds",
    "From an entry's append to its frame's write, per entry: direct (staff, candidates, "
    "halls, as it commits) or phones (in batches of PHONE_BATCH_MS).",
    ["path", "node"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
REPAIRS = Counter(
    "meetings_stream_repairs",
    "Reads of the record to fill a gap in a process's stream: early (an entry came before "
    "the one it follows) or lost (a doorbell the channel layer dropped, seen at the head "
    "check).",
    ["reason", "node"],
)
REPAIRED = Counter(
    "meetings_stream_repaired_events",
    "Entries a process's stream took from the record instead of its doorbell.",
    ["node"],
)
BACKED_UP = Counter(
    "meetings_sockets_backed_up",
    "Times a socket's outgoing buffer was full: it leaves the fast path and catches up.",
    ["node"],
)
HTTP_LATENCY = Histogram(
    "meetings_http_request_seconds",
    "HTTP requests by URL pattern name, method and status class.",
    ["view", "method", "status", "node"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)


# --- the stream -----------------------------------------------------------------------------


def socket_opened(audience: str) -> None:
    SOCKETS.labels(audience, NODE).inc()


def socket_closed(audience: str) -> None:
    SOCKETS.labels(audience, NODE).dec()


_CREATED = re.compile(r'"created": ?"([^"]+)"')


def event_taken(event_json: str, *, delivered_now: bool) -> None:
    EVENTS.labels(NODE).inc()
    if delivered_now:
        lag_since(event_json, "direct")


def lag_since(event_json: str, path: str) -> None:
    """The lag of an entry (its JSON as the stream carries it) whose frame was just written."""
    created = _CREATED.search(event_json)
    if created is None:
        return
    try:
        appended = datetime.fromisoformat(created.group(1)).timestamp()
    except ValueError:
        return
    LAG.labels(path, NODE).observe(max(0.0, time.time() - appended))


def frames_written(audience: str, count: int) -> None:
    if count:
        FRAMES.labels(audience, NODE).inc(count)


def repaired(reason: str) -> None:
    REPAIRS.labels(reason, NODE).inc()


# --- HTTP -----------------------------------------------------------------------------------


class RequestMetricsMiddleware(AroundResponseMiddleware):
    """Times each request, named by its URL pattern ("unmatched" for a 404 of no pattern)."""

    def before(self, request: HttpRequest) -> float:
        return time.perf_counter()

    def after(self, request: HttpRequest, response, started: float):
        match = getattr(request, "resolver_match", None)
        view = (match.view_name or match._func_path) if match else "unmatched"
        status = f"{response.status_code // 100}xx"
        HTTP_LATENCY.labels(view, request.method, status, NODE).observe(
            time.perf_counter() - started
        )
        return response


# --- read at scrape time --------------------------------------------------------------------

_MANAGERS: "weakref.WeakSet" = weakref.WeakSet()


def watch_media(manager) -> None:
    """A HubManager of this process: its hubs are read at each scrape."""
    _MANAGERS.add(manager)


class ScrapeTimeCollector:
    """Read at each scrape only: ``describe`` keeps prometheus-client from calling ``collect``
    when the collector is registered, at import, before the database is configured (the
    pool's collector would open a pool to it)."""

    def describe(self):
        return []


class MediaCollector(ScrapeTimeCollector):
    def collect(self):
        tier = GaugeMetricFamily(
            "meetings_media_hall_tier",
            "The quality tier each hall's link is on (1 on the current tier's series).",
            labels=["meeting", "hall", "tier"],
        )
        loss = GaugeMetricFamily(
            "meetings_media_hall_loss_ratio",
            "Loss in the hall's last RTCP receiver report (0-1).",
            labels=["meeting", "hall"],
        )
        rtt = GaugeMetricFamily(
            "meetings_media_hall_round_trip_seconds",
            "Round-trip time in the hall's last RTCP receiver report.",
            labels=["meeting", "hall"],
        )
        peers = GaugeMetricFamily(
            "meetings_media_peers", "Peers connected to a hub.", labels=["meeting"]
        )
        recording = GaugeMetricFamily(
            "meetings_media_recording_bytes",
            "Size of the recording part being written.",
            labels=["meeting"],
        )
        cpu = CounterMetricFamily(
            "meetings_media_hub_cpu_seconds",
            "CPU time a conference's media hub caused: its composing and encoding, its steps "
            "on the event loop and the decoding of its peers' tracks (a hub that ended drops "
            "out).",
            labels=["meeting"],
        )
        for manager in list(_MANAGERS):
            for meeting_id, hub in list(manager.hubs.items()):
                meeting = str(meeting_id)
                peers.add_metric([meeting], len(hub.peers))
                cpu.add_metric([meeting], hub.cpu.seconds)
                for peer in list(hub.peers.values()):
                    if peer.hall_id is None:
                        continue
                    hall = str(peer.hall_id)
                    tier.add_metric([meeting, hall, str(peer.tier)], 1)
                    if peer.link.loss is not None:
                        loss.add_metric([meeting, hall], peer.link.loss)
                    if peer.link.rtt is not None:
                        rtt.add_metric([meeting, hall], peer.link.rtt)
            for meeting_id, session in list(manager.sessions.items()):
                writer = session.writer
                if writer is not None:
                    with contextlib.suppress(OSError):  # closed meanwhile
                        recording.add_metric([str(meeting_id)], writer.path.stat().st_size)
        yield from (tier, loss, rtt, peers, recording, cpu)


class DatabasePoolCollector(ScrapeTimeCollector):
    """psycopg's pool statistics of the process answering (PostgreSQL with a pool only)."""

    def collect(self):
        from django.db import connections

        family = GaugeMetricFamily(
            "meetings_db_pool",
            "psycopg pool statistics of the answering process: requests_waiting now, "
            "requests_wait_ms in total, pool_size, pool_available... (none without a pool)",
            labels=["stat", "pid"],
        )
        pool = getattr(connections["default"], "pool", None)
        if pool is not None:
            for name, value in pool.get_stats().items():
                family.add_metric([name, str(os.getpid())], value)
        yield family


_SCRAPE_TIME = [MediaCollector(), DatabasePoolCollector()]
for _collector in _SCRAPE_TIME:
    REGISTRY.register(_collector)


def _registry() -> CollectorRegistry:
    if not MULTIPROCESS:
        return REGISTRY
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    for collector in _SCRAPE_TIME:
        registry.register(collector)
    return registry


def metrics(request: HttpRequest) -> HttpResponse:
    token = settings.METRICS_TOKEN
    if not token:
        raise Http404
    given = request.headers.get("Authorization", "")
    if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
        response = HttpResponse("unauthorized\n", status=401, content_type="text/plain")
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    return HttpResponse(generate_latest(_registry()), content_type=CONTENT_TYPE_LATEST)


def serve_media_metrics(port: int, address: str) -> None:
    """The media worker's own metrics, on a port of its own (no token: bind it to an address
    only Prometheus reaches)."""
    from prometheus_client import start_http_server

    start_http_server(port, addr=address, registry=_registry())
