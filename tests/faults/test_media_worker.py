"""The media worker is killed (SIGKILL) during a live conference: the halls are back on the
programme on a new worker, each told to rebuild rather than left to notice, and the recording
goes on in a new part.

One Daphne node and one media worker (conftest's ``platform_factory``). The studio's kiosk
sends a test card and a tone; two halls' kiosks decode the programme. They are aiortc peers
that speak the real signalling over the websocket and follow frontend/js/media.js's MediaLink
step for step (media_support.py). The conference is live, so the hub records the programme.

The worker is killed with SIGKILL and a new one started at once, as a supervisor does (compose's
``restart: unless-stopped``). The new worker tells the meeting's screens ``media.restarted``
and starts the live meeting's hub (media/manager.py, ``HubManager.resume``); the screens offer
again at once; one hall also offered while no worker ran, so it gets two answers and must take
the one to its latest offer. Printed, not asserted: from the kill to each screen's first frame
of the studio's picture on its new connection (most of it is the new worker's own start). The
interrupted part is closed as interrupted (its file decodes up to about the kill), a new part
grows, and stopping the worker closes that one complete.

The second test does the same with a hall's real kiosk page in Chromium (frontend/js/media.js
itself): it rebuilds once, because it was told, and shows the studio again.
"""

import asyncio
import hashlib
import json
import os
import shutil
import time
from pathlib import Path

import av
import pytest

from meetings.rooms.media.ice import use_host_addresses
from tests import chromium
from tests.chromium import CHROMIUM
from tests.faults.clients import Account, wait_until
from tests.faults.media_support import MediaKiosk, near
from tests.media.test_recording import last_decoded_second

pytestmark = pytest.mark.services

STUDIO_RGB, STUDIO_HZ = (220, 30, 30), 440
HEARD = 0.05  # share of the sound's energy at the studio's tone (tests/media/test_hub.py)
RECORDED_BEFORE_KILL = 3.0  # seconds of programme in the first part before the kill


@pytest.fixture(autouse=True)
def loopback_ice():
    """The test's aiortc peers offer 127.0.0.1 (aioice leaves loopback out)."""
    use_host_addresses(["127.0.0.1"])
    yield
    use_host_addresses([])


def decoded_seconds(path: Path) -> float:
    """How far a part decodes (0 while it holds no cluster yet)."""
    try:
        return last_decoded_second(path) if path.exists() else 0.0
    except av.error.FFmpegError:
        return 0.0


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


async def wait_for_log(worker, text: str, *, timeout: float = 60) -> None:
    await wait_until(
        lambda: text in worker.log_path.read_text(errors="replace") or not worker.alive,
        timeout=timeout,
        what=f"{worker.name} says {text!r}",
    )
    assert worker.alive, worker.log_tail()


def recording_parts(platform) -> list[tuple]:
    return platform.query(
        "SELECT part, status, file, size, sha256 FROM rooms_recording"
        " WHERE meeting_id = %s ORDER BY part",
        (platform.meeting_id,),
    )


