"""The hall's network namespace and its weak link to the server, set up and always torn down.

Two ways to shape the link, the same figures each way (rate, loss and one-way delay in each
direction, and a queue of ``limit`` packets as netem counts them):

- ``netem``: a veth pair, netem on each end's egress (the host end shapes what the hall
  receives, the namespace end what it sends);
- ``userspace``: a pair of TUN devices joined by bench.weaklink.linkemu, which does what netem
  does, for kernels built without netem (this project's 2-core VMs have no
  ``CONFIG_NET_SCH_NETEM``).

``auto`` uses netem when the kernel has it. Names carry this process's id (``weaklink-<pid>``,
``wls<pid>``, ``wlh<pid>``), so runs side by side do not collide and what a killed run left
behind is recognised and removed by the next one.
"""

import json
import os
import random
import re
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ETHERNET_HEADER = 14  # counted by veth's byte counters, not part of the IP packet
NAME = re.compile(r"^(?:weaklink-|wls|wlh)(\d+)$")


@dataclass(frozen=True)
class LinkSpec:
    rate_kbit: float = 150
    loss: float = 0.05  # each way
    delay_ms: float = 100  # each way: 200 ms round trip
    limit: int = 50  # packets in the pipe (queued or in flight), each way


def sh(*command: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(command, capture_output=True, text=True, check=check)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale() -> list[str]:
    """Namespaces and devices of earlier runs whose process is gone."""
    removed = []
    namespaces = sh("ip", "netns", "list", check=False).stdout.split()
    devices = [
        line.split()[0].split("@")[0]
        for line in sh("ip", "-br", "link", check=False).stdout.splitlines()
        if line.strip()
    ]
    for name in [*devices, *namespaces]:
        match = NAME.match(name)
        if not match or _alive(int(match.group(1))):
            continue
        if name.startswith("weaklink-"):
            sh("ip", "netns", "del", name, check=False)
        else:
            sh("ip", "link", "del", name, check=False)
        removed.append(name)
    return removed


class WeakLink:
    """``with WeakLink(spec) as link:`` a namespace ``link.namespace`` whose only way out is
    the shaped link; the server side's address is ``link.server_address``."""

    def __init__(self, spec: LinkSpec, *, shaper: str = "auto", workdir: Path, seed: int = 6):
        self.spec = spec
        self.requested = shaper
        self.shaper: str | None = None
        self.workdir = workdir
        self.seed = seed
        pid = os.getpid()
        self.namespace = f"weaklink-{pid}"
        self.server_dev = f"wls{pid}"
        self.hall_dev = f"wlh{pid}"
        self.server_address, self.hall_address = _free_subnet()
        self.emulator: subprocess.Popen | None = None
        self.stats_path = workdir / "linkemu.json"

    # --- life --------------------------------------------------------------------------------

    def __enter__(self) -> "WeakLink":
        stale = remove_stale()
        if stale:
            print(f"weaklink: removed what an earlier run left: {', '.join(stale)}")
        try:
            sh("ip", "netns", "add", self.namespace)
            self._in_namespace("ip", "link", "set", "lo", "up")
            if self.requested in ("auto", "netem") and self._try_netem():
                self.shaper = "netem"
            elif self.requested == "netem":
                raise SystemExit("netem is not available in this kernel (try --shaper userspace)")
            else:
                self._userspace()
                self.shaper = "userspace"
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        if self.emulator is not None and self.emulator.poll() is None:
            self.emulator.terminate()
            try:
                self.emulator.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.emulator.kill()
                self.emulator.wait(timeout=5)
        sh("ip", "-n", self.namespace, "link", "del", self.hall_dev, check=False)
        sh("ip", "link", "del", self.server_dev, check=False)
        sh("ip", "netns", "del", self.namespace, check=False)

    def _in_namespace(self, *command: str, check: bool = True):
        return sh("ip", "netns", "exec", self.namespace, *command, check=check)

    def _netem_args(self) -> list[str]:
        spec = self.spec
        return [
            "netem",
            "rate",
            f"{spec.rate_kbit:g}kbit",
            "loss",
            f"{spec.loss * 100:g}%",
            "delay",
            f"{spec.delay_ms:g}ms",
            "limit",
            str(spec.limit),
        ]

    def _try_netem(self) -> bool:
        sh("ip", "link", "add", self.server_dev, "type", "veth", "peer", "name", self.hall_dev)
        sh("ip", "link", "set", self.hall_dev, "netns", self.namespace)
        shaped = sh(
            "tc", "qdisc", "add", "dev", self.server_dev, "root", *self._netem_args(), check=False
        )
        if shaped.returncode != 0:
            sh("ip", "-n", self.namespace, "link", "del", self.hall_dev, check=False)
            sh("ip", "link", "del", self.server_dev, check=False)
            return False
        self._in_namespace("tc", "qdisc", "add", "dev", self.hall_dev, "root", *self._netem_args())
        sh("ip", "addr", "add", f"{self.server_address}/30", "dev", self.server_dev)
        sh("ip", "link", "set", self.server_dev, "up")
        sh(
            "ip",
            "-n",
            self.namespace,
            "addr",
            "add",
            f"{self.hall_address}/30",
            "dev",
            self.hall_dev,
        )
        sh("ip", "-n", self.namespace, "link", "set", self.hall_dev, "up")
        return True

    def _userspace(self) -> None:
        sh("ip", "tuntap", "add", "dev", self.server_dev, "mode", "tun")
        sh("ip", "tuntap", "add", "dev", self.hall_dev, "mode", "tun")
        spec = self.spec
        self.emulator = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "bench.weaklink.linkemu",
                "--server-dev",
                self.server_dev,
                "--hall-dev",
                self.hall_dev,
                "--rate-kbit",
                str(spec.rate_kbit),
                "--loss",
                str(spec.loss),
                "--delay-ms",
                str(spec.delay_ms),
                "--limit",
                str(spec.limit),
                "--seed",
                str(self.seed),
                "--stats",
                str(self.stats_path),
            ],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        if self.emulator.stdout.readline().strip() != "ready":
            raise SystemExit("weaklink: the link emulator did not start")
        # The emulator holds both devices now; the hall's one moves into the namespace with
        # its file still attached.
        sh("ip", "link", "set", self.hall_dev, "netns", self.namespace)
        sh(
            "ip",
            "addr",
            "add",
            self.server_address,
            "peer",
            self.hall_address,
            "dev",
            self.server_dev,
        )
        sh("ip", "link", "set", self.server_dev, "up")
        sh(
            "ip", "-n", self.namespace, "addr", "add", self.hall_address, "peer",
            self.server_address, "dev", self.hall_dev,
        )  # fmt: skip
        sh("ip", "-n", self.namespace, "link", "set", self.hall_dev, "up")

    # --- what crossed it ---------------------------------------------------------------------

    def wrapper(self, executable: str) -> Path:
        """An executable that runs ``executable`` inside the namespace (for Playwright)."""
        path = self.workdir / f"in-{self.namespace}"
        path.write_text(f'#!/bin/sh\nexec ip netns exec {self.namespace} {executable} "$@"\n')
        path.chmod(0o755)
        return path

    def interface_counters(self) -> dict:
        """The hall side's interface counters (``ip -s link``): rx is what the hall received.
        Bytes are IP bytes (veth's Ethernet headers taken off)."""
        raw = json.loads(
            sh("ip", "-n", self.namespace, "-s", "-j", "link", "show", "dev", self.hall_dev).stdout
        )[0]["stats64"]
        header = ETHERNET_HEADER if self.shaper == "netem" else 0
        return {
            "rx_bytes": raw["rx"]["bytes"] - header * raw["rx"]["packets"],
            "rx_packets": raw["rx"]["packets"],
            "tx_bytes": raw["tx"]["bytes"] - header * raw["tx"]["packets"],
            "tx_packets": raw["tx"]["packets"],
        }

    def offered_bytes(self) -> int:
        """Bytes the server side has sent towards the hall (before the link's drops)."""
        raw = json.loads(sh("ip", "-s", "-j", "link", "show", "dev", self.server_dev).stdout)
        return raw[0]["stats64"]["tx"]["bytes"]

    def wait_quiet(self, *, kbps: float = 4, timeout: float = 90) -> float:
        """Wait until less than ``kbps`` is being sent towards the hall (a closed kiosk's
        connection lingers in the hub until it notices); returns the seconds waited."""
        started = time.monotonic()
        before = self.offered_bytes()
        while time.monotonic() - started < timeout:
            time.sleep(2)
            now = self.offered_bytes()
            if (now - before) * 8 / 2 / 1000 < kbps:
                break
            before = now
        return round(time.monotonic() - started, 1)

    def shaper_counters(self) -> dict:
        """What the shaper did, each way: the emulator's counters, or netem's drops."""
        if self.shaper == "userspace":
            for _attempt in range(5):
                try:
                    data = json.loads(self.stats_path.read_text())
                    return {
                        "t": data["t"],
                        "down": data["down"],
                        "up": data["up"],
                        "down_kinds": data.get("down_kinds", {}),
                    }
                except (OSError, ValueError):
                    time.sleep(0.05)
            return {}
        counters = {"t": time.time()}
        show = ["tc", "-s", "-j", "qdisc", "show", "dev"]
        for side, command in (
            ("down", [*show, self.server_dev]),
            ("up", ["ip", "netns", "exec", self.namespace, *show, self.hall_dev]),
        ):
            qdisc = next(q for q in json.loads(sh(*command).stdout) if q["kind"] == "netem")
            counters[side] = {
                "sent_packets": qdisc.get("packets"),
                "sent_bytes": qdisc.get("bytes"),
                "dropped_packets": qdisc.get("drops"),
            }
        return counters

    def shaper_log(self, since: float, until: float) -> list[dict]:
        """The emulator's per-second figures between two ``time.time()`` values (queueing
        delay, drops); none with netem."""
        if self.shaper != "userspace":
            return []
        try:
            log = json.loads(self.stats_path.read_text())["log"]
        except (OSError, ValueError, KeyError):
            return []
        return [entry for entry in log if since <= entry["t"] <= until]

    def describe(self) -> dict:
        return {
            **asdict(self.spec),
            "round_trip_ms": 2 * self.spec.delay_ms,
            "directions": "both (rate, loss, delay and queue limit each way)",
            "shaper": self.shaper,
            "shaper_note": (
                "kernel netem on a veth pair"
                if self.shaper == "netem"
                else "bench/weaklink/linkemu.py: netem's rate/loss/delay/limit rules in user "
                "space between two TUN devices (this kernel has no sch_netem)"
            ),
        }


def _free_subnet() -> tuple[str, str]:
    used = sh("ip", "-br", "addr", check=False).stdout
    for _attempt in range(100):
        prefix = f"10.231.{random.randrange(256)}.{random.randrange(0, 256, 4)}"
        base = prefix.rsplit(".", 1)[0] + "."
        if base not in used:
            last = int(prefix.rsplit(".", 1)[1])
            return f"{base}{last + 1}", f"{base}{last + 2}"
    raise SystemExit("weaklink: no free 10.231.x.y/30 subnet")
