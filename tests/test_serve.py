"""The launcher of production's web processes, ``python -m meetings.serve`` (meetings/serve.py).

The tests marked ``services`` run the real launcher with two Daphne processes and real Redis on
a free port, and watch it from outside: which process holds each accepted connection (psutil),
what happens when a process is killed, and when the launcher is told to stop. The processes use
a private SQLite file (``/healthz`` needs a database, not a migrated one), which keeps this
module off the shared PostgreSQL server; the fault tests cover PostgreSQL.

Every wait polls for a state with a generous deadline: two cores are shared with other runs.
"""

import http.client
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import pytest

from meetings.serve import Launcher, Plan, cgroup_cpu_limit
from tests.faults.servers import base_environment, free_port

REPO = Path(__file__).resolve().parents[1]
DEADLINE = 60.0  # seconds
BATCH = 8  # connections opened at a time to find which processes accept


def _launcher_environment(tmp_path: Path, **overrides: str) -> dict[str, str]:
    env = base_environment(
        VAR_DIR=str(tmp_path / "var"),
        SECRET_KEY=secrets.token_urlsafe(50),
        **overrides,
    )
    for name in ("WEB_PROCESSES", "WEB_HOST", "WEB_PORT", "MEDIA_WORKER"):
        if name not in overrides:
            env.pop(name, None)
    return env


def wait_until(condition: Callable[[], object], what: str, *, detail: Callable[[], str]):
    """Polls ``condition`` until it returns something true, and returns that."""
    deadline = time.monotonic() + DEADLINE
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out after {DEADLINE:g} s waiting for {what}\n{detail()}")


def _ended(process: psutil.Process) -> bool:
    try:
        return process.status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


@dataclass
class RunningLauncher:
    process: subprocess.Popen
    port: int
    log_path: Path
    seen: dict[int, psutil.Process] = field(default_factory=dict)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def detail(self) -> str:
        return "--- launcher log (tail) ---\n" + "\n".join(self.log().splitlines()[-40:])

    def children(self) -> list[psutil.Process]:
        try:
            children = psutil.Process(self.process.pid).children()
        except psutil.NoSuchProcess:
            return []
        self.seen.update((child.pid, child) for child in children)
        return children

    def wait_for_children(self, count: int, *, besides: set[int] = frozenset()) -> set[int]:
        """Until the launcher runs ``count`` processes, none of them in ``besides``."""

        def running() -> set[int] | None:
            assert self.process.poll() is None, f"the launcher exited\n{self.detail()}"
            pids = {child.pid for child in self.children() if not _ended(child)}
            return pids if len(pids) == count and not pids & besides else None

        return wait_until(running, f"{count} web processes", detail=self.detail)

    def connect(self) -> http.client.HTTPConnection:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=DEADLINE)
        connection.connect()
        return connection

    def serving_pids(self, connections: list[http.client.HTTPConnection]) -> list[int]:
        """The process that accepted each connection, once every one has been accepted."""
        clients = [connection.sock.getsockname() for connection in connections]

        def accepted() -> list[int] | None:
            holders = {}
            for child in self.children():
                try:
                    found = child.net_connections(kind="tcp4")
                except psutil.NoSuchProcess:
                    continue
                for connection in found:
                    if connection.raddr and connection.status == psutil.CONN_ESTABLISHED:
                        holders[(connection.raddr.ip, connection.raddr.port)] = child.pid
            pids = [holders.get(client) for client in clients]
            return None if None in pids else pids

        return wait_until(accepted, "the connections to be accepted", detail=self.detail)

    def wait_until_served_by(self, pids: set[int]) -> None:
        """Opens connections until each process in ``pids`` has accepted one and answered
        ``/healthz`` on it. The kernel picks the process: batches are opened until it has."""
        remaining = set(pids)

        def served() -> bool:
            connections = [self.connect() for _ in range(BATCH)]
            try:
                for connection, pid in zip(
                    connections, self.serving_pids(connections), strict=True
                ):
                    assert_healthy(connection)
                    remaining.discard(pid)
            finally:
                for connection in connections:
                    connection.close()
            return not remaining

        wait_until(served, f"requests served by each of {sorted(pids)}", detail=self.detail)


