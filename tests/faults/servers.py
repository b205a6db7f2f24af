"""Real server processes for the fault tests: Redis, a fresh PostgreSQL database, Daphne web
nodes and media workers, each started, stopped and killed like a process in production.

A ``Platform`` is one deployment: its own ``redis-server`` on a free port (so restarting it
disturbs nobody else's Redis), a new PostgreSQL database copied from a migrated template, the
demo conference seeded into it, N Daphne processes and M ``media_worker`` processes sharing
them. Everything it started is stopped and dropped when the test ends, however it ends.
"""

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

REPO = Path(__file__).resolve().parents[2]
START_SECONDS = 45  # generous: two cores, shared with other test runs
LOG_TAIL_LINES = 40
DEMO_SLUG = "demo"


class ServerFailed(RuntimeError):
    """A server process did not start, or exited when it should not have."""


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


def _stop(process: subprocess.Popen | None, *, timeout: float = 10) -> None:
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=timeout)


def _tail(path: Path, lines: int = LOG_TAIL_LINES) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError as error:
        return f"(no log: {error})"
    return "\n".join(text.splitlines()[-lines:])


# --- Redis ------------------------------------------------------------------------------------


class RedisServer:
    """A ``redis-server`` of our own, without persistence: a restart comes back empty, as a
    crashed Redis without AOF does (channel-layer groups and queued doorbells are gone)."""

    def __init__(self, workdir: Path, port: int | None = None):
        self.workdir = workdir
        self.port = port or free_port()
        self.process: subprocess.Popen | None = None
        self.log_path = workdir / "redis.log"
        self.starts = 0

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise ServerFailed("redis-server is not installed (apt-get install redis-server)")
        self.workdir.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [
                    binary,
                    "--port",
                    str(self.port),
                    "--bind",
                    "127.0.0.1",
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                    "--dir",
                    str(self.workdir),
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self.starts += 1
        self._wait_until_answering()

    def _wait_until_answering(self) -> None:
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise ServerFailed(f"redis-server exited:\n{_tail(self.log_path)}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=2) as connection:
                    connection.sendall(b"PING\r\n")
                    if connection.recv(64).startswith(b"+PONG"):
                        return
            except OSError:
                pass
            time.sleep(0.1)
        raise ServerFailed(f"redis-server did not answer within {START_SECONDS}s")

    def kill(self) -> None:
        """SIGKILL: the crash of the machine's Redis, not a polite shutdown."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)

    def restart(self) -> None:
        self.kill()
        self.start()  # the same port: clients reconnect to the address they know

    def stop(self) -> None:
        _stop(self.process)


# --- PostgreSQL -------------------------------------------------------------------------------


class PostgresDatabase:
    """A new database on the server of ``server_url`` (the suite's DATABASE_URL)."""

    def __init__(self, server_url: str, name: str):
        import psycopg

        self.psycopg = psycopg
        self.name = name
        parts = urlsplit(server_url)
        self.maintenance_url = urlunsplit(parts._replace(path="/postgres"))
        self.url = urlunsplit(parts._replace(path="/" + name))

    def _execute(self, statement) -> None:
        with self.psycopg.connect(self.maintenance_url, autocommit=True) as connection:
            connection.execute(statement)

    def create(self, *, template: str | None = None) -> None:
        sql = self.psycopg.sql
        statement = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(self.name))
        if template:
            statement = sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                sql.Identifier(self.name), sql.Identifier(template)
            )
        # A template may still be busy for a moment after the migrating process exited.
        for attempt in range(20):
            try:
                self._execute(statement)
                return
            except self.psycopg.errors.ObjectInUse:
                if attempt == 19:
                    raise
                time.sleep(0.5)

    def drop(self) -> None:
        sql = self.psycopg.sql
        # FORCE ends connections of processes that were killed without closing them.
        self._execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(self.name))
        )

    def connect(self):
        return self.psycopg.connect(self.url, autocommit=True)


