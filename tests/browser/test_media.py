"""The media plane in real Chromium: kiosks, the moderators' halls page and the media hub.

The studio's kiosk and two halls' kiosks connect to the hub over WebRTC (fake cameras, ICE on
loopback; see conftest.py) and decode the programme. A hall raises its hand from its kiosk; the
chair sees it on the halls page and gives it the floor with a time limit; that kiosk shows the
banner and starts sending its camera, the other hall keeps decoding; the chair takes the floor
back and the camera stops going out. A kiosk whose connection is killed builds a new one and
decodes again.

With SQLite the hubs run in a thread of Daphne; with REDIS_URL in a media worker process. What
the pages decode and send is read from the browser's own ``getStats()``, through the link
object each page exposes as ``window.__media``.
"""

import contextlib
import re
import time
import uuid

from playwright.sync_api import Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from meetings.rooms.media.compositor import INSET_HEIGHT, INSET_MARGIN, INSET_WIDTH
from meetings.rooms.media.tiers import PROGRAMME

SLUG = "demo"
API = f"/api/meetings/{SLUG}"
WAIT_SECONDS = 25

# What a page's media link is doing, from the browser's own statistics.
LINK_STATS = """async () => {
  const link = window.__media;
  const out = { state: link.state, rebuilds: link.rebuilds, decoded: 0, sent: 0, heard: 0,
                sending: Boolean(link.transceivers?.video?.sender.track),
                speaking: Boolean(link.transceivers?.audio?.sender.track),
                tier: link.figures?.tier ?? null };
  if (!link.pc) return out;
  (await link.pc.getStats()).forEach((report) => {
    const video = report.kind === "video";
    if (report.type === "inbound-rtp" && video) out.decoded += report.framesDecoded || 0;
    if (report.type === "outbound-rtp" && video) out.sent += report.bytesSent || 0;
    if (report.type === "outbound-rtp" && !video) out.heard += report.bytesSent || 0;
  });
  return out;
}"""


def by_id(page: Page, test_id: str):
    return page.get_by_test_id(test_id)


def link_stats(page: Page) -> dict:
    return page.evaluate(LINK_STATS)


def wait_for_link(page: Page, condition, what: str, timeout: float = WAIT_SECONDS) -> dict:
    """Polls the page's link statistics until ``condition(stats)`` holds."""
    deadline = time.monotonic() + timeout
    stats = link_stats(page)
    while not condition(stats):
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout}s; last stats {stats}")
        page.wait_for_timeout(250)
        stats = link_stats(page)
    return stats


def decodes_more(page: Page, what: str) -> dict:
    """The page decodes programme frames, and keeps decoding."""
    first = wait_for_link(page, lambda stats: stats["decoded"] > 0, f"{what} decodes")
    return wait_for_link(
        page, lambda stats: stats["decoded"] > first["decoded"], f"{what} keeps decoding"
    )


def csrf_headers(page: Page) -> dict[str, str]:
    token = next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")
    return {"X-CSRFToken": token, "Referer": page.url}


def english_page(browsing, server, viewport=(1280, 720)) -> Page:
    page = browsing.new_page(viewport=viewport)
    page.context.add_cookies([{"name": "django_language", "value": "en", "url": server.base_url}])
    return page


def sign_in(browsing, server, username: str) -> Page:
    page = english_page(browsing, server, viewport=(1440, 1000))
    page.goto(server.seed["login"])
    page.locator("main form input[name=username]").fill(username)
    page.locator("main form input[name=password]").fill(server.password)
    page.locator("main form button[type=submit]").click()
    expect(by_id(page, "meeting-list")).to_be_visible()
    return page


def sign_in_chair(browsing, server) -> Page:
    return sign_in(browsing, server, server.username)


def open_meeting_live(chair: Page) -> None:
    """Live, nobody holding the floor, no hand raised: whatever ran before."""
    state = chair.request.get(f"{API}/snapshot").json()["state"]
    if state["meeting"]["status"] != "live":
        response = chair.request.post(
            f"{API}/status", data={"status": "live"}, headers=csrf_headers(chair)
        )
        assert response.ok, response.text()
    if state["programme"]["floor_hall_id"] is not None:
        chair.request.post(f"{API}/floor/revoke", data={}, headers=csrf_headers(chair))
    for hall_id in state["floor_requests"]:
        chair.request.post(
            f"{API}/halls/{hall_id}/floor/withdraw", data={}, headers=csrf_headers(chair)
        )
    response = chair.request.post(
        f"{API}/programme/layout", data={"layout": "inset"}, headers=csrf_headers(chair)
    )
    assert response.ok, response.text()