def assert_healthy(connection: http.client.HTTPConnection) -> None:
    connection.request("GET", "/healthz", headers={"Host": "127.0.0.1"})
    answer = connection.getresponse()
    body = answer.read()
    assert answer.status == 200 and b"database: ok" in body, body


def _start(env: dict[str, str], *arguments: str, log_path: Path) -> subprocess.Popen:
    with log_path.open("ab") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "meetings.serve", *arguments],
            cwd=REPO,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )


@pytest.fixture
def launcher(tmp_path) -> Iterator[RunningLauncher]:
    """``python -m meetings.serve --processes 2`` on a free port, with the suite's Redis."""
    port = free_port()
    env = _launcher_environment(
        tmp_path,
        REDIS_URL=os.environ["REDIS_URL"],
        REDIS_PREFIX=f"{os.environ.get('REDIS_PREFIX', 'meetings')}-serve-{secrets.token_hex(4)}",
    )
    arguments = ["--processes", "2", "--bind", "127.0.0.1", "--port", str(port)]
    # Generous, so that a slow machine does not turn a clean stop into a kill.
    arguments += ["--stop-timeout", "30"]
    running = RunningLauncher(
        process=_start(env, *arguments, log_path=tmp_path / "serve.log"),
        port=port,
        log_path=tmp_path / "serve.log",
    )
    try:
        yield running
    finally:
        running.children()
        if running.process.poll() is None:
            running.process.terminate()
            try:
                running.process.wait(timeout=DEADLINE)
            except subprocess.TimeoutExpired:
                running.process.kill()
                running.process.wait()
        # Whatever the test did, no process of this launcher outlives it.
        _gone, alive = psutil.wait_procs(list(running.seen.values()), timeout=DEADLINE)
        for process in alive:
            process.kill()


@pytest.mark.services
def test_connections_are_served_by_two_processes(launcher):
    pids = launcher.wait_for_children(2)

    launcher.wait_until_served_by(pids)

    assert {child.pid for child in launcher.children()} == pids


@pytest.mark.services
def test_a_killed_process_is_started_again_and_the_port_keeps_answering(launcher):
    pids = launcher.wait_for_children(2)
    launcher.wait_until_served_by(pids)
    victim, survivor = sorted(pids)

    psutil.Process(victim).kill()

    # Connections the kernel hands to the dead process's socket wait in its queue for the
    # successor: every request is answered, none refused.
    for _ in range(BATCH):
        connection = launcher.connect()
        try:
            assert_healthy(connection)
        finally:
            connection.close()
    successor = (launcher.wait_for_children(2, besides={victim}) - {survivor}).pop()
    launcher.wait_until_served_by({successor, survivor})
    assert re.search(rf"web process \d \(pid {victim}\) was killed by SIGKILL", launcher.log())


@pytest.mark.services
def test_sigterm_stops_every_process_and_the_launcher(launcher):
    pids = launcher.wait_for_children(2)
    launcher.wait_until_served_by(pids)
    children = [psutil.Process(pid) for pid in pids]
    idle = launcher.connect()  # an open connection does not hold the stop up

    launcher.process.send_signal(signal.SIGTERM)

    assert launcher.process.wait(timeout=DEADLINE) == 0
    wait_until(lambda: all(map(_ended, children)), "no process left", detail=launcher.detail)
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", launcher.port), timeout=DEADLINE).close()
    assert "did not stop in time" not in launcher.log()
    idle.close()


@pytest.mark.services
def test_processes_stop_when_the_launcher_dies(launcher):
    pids = launcher.wait_for_children(2)
    children = [psutil.Process(pid) for pid in pids]

    launcher.process.kill()
    launcher.process.wait(timeout=DEADLINE)

    wait_until(lambda: all(map(_ended, children)), "no process left", detail=launcher.detail)