def base_environment(**overrides: str) -> dict[str, str]:
    """The environment of a server process: the test process's own service settings removed."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "REDIS_URL", "REDIS_PREFIX", "SQLITE_TEST_NAME"}
    }
    env.update(
        DJANGO_SETTINGS_MODULE="meetings.settings",
        DEBUG="0",
        STATIC_MANIFEST="0",
        HTTPS="0",
        PUBLIC_BASE_URL="",
        PYTHONUNBUFFERED="1",
        # Several processes share the PostgreSQL server with other test runs.
        DATABASE_POOL_SIZE="6",
    )
    env.update(overrides)
    return env


def manage(env: dict[str, str], *args: str, timeout: float = 180) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if result.returncode != 0:
        raise ServerFailed(
            f"manage.py {' '.join(args)} failed ({result.returncode}):\n"
            f"{result.stdout}\n{result.stderr}"
        )
    return result.stdout


# --- web nodes and media workers ------------------------------------------------------------


def _daphne_launcher() -> list[str]:
    sibling = Path(sys.executable).with_name("daphne")
    return [str(sibling)] if sibling.exists() else [sys.executable, "-m", "daphne"]


class _ChildProcess:
    """What a web node and a media worker share: a child process of the test, logging to
    ``log_path``, that a test may kill, check or stop."""

    process: subprocess.Popen | None
    log_path: Path
    env: dict[str, str]

    def _spawn(self, command: list[str]) -> None:
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                command, cwd=REPO, env=self.env, stdout=log, stderr=subprocess.STDOUT
            )

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(sig)
            self.process.wait(timeout=15)

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self) -> None:
        _stop(self.process)

    def log_tail(self, lines: int = LOG_TAIL_LINES) -> str:
        return _tail(self.log_path, lines)


@dataclass
class DaphneNode(_ChildProcess):
    """One web node: ``daphne -b host -p port meetings.asgi:application``."""

    name: str
    host: str
    port: int
    env: dict[str, str] = field(repr=False)
    log_path: Path
    process: subprocess.Popen | None = field(default=None, repr=False)

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://{self.host}:{self.port}"

    def start(self) -> None:
        address = ["-b", self.host, "-p", str(self.port)]
        self._spawn([*_daphne_launcher(), *address, "meetings.asgi:application"])

    def wait_until_healthy(self) -> None:
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise ServerFailed(
                    f"{self.name} exited with {self.process.returncode}:\n{self.log_tail()}"
                )
            try:
                with urllib.request.urlopen(self.base_url + "/healthz", timeout=3) as answer:
                    if answer.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.2)
        raise ServerFailed(f"{self.name} did not answer within {START_SECONDS}s")


@dataclass
class MediaWorker(_ChildProcess):
    """``manage.py media_worker --index n``: the hubs of the meetings assigned to worker n."""

    name: str
    index: int
    env: dict[str, str] = field(repr=False)
    log_path: Path
    process: subprocess.Popen | None = field(default=None, repr=False)

    def start(self) -> None:
        self._spawn([sys.executable, "manage.py", "media_worker", "--index", str(self.index)])


# --- the whole deployment ---------------------------------------------------------------------


@dataclass
class Platform:
    """One deployment of the platform; see the module's docstring."""

    workdir: Path
    redis: RedisServer
    database: PostgresDatabase
    env: dict[str, str] = field(repr=False)
    nodes: list[DaphneNode] = field(default_factory=list)
    workers: list[MediaWorker] = field(default_factory=list)
    seed: dict[str, Any] = field(default_factory=dict)
    slug: str = DEMO_SLUG
    screens: dict[str, str] = field(default_factory=dict)  # operator link -> session token

    # The demo conference, as seed_demo printed it (links built on the first node).
    @property
    def chair_password(self) -> str:
        return self.seed["password"]

    @property
    def halls(self) -> list[dict[str, Any]]:
        return self.seed["halls"]

    @staticmethod
    def link_token(page_url: str) -> str:
        """The token of a kiosk (/k/<token>/) or phone (/v/<token>/) page's URL."""
        return page_url.rstrip("/").rsplit("/", 1)[1]

    def kiosk_session(self, hall: dict[str, Any]) -> str:
        """The token of the screen that holds this hall (claimed on the first node as the
        kiosk page claims it, once): a kiosk's websocket and API calls need it."""
        from tests.faults.clients import claim_kiosk

        link = self.link_token(hall["kiosk"])
        if link not in self.screens:
            self.screens[link] = claim_kiosk(self.nodes[0].base_url, self.slug, link)
        return self.screens[link]

    def manage(self, *args: str) -> str:
        return manage(self.env, *args)

    def query(self, statement: str, params: tuple = ()) -> list[tuple]:
        with self.database.connect() as connection:
            return connection.execute(statement, params).fetchall()

    @property
    def meeting_id(self) -> int:
        return self.query("SELECT id FROM rooms_meeting WHERE slug = %s", (self.slug,))[0][0]

    def log_tails(self) -> str:
        parts = [f"--- {node.name} ---\n{node.log_tail()}" for node in self.nodes]
        parts += [f"--- {worker.name} ---\n{worker.log_tail()}" for worker in self.workers]
        parts.append(f"--- redis ---\n{_tail(self.redis.log_path, 15)}")
        return "\n".join(parts)

    def stop(self) -> None:
        for process in [*self.workers, *self.nodes]:
            try:
                process.stop()
            except Exception as error:  # keep stopping the others
                print(f"could not stop {process.name}: {error}")
        self.redis.stop()


