"""One screen holds a hall, in real Chromium: two kiosk screens on one operator link (two
browser contexts, so two devices with their own storage) and a moderator's halls console.

The hall's screen holds the hall. A second device opening the same link shows that the hall is
shown elsewhere and asks to take over, and nothing of the hall runs on it; the moderator sees
the request (device, address, since when) on the halls console and allows it; the second
screen becomes the hall's kiosk and the first one says it was replaced."""

import re

from playwright.sync_api import Page, expect

from tests.browser.conftest import kiosk_session_key
from tests.browser.test_media import by_id, english_page, sign_in_chair

SLUG = "demo"
WAIT_MS = 25_000


def holding_kiosk(page: Page) -> None:
    """The page holds its hall and its stream is live."""
    expect(page.locator("body")).to_have_attribute("data-hold", "holding", timeout=WAIT_MS)
    expect(by_id(page, "connection")).to_have_attribute("data-state", "live", timeout=WAIT_MS)


def test_a_second_screen_asks_and_takes_over_when_a_moderator_allows_it(
    daphne_server, browsing, artifacts
):
    hall = daphne_server.halls[1]
    tile_selector = f'li.hall-tile[data-hall="{hall["id"]}"]'

    # The hall's own screen holds the hall.
    first = english_page(browsing, daphne_server)
    first.goto(hall["kiosk"])
    holding_kiosk(first)
    expect(by_id(first, "kiosk-hold")).to_be_hidden()

    # Another device with the same link: it asks, and runs nothing of the hall.
    second = browsing.new_page(viewport=(1280, 720), hall_screen=False)
    second.context.add_cookies(
        [{"name": "django_language", "value": "en", "url": daphne_server.base_url}]
    )
    second.goto(hall["kiosk"])
    hold = by_id(second, "kiosk-hold")
    expect(hold).to_have_attribute("data-state", "asking", timeout=WAIT_MS)
    expect(by_id(second, "hold-asking")).to_have_text(
        "This hall is already shown on another screen."
    )
    expect(hold).to_contain_text("Ask the studio to let this screen take over.")
    expect(second.locator("body")).to_have_attribute("data-hold", "asking")
    assert second.evaluate("window.__media === undefined"), "the asking screen started media"
    expect(by_id(second, "connection")).to_have_text("")  # no stream of the hall
    expect(by_id(first, "connection")).to_have_attribute("data-state", "live")

    # The moderator sees both screens of the hall, and the request, on the halls console.
    chair = sign_in_chair(browsing, daphne_server)
    chair.goto(f"/meetings/{SLUG}/halls/")
    expect(by_id(chair, "connection")).to_have_attribute("data-state", "live")
    request = by_id(chair, "takeover-list").locator(
        f'[data-testid="kiosk-session"][data-state="asking"][data-for-hall="{hall["id"]}"]'
    )
    expect(request).to_have_count(1, timeout=WAIT_MS)
    expect(request).to_contain_text(hall["name"])
    expect(request.get_by_test_id("screen-address")).to_have_text("127.0.0.1")
    expect(request).to_contain_text(re.compile(r"since \d"))
    tile = by_id(chair, "hall-grid").locator(tile_selector)
    expect(tile.locator('[data-testid="kiosk-session"][data-state="holding"]')).to_have_count(1)
    expect(tile.locator('[data-testid="kiosk-session"][data-state="asking"]')).to_have_count(1)
    second.screenshot(path=artifacts / "kiosk-asking.png")
    chair.screenshot(path=artifacts / "halls-takeover-request.png", full_page=True)

    request.locator('[data-action="allow-takeover"]').click()

    # The second screen becomes the hall's kiosk; the first says it was replaced.
    holding_kiosk(second)
    expect(by_id(first, "kiosk-hold")).to_have_attribute(
        "data-state", "taken_over", timeout=WAIT_MS
    )
    expect(by_id(first, "hold-taken-over")).to_have_text("Another screen has taken over this hall.")
    expect(by_id(first, "ask-again")).to_be_visible()
    expect(first.locator("body")).to_have_attribute("data-hold", "ended")
    expect(by_id(second, "kiosk-hold")).to_be_hidden(timeout=WAIT_MS)
    first.screenshot(path=artifacts / "kiosk-taken-over.png")

    # The console follows: no request left, one screen holds the hall.
    expect(by_id(chair, "takeover-requests")).to_be_hidden()
    expect(tile.locator('[data-testid="kiosk-session"]')).to_have_count(1)
    expect(tile.locator('[data-testid="kiosk-session"][data-state="holding"]')).to_have_count(1)

    # The new screen acts for the hall.
    count = by_id(second, "attendance-input")
    count.fill("48")
    count.press("Enter")
    expect(by_id(second, "ticker")).to_contain_text("48")

    # From here on this device is the hall's screen, for the tests that follow.
    key = kiosk_session_key(hall["id"])
    daphne_server.screens[hall["id"]] = second.evaluate(
        f"JSON.parse(localStorage.getItem({key!r}))"
    )
    browsing.assert_no_errors()
