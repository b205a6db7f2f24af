"""A hall whose network lets out nothing but TCP to the TURN server's TLS port still receives
the programme and sends its picture: a kiosk peer in a network namespace, a real coturn started
here with shared-secret auth and a throwaway certificate, and a real hub.

Needs root, `ip` (iproute2), `nft` (nftables) and `turnserver` (coturn): .ci/run installs them.
The kiosk is an aiortc peer (tests/media/turn_kiosk.py) run with `ip netns exec`; aiortc has no
iceTransportPolicy, so the namespace's firewall is what leaves it only the relay."""

import asyncio
import datetime
import ipaddress
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from meetings.rooms.media.compositor import Layout
from meetings.rooms.media.hub import HubSettings, Role
from meetings.rooms.media.ice import browser_ice_servers, use_host_addresses
from tests.media.peers import ColourTrack, ToneTrack
from tests.media.test_hub import (
    HALL_HZ,
    HALL_RGB,
    INSET_X,
    INSET_Y,
    STUDIO_HZ,
    STUDIO_RGB,
    WAIT_SECONDS,
    Meeting,
    near,
    wait_for,
)

ROOT = Path(__file__).resolve().parents[2]
TLS_PORT = 5349
SECRET = "turn-test-secret"  # pragma: allowlist secret (made up for the test)
HALL = 2


def sh(*args: str) -> str:
    return subprocess.run(args, check=True, capture_output=True, text=True).stdout


def certificate(directory: Path, address: str) -> tuple[Path, Path]:
    """A throwaway self-signed certificate for the TURN server's address."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "turn test")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(address))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "turn.crt", directory / "turn.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


class Network:
    """A namespace for the hall, joined to this one by a veth pair, and its firewall."""

    def __init__(self):
        tag = os.getpid() % 10_000
        self.name = f"hall{tag}"
        self.outer, self.inner = f"vth{tag}o", f"vth{tag}i"
        subnet = 1 + os.getpid() % 250
        self.server, self.hall = f"10.77.{subnet}.1", f"10.77.{subnet}.2"

    def up(self) -> None:
        sh("ip", "netns", "add", self.name)
        sh("ip", "link", "add", self.outer, "type", "veth", "peer", "name", self.inner)
        sh("ip", "link", "set", self.inner, "netns", self.name)
        sh("ip", "addr", "add", f"{self.server}/24", "dev", self.outer)
        sh("ip", "link", "set", self.outer, "up")
        inside = ("ip", "netns", "exec", self.name)
        sh(*inside, "ip", "addr", "add", f"{self.hall}/24", "dev", self.inner)
        sh(*inside, "ip", "link", "set", self.inner, "up")
        sh(*inside, "ip", "link", "set", "lo", "up")
        # Out: TCP to the TURN server's TLS port only; every UDP datagram is counted and dropped.
        rules = f"""
table inet hall {{
  chain output {{
    type filter hook output priority 0; policy drop;
    oif "lo" accept
    ip daddr {self.server} tcp dport {TLS_PORT} accept
    meta l4proto udp counter name udp_dropped drop
  }}
  chain input {{
    type filter hook input priority 0; policy drop;
    iif "lo" accept
    ip saddr {self.server} tcp sport {TLS_PORT} accept
  }}
  counter udp_dropped {{ }}
}}
"""
        subprocess.run(
            [*inside, "nft", "-f", "-"], input=rules, check=True, capture_output=True, text=True
        )

    def udp_dropped(self) -> int:
        listing = json.loads(
            sh(
                "ip",
                "netns",
                "exec",
                self.name,
                "nft",
                "-j",
                "list",
                "counter",
                "inet",
                "hall",
                "udp_dropped",
            )
        )
        return next(item["counter"]["packets"] for item in listing["nftables"] if "counter" in item)

    def down(self) -> None:
        subprocess.run(["ip", "link", "del", self.outer], capture_output=True, check=False)
        subprocess.run(["ip", "netns", "del", self.name], capture_output=True, check=False)


def start_coturn(directory: Path, address: str, cert: Path, key: Path) -> subprocess.Popen:
    """The repository's deploy/coturn/turnserver.conf, with what compose.yaml adds to it and
    this network's addresses (a private one, so the hub's is allowed as a peer)."""
    log = open(directory / "turnserver.log", "wb")  # noqa: SIM115
    process = subprocess.Popen(
        [
            "turnserver",
            "-c", str(ROOT / "deploy" / "coturn" / "turnserver.conf"),
            f"--static-auth-secret={SECRET}",
            "--realm=turn.test",
            f"--cert={cert}",
            f"--pkey={key}",
            f"--listening-ip={address}",
            f"--relay-ip={address}",
            f"--allowed-peer-ip={address}",
            f"--userdb={directory / 'turndb'}",
            f"--pidfile={directory / 'turnserver.pid'}",
            "--verbose",  # the sample's log-file=stdout: written to turnserver.log here
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )  # fmt: skip
    log.close()  # the process has its own descriptor
    deadline = time.monotonic() + WAIT_SECONDS
    while True:  # until it accepts on its TLS port
        assert process.poll() is None, "turnserver stopped: see turnserver.log"
        try:
            socket.create_connection((address, TLS_PORT), timeout=1).close()
            return process
        except OSError:
            assert time.monotonic() < deadline, (directory / "turnserver.log").read_text()
            time.sleep(0.1)


@pytest.fixture
def turn_network(tmp_path):
    missing = [tool for tool in ("ip", "nft", "turnserver") if shutil.which(tool) is None]
    assert not missing, f"install {missing} (.ci/run does)"
    assert os.geteuid() == 0, "network namespaces need root"
    network = Network()
    network.down()
    network.up()
    cert, key = certificate(tmp_path, network.server)
    coturn = start_coturn(tmp_path, network.server, cert, key)
    try:
        yield network, cert, tmp_path
    finally:
        coturn.terminate()
        coturn.wait(timeout=10)
        network.down()


def allocated_over_tls(log: str, who: str) -> bool:
    """coturn's log shows an allocation over TLS for credentials minted for ``who``."""
    sessions = [line for line in log.splitlines() if f":{who}>" in line]
    return any("method=TLS" in line for line in sessions) and any(
        "ALLOCATE processed, success" in line for line in sessions
    )