def put_question_on_air(chair: Page, hall: dict, text: str) -> int:
    """A voter of ``hall`` asks; the chair approves it and puts it on air."""
    token = hall["phone"].rstrip("/").rsplit("/", 1)[1]
    issued = chair.request.post(f"{API}/device", headers={"X-Join-Link": token})
    assert issued.status == 201, issued.text()
    response = chair.request.post(
        f"{API}/questions",
        data={
            "client_id": str(uuid.uuid4()),
            "text": text,
            "asker_name": "Lò Thị Mai",
            "named_publicly": True,
        },
        headers={"X-Join-Link": token, "X-Device-Id": issued.json()["device"]},
    )
    assert response.status == 201, response.text()
    question_id = response.json()["question"]["id"]
    state = chair.request.get(f"{API}/snapshot").json()["state"]
    for question in state.get("moderation", {}).values():
        if question["status"] == "on_air":
            chair.request.post(
                f"{API}/questions/{question['id']}/back-to-queue",
                data={},
                headers=csrf_headers(chair),
            )
    for action in ("approve", "on-air"):
        response = chair.request.post(
            f"{API}/questions/{question_id}/{action}", data={}, headers=csrf_headers(chair)
        )
        assert response.ok, response.text()
    return question_id


# Whether the QR code is drawn whole inside its box (not cropped by the box's size).
QR_WHOLE = """(svg) => {
  const box = svg.getBoundingClientRect();
  const code = svg.querySelector("path").getBoundingClientRect();
  return code.width > 100 && code.left >= box.left - 1 && code.right <= box.right + 1
    && code.top >= box.top - 1 && code.bottom <= box.bottom + 1;
}"""


# The panels of a kiosk that cover the place where the hub insets the hall holding the floor
# (meetings/rooms/media/compositor.py), on the page's programme as drawn to fit the screen.
PANELS_OVER_INSET = """([picture, inset]) => {
  const video = document.querySelector('[data-bind="programme"]');
  const box = video.getBoundingClientRect();
  const width = video.videoWidth || picture[0], height = video.videoHeight || picture[1];
  const scale = Math.min(box.width / width, box.height / height);
  const shown = [width * scale, height * scale];
  const unit = shown[0] / picture[0];
  const right = box.left + (box.width + shown[0]) / 2 - inset[2] * unit;
  const top = box.top + (box.height - shown[1]) / 2 + inset[2] * unit;
  const place = { left: right - inset[0] * unit, top, right, bottom: top + inset[1] * unit };
  // The panels and everything in them (a text can spill out of its panel).
  const panels = document.querySelectorAll(
    ".kiosk-top, .kiosk-top *, .kiosk-main > *, .kiosk-main > * *, .kiosk-side, .kiosk-side *,"
    + " .kiosk-bottom, .kiosk-bottom *");
  return [...panels].filter((panel) => {
    if (!panel.checkVisibility({ visibilityProperty: true })) return false;
    const r = panel.getBoundingClientRect();
    return r.width > 0 && r.height > 0 && r.left < place.right && r.right > place.left
      && r.top < place.bottom && r.bottom > place.top;
  }).map((panel) => {
    const r = panel.getBoundingClientRect();
    return `${panel.className || panel.tagName} at x ${Math.round(r.left)}-${Math.round(r.right)}`
      + ` y ${Math.round(r.top)}-${Math.round(r.bottom)} (the hall: x ${Math.round(place.left)}-`
      + `${Math.round(place.right)} y ${Math.round(place.top)}-${Math.round(place.bottom)})`;
  });
}"""

# Television sizes: 16:9 at three resolutions, 4:3, and a wide 21:9 screen.
SCREEN_SIZES = [(1280, 720), (1920, 1080), (1366, 768), (1024, 768), (2560, 1080)]


