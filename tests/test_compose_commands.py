"""compose.yaml's own commands for the processes we ship, run here as the containers run them
(the same argv, the variables compose names), against real processes: the one-shot migration,
the web nodes' health check and the media worker's.

Docker's engine is not on the machines this suite runs on, so compose itself never runs them
here; without this, a slip in the inline health check would leave every web node "unhealthy"
in production, unseen. ``python`` in a command is the container's interpreter: this one.
"""

import os
import secrets
import shlex
import signal
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import yaml

from tests.faults.servers import free_port
from tests.test_serve import _launcher_environment as launcher_environment
from tests.test_serve import wait_until

REPO = Path(__file__).resolve().parents[1]
SERVICES = yaml.safe_load((REPO / "compose.yaml").read_text())["services"]  # anchors resolved
DEADLINE = 60.0  # seconds: an upper bound on a loaded machine; every wait ends on the state
HOST = "tiepxuc.example.vn"  # the site's name, first in ALLOWED_HOSTS as in the README


def as_here(argv: list[str]) -> list[str]:
    return [sys.executable if part == "python" else part for part in argv]


def health_check(service: str) -> list[str]:
    test = SERVICES[service]["healthcheck"]["test"]
    assert test[0] == "CMD", test  # an argv, run without a shell
    return as_here(test[1:])


def run(argv: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(argv, cwd=REPO, env=env, capture_output=True, text=True, timeout=60)


def environment(tmp_path: Path, **overrides: str) -> dict[str, str]:
    return launcher_environment(tmp_path, ALLOWED_HOSTS=f"{HOST},127.0.0.1", **overrides)


@contextmanager
def started(argv: list[str], env: dict[str, str], log: Path) -> Iterator[subprocess.Popen]:
    with log.open("ab") as out:
        process = subprocess.Popen(argv, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        yield process
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=DEADLINE)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def answers(port: int, path: str) -> bool:
    try:
        request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers={"Host": HOST})
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status == 200
    except OSError:
        return False


def test_the_migrate_service_migrates_then_finds_nothing_left(tmp_path):
    command = SERVICES["migrate"]["command"]
    assert command[:2] == ["sh", "-c"], command
    script = command[2].replace("python ", f"{shlex.quote(sys.executable)} ")
    env = environment(tmp_path)

    result = run(["sh", "-c", script], env)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "Applying" in result.stdout, result.stdout
    # Run again on the migrated database: nothing to apply, and the check still passes.
    again = run(["sh", "-c", script], env)
    assert again.returncode == 0 and "No migrations to apply" in again.stdout, again.stdout


def test_the_web_health_check_passes_on_a_sound_node_and_fails_without_redis(tmp_path):
    """compose's web command and health check: healthy while the node reaches its database
    and Redis; with Redis gone, the node still answers (/livez) and the check fails on the
    503 of /healthz."""
    port = free_port()
    env = environment(tmp_path, WEB_PORT=str(port), WEB_PROCESSES="1")
    web = as_here(SERVICES["web"]["command"])
    check = health_check("web")
    log = tmp_path / "web.log"

    def detail() -> str:
        return log.read_text(errors="replace")[-3000:]

    with started(web, env, log):
        wait_until(
            lambda: run(check, env).returncode == 0, "the health check to pass", detail=detail
        )
    # The same node with a Redis that is not there.
    closed = free_port()
    env_without_redis = {**env, "REDIS_URL": f"redis://127.0.0.1:{closed}/0"}
    with started(web, env_without_redis, log):
        wait_until(lambda: answers(port, "/livez"), "the node to answer /livez", detail=detail)
        failed = run(check, env_without_redis)
        assert failed.returncode != 0, failed
        assert "503" in failed.stderr, failed.stderr


@pytest.mark.services
def test_the_media_health_check_passes_while_the_worker_runs(tmp_path):
    """compose's media command and health check, with the suite's Redis: the worker writes its
    hubs from its event loop and the check reads them."""
    env = environment(
        tmp_path,
        REDIS_URL=os.environ["REDIS_URL"],
        REDIS_PREFIX=f"compose-{secrets.token_hex(4)}",
        MEDIA_HOST_ADDRESSES="127.0.0.1",
    )
    check = health_check("media")
    log = tmp_path / "media.log"
    assert run(check, env).returncode != 0  # no worker has written yet

    with started(as_here(SERVICES["media"]["command"]), env, log):
        passed = wait_until(
            lambda: (result := run(check, env)).returncode == 0 and result,
            "the health check to pass",
            detail=lambda: log.read_text(errors="replace")[-3000:],
        )
    assert "media.0: 0 hubs, 0 peers" in passed.stdout, passed.stdout