def start_platform(
    *,
    workdir: Path,
    postgres_url: str,
    template: str | None,
    nodes: int = 2,
    media_workers: int = 0,
    host: str = "127.0.0.1",
    env: dict[str, str] | None = None,
    cleanups: list,
) -> Platform:
    """Starts a deployment; every part started is put on ``cleanups`` at once (callables run
    in reverse by the fixture), so a failure half-way leaves nothing behind."""
    workdir.mkdir(parents=True, exist_ok=True)
    redis = RedisServer(workdir / "redis")
    cleanups.append(redis.stop)
    redis.start()
    database = PostgresDatabase(postgres_url, f"meetings_faults_{secrets.token_hex(6)}")
    database.create(template=template)
    cleanups.append(database.drop)
    ports = [free_port(host) for _ in range(nodes)]
    allowed = ",".join(dict.fromkeys([host, "127.0.0.1", "localhost"]))
    server_env = base_environment(
        SECRET_KEY=secrets.token_urlsafe(50),  # shared by the nodes, as in production
        ALLOWED_HOSTS=allowed,
        VAR_DIR=str(workdir / "var"),
        DATABASE_URL=database.url,
        REDIS_URL=redis.url,
        REDIS_PREFIX=f"faults-{secrets.token_hex(4)}",
        MEDIA_WORKER="worker",
        MEDIA_WORKERS=str(max(1, media_workers)),
        # The address the hub offers for ICE: where the browsers reach this machine.
        MEDIA_HOST_ADDRESSES=host,
        **(env or {}),
    )
    platform = Platform(workdir=workdir, redis=redis, database=database, env=server_env)
    cleanups.append(platform.stop)
    if template is None:
        platform.manage("migrate", "--no-input")
    platform.seed = json.loads(
        platform.manage(
            "seed_demo",
            "--json",
            "--password",
            "faults-" + secrets.token_urlsafe(12),
            "--base-url",
            f"http://{host}:{ports[0]}",
        )
    )
    for index, port in enumerate(ports):
        node = DaphneNode(
            name=f"daphne-{index}",
            host=host,
            port=port,
            env=server_env,
            log_path=workdir / f"daphne-{index}.log",
        )
        platform.nodes.append(node)
        node.start()
    for index in range(media_workers):
        worker = MediaWorker(
            name=f"media-worker-{index}",
            index=index,
            env=server_env,
            log_path=workdir / f"media-worker-{index}.log",
        )
        platform.workers.append(worker)
        worker.start()
    for node in platform.nodes:
        node.wait_until_healthy()
    for worker in platform.workers:
        if not worker.alive:
            raise ServerFailed(f"{worker.name} exited:\n{worker.log_tail()}")
    return platform


