"""A hall whose firewall lets out nothing but TCP: its kiosk, the real page in Chromium, still
receives the programme and sends its picture, through coturn over TLS.

The hall's Chromium runs in a network namespace (tests/turn_network.py) whose nftables let out
TCP to the web server (the page, its API and websocket) and to coturn's TLS port, and drop every
UDP datagram. The deployment lists only ``turns:`` in ICE_SERVERS with TURN_SECRET, as a site
for such halls does; the web node mints the kiosk's credentials and the hub its own. The
studio's kiosk and the chair run in the test's usual Chromium, outside the namespace.

The hall's camera is a file of one flat colour, so the studio's programme shows whether the
hall's picture arrived: the chair gives the hall the floor and the inset turns that colour.
"""

import json
import os
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from tests import chromium
from tests.browser.conftest import Browsing, _free_port, serve_demo
from tests.browser.test_media import (
    API,
    WAIT_SECONDS,
    by_id,
    csrf_headers,
    decodes_more,
    english_page,
    open_kiosk,
    open_meeting_live,
    sign_in_chair,
    wait_for_link,
)
from tests.turn_network import SECRET, TurnSite, allocated_over_tls, sh, turn_site

HALL_RGB = (200, 40, 200)  # a colour Chromium's own fake camera (the studio's) never shows
TOLERANCE = 40  # what encoding twice (the hall's VP8, the programme's) leaves of a flat colour

# The inset's centre as a fraction of the programme (meetings/rooms/media/compositor.py: the
# hall a third of the width, 16 px in from the top right of 640 x 360, at every tier's size).
INSET_CENTRE = ((640 - 224 / 2 - 16) / 640, (126 / 2 + 16) / 360)

# The colour at a point of the programme a page decodes, read off its <video> element.
PROGRAMME_PIXEL = """([x, y]) => {
  const video = document.querySelector('[data-bind="programme"]');
  if (!video || !video.videoWidth) return null;
  const canvas = document.createElement("canvas");
  canvas.width = video.videoWidth;
  canvas.height = video.videoHeight;
  const context = canvas.getContext("2d", { willReadFrequently: true });
  context.drawImage(video, 0, 0);
  const pixel = context.getImageData(Math.round(x * canvas.width),
                                     Math.round(y * canvas.height), 1, 1).data;
  return [pixel[0], pixel[1], pixel[2]];
}"""

# The candidates of the pair ICE chose for the page's link, from the browser's statistics.
CHOSEN_PAIR = """async () => {
  const pc = window.__media?.pc;
  if (!pc) return null;
  const stats = await pc.getStats();
  let pair = null;
  stats.forEach((report) => {
    if (report.type === "transport" && report.selectedCandidatePairId)
      pair = stats.get(report.selectedCandidatePairId);
  });
  if (!pair) return null;
  const local = stats.get(pair.localCandidateId) || {};
  const remote = stats.get(pair.remoteCandidateId) || {};
  return { local: local.candidateType, relay_protocol: local.relayProtocol ?? null,
           remote: remote.candidateType, bytes_received: pair.bytesReceived };
}"""


def flat_colour_y4m(path: Path, rgb: tuple[int, int, int], width=320, height=180) -> Path:
    """A few frames of one colour, in the raw format Chromium's fake camera plays in a loop."""
    r, g, b = rgb  # BT.601, limited range, as Chromium reads I420
    y = round(16 + 0.257 * r + 0.504 * g + 0.098 * b)
    u = round(128 - 0.148 * r - 0.291 * g + 0.439 * b)
    v = round(128 + 0.439 * r - 0.368 * g - 0.071 * b)
    quarter = width * height // 4  # the U and V planes: a quarter of the picture each
    frame = b"FRAME\n" + bytes([y]) * (width * height) + bytes([u]) * quarter + bytes([v]) * quarter
    path.write_bytes(f"YUV4MPEG2 W{width} H{height} F15:1 Ip A1:1 C420jpeg\n".encode() + frame * 15)
    return path


@pytest.fixture(scope="module")
def web_port() -> int:
    """The web server's port, chosen first, so that the hall's firewall lets the page through."""
    return _free_port()


@pytest.fixture(scope="module")
def turn(tmp_path_factory, web_port) -> TurnSite:
    """The hall's network and coturn."""
    with turn_site(tmp_path_factory.mktemp("turn"), tcp_ports=(web_port,)) as site:
        yield site


@pytest.fixture(scope="module")
def daphne_server(chromium_path, turn, web_port, tmp_path_factory):
    """The demo, served on the server's side of the hall's link, with TURN as a site for
    UDP-less halls configures it."""
    with serve_demo(
        tmp_path_factory,
        extra_env={
            "ICE_SERVERS": json.dumps(turn.ice_servers),
            "TURN_SECRET": SECRET,
            # The hub offers the link's address, which the hall's firewall keeps it from.
            "MEDIA_HOST_ADDRESSES": turn.network.server,
            # The hub's TLS to coturn trusts the test's throwaway certificate.
            "SSL_CERT_FILE": str(turn.cert),
        },
        host=turn.network.server,
        port=web_port,
    ) as server:
        yield server


