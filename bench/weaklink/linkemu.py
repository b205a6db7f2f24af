"""A weak link in user space, for kernels built without netem (``CONFIG_NET_SCH_NETEM``).

Two TUN devices carry the hall's traffic: one on the server's side (root namespace), one in
the hall's namespace. This process reads IP packets from each and writes them to the other
after doing to them what ``tc qdisc ... netem rate R loss L delay D limit N`` would:

- each packet is lost with probability L (independently, netem's default), before queueing;
- a packet that finds N packets already in the pipe (queued or in flight) is dropped;
- otherwise it leaves the bottleneck ``size / R`` after the previous one (or now), and
  arrives D later: ``time_to_send = max(now + D, previous) + size * 8 / R``, as netem with a
  rate computes it.

Run by bench.weaklink.network, which creates the devices, then moves the hall's one into the
namespace once this process holds both (a TUN file stays attached across the move). Every
second it writes its counters (and a per-second log) to ``--stats`` as JSON, with ``t``, the
time they were taken.

    python -m bench.weaklink.linkemu --server-dev wls123 --hall-dev wlh123 --stats s.json
"""

import argparse
import collections
import fcntl
import json
import os
import random
import select
import signal
import struct
import sys
import time

TUNSETIFF = 0x400454CA
IFF_TUN, IFF_NO_PI = 0x0001, 0x1000
UDP, TCP = 17, 6


def classify(packet: bytes) -> str:
    """What an IPv4 packet carries: ``tcp``, ``stun``, ``dtls``, ``rtcp``, ``rtp<payload
    type>`` (RTP headers are not encrypted by SRTP), ``udp_other`` or ``other``."""
    if len(packet) < 20 or packet[0] >> 4 != 4:
        return "other"
    if packet[9] == TCP:
        return "tcp"
    start = (packet[0] & 0x0F) * 4 + 8
    if packet[9] != UDP or len(packet) < start + 2:
        return "other"
    first, second = packet[start], packet[start + 1]
    if first < 4:
        return "stun"
    if 20 <= first < 64:
        return "dtls"
    if 128 <= first < 192:
        return "rtcp" if 192 <= second <= 223 else f"rtp{second & 0x7F}"
    return "udp_other"


def attach(name: str) -> int:
    fd = os.open("/dev/net/tun", os.O_RDWR | os.O_NONBLOCK)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", name.encode(), IFF_TUN | IFF_NO_PI))
    return fd


