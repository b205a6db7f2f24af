"""The CPU time one hub causes, in seconds, growing only: a media worker holds several
conferences' hubs, and the process's CPU does not say which conference costs what.

Measured where the work runs, with per-thread CPU clocks (never wall time, so the waiting of
a loaded machine is not counted):

- **encode**: the hub's jobs in the shared encoding executor (composing the programme,
  encoding a tier), ``time.thread_time()`` around each job inside its worker thread
  (``run``); and the threads libvpx starts for each of the hub's video encoders, which do
  much of the encoding (encoders.VideoEncoder notes them when it opens);
- **loop**: its synchronous steps on the event loop (mixing and encoding the sound,
  packetizing, the recording's tap, resampling its peers' incoming sound),
  ``thread_time()`` around each step between two awaits (``add``);
- **decode**: aiortc decodes each incoming track in a thread of its own (``decoder_threads``).

The clocks of those threads (libvpx's and aiortc's) are read from the loop every few seconds
and when a peer leaves (``sample_threads``), and what each grew by is added.

Not counted: what aiortc does on the event loop for each connection (ICE, DTLS, encrypting
and sending the packets, RTCP), which is no step of the hub's, and the helper threads libvpx
starts for aiortc's decoders (idle on streams of one token partition, as browsers send them:
so they were in tests/media's runs); both are in the process's CPU only.
"""

import os
import threading
import time
from collections.abc import Iterable


class HubCpu:
    def __init__(self) -> None:
        self._lock = threading.Lock()  # a hub's encoding jobs add from several threads at once
        self.encode = 0.0
        self.loop = 0.0
        self.decode = 0.0
        self._threads: dict[int, float] = {}  # native thread id -> its CPU time when last read

    @property
    def seconds(self) -> float:
        return self.encode + self.loop + self.decode

    def run(self, function, *args):
        """``function(*args)``, in an executor's worker thread, its CPU time counted."""
        started = time.thread_time()
        try:
            return function(*args)
        finally:
            spent = time.thread_time() - started
            with self._lock:
                self.encode += spent

    def add(self, started: float) -> None:
        """Count the loop's CPU time since ``started`` (a ``time.thread_time()``), on the loop."""
        self.loop += time.thread_time() - started

    def sample_threads(self, *, encoding: Iterable[int], decoding: Iterable[int]) -> None:
        """Add what the given threads (native ids: all of the hub's now) spent since they were
        last read; forget those no longer given. A thread is given only while it belongs to
        the hub: an encoder's while the encoder lives (as long as the hub), a decoder's while
        aiortc has it on its receiver (it ends it from the loop, where this runs)."""
        seen: dict[int, float] = {}
        grown = {"encode": 0.0, "decode": 0.0}
        for part, ids in (("encode", encoding), ("decode", decoding)):
            for native_id in ids:
                now = thread_cpu(native_id)
                if now is None:
                    continue
                grown[part] += max(0.0, now - self._threads.get(native_id, 0.0))
                seen[native_id] = now
        self._threads = seen
        with self._lock:
            self.encode += grown["encode"]
        self.decode += grown["decode"]


def thread_cpu(native_id: int) -> float | None:
    """The CPU time of a thread of this process, by its native (kernel) id; None if it ended
    (or on a system without per-thread clocks). The clock's id is the one glibc's
    ``pthread_getcpuclockid`` makes (MAKE_THREAD_CPUCLOCK: a per-thread CPUCLOCK_SCHED clock),
    made here from the kernel's id, as libvpx's threads have no Python handle; the kernel
    checks it names a live thread of the process. (tests/media/test_hub_cpu.py compares it
    with time.pthread_getcpuclockid's.)"""
    try:
        return time.clock_gettime((~native_id << 3) | 6)
    except (OSError, OverflowError, AttributeError):
        return None


def native_threads() -> set[int]:
    """The native ids of this process's threads (none where there is no /proc)."""
    try:
        return {int(name) for name in os.listdir("/proc/self/task")}
    except OSError:
        return set()


def decoder_threads(pc) -> list[threading.Thread]:
    """The threads in which aiortc decodes a connection's incoming tracks, one per receiver
    that has started. aiortc keeps each in a private attribute of RTCRtpReceiver (aiortc is
    pinned exactly); if it goes or changes, none is found and decoding counts 0 (while
    tests/media/test_hub_cpu.py fails: it wants one for a peer that sends video)."""
    threads = []
    for receiver in pc.getReceivers():
        thread = getattr(receiver, "_RTCRtpReceiver__decoder_thread", None)
        if isinstance(thread, threading.Thread):
            threads.append(thread)
    return threads
