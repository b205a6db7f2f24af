"""Browser tests: Debian's Chromium, driven by Playwright, against a real Daphne process.

The server runs in a subprocess with its own fresh database: a new PostgreSQL database when
``DATABASE_URL`` is set (dropped afterwards), else an SQLite file in a temporary directory.
With ``REDIS_URL`` set it uses Redis under a prefix of its own. The tests never touch the test
process's Django database; they see the platform only as a browser does.

With ``REDIS_URL`` set the media hubs run in a separate ``manage.py media_worker`` process, as in
production, which the fixture starts beside Daphne; otherwise they run in a thread of Daphne.
The hub offers 127.0.0.1 as its ICE candidate (``MEDIA_HOST_ADDRESSES``) and Chromium may use
loopback, with a fake camera and microphone that need no permission prompt.

Chromium is the system one (``/usr/bin/chromium``, or ``CHROMIUM``); nothing is downloaded.
Without it the tests are skipped, unless ``REQUIRE_BROWSER=1`` (CI), when they fail.
"""

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest

from tests import chromium
from tests.chromium import CHROMIUM

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts"
BROWSER_REQUIRED = os.environ.get("REQUIRE_BROWSER") == "1"
CHROMIUM_ARGS = chromium.LOOPBACK_ARGS
CHAIR_PASSWORD = "browser-" + secrets.token_urlsafe(12)
SERVER_START_SECONDS = 120  # an upper bound for a loaded machine; the wait ends when it answers
LOG_TAIL_LINES = 60
HERE = Path(__file__).resolve().parent
DEMO_SLUG = "demo"


def _chromium_missing() -> str | None:
    if Path(CHROMIUM).exists() or shutil.which(CHROMIUM):
        return None
    return f"Chromium not found at {CHROMIUM} (apt-get install chromium, or set CHROMIUM)"


def pytest_collection_modifyitems(config, items):
    missing = _chromium_missing()
    for item in items:
        if HERE in Path(item.path).resolve().parents:
            item.add_marker(pytest.mark.browser)
            # Skipped here, before any fixture starts a server; when required, the browser
            # fixture fails instead.
            if missing and not BROWSER_REQUIRED:
                item.add_marker(pytest.mark.skip(reason=missing))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the test (for the fixtures' teardown), and put the tail of
    the server's log beside any failure."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    server = item.funcargs.get("daphne_server") if hasattr(item, "funcargs") else None
    if report.failed and isinstance(server, DaphneServer):
        report.sections.append(("daphne log (tail)", server.log_tail()))
    return report


# --- the server -----------------------------------------------------------------------------


@dataclass
class DaphneServer:
    base_url: str
    log_path: Path
    seed: dict[str, Any]
    env: dict[str, str] = field(repr=False)
    # Each hall's own screen: the token of the kiosk session that holds the hall (hall id ->
    # token), kept in every browser context's storage as the hall's PC keeps it (see
    # Browsing.new_page). A test that moves a hall to another screen updates it.
    screens: dict[int, str] = field(default_factory=dict)

    @property
    def username(self) -> str:
        return self.seed["username"]

    @property
    def password(self) -> str:
        return self.seed["password"]

    @property
    def halls(self) -> list[dict[str, Any]]:
        return self.seed["halls"]

    def manage(self, *args: str) -> str:
        """Runs a management command against the server's database; returns its output."""
        return _manage(self.env, *args)

    def log_tail(self, lines: int = LOG_TAIL_LINES) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError as error:
            return f"(no log: {error})"
        return "\n".join(text.splitlines()[-lines:])


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _daphne_command(host: str, port: int) -> list[str]:
    sibling = Path(sys.executable).with_name("daphne")
    launcher = [str(sibling)] if sibling.exists() else [sys.executable, "-m", "daphne"]
    return [*launcher, "-b", host, "-p", str(port), "meetings.asgi:application"]


def _manage(env: dict[str, str], *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if result.returncode != 0:
        pytest.fail(
            f"manage.py {' '.join(args)} failed ({result.returncode}):\n"
            f"{result.stdout}\n{result.stderr}",
            pytrace=False,
        )
    return result.stdout


class _PostgresDatabase:
    """A brand-new database on the server of ``DATABASE_URL``, dropped at the end."""

    def __init__(self, url: str):
        import psycopg

        self.psycopg = psycopg
        self.name = f"meetings_browser_{secrets.token_hex(6)}"
        parts = urlsplit(url)
        self.maintenance_url = urlunsplit(parts._replace(path="/postgres"))
        self.url = urlunsplit(parts._replace(path="/" + self.name))

    def _execute(self, statement) -> None:
        with self.psycopg.connect(self.maintenance_url, autocommit=True) as connection:
            connection.execute(statement)

    def create(self) -> None:
        sql = self.psycopg.sql
        self._execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(self.name)))

    def drop(self) -> None:
        sql = self.psycopg.sql
        # FORCE ends the server's pooled connections, should any outlive the process.
        self._execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(self.name))
        )


