"""Every screen works under its Content-Security-Policy and Permissions-Policy, in Chromium.

Each page is watched from before its first script runs for ``securitypolicyviolation`` events
(and the browsing fixture fails on any console error, which is where Chromium also reports a
refused script, style, image, worker or socket). The screens are used as they are meant to be:
the kiosk sends its camera and its thumbnails reach the halls console as data: images, the
phone registers its service worker, the dashboard draws its speaking-time bars, the admin and
the API's documentation open. The camera and the microphone answer only where a screen sends
them."""

import re

from playwright.sync_api import Page, expect

from tests.browser.test_foundation import by_id, sign_in, slug, wait_live

WATCH = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  const where = `${event.sourceFile}:${event.lineNumber}`;
  const what = `${event.effectiveDirective} blocked ${event.blockedURI}`;
  window.__cspViolations.push(`${what} in ${where}`);
});
"""
# Asks for a device; answers "granted" or the error's name.
ASK = """async (constraints) => {
  try {
    const stream = await navigator.mediaDevices.getUserMedia(constraints);
    stream.getTracks().forEach((track) => track.stop());
    return "granted";
  } catch (error) {
    return error.name;
  }
}"""
CAMERA = {"video": True}
MICROPHONE = {"audio": True}


def watched(browsing, **options) -> Page:
    page = browsing.new_page(**options)
    page.context.add_init_script(WATCH)
    return page


def visit(page: Page, url: str) -> None:
    response = page.goto(url)
    assert response is not None and response.ok, url
    policy = response.headers.get("content-security-policy", "")
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy, url


def no_violations(page: Page) -> None:
    assert page.evaluate("window.__cspViolations") == [], page.url


def asks(page: Page, constraints: dict) -> str:
    return page.evaluate(ASK, constraints)


def test_every_screen_works_under_its_policies(daphne_server, browsing):
    server = daphne_server
    meeting = slug(server)
    hall = server.halls[-1]

    # The sign-in page, then the chair's screens.
    chair = watched(browsing, viewport=(1440, 1000))
    chair.context.add_cookies([{"name": "django_language", "value": "en", "url": server.base_url}])
    visit(chair, server.seed["login"])
    no_violations(chair)
    sign_in(chair, server)
    no_violations(chair)

    visit(chair, server.seed["dashboard"])
    wait_live(chair)
    # The hall's current links (another test may have replaced the seeded ones).
    links = chair.request.get(f"/api/meetings/{meeting}/halls/{hall['id']}/links").json()
    bars = chair.locator(".time-bar > span")
    if bars.count():  # drawn with a style property, not a style attribute
        assert bars.first.evaluate("bar => bar.style.width").endswith("%")
    assert asks(chair, CAMERA) == "NotAllowedError"
    no_violations(chair)

    for path in ("queue/", "follow-ups/"):
        visit(chair, f"{server.base_url}/meetings/{meeting}/{path}")
        wait_live(chair)
        assert asks(chair, MICROPHONE) == "NotAllowedError"
        no_violations(chair)

    candidate = watched(browsing, viewport=(1440, 1000))
    candidate.context.add_cookies(chair.context.cookies())
    visit(candidate, f"{server.base_url}/meetings/{meeting}/candidate/")
    wait_live(candidate)
    assert asks(candidate, {"video": True, "audio": True}) == "granted"
    no_violations(candidate)

    halls = watched(browsing, viewport=(1440, 1000))
    halls.context.add_cookies(chair.context.cookies())
    visit(halls, f"{server.base_url}/meetings/{meeting}/halls/")
    wait_live(halls)
    assert asks(halls, MICROPHONE) == "granted"
    assert asks(halls, CAMERA) == "NotAllowedError"

    visit(chair, hall["poster"])
    expect(by_id(chair, "poster").locator("svg")).to_have_count(1)
    no_violations(chair)

    # The hall's kiosk: its camera opens, and its thumbnail reaches the halls console.
    kiosk = watched(browsing, viewport=(1280, 720))
    visit(kiosk, links["operator_url"])
    wait_live(kiosk)
    expect(by_id(kiosk, "self-view")).to_be_visible()
    expect(halls.locator(f'li[data-hall="{hall["id"]}"] img')).to_have_attribute(
        "src", re.compile(r"^data:image/jpeg;base64,"), timeout=30_000
    )
    expect(halls.locator(f'li[data-hall="{hall["id"]}"] img')).to_be_visible()
    no_violations(kiosk)
    no_violations(halls)

    # A voter's phone: its service worker is registered and the page kept for offline.
    phone = watched(browsing, viewport=(390, 844), is_mobile=True, has_touch=True)
    visit(phone, links["voter_url"])
    wait_live(phone)
    expect(phone.locator("html")).to_have_attribute("data-offline-ready", "true")
    assert asks(phone, CAMERA) == "NotAllowedError"
    assert asks(phone, MICROPHONE) == "NotAllowedError"
    no_violations(phone)

    # The public pages: the archive for anyone, the conference's page as its staff preview it.
    visitor = watched(browsing)
    visit(visitor, f"{server.base_url}/archive/")
    expect(visitor.locator("main h1")).to_be_visible()
    no_violations(visitor)
    visit(chair, f"{server.base_url}/archive/{meeting}/")
    expect(by_id(chair, "final-hash")).not_to_be_empty()
    no_violations(chair)

    # The admin and the API's documentation, which come with their own scripts.
    visit(chair, server.seed["admin"])
    expect(chair.locator("#content")).to_be_visible()
    visit(chair, f"{server.base_url}/admin/rooms/meeting/")
    chair.locator("#result_list tbody th a").first.click()
    expect(chair.locator("form#meeting_form")).to_be_visible()
    no_violations(chair)
    visit(chair, f"{server.base_url}/api/docs")
    expect(chair.locator(".swagger-ui .opblock").first).to_be_visible(timeout=30_000)
    no_violations(chair)

    refused = [error for error in browsing.errors if "Content Security Policy" in error]
    assert refused == []
    # What this test caused on purpose: Chromium reports each device it refused as a console
    # error; and the admin's pages, which have no icon, make it ask for /favicon.ico.
    browsing.errors[:] = [
        error
        for error in browsing.errors
        if not re.search(r"Permissions policy violation: (camera|microphone) is not allowed", error)
        and not ("favicon.ico" in error and "/admin/" in error)
    ]