def panels_over_inset(page: Page) -> list[str]:
    """What covers the inset once the page has laid itself out again (it places the panels
    on a resize of the window, after Playwright's call returns): [] if nothing does."""
    geometry = [[PROGRAMME.width, PROGRAMME.height], [INSET_WIDTH, INSET_HEIGHT, INSET_MARGIN]]
    with contextlib.suppress(PlaywrightTimeout):  # what still covers it is returned
        page.wait_for_function(
            f"(geometry) => ({PANELS_OVER_INSET})(geometry).length === 0",
            arg=geometry,
            timeout=5000,
        )
    return page.evaluate(PANELS_OVER_INSET, geometry)


def open_kiosk(browsing, server, hall: dict) -> Page:
    page = english_page(browsing, server)
    page.goto(hall["kiosk"])
    expect(by_id(page, "connection")).to_have_attribute("data-state", "live")
    return page


def test_a_hall_is_given_the_floor_and_seen_on_the_programme(daphne_server, browsing, artifacts):
    studio_hall, hall, other_hall = daphne_server.halls[0], *daphne_server.halls[1:3]
    chair = sign_in_chair(browsing, daphne_server)
    open_meeting_live(chair)

    # The studio's kiosk says it is the studio, always on the programme, and sends from the
    # start; it has no hand to raise.
    studio = open_kiosk(browsing, daphne_server, studio_hall)
    expect(by_id(studio, "studio-badge")).to_be_visible()
    expect(by_id(studio, "raise-hand")).to_have_count(0)
    wait_for_link(studio, lambda s: s["sending"] and s["sent"] > 0, "the studio sends its camera")

    # Two halls' kiosks decode the programme; they send nothing without the floor.
    kiosk = open_kiosk(browsing, daphne_server, hall)
    other = open_kiosk(browsing, daphne_server, other_hall)
    decodes_more(kiosk, "the hall's kiosk")
    # The programme's sound plays from its own element (a hall on the audio-only tier gets no
    # picture, and Chromium starts no <video> before its first frame).
    kiosk.wait_for_function(
        """() => { const sound = window.__media.sound;
                   return sound.srcObject?.getAudioTracks().length === 1 && !sound.paused
                          && sound.currentTime > 0; }"""
    )
    decodes_more(other, "the other hall's kiosk")
    assert not link_stats(kiosk)["sending"]
    expect(kiosk.locator("body")).to_have_class(re.compile(r"\bhas-programme\b"))
    # The tier for the hall to read; the link's figures for the operator, in the title.
    expect(by_id(kiosk, "media-link")).to_have_text("HD")
    expect(by_id(kiosk, "media-link")).to_have_attribute(
        "title", re.compile(r"HD · \d+ ms · \d+% loss")
    )
    expect(by_id(kiosk, "self-view")).to_be_visible()
    # The voters' QR code, smaller over the picture, is still whole.
    assert kiosk.locator(".kiosk-qr svg").evaluate(QR_WHOLE)

    # The chair's halls page: a picture from each kiosk, the links' figures.
    chair.goto(f"/meetings/{SLUG}/halls/")
    expect(by_id(chair, "connection")).to_have_attribute("data-state", "live")
    tile = by_id(chair, "hall-grid").locator(f'li[data-hall="{hall["id"]}"]')
    expect(tile.locator("img")).to_be_visible(timeout=WAIT_SECONDS * 1000)
    expect(tile).to_have_attribute("data-link", "up", timeout=WAIT_SECONDS * 1000)
    expect(tile.get_by_test_id("hall-figures")).to_have_text(re.compile(r"HD · \d+ ms"))

    # The hall raises its hand from the kiosk (its shortcut, H); the chair sees it in order.
    kiosk.keyboard.press("h")
    expect(by_id(kiosk, "raise-hand")).to_have_attribute("aria-pressed", "true")
    expect(by_id(kiosk, "hand-place")).to_have_text("Hand raised: place 1 of 1")
    hands = by_id(chair, "raised-hands").locator("li")
    expect(hands).to_have_count(1)
    expect(hands.first).to_have_attribute("data-hall", str(hall["id"]))
    expect(hands.first).to_contain_text(hall["name"])
    expect(tile).to_have_class(re.compile(r"\bhand-raised\b"))

    # The chair gives it the floor for two minutes.
    by_id(chair, "floor-limit").select_option("120")
    hands.first.locator('[data-action="give-floor"]').click()
    expect(by_id(chair, "floor-holder-name")).to_have_text(f"{hall['name']} has the floor")
    expect(by_id(chair, "floor-countdown")).to_have_text(re.compile(r"0[12]:\d\d"))
    expect(hands).to_have_count(0)

    # The hall's kiosk: the banner, the countdown, and its camera on its way to the hub.
    banner = by_id(kiosk, "kiosk-floor")
    expect(banner).to_be_visible()
    expect(banner).to_have_class(re.compile(r"\bmine\b"))
    expect(by_id(kiosk, "kiosk-floor-text")).to_contain_text("Your hall has the floor")
    expect(by_id(kiosk, "floor-countdown")).to_have_text(re.compile(r"0[12]:\d\d"))
    expect(by_id(kiosk, "raise-hand")).to_be_hidden()
    sending = wait_for_link(kiosk, lambda s: s["sending"] and s["sent"] > 0, "the hall sends")
    wait_for_link(kiosk, lambda s: s["sent"] > sending["sent"], "the hall keeps sending")
    # The other hall sees who speaks, and keeps decoding the programme.
    expect(by_id(other, "kiosk-floor-text")).to_have_text(f"{hall['name']} has the floor")
    decodes_more(other, "the other hall's kiosk, during the floor")
    # No panel of a kiosk covers the hall on the floor, inset in the programme, whatever the
    # screen: the voters' code steps aside, the bottom bar and the column end before it.
    expect(other.locator("body")).to_have_class(re.compile(r"\bprogramme-inset\b"))
    for width, height in SCREEN_SIZES:
        other.set_viewport_size({"width": width, "height": height})
        covering = panels_over_inset(other)
        if covering:
            other.screenshot(path=artifacts / f"media-inset-covered-{width}x{height}.png")
        assert covering == [], (width, height)
    other.set_viewport_size({"width": 1280, "height": 720})
    assert panels_over_inset(kiosk) == []
    expect(tile).to_have_class(re.compile(r"\bhas-floor\b"))

    # A question goes on air meanwhile: the halls draw it over the programme, with the floor.
    question = put_question_on_air(
        chair, studio_hall, "Khi nào xã sửa xong cầu treo qua suối, để học sinh đi học an toàn?"
    )
    expect(by_id(other, "kiosk-on-air-text")).to_contain_text("cầu treo")
    expect(by_id(other, "kiosk-on-air-text")).to_be_visible()
    expect(by_id(other, "kiosk-floor")).to_be_visible()

    kiosk.screenshot(path=artifacts / "media-kiosk-floor.png")
    other.screenshot(path=artifacts / "media-kiosk-programme.png")
    chair.screenshot(path=artifacts / "media-halls.png", full_page=True)

    response = chair.request.post(
        f"{API}/questions/{question}/answer", data={"kind": "live"}, headers=csrf_headers(chair)
    )
    assert response.ok, response.text()

    # The chair takes the floor back: the banner goes, the camera stops going out.
    by_id(chair, "revoke-floor").click()
    expect(by_id(chair, "floor-holder-name")).to_have_text(re.compile("No hall has the floor"))
    expect(banner).to_be_hidden()
    expect(by_id(kiosk, "raise-hand")).to_be_visible()
    expect(by_id(kiosk, "raise-hand")).to_have_attribute("aria-pressed", "false")
    expect(by_id(other, "kiosk-qr")).to_be_visible()  # the voters' code is back
    wait_for_link(kiosk, lambda s: not s["sending"], "the hall stops sending")
    decodes_more(kiosk, "the hall's kiosk, after the floor")

    # The chair keeps the other hall on the low tier (a weak link, say): its kiosk is moved and
    # still decodes; then the hub chooses again.
    other_tile = by_id(chair, "hall-grid").locator(f'li[data-hall="{other_hall["id"]}"]')
    other_tile.locator("select[data-tier]").select_option("low")
    expect(by_id(other, "media-link")).to_contain_text("low (fixed)", timeout=WAIT_SECONDS * 1000)
    expect(other_tile.get_by_test_id("hall-figures")).to_contain_text("low (fixed)")
    decodes_more(other, "the other hall's kiosk, on the low tier")
    other_tile.locator("select[data-tier]").select_option("")
    expect(by_id(other, "media-link")).to_contain_text("HD", timeout=WAIT_SECONDS * 1000)

    # The chair speaks from the console: the link is offered again, sending a microphone.
    before = link_stats(chair)
    by_id(chair, "use-microphone").click()
    expect(by_id(chair, "use-microphone")).to_have_attribute("aria-pressed", "true")
    speaking = wait_for_link(
        chair,
        lambda s: s["rebuilds"] > before["rebuilds"] and s["speaking"] and s["heard"] > 0,
        "the chair's microphone goes out",
    )
    decodes_more(chair, "the chair's monitor, with the microphone on")
    by_id(chair, "use-microphone").click()
    expect(by_id(chair, "use-microphone")).to_have_attribute("aria-pressed", "false")
    wait_for_link(
        chair,
        lambda s: s["rebuilds"] > speaking["rebuilds"] and not s["speaking"] and s["decoded"] > 0,
        "the monitor, receiving only again",
    )


