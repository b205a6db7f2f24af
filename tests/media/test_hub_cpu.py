"""Each hub counts the CPU time it causes (meetings/rooms/media/cpu.py), and /metrics gives it
per conference: two hubs of one manager share its encoding threads, one with a studio sending
video to halls, one with nobody. Real aiortc peers over loopback, as in test_hub; what is
asserted are relations between CPU amounts, never times."""

import os
import threading
import time

from prometheus_client import generate_latest
from prometheus_client.core import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from meetings.rooms.media.cpu import decoder_threads, native_threads, thread_cpu
from meetings.rooms.media.hub import Role
from meetings.rooms.media.manager import HubManager
from meetings.rooms.media.tiers import Tier
from tests.media.peers import ColourTrack, ToneTrack
from tests.media.test_hub import MEASURED_FRAMES, STUDIO_HZ, STUDIO_RGB, Meeting, wait_for

BUSY, IDLE = 9101, 9102  # meeting ids no other test's hub has
# The busy hub decodes, composes and encodes 25 pictures a second and mixes the sound; the
# idle one only wakes its clocks to find nothing to do. In this test's runs the busy one spent
# hundreds of times as much; a factor well below that holds on any machine.
CLEARLY_MORE = 10


def hub_cpu_at_metrics() -> dict[str, float]:
    """meetings_media_hub_cpu_seconds_total by meeting, as /metrics gives it."""
    found = {}
    for family in text_string_to_metric_families(generate_latest(REGISTRY).decode()):
        for sample in family.samples:
            if sample.name == "meetings_media_hub_cpu_seconds_total":
                found[sample.labels["meeting"]] = sample.value
    return found


async def nothing(*args):
    pass


async def test_a_busy_hub_counts_clearly_more_cpu_than_an_idle_one_and_metrics_say_so():
    manager = HubManager(send=nothing, group_send=nothing)
    busy = Meeting(manager.executor, meeting_id=BUSY)
    idle = Meeting(manager.executor, meeting_id=IDLE)
    # The hubs as the manager holds them (it would start them on the first offer, from the
    # database; these need none).
    manager.hubs.update({BUSY: busy.hub, IDLE: idle.hub})
    try:
        async with busy, idle:
            await busy.join(
                "studio", Role.STUDIO, 10, video=ColourTrack(STUDIO_RGB), audio=ToneTrack(STUDIO_HZ)
            )
            halls = [await busy.join(f"hall{n}", Role.HALL, n) for n in (1, 2)]
            for hall in halls:
                await wait_for(lambda hall=hall: len(hall.receiver.frames) > 5)

            # aiortc decodes the studio's camera (and microphone) in threads of its own, found
            # through its receivers: none found would mean aiortc changed under cpu.py.
            peer = busy.hub.peers["studio"]
            threads = decoder_threads(peer.pc)
            assert any(t.name == "video-decoder" for t in threads), threads
            assert all(isinstance(t, threading.Thread) and t.is_alive() for t in threads)
            # libvpx encodes in threads of its own too (how many: by the number of cores),
            # noted when the encoder opened.
            if os.cpu_count() > 1:
                assert busy.hub.video_encoders[Tier.HIGH].threads

            before = {BUSY: busy.hub.cpu.seconds, IDLE: idle.hub.cpu.seconds}
            decoded = busy.hub.cpu.decode
            frames = busy.hub.frames_composed
            await wait_for(lambda: busy.hub.frames_composed >= frames + MEASURED_FRAMES)
            # The decoders' CPU is read on the hub's watch (every STATS_EVERY_SECONDS).
            await wait_for(lambda: busy.hub.cpu.decode > decoded)
            grown = {
                BUSY: busy.hub.cpu.seconds - before[BUSY],
                IDLE: idle.hub.cpu.seconds - before[IDLE],
            }
            cpu = busy.hub.cpu
            assert cpu.encode > 0 and cpu.loop > 0 and cpu.decode > 0
            assert grown[BUSY] > 0
            assert grown[BUSY] > CLEARLY_MORE * grown[IDLE], grown

            at_metrics = hub_cpu_at_metrics()
            assert set(at_metrics) >= {str(BUSY), str(IDLE)}
            assert at_metrics[str(BUSY)] >= before[BUSY] + grown[BUSY]
            assert at_metrics[str(BUSY)] > at_metrics[str(IDLE)]

            # A peer that leaves has its decoding counted up to then; the counter only grows.
            counted = busy.hub.cpu.seconds
            await busy.hub.leave("studio")
            assert busy.hub.cpu.seconds >= counted
    finally:
        manager.hubs.clear()
        await manager.close()
    # A hub that ended drops out of /metrics.
    assert not {str(BUSY), str(IDLE)} & set(hub_cpu_at_metrics())


def test_a_thread_clock_by_native_id_is_the_one_pthread_getcpuclockid_gives():
    thread = threading.current_thread()
    clock = time.pthread_getcpuclockid(thread.ident)
    before = time.clock_gettime(clock)
    by_native_id = thread_cpu(thread.native_id)
    after = time.clock_gettime(clock)
    assert by_native_id is not None and before <= by_native_id <= after
    ended = threading.Thread(target=lambda: None)
    ended.start()
    ended.join()  # returns as the thread finishes, a moment before the kernel's thread ends
    deadline = time.monotonic() + 30
    while ended.native_id in native_threads():
        assert time.monotonic() < deadline
        time.sleep(0.01)
    assert thread_cpu(ended.native_id) is None
