"""A hall behind a firewall that lets out nothing but TCP, and a real coturn beside it: the
network of the TURN tests (tests/media/test_turn_relay.py with an aiortc kiosk,
tests/browser/test_turn_kiosk.py with Chromium's).

The hall is a network namespace joined to this one by a veth pair. Its nftables let out TCP to
the TURN server's TLS port (and to any other port of the server's address a test names, such as
the web server the kiosk page comes from) and count, then drop, every UDP datagram. coturn runs
with the repository's deploy/coturn/turnserver.conf, shared-secret auth and a throwaway
certificate for the server's address.

Needs root, `ip` (iproute2), `nft` (nftables) and `turnserver` (coturn): .ci/run installs them.
"""

import datetime
import ipaddress
import json
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

ROOT = Path(__file__).resolve().parents[1]
TLS_PORT = 5349
SECRET = "turn-test-secret"  # pragma: allowlist secret (made up for the tests)
START_SECONDS = 30  # an upper bound: the wait ends when coturn accepts


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
        .not_valid_after(now + datetime.timedelta(hours=2))
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
    """A namespace for the hall, joined to this one by a veth pair, and its firewall.

    ``tcp_ports``: ports of the server's address, besides TURN's TLS port, that the hall may
    reach over TCP (the web server of a kiosk page)."""

    def __init__(self, tcp_ports: tuple[int, ...] = ()):
        tag = os.getpid() % 10_000
        self.name = f"hall{tag}"
        self.outer, self.inner = f"vth{tag}o", f"vth{tag}i"
        subnet = 1 + os.getpid() % 250
        self.server, self.hall = f"10.77.{subnet}.1", f"10.77.{subnet}.2"
        self.tcp_ports = (TLS_PORT, *tcp_ports)

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
        ports = ", ".join(str(port) for port in self.tcp_ports)
        # Out: TCP to the server's allowed ports only; every UDP datagram is counted and dropped.
        rules = f"""
table inet hall {{
  chain output {{
    type filter hook output priority 0; policy drop;
    oif "lo" accept
    ip daddr {self.server} tcp dport {{ {ports} }} accept
    meta l4proto udp counter name udp_dropped drop
  }}
  chain input {{
    type filter hook input priority 0; policy drop;
    iif "lo" accept
    ip saddr {self.server} tcp sport {{ {ports} }} accept
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
                "ip", "netns", "exec", self.name,
                "nft", "-j", "list", "counter", "inet", "hall", "udp_dropped",
            )
        )  # fmt: skip
        return next(item["counter"]["packets"] for item in listing["nftables"] if "counter" in item)

    def wrapper(self, directory: Path, executable: str) -> Path:
        """An executable that runs ``executable`` inside the namespace (for Playwright, which
        talks to the browser over pipes, so the browser needs no route back to the test)."""
        path = directory / f"in-{self.name}"
        path.write_text(f'#!/bin/sh\nexec ip netns exec {self.name} {executable} "$@"\n')
        path.chmod(0o755)
        return path

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
    deadline = time.monotonic() + START_SECONDS
    while True:  # until it accepts on its TLS port
        assert process.poll() is None, "turnserver stopped: see turnserver.log"
        try:
            socket.create_connection((address, TLS_PORT), timeout=1).close()
            return process
        except OSError:
            assert time.monotonic() < deadline, (directory / "turnserver.log").read_text()
            time.sleep(0.1)


def allocated_over_tls(log: str, who: str) -> bool:
    """coturn's log shows an allocation over TLS for credentials minted for ``who`` (the
    username's part after the expiry: ``hub``, ``operator-2``)."""
    sessions = [line for line in log.splitlines() if f":{who}>" in line]
    return any("method=TLS" in line for line in sessions) and any(
        "ALLOCATE processed, success" in line for line in sessions
    )


@dataclass
class TurnSite:
    network: Network
    cert: Path
    directory: Path

    @property
    def log(self) -> str:
        return (self.directory / "turnserver.log").read_text(errors="replace")

    @property
    def ice_servers(self) -> list[dict]:
        """ICE_SERVERS as a deployment lists its coturn: TLS over TCP only."""
        return [{"urls": f"turns:{self.network.server}:{TLS_PORT}?transport=tcp"}]


@contextmanager
def turn_site(directory: Path, tcp_ports: tuple[int, ...] = ()) -> Iterator[TurnSite]:
    """The hall's network and a coturn on the server's side of it, torn down afterwards."""
    missing = [tool for tool in ("ip", "nft", "turnserver") if shutil.which(tool) is None]
    assert not missing, f"install {missing} (.ci/run does)"
    assert os.geteuid() == 0, "network namespaces need root"
    network = Network(tcp_ports)
    network.down()  # what a killed run left
    network.up()
    cert, key = certificate(directory, network.server)
    coturn = start_coturn(directory, network.server, cert, key)
    try:
        yield TurnSite(network, cert, directory)
    finally:
        coturn.terminate()
        coturn.wait(timeout=10)
        network.down()
