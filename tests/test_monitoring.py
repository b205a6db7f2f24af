"""Monitoring (issue 15, item 3): /metrics behind its token, the series moving with real
traffic, JSON log lines with request and conference ids, errors to a Sentry-compatible
server (docs/architecture.md, "Monitoring")."""

import io
import json
import logging
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from django.test import Client
from prometheus_client.parser import text_string_to_metric_families

from meetings.logs import JsonFormatter, RedactSecrets, RequestContext
from meetings.rooms.models import JoinLinkKind
from meetings.rooms.services import halls
from tests.factories import make_conference
from tests.realtime import open_live

REPO = Path(__file__).resolve().parents[1]
TOKEN = "metrics-" + "x" * 32


def scrape(token: str | None = TOKEN, **headers):
    if token is not None:
        headers["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return Client().get("/metrics", **headers)


def samples(text: str) -> dict[tuple, float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def total(found: dict[tuple, float], name: str, **labels) -> float:
    return sum(
        value
        for (sample, sample_labels), value in found.items()
        if sample == name and set(labels.items()) <= set(sample_labels)
    )


# --- the endpoint ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_without_a_token_configured_there_is_no_endpoint(settings):
    settings.METRICS_TOKEN = ""
    assert scrape().status_code == 404
    assert scrape(None).status_code == 404


@pytest.mark.django_db
@pytest.mark.parametrize(
    "header",
    [None, f"Bearer {TOKEN}x", f"Bearer {TOKEN[:-1]}", TOKEN, f"Basic {TOKEN}", "Bearer "],
)
def test_a_missing_or_wrong_token_is_refused(settings, header):
    settings.METRICS_TOKEN = TOKEN
    extra = {} if header is None else {"HTTP_AUTHORIZATION": header}
    response = Client().get("/metrics", **extra)
    assert response.status_code == 401
    assert "meetings_" not in response.content.decode()


@pytest.mark.django_db
def test_the_token_opens_it_and_http_latency_is_by_view_name(settings):
    settings.METRICS_TOKEN = TOKEN
    Client().get("/accounts/login/")
    response = scrape()
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    found = samples(response.content.decode())
    assert total(found, "meetings_http_request_seconds_count", view="login", status="2xx") >= 1
    # Never a raw path (a join link's token would make a series of its own).
    assert not any("/" in dict(labels).get("view", "") for _name, labels in found)


@pytest.mark.django_db(transaction=True)
async def test_sockets_events_frames_and_lag_move_with_real_traffic(settings):
    settings.METRICS_TOKEN = TOKEN
    conference = await database_sync_to_async(make_conference)()
    before = samples((await sync_to_async(scrape)()).content.decode())

    chair, _ = await open_live("hn-test", user=conference.chair)
    phone_link = await database_sync_to_async(conference.token)(
        conference.halls[0], JoinLinkKind.VOTER
    )
    phone, _ = await open_live("hn-test", link=phone_link)
    await database_sync_to_async(halls.hall_set_attendance)(
        hall=conference.halls[0], count=42, actor=conference.actor
    )
    await chair.receive_until(lambda frame: frame.get("type") == "event")
    while_open = samples((await sync_to_async(scrape)()).content.decode())
    await chair.close()
    await phone.close()

    def grew(name: str, **labels) -> float:
        return total(while_open, name, **labels) - total(before, name, **labels)

    assert grew("meetings_sockets", audience="staff") == 1
    assert grew("meetings_sockets", audience="public") == 1
    assert grew("meetings_stream_events_total") >= 1
    assert grew("meetings_stream_frames_total", audience="staff") >= 1
    assert grew("meetings_commit_to_screen_seconds_count", path="direct") >= 1
    text = (await sync_to_async(scrape)()).content.decode()
    for name in (
        "meetings_stream_repairs",
        "meetings_sockets_backed_up",
        "meetings_media_peers",
        "meetings_media_hall_loss_ratio",
        "meetings_db_pool",
    ):
        # Declared even when nothing happened (the repairs, backed-up sockets) or when the
        # tier has none (no media hub, SQLite without a pool): a HELP line at least.
        assert f"# HELP {name}" in text
    assert total(samples(text), "meetings_sockets", audience="staff") == total(
        before, "meetings_sockets", audience="staff"
    ), "a closed socket is no longer counted"


# --- logs -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_json_log_lines_carry_the_request_and_conference_ids():
    lines = io.StringIO()
    handler = logging.StreamHandler(lines)
    handler.addFilter(RedactSecrets())
    handler.addFilter(RequestContext())
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("django.request")
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.WARNING)
    try:
        response = Client().get("/archive/no-such-conference/", HTTP_X_REQUEST_ID="req-12345678")
        other = Client().get("/archive/another-one/")
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)

    assert response.status_code == other.status_code == 404
    first, second = (json.loads(line) for line in lines.getvalue().splitlines())
    assert response["X-Request-ID"] == "req-12345678"
    assert first["request_id"] == "req-12345678"
    assert first["conference"] == "no-such-conference"
    assert first["level"] == "WARNING" and first["logger"] == "django.request"
    assert "Not Found" in first["message"]
    assert second["request_id"] == other["X-Request-ID"] != first["request_id"]
    assert second["conference"] == "another-one"


@pytest.mark.django_db
def test_a_join_link_in_a_json_line_is_masked():
    conference = make_conference()
    token = conference.token(conference.halls[0], JoinLinkKind.VOTER)
    lines = io.StringIO()
    handler = logging.StreamHandler(lines)
    handler.addFilter(RedactSecrets())
    handler.addFilter(RequestContext())
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("meetings.test")
    logger.addHandler(handler)
    try:
        logger.warning("opened /v/%s/", token)
    finally:
        logger.removeHandler(handler)
    line = json.loads(lines.getvalue())
    assert token not in line["message"] and "[redacted]" in line["message"]


# --- errors to Sentry -----------------------------------------------------------------------


class _Collector(BaseHTTPRequestHandler):
    received: list[bytes] = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self.headers.get("Content-Encoding") == "gzip":
            import gzip

            body = gzip.decompress(body)
        self.received.append(body)
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args):
        pass


def test_with_sentry_dsn_an_error_reaches_the_server_masked(tmp_path):
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Collector)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    dsn = f"http://publickey@127.0.0.1:{server.server_address[1]}/1"
    script = (
        "import django, logging, sentry_sdk; django.setup(); "
        "logging.getLogger('meetings.test').error("
        "'the page /v/12.abcdefghijklmnopqrstuvwx:signaturesignaturesig1/ failed'); "
        "sentry_sdk.flush(5)"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "meetings.settings",
        "SECRET_KEY": "sentry-test-" + "k" * 40,  # pragma: allowlist secret
        "SENTRY_DSN": dsn,
        "VAR_DIR": str(tmp_path),
    }
    for name in ("DATABASE_URL", "REDIS_URL"):
        env.pop(name, None)
    try:
        subprocess.run([sys.executable, "-c", script], cwd=REPO, env=env, check=True, timeout=60)
    finally:
        server.shutdown()
    bodies = b"\n".join(_Collector.received).decode()
    assert "failed" in bodies, "no event reached the server"
    assert "abcdefghijklmnopqrstuvwx" not in bodies
    assert "[redacted]" in bodies


def test_without_sentry_dsn_nothing_is_initialised():
    import sentry_sdk

    assert not os.environ.get("SENTRY_DSN")
    assert not sentry_sdk.is_initialized()