class Kiosk:
    """tests/media/turn_kiosk.py inside the hall's namespace."""

    def __init__(self, network: Network, servers: list[dict], cert: Path):
        env = {**os.environ, "SSL_CERT_FILE": str(cert), "PYTHONPATH": str(ROOT)}
        colour = ",".join(str(c) for c in HALL_RGB[HALL])
        self.process = subprocess.Popen(
            ["ip", "netns", "exec", network.name, sys.executable, "-m", "tests.media.turn_kiosk",
             json.dumps(servers), colour, str(HALL_HZ[HALL])],
            cwd=ROOT, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        self.latest: dict = {}

    async def read(self) -> dict:
        line = await asyncio.get_running_loop().run_in_executor(None, self.process.stdout.readline)
        assert line, "the kiosk stopped"
        return json.loads(line)

    async def follow(self) -> None:
        while True:
            self.latest = await self.read()

    def answer(self, sdp: str) -> None:
        self.process.stdin.write(json.dumps({"answer": sdp}) + "\n")
        self.process.stdin.flush()

    def stop(self) -> None:
        self.process.stdin.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()


async def test_a_hall_behind_a_firewall_reaches_the_hub_through_turn_over_tls(
    turn_network, executor, settings, monkeypatch
):
    network, cert, directory = turn_network
    settings.ICE_SERVERS = [{"urls": f"turns:{network.server}:{TLS_PORT}?transport=tcp"}]
    settings.TURN_SECRET = SECRET
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # the hub's TLS to coturn trusts the test's
    use_host_addresses([network.server])
    # The kiosk's credentials are minted as the web node mints a kiosk's (api/media.py).
    kiosk = Kiosk(network, browser_ice_servers(f"operator-{HALL}"), cert)
    following = None
    try:
        async with Meeting(executor, HubSettings(floor_hall_id=HALL, layout=Layout.INSET)) as m:
            studio = await m.join(
                "studio", Role.STUDIO, 10, video=ColourTrack(STUDIO_RGB), audio=ToneTrack(STUDIO_HZ)
            )
            offer = (await kiosk.read())["offer"]
            kiosk.answer(
                await m.hub.offer(
                    peer_id="hall", role=Role.HALL, hall_id=HALL, reply_to="hall", sdp=offer
                )
            )
            following = asyncio.ensure_future(kiosk.follow())

            def programme_seen() -> bool:
                return kiosk.latest.get("frames", 0) >= 25 and near(
                    kiosk.latest.get("centre"), STUDIO_RGB
                )

            await wait_for(programme_seen)
            # The hall's picture went through the relay into the programme the studio sees.
            await wait_for(
                lambda: near(studio.receiver.colour_at(INSET_X, INSET_Y), HALL_RGB[HALL])
            )
            assert kiosk.latest["local"] == "relay", kiosk.latest
            # The direct way was tried and dropped: nothing but the relay could carry it.
            assert network.udp_dropped() > 0
            # coturn accepted the credentials minted for the kiosk and for the hub, over TLS.
            log = directory / "turnserver.log"
            await wait_for(lambda: allocated_over_tls(log.read_text(), f"operator-{HALL}"))
            await wait_for(lambda: allocated_over_tls(log.read_text(), "hub"))
    finally:
        if following is not None:
            following.cancel()
        kiosk.stop()
        use_host_addresses(["127.0.0.1"])
