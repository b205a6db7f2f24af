"""The machine a benchmark ran on, as its results record it: CPU model, cores, memory, Python."""

import os
import platform
from pathlib import Path


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _memory_gib() -> str:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 1024**2:.0f} GiB"
    except OSError:
        pass
    return "? GiB"


def describe() -> str:
    """'Intel(R) Xeon(R) … (x86_64), 2 cores, 24 GiB, Linux 6.1, Python 3.11.7'."""
    return (
        f"{_cpu_model()} ({platform.machine()}), {os.cpu_count()} cores, {_memory_gib()}, "
        f"{platform.system()} {platform.release().split('-')[0]}, "
        f"Python {platform.python_version()}"
    )