async def test_a_killed_media_worker_is_replaced_and_the_halls_and_recording_come_back(
    platform_factory,
):
    platform = await asyncio.to_thread(platform_factory, nodes=1, media_workers=1)
    worker, node = platform.workers[0], platform.nodes[0]
    media_root = Path(platform.env["VAR_DIR"]) / "media"
    await wait_for_log(worker, "listening on media.0")
    chair = await asyncio.to_thread(Account, node.base_url, "chair", platform.chair_password)
    answer = await asyncio.to_thread(
        chair.post, node.base_url, f"/api/meetings/{platform.slug}/status", {"status": "live"}
    )
    assert answer.ok, answer.text

    studio = MediaKiosk(platform, platform.halls[0], studio=(STUDIO_RGB, STUDIO_HZ))
    halls = [MediaKiosk(platform, hall) for hall in platform.halls[1:3]]
    screens = [studio, *halls]
    try:
        for screen in screens:
            await screen.start()

        # Before: every screen shows the studio, the halls hear it, the programme is recorded.
        started = time.monotonic()
        await wait_until(
            lambda: all(
                s.link.first_picture(after=started, since_connection=0, rgb=STUDIO_RGB)
                for s in screens
            ),
            timeout=60,
            what="every screen decodes the studio's picture",
        )
        await wait_until(
            lambda: all(h.link.tone_strength(STUDIO_HZ, since_connection=0) > HEARD for h in halls),
            timeout=30,
            what="the halls hear the studio",
        )
        await wait_until(
            lambda: [row[:2] for row in recording_parts(platform)] == [(1, "recording")],
            timeout=30,
            what="the first part is being recorded",
        )
        # The worker's health file (compose's health check reads it) names its hub and peers.
        health_file = Path(platform.env["VAR_DIR"]) / "media-worker-0.json"
        await wait_until(
            lambda: (
                health_file.exists()
                and [hub["peers"] for hub in json.loads(health_file.read_text())["hubs"]] == [3]
            ),
            timeout=30,
            what="the worker's health file reports one hub with the studio and two halls",
        )
        first_file = media_root / recording_parts(platform)[0][2]
        await wait_until(
            lambda: decoded_seconds(first_file) >= RECORDED_BEFORE_KILL,
            timeout=30,
            what=f"{RECORDED_BEFORE_KILL} s of programme in the first part",
        )

        # The kill, and the supervisor's restart. Meanwhile one hall offers again at once (as
        # a kiosk does whose connection reported the failure first): that offer waits in Redis
        # for the new worker, which answers it as well as the offer the hall makes when told
        # the hub restarted; the hall must take the answer to its latest offer only.
        connections = {screen: screen.link.generation for screen in screens}
        killed_at = time.monotonic()
        await asyncio.to_thread(worker.kill)
        await halls[1].link.build()
        await asyncio.to_thread(worker.start)

        await wait_until(
            lambda: all(
                s.link.first_picture(
                    after=killed_at, since_connection=connections[s], rgb=STUDIO_RGB
                )
                for s in screens
            ),
            timeout=60,
            what="every screen shows the studio again after the kill",
        )
        recovery = {
            s.name: s.link.first_picture(
                after=killed_at, since_connection=connections[s], rgb=STUDIO_RGB
            ).at
            - killed_at
            for s in screens
        }
        print(
            "recovery after SIGKILL (s): "
            + ", ".join(f"{name}: {seconds:.2f}" for name, seconds in recovery.items())
            + "; rebuild reasons: "
            + "; ".join(f"{s.name}: {s.link.retry_reasons}" for s in screens)
        )
        for screen in screens:
            print(
                f"  {screen.name}: "
                + ", ".join(f"{at - killed_at:+.2f} {what}" for at, what in screen.link.timeline)
            )
        # The time is printed, not asserted (timings belong in bench/, and a shared CI core
        # moves them by seconds); what must hold is that every screen came back (above).
        # Each screen was told (and did not wait to notice by itself).
        assert all("the hub restarted" in s.link.retry_reasons for s in screens)
        await wait_until(
            lambda: all(s.link.state == "live" for s in screens),
            timeout=10,
            what="every screen's link says live",
        )
        # They keep decoding, and hear the studio again.
        counts = {s: s.link.decoded[s.link.generation] for s in screens}
        await wait_until(
            lambda: all(s.link.decoded[s.link.generation] > counts[s] + 10 for s in screens),
            timeout=20,
            what="every screen keeps decoding the programme",
        )
        await wait_until(
            lambda: all(
                h.link.tone_strength(STUDIO_HZ, since_connection=connections[h]) > HEARD
                for h in halls
            ),
            timeout=30,
            what="the halls hear the studio again",
        )
        assert near(halls[0].link.pictures[-1].centre, STUDIO_RGB)

        # The recording: the interrupted part closed as such, a new part growing.
        await wait_until(
            lambda: (
                [row[:2] for row in recording_parts(platform)]
                == [(1, "interrupted"), (2, "recording")]
            ),
            timeout=30,
            what="part 1 interrupted, part 2 recording",
        )
        (_, _, file_1, size_1, sha_1), (_, _, file_2, _, _) = recording_parts(platform)
        first_file, second_file = media_root / file_1, media_root / file_2
        assert size_1 == first_file.stat().st_size and sha_1 == sha256_of(first_file)
        assert decoded_seconds(first_file) >= RECORDED_BEFORE_KILL
        await wait_until(
            lambda: decoded_seconds(second_file) >= 2.0,
            timeout=30,
            what="the second part records the programme",
        )
        size_then = second_file.stat().st_size
        await wait_until(
            lambda: second_file.stat().st_size > size_then,
            timeout=15,
            what="the second part grows",
        )

        # A graceful stop closes the second part complete, on the record with its checksum.
        await asyncio.to_thread(worker.stop)
        (_, status_1, *_), (_, status_2, _, size_2, sha_2) = recording_parts(platform)
        assert (status_1, status_2) == ("interrupted", "complete")
        assert size_2 == second_file.stat().st_size and sha_2 == sha256_of(second_file)
        closed = platform.query(
            "SELECT payload->>'part', payload->>'status' FROM rooms_event"
            " WHERE meeting_id = %s AND type = 'recording.part_closed' ORDER BY seq",
            (platform.meeting_id,),
        )
        assert closed == [("1", "interrupted"), ("2", "complete")]
    finally:
        for screen in screens:
            await screen.stop()


