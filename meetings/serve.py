"""One web process per core: ``python -m meetings.serve``.

A Daphne process is one Python interpreter and so, bound by its GIL, about one core. This
launcher runs N Daphne processes of ``meetings.asgi:application`` on one address:

- It opens one listening socket per process, all bound to the same address with
  ``SO_REUSEPORT``, so the kernel spreads new connections evenly over the processes. (One
  shared socket, as supervisord's ``fcgi-program`` hands to Daphne, lets the process that
  wakes first accept most connections; long-lived websockets would pile up on it.)
- Each process is ``daphne --fd <n>``, started with its own socket inherited. The launcher
  keeps a copy of every socket, so while a process is down the connections the kernel sends
  its way wait in the socket's queue for its successor instead of being refused.
- A process that dies is started again, after 1 s, doubling up to 30 s while it keeps dying
  young; each death is logged.
- SIGTERM or SIGINT stops the processes (SIGTERM, then SIGKILL after ``--stop-timeout``) and
  the launcher exits; a second signal kills them at once. Processes also get SIGTERM if the
  launcher itself dies.

With more than one process the in-memory channel layer cannot carry events between them, so
``REDIS_URL`` is required. Options the launcher does not know are passed to every Daphne
process, after Daphne has checked them (e.g. ``--ping-interval``), except ``--proxy-headers``,
which is refused: the application reads X-Forwarded-For itself, from trusted proxies only
(meetings/client_address.py).
"""

import argparse
import ctypes
import logging
import math
import os
import select
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

logger = logging.getLogger("meetings.serve")

APPLICATION = "meetings.asgi:application"
DEFAULT_HOST = "0.0.0.0"
DEFAULT_PORT = 8000
FIRST_RESTART_DELAY = 1.0  # seconds
LONGEST_RESTART_DELAY = 30.0
# A process that ran this long before dying is started again after the first delay.
STEADY_SECONDS = 60.0
DEFAULT_STOP_TIMEOUT = 10.0
PR_SET_PDEATHSIG = 1  # linux/prctl.h


class LaunchRefused(Exception):
    """The launcher cannot start as asked; the message says why and what to change."""


@dataclass(frozen=True)
class Plan:
    processes: int
    host: str
    port: int
    daphne_options: tuple[str, ...]
    stop_timeout: float


# --- how many processes ---------------------------------------------------------------------


def cgroup_cpu_limit(
    *, proc_cgroup: Path = Path("/proc/self/cgroup"), root: Path = Path("/sys/fs/cgroup")
) -> float | None:
    """The CPU quota of this process's cgroup (v2 ``cpu.max``) in CPUs, or None without one.

    A container limited with compose's ``cpus:`` still sees every core of the host in its CPU
    affinity; only the quota tells. (cgroup v1 hosts: set WEB_PROCESSES.)"""
    try:
        lines = proc_cgroup.read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        hierarchy, _controllers, path = line.split(":", 2)
        if hierarchy != "0":
            continue
        # Inside a container with its own cgroup namespace the path is "/" and the files are
        # at the root; on a host they are under the path.
        for directory in (root / path.lstrip("/"), root):
            try:
                quota, period = (directory / "cpu.max").read_text().split()
            except (OSError, ValueError):
                continue
            return None if quota == "max" else int(quota) / int(period)
    return None


def available_cpus() -> int:
    """The CPUs this process may run on (its affinity), capped by its container's CPU quota."""
    count = len(os.sched_getaffinity(0))
    limit = cgroup_cpu_limit()
    if limit is not None:
        count = min(count, max(1, math.ceil(limit)))
    return count


