"""A hall's network is cut for ten seconds; its kiosk comes back by itself.

The hall is a network namespace whose only link to the server is a veth pair (servers.
HallNetwork); Chromium runs inside it (Playwright starts it through a wrapper that runs
``ip netns exec``; its pipe to Playwright does not go through the network). Daphne listens on
the server's end of the link, and the media worker's hub offers that address for ICE, so the
programme reaches the kiosk over the link too.

The kiosk shows the programme and is live. The link goes down for ten seconds: meanwhile a
voter of another hall asks a question, the chair approves it and puts it on air, and records
this hall's attendance. The link comes back. With nobody touching the kiosk, it must show its
connection live again, show the question on air and the attendance, hold every event of its
audience, take an event made after the cut, and decode the programme again.
"""

import time
import uuid

import pytest
import requests
from playwright.sync_api import Page, expect

from tests import chromium
from tests.chromium import CHROMIUM
from tests.faults.clients import Account

pytestmark = pytest.mark.services

CUT_SECONDS = 10
WAIT_MS = 90_000  # generous: a loaded two-core machine

# What the kiosk's media link is doing, from the browser's own statistics; and the connection
# indicator's states and the stream's welcomes since the recorder was installed.
LINK_STATS = """async () => {
  const link = window.__media;
  const video = document.querySelector('[data-testid="programme-video"]');
  const out = { state: link.state, decoded: 0, time: video ? video.currentTime : 0,
                seq: link.stream.seq, welcomes: window.__faults.welcomes,
                indicator: window.__faults.indicator };
  if (link.pc) (await link.pc.getStats()).forEach((report) => {
    if (report.type === "inbound-rtp" && report.kind === "video") {
      out.decoded += report.framesDecoded || 0;
    }
  });
  return out;
}"""
RECORDER = """() => {
  const element = document.querySelector('[data-testid="connection"]');
  window.__faults = { welcomes: 0, indicator: [element.dataset.state] };
  new MutationObserver(() => window.__faults.indicator.push(element.dataset.state))
    .observe(element, { attributes: true, attributeFilter: ["data-state"] });
  window.__media.stream.on("welcome", () => { window.__faults.welcomes += 1; });
}"""


def link_stats(page: Page) -> dict:
    return page.evaluate(LINK_STATS)


def wait_for(page: Page, condition, what: str, timeout_ms: int = WAIT_MS) -> dict:
    deadline = time.monotonic() + timeout_ms / 1000
    stats = link_stats(page)
    while not condition(stats):
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout_ms // 1000}s; last {stats}")
        page.wait_for_timeout(250)
        stats = link_stats(page)
    return stats


def plays(page: Page, what: str) -> dict:
    """The programme is decoded and keeps being decoded, and the picture's clock runs."""
    first = wait_for(page, lambda s: s["state"] == "live" and s["decoded"] > 0, what)
    return wait_for(
        page,
        lambda s: s["decoded"] > first["decoded"] + 10 and s["time"] > first["time"],
        f"{what}, and goes on",
    )


def halls_head(platform) -> int:
    rows = platform.query(
        "SELECT last_public, last_halls FROM rooms_eventloghead WHERE meeting_id = %s",
        (platform.meeting_id,),
    )
    return max(rows[0])


def test_a_kiosk_comes_back_after_its_hall_network_is_cut(hall_network, platform_factory, tmp_path):
    from playwright.sync_api import sync_playwright

    platform = platform_factory(nodes=1, media_workers=1, host=hall_network.host_address)
    node = platform.nodes[0]
    api = f"/api/meetings/{platform.slug}"
    kiosk_hall, voter_hall = platform.halls[1], platform.halls[2]
    chair = Account(node.base_url, "chair", platform.chair_password)
    assert chair.post(node.base_url, f"{api}/status", {"status": "live"}).ok

    wrapper = hall_network.wrapper(tmp_path / "chromium-in-hall", CHROMIUM)
    uncaught: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(wrapper),
            headless=True,
            # Plain http at the link's address: let the kiosk use its camera there as on https
            # (a page that is not secure also hides its ICE addresses behind mDNS names).
            args=[*chromium.ARGS, f"--unsafely-treat-insecure-origin-as-secure={node.base_url}"],
        )
        try:
            page = browser.new_context(viewport={"width": 1280, "height": 720}).new_page()
            page.on("pageerror", lambda error: uncaught.append(str(error)))
            page.goto(kiosk_hall["kiosk"])
            connection = page.get_by_test_id("connection")
            expect(connection).to_have_attribute("data-state", "live", timeout=WAIT_MS)
            page.evaluate(RECORDER)
            plays(page, "the kiosk plays the programme")

            # The cut. The meeting goes on without the hall.
            hall_network.cut()
            cut_at = time.monotonic()
            text = f"Bao giờ xã có nước sạch? {uuid.uuid4().hex[:6]}"
            voter_link = platform.link_token(voter_hall["phone"])
            device = requests.post(
                f"{node.base_url}{api}/device", headers={"X-Join-Link": voter_link}, timeout=30
            )
            assert device.status_code == 201, device.text
            answer = requests.post(
                f"{node.base_url}{api}/questions",
                json={"client_id": str(uuid.uuid4()), "text": text},
                headers={"X-Join-Link": voter_link, "X-Device-Id": device.json()["device"]},
                timeout=30,
            )
            assert answer.status_code == 201, answer.text
            question = answer.json()["question"]["id"]
            for action in ("approve", "on-air"):
                done = chair.post(node.base_url, f"{api}/questions/{question}/{action}")
                assert done.ok, done.text
            done = chair.post(
                node.base_url, f"{api}/halls/{kiosk_hall['id']}/attendance", {"count": 57}
            )
            assert done.ok, done.text
            during = link_stats(page)
            page.wait_for_timeout(max(0, CUT_SECONDS - (time.monotonic() - cut_at)) * 1000)
            # Nothing reached the hall meanwhile, and its screen says it is cut off.
            assert page.get_by_test_id("kiosk-on-air").is_hidden()
            assert page.get_by_test_id("connection").get_attribute("data-state") != "live"
            hall_network.restore()
            restored_at = time.monotonic()

            # Back by itself: live again, with what happened during the cut.
            expect(connection).to_have_attribute("data-state", "live", timeout=WAIT_MS)
            live_again = time.monotonic() - restored_at
            expect(page.get_by_test_id("kiosk-on-air-text")).to_have_text(text, timeout=WAIT_MS)
            expect(page.get_by_test_id("attendance-input")).to_have_value("57")
            after = wait_for(
                page,
                lambda s: s["seq"] == halls_head(platform),
                "the kiosk holds every event of its audience",
            )
            assert after["welcomes"] >= 1, "the kiosk's stream never reconnected"
            assert "offline" in after["indicator"], after["indicator"]
            assert after["indicator"][-1] == "live"

            # And keeps up: an event after the cut arrives, and the programme plays again.
            done = chair.post(
                node.base_url, f"{api}/halls/{kiosk_hall['id']}/attendance", {"count": 58}
            )
            assert done.ok, done.text
            expect(page.get_by_test_id("attendance-input")).to_have_value("58", timeout=WAIT_MS)
            plays(page, "the kiosk plays the programme again after the cut")
            print(
                f"live again {live_again:.1f}s after the link returned, playing again "
                f"{time.monotonic() - restored_at:.1f}s after; during the cut: {during}"
            )
        finally:
            browser.close()
    assert not uncaught, uncaught