def test_a_candidate_previews_and_sends_their_camera(daphne_server, browsing, artifacts):
    candidate = sign_in(browsing, daphne_server, "candidate1")
    candidate.goto(f"/meetings/{SLUG}/candidate/")
    expect(by_id(candidate, "connection")).to_have_attribute("data-state", "live")
    decodes_more(candidate, "the candidate's programme")
    expect(by_id(candidate, "monitor-sound")).to_have_text("Unmute")

    by_id(candidate, "preview-camera").click()
    expect(by_id(candidate, "self-view")).to_be_visible()
    assert not link_stats(candidate)["sending"]

    before = link_stats(candidate)
    by_id(candidate, "send-camera").click()
    expect(by_id(candidate, "send-camera")).to_have_attribute("aria-pressed", "true")
    sending = wait_for_link(
        candidate,
        lambda s: s["rebuilds"] > before["rebuilds"] and s["sending"] and s["sent"] > 0,
        "the candidate's camera goes out",
    )
    wait_for_link(candidate, lambda s: s["sent"] > sending["sent"], "and keeps going")
    decodes_more(candidate, "the candidate's programme, while sending")
    candidate.screenshot(path=artifacts / "media-candidate.png")

    by_id(candidate, "send-camera").click()
    wait_for_link(candidate, lambda s: not s["sending"], "the candidate stops sending")
    expect(by_id(candidate, "self-view")).to_be_visible()  # the preview stays