def _positive_int(raw: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {raw!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def _port(raw: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {raw!r}") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"not a port number: {value}")
    return value


def _from_environment(name: str, convert, default):
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return convert(raw)
    except argparse.ArgumentTypeError as error:
        raise LaunchRefused(f"{name}: {error}") from None


# --- the command line -----------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m meetings.serve",
        description="Run N Daphne web processes of the platform on one address.",
        epilog="Any other option is passed to every Daphne process (see daphne --help), "
        "e.g. --ping-interval; not --proxy-headers (TRUSTED_PROXIES does it safely).",
        # Daphne's options must not be taken for abbreviations of ours (--p…).
        allow_abbrev=False,
    )
    parser.add_argument(
        "--processes",
        type=_positive_int,
        help="how many web processes (default: WEB_PROCESSES, else one per CPU this process "
        "may use); more than one needs REDIS_URL",
    )
    parser.add_argument(
        "-b",
        "--bind",
        help=f"the IPv4 address to listen on (default: WEB_HOST, else {DEFAULT_HOST})",
    )
    parser.add_argument(
        "-p", "--port", type=_port, help=f"the port (default: WEB_PORT, else {DEFAULT_PORT})"
    )
    parser.add_argument(
        "--stop-timeout",
        type=float,
        default=DEFAULT_STOP_TIMEOUT,
        help="seconds the processes have to stop after SIGTERM before they are killed "
        f"(default: {DEFAULT_STOP_TIMEOUT:g})",
    )
    return parser


def _checked_daphne_options(options: list[str]) -> tuple[str, ...]:
    """Daphne's own parser checks the options now, so that a typo stops the launcher once
    instead of failing in every process it starts, again and again."""
    from daphne.cli import CommandLineInterface

    parser = CommandLineInterface().parser
    parser.prog = "daphne"
    try:
        parsed = parser.parse_args([*options, APPLICATION])
    except SystemExit:  # argparse has printed the reason
        raise LaunchRefused(
            f"Daphne refused the options passed on to it: {' '.join(options)}"
        ) from None
    binding = (parsed.host, parsed.port, parsed.unix_socket, parsed.file_descriptor)
    if any(value is not None for value in binding) or parsed.socket_strings:
        raise LaunchRefused(
            "give the address to the launcher (--bind, --port), not to Daphne: "
            "the launcher opens the sockets its processes share"
        )
    return tuple(options)


def _check_settings(processes: int, chosen_by: str) -> None:
    """Reads the settings once here: a bad value stops the launcher with its message, and
    the generated secret key of an install without SECRET_KEY exists before the processes
    start (else each could generate its own)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "meetings.settings")
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured

    try:
        redis_url, media_worker = settings.REDIS_URL, settings.MEDIA_WORKER
    except ImproperlyConfigured as error:
        raise LaunchRefused(str(error)) from None
    if processes == 1:
        return
    if not redis_url:
        raise LaunchRefused(
            f"{processes} web processes ({chosen_by}) need REDIS_URL: the in-memory channel "
            "layer cannot carry events between processes. Set REDIS_URL, or run one process "
            "(--processes 1 or WEB_PROCESSES=1)."
        )
    if media_worker != "worker":
        raise LaunchRefused(
            f"{processes} web processes need MEDIA_WORKER=worker: with media hubs in threads "
            "each process would start its own hub for the same meeting."
        )


def _processes(requested: int | None) -> tuple[int, str]:
    """How many processes, and what chose that number (for messages)."""
    if requested is not None:
        return requested, "--processes"
    from_environment = _from_environment("WEB_PROCESSES", _positive_int, None)
    if from_environment is not None:
        return from_environment, "WEB_PROCESSES"
    return available_cpus(), "one per CPU"


def plan_from(argv: list[str] | None) -> Plan:
    args, daphne_options = build_parser().parse_known_args(argv)
    processes, chosen_by = _processes(args.processes)
    host = args.bind or os.environ.get("WEB_HOST", "").strip() or DEFAULT_HOST
    port = args.port
    if port is None:
        port = _from_environment("WEB_PORT", _port, DEFAULT_PORT)
    if not args.stop_timeout > 0:
        raise LaunchRefused("--stop-timeout must be more than 0 seconds")
    if any(option.split("=", 1)[0] == "--proxy-headers" for option in daphne_options):
        raise LaunchRefused(
            "--proxy-headers would let any client choose its address (Daphne takes the "
            "left-most X-Forwarded-For entry, from any peer); set TRUSTED_PROXIES and "
            "TRUSTED_PROXY_NETWORKS instead: the application reads the header itself"
        )
    checked = _checked_daphne_options(daphne_options)
    _check_settings(processes, chosen_by)
    from django.conf import settings

    return Plan(
        processes=processes,
        host=host,
        port=port,
        daphne_options=with_quiet_protocol_pings(checked, settings.HEARTBEAT_SECONDS),
        stop_timeout=args.stop_timeout,
    )


def with_quiet_protocol_pings(options: tuple[str, ...], heartbeat: int) -> tuple[str, ...]:
    """Daphne pings every websocket that has sent nothing for its --ping-interval (20 s by
    default). The screens ping every HEARTBEAT_SECONDS (20 s) themselves, so Daphne pinged
    most of them too, on a path of its own that costs several times a frame of the stream
    (about 5% of a core with 2,150 screens, bench/realtime). One and a half heartbeats leaves
    its pings to the sockets that went quiet. An operator's own --ping-interval wins."""
    if any(option.split("=", 1)[0] == "--ping-interval" for option in options):
        return options
    return (*options, "--ping-interval", str(math.ceil(heartbeat * 1.5)))


# --- sockets --------------------------------------------------------------------------------


def _address(host: str, port: int) -> tuple[str, int]:
    try:
        found = socket.getaddrinfo(
            host, port, socket.AF_INET, socket.SOCK_STREAM, 0, socket.AI_PASSIVE
        )
    except socket.gaierror as error:
        # Daphne adopts an inherited socket as IPv4 (its fd endpoint has no other family).
        raise LaunchRefused(
            f"cannot listen on {host}: {error.strerror} (an IPv4 address or a name with one)"
        ) from None
    return found[0][4]


def open_listeners(host: str, port: int, count: int) -> list[socket.socket]:
    """``count`` listening sockets on one address, for one process each."""
    address = _address(host, port)
    # SO_REUSEPORT would also join the sockets of another server already on this port, as
    # long as it set the option too: a plain bind first finds out whether the port is free.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as error:
            raise LaunchRefused(f"cannot listen on {host}:{port}: {error.strerror}") from None
        address = probe.getsockname()  # port 0: the port the system chose, for every socket
    listeners = []
    try:
        for _ in range(count):
            listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            listeners.append(listener)
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            listener.bind(address)
            listener.listen(socket.SOMAXCONN)
            listener.set_inheritable(True)
    except OSError as error:
        for listener in listeners:
            listener.close()
        raise LaunchRefused(f"cannot listen on {host}:{port}: {error.strerror}") from None
    return listeners


# --- the processes --------------------------------------------------------------------------


def _forget_metrics_of(pid: int) -> None:
    """prometheus-client's multiprocess mode (PROMETHEUS_MULTIPROC_DIR, meetings/metrics.py):
    a dead process's live gauges (its sockets) must stop counting."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid)


def _describe_exit(returncode: int) -> str:
    if returncode < 0:
        try:
            return f"was killed by {signal.Signals(-returncode).name}"
        except ValueError:
            return f"was killed by signal {-returncode}"
    return f"exited with code {returncode}"


@dataclass
class WebProcess:
    """One Daphne process and the socket it serves; the socket outlives the process."""

    index: int
    listener: socket.socket
    process: subprocess.Popen | None = None
    started_at: float = 0.0
    restart_delay: float = FIRST_RESTART_DELAY
    restart_at: float | None = None

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None


class Launcher:
    def __init__(self, plan: Plan, listeners: list[socket.socket]):
        self.plan = plan
        self.webs = [WebProcess(index, listener) for index, listener in enumerate(listeners)]
        self.stop_requested = False
        self.kill_requested = False
        self._libc = ctypes.CDLL(None, use_errno=True) if sys.platform == "linux" else None
        self._wakeup_read: socket.socket | None = None

    # Signals only set flags; the byte each one writes to the wakeup socket ends the wait.
    def _on_signal(self, signum: int, _frame) -> None:
        if signum in (signal.SIGTERM, signal.SIGINT):
            self.kill_requested = self.stop_requested
            self.stop_requested = True

    def _install_signal_handlers(self, wakeup_write: socket.socket) -> None:
        signal.set_wakeup_fd(wakeup_write.fileno(), warn_on_full_buffer=False)
        for signum in (signal.SIGCHLD, signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, self._on_signal)

    def _wait(self, timeout: float | None) -> None:
        """Until a signal arrives (a process ended, or a stop) or ``timeout`` passes."""
        select.select([self._wakeup_read], [], [], timeout)
        try:
            while self._wakeup_read.recv(512):
                pass
        except BlockingIOError:
            pass

    def _command(self, web: WebProcess) -> list[str]:
        fd = str(web.listener.fileno())
        return [sys.executable, "-m", "daphne", "--fd", fd, *self.plan.daphne_options, APPLICATION]

    def _prepare_child(self) -> None:
        """Runs in the new process before Daphne starts: it gets SIGTERM when the launcher
        dies, so no process is left serving the port without a launcher."""
        if self._libc is not None:
            self._libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)

    def _start(self, web: WebProcess) -> None:
        web.restart_at = None
        try:
            web.process = subprocess.Popen(
                self._command(web),
                pass_fds=[web.listener.fileno()],
                # Its own process group: a Ctrl-C in the terminal reaches only the launcher,
                # which then stops the processes in order instead of restarting them.
                process_group=0,
                preexec_fn=self._prepare_child,
            )
        except OSError as error:  # out of memory or processes: try again later
            web.process = None
            self._schedule_restart(web, f"could not be started ({error})")
            return
        web.started_at = time.monotonic()
        logger.info("web process %d started (pid %d)", web.index, web.process.pid)

    def _schedule_restart(self, web: WebProcess, what_happened: str) -> None:
        delay = web.restart_delay
        web.restart_delay = min(delay * 2, LONGEST_RESTART_DELAY)
        web.restart_at = time.monotonic() + delay
        logger.error(
            "web process %d %s; starting it again in %g s", web.index, what_happened, delay
        )

    def _reap(self) -> None:
        for web in self.webs:
            if web.process is None or web.process.poll() is None:
                continue
            lived = time.monotonic() - web.started_at
            if lived >= STEADY_SECONDS:
                web.restart_delay = FIRST_RESTART_DELAY
            what_happened = (
                f"(pid {web.process.pid}) {_describe_exit(web.process.returncode)} "
                f"after {lived:.1f} s"
            )
            _forget_metrics_of(web.process.pid)
            web.process = None
            self._schedule_restart(web, what_happened)

    def _start_due(self) -> float | None:
        """Starts the processes whose restart is due; returns the seconds to the next one."""
        now = time.monotonic()
        waits = []
        for web in self.webs:
            if web.restart_at is None:
                continue
            if web.restart_at <= now:
                self._start(web)
            else:
                waits.append(web.restart_at - now)
        return min(waits, default=None)

    def _stop_all(self) -> None:
        running = [web for web in self.webs if web.alive]
        logger.info("stopping %d web processes", len(running))
        for web in running:
            web.process.terminate()
        deadline = time.monotonic() + self.plan.stop_timeout
        while any(web.alive for web in running) and not self.kill_requested:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            self._wait(remaining)
        for web in running:
            if web.alive:
                logger.warning(
                    "web process %d (pid %d) did not stop in time; killing it",
                    web.index,
                    web.process.pid,
                )
                web.process.kill()
            web.process.wait()

    def run(self) -> int:
        self._wakeup_read, wakeup_write = socket.socketpair()
        for end in (self._wakeup_read, wakeup_write):
            end.setblocking(False)
        self._install_signal_handlers(wakeup_write)
        logger.info(
            "serving %s on %s:%d with %d web processes",
            APPLICATION,
            *self.webs[0].listener.getsockname(),
            len(self.webs),
        )
        try:
            for web in self.webs:
                self._start(web)
            next_restart = self._start_due()
            while not self.stop_requested:
                self._wait(next_restart)
                self._reap()
                next_restart = self._start_due()
            self._stop_all()
        finally:
            signal.set_wakeup_fd(-1)
            for end in (self._wakeup_read, wakeup_write, *(web.listener for web in self.webs)):
                end.close()
        logger.info("stopped")
        return 0


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    try:
        plan = plan_from(argv)
        listeners = open_listeners(plan.host, plan.port, plan.processes)
    except LaunchRefused as refusal:
        print(f"meetings.serve: {refusal}", file=sys.stderr)
        return 2
    return Launcher(plan, listeners).run()


if __name__ == "__main__":
    sys.exit(main())