def _forget_redis_keys(url: str, prefix: str) -> None:
    import redis

    client = redis.Redis.from_url(url)
    try:
        keys = list(client.scan_iter(match=f"{prefix}:*", count=500))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


def _wait_until_healthy(process: subprocess.Popen, url: str, server: DaphneServer) -> None:
    deadline = time.monotonic() + SERVER_START_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(
                f"Daphne exited with {process.returncode} before answering:\n{server.log_tail()}",
                pytrace=False,
            )
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.2)
    pytest.fail(
        f"Daphne did not answer {url} within {SERVER_START_SECONDS}s:\n{server.log_tail()}",
        pytrace=False,
    )


@pytest.fixture(scope="package")
def daphne_server(chromium_path, tmp_path_factory) -> Iterator[DaphneServer]:
    """A real Daphne process serving the platform, with the demo conference seeded, shared by
    the package's tests.

    (It asks for Chromium first so that a missing browser fails before a server starts.)"""
    with serve_demo(tmp_path_factory) as server:
        yield server


@contextmanager
def serve_demo(
    tmp_path_factory,
    extra_env: dict[str, str] | None = None,
    host: str = "127.0.0.1",
    port: int | None = None,
) -> Iterator[DaphneServer]:
    """Starts Daphne on a new database with the demo that seed_demo builds; a module that needs
    the demo untouched by the package's other tests makes its own ``daphne_server`` with it.

    ``extra_env`` overrides the server's settings; with ``STATIC_MANIFEST=1`` in it the static
    files are collected first, hashed and compressed, as the production image does. ``host``
    and ``port``: where Daphne listens (a free port of loopback by default); the pages are
    served from that address."""
    var_dir = tmp_path_factory.mktemp("daphne")
    port = port or _free_port()
    base_url = f"http://{host}:{port}"
    env = {
        key: value
        for key, value in os.environ.items()
        # The test process's own knobs must not leak into the server.
        if key not in {"DATABASE_URL", "REDIS_URL", "REDIS_PREFIX", "SQLITE_TEST_NAME"}
    }
    env.update(
        DJANGO_SETTINGS_MODULE="meetings.settings",
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(60),
        ALLOWED_HOSTS=f"{host},127.0.0.1,localhost",
        VAR_DIR=str(var_dir),
        PUBLIC_BASE_URL="",
        STATIC_MANIFEST="0",
        HTTPS="0",
        PYTHONUNBUFFERED="1",
        # aioice leaves loopback out of the hub's candidates: offer it, for Chromium.
        MEDIA_HOST_ADDRESSES="127.0.0.1",
    )
    env.update(extra_env or {})
    database = None
    if os.environ.get("DATABASE_URL"):
        database = _PostgresDatabase(os.environ["DATABASE_URL"])
        database.create()
        env["DATABASE_URL"] = database.url
    redis_url = os.environ.get("REDIS_URL")
    redis_prefix = f"browser-{secrets.token_hex(6)}"
    if redis_url:
        env["REDIS_URL"] = redis_url
        env["REDIS_PREFIX"] = redis_prefix

    process = None
    worker = None
    log_path = var_dir / "daphne.log"
    try:
        _manage(env, "migrate", "--no-input")
        if env["STATIC_MANIFEST"] == "1":
            env.setdefault("STATIC_ROOT", str(var_dir / "static"))
            _manage(env, "collectstatic", "--no-input")
        seed = json.loads(
            _manage(
                env,
                "seed_demo",
                "--json",
                "--password",
                CHAIR_PASSWORD,
                "--base-url",
                base_url,
            )
        )
        server = DaphneServer(base_url=base_url, log_path=log_path, seed=seed, env=env)
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                _daphne_command(host, port),
                cwd=REPO,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            if redis_url:
                # With Redis the hubs live in a media worker, reached over the channel layer.
                worker = subprocess.Popen(
                    [sys.executable, "manage.py", "media_worker"],
                    cwd=REPO,
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
        _wait_until_healthy(process, base_url + "/healthz", server)
        _hold_every_hall(server)
        if worker is not None and worker.poll() is not None:
            pytest.fail(
                f"the media worker exited with {worker.returncode}:\n{server.log_tail()}",
                pytrace=False,
            )
        yield server
    finally:
        for child in (worker, process):
            if child is None:
                continue
            child.terminate()
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait(timeout=10)
        if database is not None:
            database.drop()
        if redis_url:
            _forget_redis_keys(redis_url, redis_prefix)


def _hold_every_hall(server: DaphneServer) -> None:
    """Each hall's screen claims its hall as the kiosk page does when it opens: the first to
    claim a free hall holds it. Every kiosk page the tests open then resumes that hold."""
    for hall in server.halls:
        hold_hall(server, hall)


def hold_hall(server: DaphneServer, hall: dict, kiosk_url: str | None = None) -> None:
    """The hall's screen claims the free ``hall`` with its operator link (``kiosk_url``, when a
    test replaced the seeded one: it is then the hall's link from here on), and the kiosk pages
    the tests open afterwards resume that hold."""
    if kiosk_url is not None:
        hall["kiosk"] = kiosk_url
    link = hall["kiosk"].rstrip("/").rsplit("/", 1)[1]
    request = urllib.request.Request(
        f"{server.base_url}/api/meetings/{DEMO_SLUG}/kiosk/session",
        data=b"{}",
        method="POST",
        headers={"X-Join-Link": link, "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        body = json.load(response)
    assert body["session"]["state"] == "holding", body
    server.screens[hall["id"]] = body["token"]


def kiosk_session_key(hall_id: int) -> str:
    """Where the kiosk page keeps its session's token (frontend/js/kiosk.js, storageKey)."""
    return f"meetings.{DEMO_SLUG}.kiosk.{hall_id}.session"


# --- the browser ----------------------------------------------------------------------------


@pytest.fixture(scope="package")
def chromium_path() -> str:
    missing = _chromium_missing()
    if missing is None:
        return CHROMIUM
    if BROWSER_REQUIRED:
        pytest.fail(f"REQUIRE_BROWSER=1 but {missing}", pytrace=False)
    pytest.skip(missing)


# Package scope, not session: Playwright's sync API keeps an event loop running in the main
# thread while it is open, and the async tests that run after the browser tests need it gone.
@pytest.fixture(scope="package")
def browser(chromium_path):
    # Imported here so that collecting the suite does not need Playwright.
    from playwright.sync_api import expect, sync_playwright

    # Every expectation waits for its state up to 20 s, not Playwright's 5: it returns as soon
    # as the state holds, and a CI core shared with a Daphne, Chromium and pytest can take
    # seconds over a page load or a round trip through the record.
    expect.set_options(timeout=EXPECT_TIMEOUT_MS)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium_path, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


EXPECT_TIMEOUT_MS = 20_000


class Browsing:
    """Fresh browser contexts for one test (one per person at the meeting), with every page's
    console errors and uncaught exceptions collected so the test can fail on them."""

    def __init__(self, browser, base_url: str, screens: dict[int, str] | None = None):
        self.browser = browser
        self.base_url = base_url
        self.screens = screens if screens is not None else {}
        self.contexts = []
        self.errors: list[str] = []
        self.warnings: list[str] = []

    def new_page(
        self,
        *,
        locale: str = "en-US",
        viewport: tuple[int, int] = (1440, 900),
        hall_screen: bool = True,
        timezone_id: str = "Asia/Ho_Chi_Minh",
        **context_options: Any,
    ):
        """A page in a new context: its own cookies and storage, like a separate device.

        With ``hall_screen`` (the default) the device is each hall's own screen: its storage
        holds the kiosk sessions with which the halls are held, so a kiosk page opened on it
        resumes its hall's hold. Without, it is a device that never opened a kiosk.

        ``timezone_id``: the zone the device is set to (the conference's by default).
        ``context_options`` go to Playwright's ``new_context`` (``is_mobile``, ``has_touch``,
        ``device_scale_factor``, …)."""
        context = self.browser.new_context(
            base_url=self.base_url,
            locale=locale,
            timezone_id=timezone_id,
            viewport={"width": viewport[0], "height": viewport[1]},
            **context_options,
        )
        if hall_screen and self.screens:
            tokens = {kiosk_session_key(hall): token for hall, token in self.screens.items()}
            context.add_init_script(
                "for (const [key, token] of Object.entries("
                + json.dumps(tokens)
                + ")) { if (localStorage.getItem(key) === null) "
                "localStorage.setItem(key, JSON.stringify(token)); }"
            )
        self.contexts.append(context)
        return self.another_page(context)

    def another_page(self, context):
        """A further page (tab) on the same device, watched like the first."""
        page = context.new_page()
        page.on("console", lambda message: self._console(page, message))
        page.on("pageerror", lambda error: self.errors.append(f"{page.url}: uncaught {error}"))
        return page

    def _console(self, page, message) -> None:
        source = message.location.get("url") or page.url
        text = f"{page.url}: console.{message.type}: {message.text} ({source})"
        if message.type == "error":
            self.errors.append(text)
        elif message.type == "warning":
            self.warnings.append(text)

    def assert_no_errors(self) -> None:
        assert not self.errors, "errors in the browser:\n" + "\n".join(self.errors)

    def close(self) -> None:
        for context in self.contexts:
            context.close()


@pytest.fixture
def browsing(browser, daphne_server, request) -> Iterator[Browsing]:
    """Fails the test when a page logged an error that the test itself did not notice."""
    session = Browsing(browser, daphne_server.base_url, daphne_server.screens)
    yield session
    session.close()
    call = getattr(request.node, "report_call", None)
    if session.warnings:
        print("browser warnings:\n" + "\n".join(session.warnings))
    if call is not None and call.passed and session.errors:
        pytest.fail("errors in the browser:\n" + "\n".join(session.errors), pytrace=False)


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """Screenshots and PDFs for a person to look at (gitignored)."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