def test_a_kiosk_rebuilds_its_link_when_it_is_lost(daphne_server, browsing, artifacts):
    chair = sign_in_chair(browsing, daphne_server)
    open_meeting_live(chair)
    kiosk = open_kiosk(browsing, daphne_server, daphne_server.halls[2])
    decodes_more(kiosk, "the kiosk")

    # A browser that plays sound only after a click on the page (this one allows it anyway):
    # the picture plays muted and the kiosk asks for one click.
    kiosk.evaluate(
        """() => {
          const sound = window.__media.sound;
          const play = sound.play.bind(sound);
          sound.play = () => sound.muted
            ? play() : Promise.reject(new DOMException("no gesture", "NotAllowedError"));
          return window.__media.play();
        }"""
    )
    expect(by_id(kiosk, "start-sound")).to_be_visible()
    assert kiosk.evaluate("() => window.__media.muted")
    kiosk.screenshot(path=artifacts / "media-kiosk-start-sound.png")
    by_id(kiosk, "start-sound").get_by_role("button").click()
    expect(by_id(kiosk, "start-sound")).to_be_hidden()
    assert not kiosk.evaluate("() => window.__media.muted")

    # The peer connection dies under the page: a new one is built and decodes.
    before = link_stats(kiosk)
    kiosk.evaluate("() => window.__media.pc.close()")
    decoding = wait_for_link(
        kiosk,
        lambda s: s["rebuilds"] > before["rebuilds"] and s["decoded"] > 0,
        "a new connection after the old one closed",
    )
    decodes_more(kiosk, "the rebuilt connection")

    # The meeting's websocket drops (the hub then ends the peer): the stream reconnects and
    # the link is built again on it.
    kiosk.evaluate("() => window.__media.stream.socket.close()")
    wait_for_link(
        kiosk,
        lambda s: s["rebuilds"] > decoding["rebuilds"] and s["decoded"] > 0,
        "a new connection after the websocket dropped",
    )
    expect(by_id(kiosk, "connection")).to_have_attribute("data-state", "live")
    decodes_more(kiosk, "the connection on the new websocket")