class Direction:
    """One way through the link: a FIFO of (due time, packet)."""

    def __init__(self, *, rate_bps, loss, delay, limit, overhead, rng):
        self.rate_bps, self.loss, self.delay, self.limit = rate_bps, loss, delay, limit
        self.overhead = overhead  # bytes per packet the rate counts beyond the IP packet
        self.rng = rng
        self.pipe: collections.deque[tuple[float, bytes]] = collections.deque()
        self.last_due = 0.0
        self.totals = collections.Counter()
        self.second = collections.Counter()  # this second's figures, for the per-second log
        self.kinds = collections.Counter()  # offered and delivered, by what the packet carries
        self.queue_max = 0.0

    def arrive(self, packet: bytes, now: float) -> None:
        size = len(packet)
        self._count("offered", size)
        kind = classify(packet)
        self.kinds[f"offered_{kind}_packets"] += 1
        self.kinds[f"offered_{kind}_bytes"] += size
        if self.rng.random() < self.loss:
            self._count("lost", size)
            return
        if len(self.pipe) >= self.limit:
            self._count("overflow", size)
            return
        due = max(now + self.delay, self.last_due) + (size + self.overhead) * 8 / self.rate_bps
        self.last_due = due
        queued = due - self.delay - now  # waiting for the bottleneck, its own bits included
        self.second["queue_seconds"] += queued
        self.queue_max = max(self.queue_max, queued)
        self.pipe.append((due, packet))

    def deliver(self, now: float, fd: int) -> None:
        while self.pipe and self.pipe[0][0] <= now:
            _due, packet = self.pipe.popleft()
            try:
                os.write(fd, packet)
            except OSError:
                self._count("write_failed", len(packet))
                continue
            kind = classify(packet)
            protocol = "tcp" if kind == "tcp" else "other" if kind == "other" else "udp"
            self._count("delivered", len(packet))
            self._count(f"delivered_{protocol}", len(packet))
            self.kinds[f"delivered_{kind}_packets"] += 1
            self.kinds[f"delivered_{kind}_bytes"] += len(packet)

    def next_due(self) -> float | None:
        return self.pipe[0][0] if self.pipe else None

    def _count(self, what: str, size: int) -> None:
        for counter in (self.totals, self.second):
            counter[f"{what}_packets"] += 1
            counter[f"{what}_bytes"] += size

    def close_second(self) -> dict:
        figures = dict(self.second)
        queued = figures.pop("queue_seconds", 0.0)
        accepted = figures.get("offered_packets", 0) - figures.get("lost_packets", 0)
        accepted -= figures.get("overflow_packets", 0)
        figures["queue_ms_mean"] = round(1000 * queued / accepted, 1) if accepted > 0 else None
        figures["queue_ms_max"] = round(1000 * self.queue_max, 1)
        figures["in_pipe"] = len(self.pipe)
        self.second.clear()
        self.queue_max = 0.0
        return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--server-dev", required=True)
    parser.add_argument("--hall-dev", required=True)
    parser.add_argument("--rate-kbit", type=float, default=150)
    parser.add_argument("--loss", type=float, default=0.05, help="fraction, each way")
    parser.add_argument("--delay-ms", type=float, default=100, help="each way")
    parser.add_argument("--limit", type=int, default=50, help="packets in the pipe, each way")
    parser.add_argument(
        "--overhead", type=int, default=14, help="bytes per packet counted by the rate"
    )
    parser.add_argument("--seed", type=int, default=6)
    parser.add_argument("--stats", required=True)
    args = parser.parse_args()

    server_fd, hall_fd = attach(args.server_dev), attach(args.hall_dev)
    rng = random.Random(args.seed)
    settings = dict(
        rate_bps=args.rate_kbit * 1000,
        loss=args.loss,
        delay=args.delay_ms / 1000,
        limit=args.limit,
        overhead=args.overhead,
    )
    # down: server -> hall (what the hall receives); up: hall -> server.
    down = Direction(**settings, rng=rng)
    up = Direction(**settings, rng=rng)
    running = True

    def stop(_signum, _frame):
        nonlocal running
        running = False

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the runner stops us, after Ctrl-C too
    print("ready", flush=True)

    log: list[dict] = []
    next_second = time.monotonic() + 1
    while running:
        now = time.monotonic()
        down.deliver(now, hall_fd)
        up.deliver(now, server_fd)
        if now >= next_second:
            log.append(
                {"t": round(time.time(), 3), "down": down.close_second(), "up": up.close_second()}
            )
            write_stats(args.stats, down, up, log)
            next_second += 1
        dues = [due for due in (down.next_due(), up.next_due()) if due is not None]
        timeout = max(0.0, min([*dues, next_second]) - time.monotonic())
        try:
            ready, _w, _x = select.select([server_fd, hall_fd], [], [], timeout)
        except InterruptedError:
            continue
        now = time.monotonic()
        for fd in ready:
            direction = down if fd == server_fd else up
            while True:
                try:
                    packet = os.read(fd, 65535)
                except BlockingIOError:
                    break
                except OSError:
                    break
                direction.arrive(packet, now)
    write_stats(args.stats, down, up, log)
    sys.exit(0)


def write_stats(path: str, down: Direction, up: Direction, log: list[dict]) -> None:
    temporary = path + ".tmp"
    with open(temporary, "w") as out:
        json.dump(
            {
                "t": time.time(),
                "down": dict(down.totals),
                "up": dict(up.totals),
                "down_kinds": dict(down.kinds),
                "up_kinds": dict(up.kinds),
                "log": log,
            },
            out,
        )
    os.replace(temporary, path)


if __name__ == "__main__":
    main()