# --- the same in Chromium: the real kiosk page and frontend/js/media.js ---------------------

# The kiosk's media link (window.__media): its rebuilds, why it last rebuilt, the frames its
# current connection decoded, and the colour at the centre of the programme on the screen.
KIOSK_LINK = """async () => {
  const link = window.__media;
  // The kiosk starts its media once it holds its hall (kiosk-session.js): none yet.
  if (!link) return { state: null, rebuilds: 0, reason: null, decoded: 0, centre: null };
  const video = document.querySelector('[data-bind="programme"]');
  const out = { state: link.state, rebuilds: link.rebuilds, reason: link.lastRetryReason ?? null,
                decoded: 0, centre: null };
  if (video.videoWidth) {
    const canvas = document.createElement("canvas");
    canvas.width = canvas.height = 1;
    const context = canvas.getContext("2d");
    context.drawImage(video, video.videoWidth / 2, video.videoHeight / 2, 1, 1, 0, 0, 1, 1);
    out.centre = Array.from(context.getImageData(0, 0, 1, 1).data.slice(0, 3));
  }
  if (!link.pc) return out;
  (await link.pc.getStats()).forEach((report) => {
    if (report.type === "inbound-rtp" && report.kind === "video") {
      out.decoded += report.framesDecoded || 0;
    }
  });
  return out;
}"""

# When the page got media.restarted and media.answer and sent media.offer (Date.now()).
WATCH_SIGNALLING = """() => {
  const stream = window.__media.stream;
  window.__signalling = [];
  const note = (what) => window.__signalling.push([what, Date.now()]);
  for (const type of ["media.restarted", "media.answer"]) stream.on(type, () => note(type));
  const send = stream.send.bind(stream);
  stream.send = (frame) => {
    if (frame.type === "media.offer") note("media.offer");
    return send(frame);
  };
}"""


async def poll_page(page, condition, *, timeout: float, what: str) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        stats = await page.evaluate(KIOSK_LINK)
        if condition(stats):
            return stats
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout:.0f}s: {what}; last {stats}")
        await asyncio.sleep(0.1)


@pytest.mark.browser
async def test_a_kiosk_in_chromium_offers_again_at_once_when_the_worker_restarts(
    platform_factory,
):
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail(f"REQUIRE_BROWSER=1 but no Chromium at {CHROMIUM}")
        pytest.skip(f"Chromium not found at {CHROMIUM}")
    from playwright.async_api import async_playwright

    platform = await asyncio.to_thread(platform_factory, nodes=1, media_workers=1)
    worker, node = platform.workers[0], platform.nodes[0]
    await wait_for_log(worker, "listening on media.0")
    chair = await asyncio.to_thread(Account, node.base_url, "chair", platform.chair_password)
    answer = await asyncio.to_thread(
        chair.post, node.base_url, f"/api/meetings/{platform.slug}/status", {"status": "live"}
    )
    assert answer.ok, answer.text
    studio = MediaKiosk(platform, platform.halls[0], studio=(STUDIO_RGB, STUDIO_HZ))
    await studio.start()
    try:
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=chromium.LOOPBACK_ARGS
            )
            page = await browser.new_page()
            await page.goto(platform.halls[1]["kiosk"])
            before = await poll_page(
                page,
                lambda s: s["state"] == "live" and near(s["centre"], STUDIO_RGB),
                timeout=60,
                what="the kiosk shows the studio",
            )

            await page.evaluate(WATCH_SIGNALLING)
            killed_at, killed_wall = time.monotonic(), time.time()
            await asyncio.to_thread(worker.kill)
            await asyncio.to_thread(worker.start)
            after = await poll_page(
                page,
                lambda s: (
                    s["rebuilds"] > before["rebuilds"]
                    and s["decoded"] > 0
                    and near(s["centre"], STUDIO_RGB)
                ),
                timeout=60,
                what="the kiosk decodes the studio on a new connection",
            )
            seconds = time.monotonic() - killed_at
            signalling = await page.evaluate("window.__signalling")
            print(
                f"Chromium kiosk: the studio on the screen {seconds:.2f} s after SIGKILL ("
                + ", ".join(f"{what} {at / 1000 - killed_wall:+.2f}" for what, at in signalling)
                + ")"
            )
            await browser.close()
        # It rebuilt once, because it was told, not because it noticed by itself. The time is
        # printed, not asserted (as in the aiortc test above): Chromium's own
        # start-up of a connection on a shared 2-core machine varies by seconds.
        assert after["reason"] == "the hub restarted"
        assert after["rebuilds"] == before["rebuilds"] + 1
    finally:
        await studio.stop()