@pytest.mark.parametrize(
    ("arguments", "environment", "message"),
    [
        (["--processes", "2"], {}, "2 web processes (--processes) need REDIS_URL"),
        ([], {"WEB_PROCESSES": "2"}, "2 web processes (WEB_PROCESSES) need REDIS_URL"),
        ([], {"WEB_PROCESSES": "none"}, "WEB_PROCESSES: not a whole number"),
        (["--processes", "1", "--proxy-headrs"], {}, "Daphne refused the options"),
        (["--processes", "1", "--unix-socket", "x.sock"], {}, "not to Daphne"),
        (["--processes", "1", "--bind", "::1"], {}, "cannot listen on ::1"),
    ],
    ids=["processes-without-redis", "env-without-redis", "bad-env", "daphne-typo", "bind", "ipv6"],
)
def test_the_launcher_refuses_with_a_message(tmp_path, arguments, environment, message):
    env = _launcher_environment(tmp_path, **environment)

    result = subprocess.run(
        [sys.executable, "-m", "meetings.serve", "--port", str(free_port()), *arguments],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=DEADLINE,
    )

    assert result.returncode == 2
    assert message in result.stderr
    assert "started (pid" not in result.stderr


@pytest.mark.parametrize(
    ("cpu_max", "limit"),
    [("max 100000\n", None), ("200000 100000\n", 2.0), ("150000 100000\n", 1.5)],
)
def test_a_containers_cpu_quota_is_read_from_its_cgroup(tmp_path, cpu_max, limit):
    (tmp_path / "proc-cgroup").write_text("0::/\n")
    (tmp_path / "cpu.max").write_text(cpu_max)

    assert cgroup_cpu_limit(proc_cgroup=tmp_path / "proc-cgroup", root=tmp_path) == limit


def test_a_hosts_cgroup_is_found_under_its_path(tmp_path):
    (tmp_path / "proc-cgroup").write_text("12:cpu,cpuacct:/x\n0::/system.slice/web.service\n")
    (tmp_path / "system.slice" / "web.service").mkdir(parents=True)
    (tmp_path / "system.slice" / "web.service" / "cpu.max").write_text("300000 100000\n")

    assert cgroup_cpu_limit(proc_cgroup=tmp_path / "proc-cgroup", root=tmp_path) == 3.0


def test_no_cgroup_quota_without_cgroup_v2(tmp_path):
    (tmp_path / "proc-cgroup").write_text("4:cpu:/\n")

    assert cgroup_cpu_limit(proc_cgroup=tmp_path / "proc-cgroup", root=tmp_path) is None


class _Exited:
    """A process that has ended, as ``subprocess.Popen`` shows it."""

    pid = 4242
    returncode = 1

    def poll(self) -> int:
        return self.returncode


def test_a_process_that_keeps_dying_young_waits_longer_each_time():
    plan = Plan(processes=1, host="127.0.0.1", port=0, daphne_options=(), stop_timeout=1)
    with socket.socket() as listener:
        launcher = Launcher(plan, [listener])
        web = launcher.webs[0]
        delays = []
        # Seconds each process lived: young deaths, one after a steady run, young again.
        for lived in (2, 2, 2, 2, 2, 2, 2, 120, 2):
            web.process, web.started_at = _Exited(), time.monotonic() - lived
            launcher._reap()
            delays.append(round(web.restart_at - time.monotonic()))
            assert web.process is None

    assert delays == [1, 2, 4, 8, 16, 30, 30, 1, 2]


def test_daphne_leaves_its_pings_to_the_sockets_that_went_quiet():
    from meetings.serve import with_quiet_protocol_pings

    assert with_quiet_protocol_pings(("--proxy-headers",), 20) == (
        "--proxy-headers",
        "--ping-interval",
        "30",
    )
    # The operator's own choice stands, in either spelling.
    assert with_quiet_protocol_pings(("--ping-interval", "50"), 20) == ("--ping-interval", "50")
    assert with_quiet_protocol_pings(("--ping-interval=50",), 20) == ("--ping-interval=50",)
