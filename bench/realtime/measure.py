"""What the realtime benchmark computes from what it measured: processes' CPU, latency
percentiles, frames per window, and whether a step saturated the server or the generators."""

import contextlib
import time

import numpy as np
import psutil

SATURATED_CPU_PERCENT = 90  # a core this busy has no room left
BEHIND_P99_MS = 1000  # frames this late are queueing: the server is not keeping up
OTHER_WORK_PERCENT = 20  # others took this much of the cores: a late frame may be theirs


class Usage:
    """CPU (% of one core, summed over processes) and peak memory of a set of processes, from
    begin() to freeze()."""

    def __init__(self, pids: list[int]):
        self.processes = []
        for pid in pids:
            with contextlib.suppress(psutil.NoSuchProcess):
                self.processes.append(psutil.Process(pid))
        self.rss_peak = 0
        self.frozen: tuple[float, float] | None = None
        self.begin()

    def begin(self) -> None:
        self.started, self.cpu, self.frozen = time.monotonic(), self._cpu(), None

    def _cpu(self) -> float:
        """A process that has ended counts with the CPU it had used when last seen."""
        if not hasattr(self, "last_seen"):
            self.last_seen: dict[int, float] = {}
        for process in self.processes:
            try:
                times = process.cpu_times()
                self.last_seen[process.pid] = times.user + times.system
            except psutil.NoSuchProcess:
                pass
        return sum(self.last_seen.values())

    def add(self, pids: list[int]) -> None:
        """Processes started since begin() (a restarted server): all their CPU counts."""
        known = {process.pid for process in self.processes}
        for pid in pids:
            if pid not in known:
                with contextlib.suppress(psutil.NoSuchProcess):
                    self.processes.append(psutil.Process(pid))

    def sample(self) -> None:
        rss = 0
        for process in self.processes:
            with contextlib.suppress(psutil.NoSuchProcess):
                rss += process.memory_info().rss
        self.rss_peak = max(self.rss_peak, rss)

    def freeze(self) -> None:
        """The CPU used from begin() until now; later calls change nothing."""
        if self.frozen is None:
            self.sample()
            self.frozen = (time.monotonic() - self.started, self._cpu() - self.cpu)

    @property
    def cpu_seconds(self) -> float:
        self.freeze()
        return self.frozen[1]

    @property
    def percent(self) -> float:
        self.freeze()
        seconds, cpu = self.frozen
        return round(cpu / seconds * 100, 1) if seconds > 0 else 0.0

    @property
    def rss_mib(self) -> float:
        return round(self.rss_peak / 2**20, 1)


class CoreUsage:
    """How busy each core was from begin() to freeze(), in %: beside the processes' own CPU it
    shows what else ran on the cores (other work on a shared machine takes from the figures)."""

    def __init__(self):
        self.begin()

    @staticmethod
    def _busy() -> list[tuple[float, float]]:
        return [
            (sum(times) - times.idle - getattr(times, "iowait", 0.0), sum(times))
            for times in psutil.cpu_times(percpu=True)
        ]

    def begin(self) -> None:
        self.start, self.frozen = self._busy(), None

    def sample(self) -> None:
        pass  # the counters are read at begin() and freeze()

    def freeze(self) -> None:
        if self.frozen is None:
            self.frozen = [
                round((busy - busy0) / (total - total0) * 100, 1) if total > total0 else 0.0
                for (busy0, total0), (busy, total) in zip(self.start, self._busy(), strict=True)
            ]

    @property
    def percents(self) -> list[float]:
        self.freeze()
        return self.frozen


def percentiles(values: np.ndarray, missing: int = 0) -> dict:
    """p50/p95/p99 in ms; what never arrived counts as slower than everything that did, so a
    percentile that falls among the missing is null."""
    total = len(values) + missing
    result = {"n": len(values), "missing": int(missing)}
    if total < 20:
        return result
    ordered = np.sort(values)
    for name, q in (("p50", 50), ("p95", 95), ("p99", 99)):
        rank = int(np.ceil(q / 100 * total)) - 1
        result[name] = round(float(ordered[rank]) * 1000, 1) if rank < len(ordered) else None
    return result


def p99_over(latency: dict, bound_ms: float) -> bool:
    """Whether p99 passed the bound; too few samples to say is not passing."""
    if "p99" not in latency:
        return False
    return latency["p99"] is None or latency["p99"] > bound_ms


def frames_between(seconds: dict[int, list[int]], start: float, end: float) -> tuple[int, int]:
    """Frames and events the clients received in [start, end), from per-second counts (steps
    start and end on whole seconds)."""
    frames = events = 0
    for second, (f, e) in seconds.items():
        if start <= second < end:
            frames += f
            events += e
    return frames, events


def saturation(row: dict) -> str | None:
    """What limited a step: the server's core, the generators' core, the server falling behind
    (its frames queueing) before its core was full, or other work on the machine taking the
    cores from them; None if nothing did."""
    if row["server_cpu_percent"] >= SATURATED_CPU_PERCENT:
        if row["generators_cpu_percent"] >= SATURATED_CPU_PERCENT:
            return "server and generator cores"  # the frames counted may lag the frames sent
        return "server core"
    if row["generators_cpu_percent"] >= SATURATED_CPU_PERCENT:
        return "generator core"
    if any(
        p99_over(row[key], BEHIND_P99_MS)
        for key in ("approve_to_staff_and_kiosks_ms", "approve_to_phones_ms")
    ):
        if row.get("other_work_percent", 0) >= OTHER_WORK_PERCENT:
            return "other work on the cores"
        return "server behind"
    return None


def other_work(cores_busy: list[float], ours: float) -> float:
    """The CPU, in % of a core, that processes other than ours (servers, generators, and the
    services mode's PostgreSQL and Redis) took from the two cores meanwhile."""
    return round(max(sum(cores_busy) - ours, 0.0), 1)
