"""The platform for the benchmark: one Daphne on the embedded default (SQLite in a temporary
VAR_DIR, in-memory channel layer, the media hub in a thread of Daphne), listening on loopback
for the studio and on the weak link's server address for the hall. The hub offers only that
address as its ICE candidate (MEDIA_HOST_ADDRESSES), so the hall's media crosses the link."""

import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
START_SECONDS = 30


@dataclass
class Platform:
    process: subprocess.Popen
    port: int
    link_address: str
    meeting: dict
    log_path: Path

    def kiosk_url(self, who: str, *, via_link: bool) -> str:
        host = self.link_address if via_link else "127.0.0.1"
        return f"http://{host}:{self.port}/k/{self.meeting[who]['token']}/"

    @property
    def link_origin(self) -> str:
        return f"http://{self.link_address}:{self.port}"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _env(workdir: Path, link_address: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "REDIS_URL", "REDIS_PREFIX", "MEDIA_WORKER"}
    }
    env.update(
        PYTHONPATH=str(ROOT),
        DJANGO_SETTINGS_MODULE="meetings.settings",
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(60),
        ALLOWED_HOSTS=f"127.0.0.1,localhost,{link_address}",
        VAR_DIR=str(workdir),
        PUBLIC_BASE_URL="",
        STATIC_MANIFEST="0",
        HTTPS="0",
        PYTHONUNBUFFERED="1",
        LOG_LEVEL="WARNING",
        MEDIA_HOST_ADDRESSES=link_address,
    )
    return env


def _manage(env: dict[str, str], *args: str, stdin: str | None = None) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=180,
    )
    if result.returncode != 0:
        raise SystemExit(f"manage.py {args[0]} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


def start_platform(
    workdir: Path, link_address: str, *, overrides: dict[str, float] | None = None
) -> Platform:
    """``overrides`` ({"low_video_kbps", "low_audio_kbps", "retransmit_interval_s"}): a
    proposed product change tried in memory, see daphne_overrides.py."""
    env = _env(workdir, link_address)
    _manage(env, "migrate", "--no-input")
    output = _manage(env, "shell", stdin=(Path(__file__).parent / "setup_meeting.py").read_text())
    meeting = json.loads(
        next(line for line in output.splitlines() if line.startswith("WEAKLINK "))[9:]
    )
    port = _free_port()
    daphne = Path(sys.executable).with_name("daphne")
    launcher = [str(daphne)] if daphne.exists() else [sys.executable, "-m", "daphne"]
    if overrides:
        launcher = [sys.executable, "-m", "bench.weaklink.daphne_overrides"]
        for key, value in overrides.items():
            env[f"WEAKLINK_{key.upper()}"] = str(value)
    log_path = workdir / "daphne.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [
                *launcher,
                *(
                    argument
                    for address in dict.fromkeys(["127.0.0.1", link_address])
                    for argument in ("-e", f"tcp:port={port}:interface={address}")
                ),
                "meetings.asgi:application",
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    platform = Platform(process, port, link_address, meeting, log_path)
    deadline = time.monotonic() + START_SECONDS
    while True:
        if process.poll() is not None:
            raise SystemExit(f"Daphne exited with {process.returncode}:\n{platform.log_tail()}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2):
                return platform
        except OSError:
            if time.monotonic() > deadline:
                platform.stop()
                raise SystemExit(f"Daphne did not answer:\n{platform.log_tail()}") from None
            time.sleep(0.2)