# --- a hall's own network -------------------------------------------------------------------

NAMESPACE_PREFIX = "faultcut-"


def _ip(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run(["ip", *args], capture_output=True, text=True, timeout=30)
    if check and result.returncode != 0:
        raise ServerFailed(f"ip {' '.join(args)}: {result.stderr.strip()}")
    return result


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class HallNetwork:
    """A network namespace whose only way out is a veth pair to this machine: the hall's LAN
    and its link to the server. The server side of the pair is ``host_address``, the hall's
    side ``hall_address`` (a /30 of 10.0.0.0/8 that no interface here uses).

    ``cut()`` sets the server side of the link down (the hall's side loses its carrier, as when
    the hall's router loses its uplink); ``restore()`` sets it up again. ``wrapper()`` writes
    an executable that runs a program inside the namespace (Chromium, for Playwright).
    Names carry this process's id; ``remove_stale()`` deletes those of dead processes.
    """

    def __init__(self):
        token = secrets.token_hex(3)
        self.namespace = f"{NAMESPACE_PREFIX}{os.getpid()}-{token}"
        self.host_dev = f"fch{token}"  # at most 15 characters
        self.hall_dev = f"fcn{token}"
        self.host_address, self.hall_address = self._free_subnet()
        self.created = False

    @staticmethod
    def _free_subnet() -> tuple[str, str]:
        used = _ip("-4", "-o", "addr", "show").stdout + _ip("-4", "route", "show").stdout
        for _attempt in range(200):
            second, third = secrets.randbelow(64) + 64, secrets.randbelow(256)
            fourth = secrets.randbelow(64) * 4
            prefix = f"10.{second}.{third}."
            if prefix not in used:
                return f"{prefix}{fourth + 1}", f"{prefix}{fourth + 2}"
        raise ServerFailed("no free 10.x.y.0/30 for the hall's network")

    @staticmethod
    def remove_stale() -> None:
        for line in _ip("netns", "list", check=False).stdout.splitlines():
            name = line.split()[0] if line.strip() else ""
            if not name.startswith(NAMESPACE_PREFIX):
                continue
            pid = name[len(NAMESPACE_PREFIX) :].split("-")[0]
            if pid.isdigit() and not _pid_alive(int(pid)):
                # Deleting the namespace deletes its end of the pair, and so the pair.
                _ip("netns", "del", name, check=False)

    def create(self) -> "HallNetwork":
        self.remove_stale()
        self.created = True
        _ip("netns", "add", self.namespace)
        _ip("link", "add", self.host_dev, "type", "veth", "peer", "name", self.hall_dev)
        _ip("link", "set", self.hall_dev, "netns", self.namespace)
        _ip("addr", "add", f"{self.host_address}/30", "dev", self.host_dev)
        _ip("link", "set", self.host_dev, "up")
        inside = ("-n", self.namespace)
        _ip(*inside, "addr", "add", f"{self.hall_address}/30", "dev", self.hall_dev)
        _ip(*inside, "link", "set", self.hall_dev, "up")
        _ip(*inside, "link", "set", "lo", "up")
        return self

    def wrapper(self, path: Path, program: str) -> Path:
        path.write_text(f'#!/bin/sh\nexec ip netns exec {self.namespace} {program} "$@"\n')
        path.chmod(0o755)
        return path

    def cut(self) -> None:
        _ip("link", "set", self.host_dev, "down")

    def restore(self) -> None:
        _ip("link", "set", self.host_dev, "up")

    def delete(self) -> None:
        if not self.created:
            return
        _ip("link", "del", self.host_dev, check=False)
        _ip("netns", "del", self.namespace, check=False)