def trusting_home(directory: Path, cert: Path) -> Path:
    """A home directory whose NSS database trusts the TURN server's throwaway certificate, as
    a hall's browser trusts the site's: Chromium checks the certificate of a ``turns:`` server
    and, without this, drops the TLS connection and never gathers a relay."""
    home = directory / "home"
    database = home / ".pki" / "nssdb"
    database.mkdir(parents=True)
    sh("certutil", "-N", "-d", f"sql:{database}", "--empty-password")
    sh("certutil", "-A", "-d", f"sql:{database}", "-n", "turn-test", "-t", "C,,", "-i", str(cert))
    return home


def launch(browser, executable: str, server, home: Path, *args: str):
    """A further Chromium, from the tests' Playwright. The pages come over plain HTTP from the
    link's address: let them use the camera there as on https (or the camera is refused and
    ICE addresses hide behind mDNS names)."""
    return browser.browser_type.launch(
        executable_path=executable,
        headless=True,
        env={**os.environ, "HOME": str(home)},
        args=[
            *chromium.ARGS,
            f"--unsafely-treat-insecure-origin-as-secure={server.base_url}",
            *args,
        ],
    )


def shows_the_hall(page: Page, what: str) -> None:
    """Waits until the programme ``page`` decodes has the hall's colour in its inset."""
    try:
        page.wait_for_function(
            f"""() => {{
              const colour = ({PROGRAMME_PIXEL})({json.dumps(INSET_CENTRE)});
              const expected = {json.dumps(HALL_RGB)};
              return colour !== null
                && colour.every((c, i) => Math.abs(c - expected[i]) <= {TOLERANCE});
            }}""",
            timeout=WAIT_SECONDS * 1000,
        )
    except PlaywrightTimeout as error:  # say what was seen instead
        seen = page.evaluate(PROGRAMME_PIXEL, list(INSET_CENTRE))
        raise AssertionError(f"{what}: no hall in the inset; the inset shows {seen}") from error


def chosen_pair(page: Page) -> dict | None:
    return page.evaluate(CHOSEN_PAIR)


def test_a_kiosk_with_no_udp_reaches_the_hub_through_turn_over_tls(
    daphne_server, turn, browser, tmp_path, artifacts
):
    studio_hall, hall = daphne_server.halls[0], daphne_server.halls[1]
    home = trusting_home(tmp_path, turn.cert)
    # The studio and the chair, outside the namespace, with Chromium's own fake camera.
    outside = launch(browser, chromium.CHROMIUM, daphne_server, home)
    # The hall, inside, its camera a file of its flat colour.
    camera = flat_colour_y4m(tmp_path / "hall.y4m", HALL_RGB)
    wrapper = turn.network.wrapper(tmp_path, chromium.CHROMIUM)
    inside = launch(
        browser, str(wrapper), daphne_server, home, f"--use-file-for-fake-video-capture={camera}"
    )
    studios = Browsing(outside, daphne_server.base_url, daphne_server.screens)
    halls = Browsing(inside, daphne_server.base_url, daphne_server.screens)
    chair = None
    try:
        chair = sign_in_chair(studios, daphne_server)
        open_meeting_live(chair)
        studio = open_kiosk(studios, daphne_server, studio_hall)
        wait_for_link(studio, lambda s: s["sending"] and s["sent"] > 0, "the studio sends")

        kiosk = english_page(halls, daphne_server)
        kiosk.goto(hall["kiosk"])
        expect(by_id(kiosk, "connection")).to_have_attribute("data-state", "live")

        # The programme arrives, over the only way out: a relay, reached over TLS.
        decodes_more(kiosk, "the hall's kiosk behind the firewall")
        pair = chosen_pair(kiosk)
        assert pair is not None and pair["local"] == "relay", pair
        assert pair["relay_protocol"] == "tls", pair
        # The direct way was tried and dropped.
        assert turn.network.udp_dropped() > 0

        # The chair gives the hall the floor: its camera goes out, through the relay, and
        # the studio's programme shows the hall's picture in its inset.
        granted = chair.request.post(
            f"{API}/halls/{hall['id']}/floor/grant",
            data={"seconds": 120},
            headers=csrf_headers(chair),
        )
        assert granted.ok, granted.text()
        sending = wait_for_link(kiosk, lambda s: s["sending"] and s["sent"] > 0, "the hall sends")
        wait_for_link(kiosk, lambda s: s["sent"] > sending["sent"], "the hall keeps sending")
        shows_the_hall(studio, "the studio's programme")
        # The hall sees itself in the programme it receives through the relay, too.
        shows_the_hall(kiosk, "the hall's programme")
        assert chosen_pair(kiosk)["local"] == "relay"
        studio.screenshot(path=artifacts / "turn-studio-programme.png")
        kiosk.screenshot(path=artifacts / "turn-hall-kiosk.png")

        # coturn took the credentials the web node minted for the kiosk, and the hub's own,
        # both over TLS.
        assert allocated_over_tls(turn.log, f"operator-{hall['id']}"), turn.log[-3000:]
        assert allocated_over_tls(turn.log, "hub"), turn.log[-3000:]
        halls.assert_no_errors()
        studios.assert_no_errors()
    finally:
        if chair is not None:
            chair.request.post(f"{API}/floor/revoke", data={}, headers=csrf_headers(chair))
        for browsing_ in (studios, halls):
            browsing_.close()
        for chromium_ in (outside, inside):
            chromium_.close()
