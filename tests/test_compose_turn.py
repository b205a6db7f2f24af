"""compose.yaml's TURN: every process that mints credentials has the secret, and the coturn
service starts with the repository's configuration, the secret and the site's certificate."""

import os
import re
import subprocess
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = yaml.safe_load((ROOT / "compose.yaml").read_text())


def environment(service: str) -> dict:
    found = dict(COMPOSE["x-app"]["environment"])
    found.update(COMPOSE["services"][service].get("environment") or {})
    return found


def test_the_web_nodes_and_the_media_worker_mint_turn_credentials():
    # The web nodes serve the screens' ICE servers, the media worker the hub's: both need the
    # secret and the servers, or screens would get turn: URLs without credentials.
    for service in ("web", "media"):
        env = environment(service)
        assert env["TURN_SECRET"] == "${TURN_SECRET:-}", service
        assert env["ICE_SERVERS"] == "${ICE_SERVERS:-[]}", service
        assert "TURN_CREDENTIAL_SECONDS" in env, service


def test_the_turn_service_uses_the_sample_configuration_and_the_sites_certificate():
    turn = COMPOSE["services"]["turn"]
    mounts = {}
    for volume in turn["volumes"]:
        source, target, mode = volume.rsplit(":", 2)
        assert mode == "ro", volume
        mounts[target] = source
    sample = mounts["/etc/coturn/turnserver.conf"]
    assert (ROOT / sample).is_file()
    conf = (ROOT / sample).read_text().splitlines()
    assert "use-auth-secret" in conf and "tls-listening-port=5349" in conf
    assert not any(line.startswith("static-auth-secret") for line in conf)  # never committed
    assert mounts["/etc/letsencrypt"] == "${TURN_TLS_DIR:-/etc/letsencrypt}"


def run_entrypoint(tmp_path, **env) -> subprocess.CompletedProcess:
    """The service's entrypoint script, as compose hands it to sh, with a turnserver that
    prints its arguments."""
    fake = tmp_path / "turnserver"
    fake.write_text('#!/bin/sh\nprintf "%s\\n" "$@"\n')
    fake.chmod(0o755)
    script = COMPOSE["services"]["turn"]["entrypoint"][2].replace("$$", "$")
    return subprocess.run(
        ["sh", "-c", script],
        env={"PATH": f"{tmp_path}:{os.environ['PATH']}", **env},
        capture_output=True,
        text=True,
        check=False,
    )


def test_coturn_gets_the_secret_the_realm_and_the_certificate(tmp_path):
    started = run_entrypoint(tmp_path, TURN_SECRET="s3cret", TURN_HOST="turn.example.vn")
    assert started.returncode == 0, started.stderr
    args = started.stdout.splitlines()
    assert args[:2] == ["-c", "/etc/coturn/turnserver.conf"]
    assert "--static-auth-secret=s3cret" in args and "--realm=turn.example.vn" in args
    assert "--cert=/etc/letsencrypt/live/turn.example.vn/fullchain.pem" in args
    assert "--pkey=/etc/letsencrypt/live/turn.example.vn/privkey.pem" in args
    assert not any(arg.startswith("--external-ip") for arg in args)
    behind_nat = run_entrypoint(
        tmp_path, TURN_SECRET="s", TURN_HOST="h", TURN_EXTERNAL_IP="203.0.113.9"
    )
    assert "--external-ip=203.0.113.9" in behind_nat.stdout.splitlines()


def test_coturn_without_a_secret_or_a_host_does_not_start(tmp_path):
    no_secret = run_entrypoint(tmp_path, TURN_HOST="turn.example.vn")
    assert no_secret.returncode == 1 and "set TURN_SECRET" in no_secret.stderr
    no_host = run_entrypoint(tmp_path, TURN_SECRET="s3cret")
    assert no_host.returncode == 1 and "set TURN_HOST" in no_host.stderr


def test_the_firewall_ports_are_the_ones_coturn_listens_on():
    conf = (ROOT / "deploy" / "coturn" / "turnserver.conf").read_text()
    ports = dict(
        re.findall(r"^(listening-port|tls-listening-port|min-port|max-port)=(\d+)", conf, re.M)
    )
    readme = (ROOT / "README.md").read_text()
    assert f"UDP {ports['min-port']}–{ports['max-port']}" in readme
    assert f"TCP {ports['tls-listening-port']}" in readme
    assert f"UDP and TCP {ports['listening-port']}" in readme
