"""The hall screens' questions, as people use them: a voter's phone (a mobile viewport with
touch) asks, follows its questions and supports others; a hall's kiosk shows the question on
air and lets the clerk type questions handed in on paper. The chair moderates through the API
(the moderators' console is tested on its own).

Phones drop off the network here on purpose (``set_offline``) and a response is lost on the
way back (a route that lets the request reach the server and then fails it): a question must
still arrive exactly once. Chromium logs a console error for that failed request and for the
refusals the tests ask for (400, 409); those lines are forgiven, any other fails the test.

Wording is being translated while these tests are written, so they check test ids, state
attributes and texts that come from the data, and compare with the catalogue where it has a
translation.
"""

import gettext
import json
import re
import uuid
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

REPO = Path(__file__).resolve().parents[2]
JS_CATALOGUE = REPO / "meetings" / "locale" / "vi" / "LC_MESSAGES" / "djangojs.mo"
# Back online, a device resends at once, but a request may still fail and wait its backoff.
RECOVERY_MS = 20000
MOBILE = {"viewport": (390, 844), "is_mobile": True, "has_touch": True, "device_scale_factor": 2}
HTML_TEXT = "Khi nào sửa đường liên thôn? <b>x</b><img src=x onerror=alert(1)>"
# What Chromium logs about a request that the test failed on purpose.
NETWORK_NOISE = re.compile(r"net::ERR_FAILED")


def vietnamese_js(msgid: str) -> str | None:
    """The scripts' Vietnamese for ``msgid``, or None while it is not translated yet."""
    if not JS_CATALOGUE.exists():
        return None
    with JS_CATALOGUE.open("rb") as catalogue:
        text = gettext.GNUTranslations(catalogue).gettext(msgid)
    return text if text != msgid else None


def by_id(page: Page, test_id: str):
    return page.get_by_test_id(test_id)


def wait_live(page: Page) -> None:
    expect(by_id(page, "connection")).to_have_attribute("data-state", "live")


def wait_offline_ready(phone: Page) -> None:
    """Waits until the phone page has put itself in its worker's cache (offline-page.js), as it
    does within moments of opening while online. A test that cuts the network earlier makes the
    page retry when the network returns, and under Playwright's offline emulation that retry
    often fails (4 runs in 6), logging a "Failed to load resource" for the page itself."""
    expect(phone.locator("html")).to_have_attribute("data-offline-ready", "true", timeout=30_000)


def forgive(browsing, pattern: re.Pattern = NETWORK_NOISE, *, status: int | None = None) -> None:
    """Drops the console errors the test caused on purpose: Chromium's "Failed to load
    resource" line for a request the test failed, or for an API refusal with ``status``."""
    expected = pattern
    if status is not None:
        expected = re.compile(rf"status of {status}\b")
    browsing.errors[:] = [error for error in browsing.errors if not expected.search(error)]


# --- people ---------------------------------------------------------------------------------


def open_phone(browsing, hall: dict, **options) -> Page:
    """A voter's phone opened from the hall's QR code: its own device, storage and id."""
    page = browsing.new_page(**{**MOBILE, **options})
    page.on("dialog", lambda dialog: pytest.fail(f"a dialog opened: {dialog.message}"))
    page.goto(hall["phone"])
    wait_live(page)
    return page


def open_kiosk(browsing, hall: dict) -> Page:
    page = browsing.new_page(viewport=(1280, 720))
    page.on("dialog", lambda dialog: pytest.fail(f"a dialog opened: {dialog.message}"))
    page.goto(hall["kiosk"])
    wait_live(page)
    return page


class Chair:
    """The chair, signed in in a browser context of their own, acting through the JSON API."""

    def __init__(self, browsing, server):
        self.server = server
        self.page = browsing.new_page()
        self.page.goto(server.seed["login"])
        self.page.locator("main form input[name=username]").fill(server.username)
        self.page.locator("main form input[name=password]").fill(server.password)
        self.page.locator("main form button[type=submit]").click()
        expect(self.page.get_by_test_id("meeting-list")).to_be_visible()
        self.base = "/api/meetings/" + server.seed["dashboard"].rstrip("/").rsplit("/", 1)[-1]

    def csrf_token(self) -> str:
        cookies = {cookie["name"]: cookie["value"] for cookie in self.page.context.cookies()}
        return cookies["csrftoken"]

    def get(self, path: str) -> Any:
        response = self.page.request.get(f"{self.base}/{path}")
        assert response.ok, f"GET {path}: {response.status} {response.text()}"
        return response.json()

    def post(self, path: str, body: dict | None = None) -> Any:
        response = self.page.request.post(
            f"{self.base}/{path}",
            data=json.dumps(body or {}),
            headers={"X-CSRFToken": self.csrf_token(), "Content-Type": "application/json"},
        )
        assert response.ok, f"POST {path}: {response.status} {response.text()}"
        return response.json()

    def questions(self, **filters) -> list[dict]:
        query = "&".join(f"{key}={value}" for key, value in filters.items())
        return self.get(f"questions?{query}")["questions"]

    def with_text(self, text: str) -> list[dict]:
        return [question for question in self.questions() if question["text"] == text]

    def question(self, question_id: int) -> dict:
        (question,) = [q for q in self.questions() if q["id"] == question_id]
        return question

    def approve(self, question_id: int) -> dict:
        return self.post(f"questions/{question_id}/approve")

    def reject(self, question_id: int, reason: str, note: str = "") -> dict:
        return self.post(f"questions/{question_id}/reject", {"reason": reason, "note": note})

    def set_intake(self, open_: bool) -> None:
        self.post("questions/intake", {"open": open_})

    def put_on_air(self, question_id: int) -> dict:
        """Opens the conference if it is not live yet, and answers whatever is on air first."""
        snapshot = self.get("snapshot")
        if snapshot["state"]["meeting"]["status"] != "live":
            self.post("status", {"status": "live"})
        for question in snapshot["state"].get("questions", {}).values():
            if question["status"] == "on_air" and question["id"] != question_id:
                self.post(f"questions/{question['id']}/answer", {"kind": "live"})
        return self.post(f"questions/{question_id}/on-air")

    def floor_question(self, hall_id: int, text: str) -> int:
        """A question noted from the floor by the chair, approved; returns its id."""
        self.post(
            "questions",
            {"client_id": str(uuid.uuid4()), "text": text, "source": "floor", "hall_id": hall_id},
        )
        (question,) = self.with_text(text)
        self.approve(question["id"])
        return question["id"]


def ask(phone: Page, text: str, **fields) -> None:
    """Writes a question on the phone's form and presses Send."""
    form = by_id(phone, "ask-form")
    form.get_by_test_id("ask-text").fill(text)
    if "topic" in fields:
        form.get_by_test_id("ask-topic").select_option(fields["topic"])
    if "candidate" in fields:
        form.get_by_test_id("ask-candidate").select_option(str(fields["candidate"]))
    if "name" in fields:
        form.get_by_test_id("ask-name").fill(fields["name"])
    if "group" in fields:
        form.get_by_test_id("ask-group").fill(fields["group"])
    if fields.get("named"):
        form.get_by_test_id("ask-named").check()
    form.get_by_test_id("ask-send").tap()


def mine(phone: Page, text: str):
    """The phone's "my questions" entries with exactly this text."""
    return (
        by_id(phone, "mine")
        .locator("li[data-question]")
        .filter(has=phone.locator(".q-text", has_text=re.compile("^" + re.escape(text) + "$")))
    )


def outbox(phone: Page):
    return by_id(phone, "outbox").locator("li[data-client-id]")


# Where the phone page keeps the device id the server issued it (device.js).
DEVICE_KEY = """(() => {
    const config = JSON.parse(document.getElementById("page-config").textContent);
    return ["meetings", config.slug, "device", config.viewer.hall].join(".");
})()"""


def device_id(phone: Page) -> str:
    """The phone's device id, once the page has got it from the server."""
    phone.wait_for_function(f"() => localStorage.getItem({DEVICE_KEY}) !== null")
    return phone.evaluate(f"JSON.parse(localStorage.getItem({DEVICE_KEY}))")


def set_device_id(phone: Page, value: str) -> None:
    phone.evaluate(f"(value) => localStorage.setItem({DEVICE_KEY}, JSON.stringify(value))", value)


def question_id(entry) -> int:
    expect(entry).to_have_attribute("data-question", re.compile(r"^\d+$"))
    return int(entry.get_attribute("data-question"))


# --- tests ----------------------------------------------------------------------------------


def test_a_voters_question_goes_on_air_on_phone_and_kiosk(daphne_server, browsing, artifacts):
    hall = daphne_server.halls[1]
    chair = Chair(browsing, daphne_server)
    phone = open_phone(browsing, hall)
    kiosk = open_kiosk(browsing, hall)
    expect(phone.locator("html")).to_have_attribute("lang", "vi")
    expect(by_id(phone, "ask-form")).to_be_visible()
    expect(by_id(phone, "ask-closed")).to_be_hidden()
    candidates = chair.get("snapshot")["state"]["candidates"]
    candidate = min(candidates.values(), key=lambda c: c["position"])

    # The voter asks, named publicly, with a question that looks like markup.
    by_id(phone, "ask-text").fill(HTML_TEXT)
    expect(by_id(phone, "ask-counter")).to_contain_text(str(len(HTML_TEXT)))
    ask(
        phone,
        HTML_TEXT,
        topic="infrastructure",
        candidate=candidate["id"],
        name="Lò Thị Mai",
        group="Tổ dân phố 5",
        named=True,
    )
    entry = mine(phone, HTML_TEXT)
    expect(entry).to_have_count(1)
    expect(entry).to_have_attribute("data-status", "submitted")
    expect(outbox(phone)).to_have_count(0)
    expect(entry.locator('button[data-action="withdraw"]')).to_be_visible()
    qid = question_id(entry)

    # The moderators have it as sent, from this hall's phones.
    staff = chair.question(qid)
    assert staff["source"] == "phone"
    assert staff["hall_id"] == hall["id"]
    assert staff["text"] == HTML_TEXT
    assert staff["topic"] == "infrastructure"
    assert staff["candidate_id"] == candidate["id"]
    assert (staff["asker_name"], staff["asker_group"]) == ("Lò Thị Mai", "Tổ dân phố 5")
    assert staff["asker_named_publicly"] is True
    # The kiosk counts it among the hall's questions, once the counts are announced (in a
    # batch, about a second later: COUNTS_PUBLISH_SECONDS).
    received = len(chair.questions(hall=hall["id"]))
    expect(by_id(kiosk, "kiosk-tally")).to_contain_text(f"{received}", timeout=15_000)

    # Approved: it joins the queue on the phone, in plain words.
    chair.approve(qid)
    expect(entry).to_have_attribute("data-status", "approved")
    expect(entry.locator('button[data-action="withdraw"]')).to_have_count(0)
    queued = by_id(phone, "queue").locator(f'li[data-question="{qid}"]')
    expect(queued.locator(".q-text")).to_have_text(HTML_TEXT)

    # Another hall asked the same; the moderators merge it in.
    other_hall = daphne_server.halls[3]
    duplicate = chair.floor_question(other_hall["id"], f"Bao giờ sửa đường? {uuid.uuid4().hex[:6]}")
    chair.post(f"questions/{duplicate}/merge", {"into": qid})

    # On air: the phone's card and the kiosk's stage show it, as text.
    chair.put_on_air(qid)
    expect(by_id(phone, "on-air")).to_be_visible()
    expect(by_id(phone, "on-air-text")).to_have_text(HTML_TEXT)
    expect(by_id(phone, "on-air-meta")).to_contain_text("Lò Thị Mai")
    expect(by_id(phone, "on-air-meta")).to_contain_text(candidate["name"])
    expect(entry).to_have_attribute("data-status", "on_air")
    expect(by_id(phone, "on-air-mine")).to_be_visible()
    expect(by_id(kiosk, "kiosk-on-air")).to_be_visible()
    expect(by_id(kiosk, "kiosk-stage")).to_be_hidden()
    expect(by_id(kiosk, "kiosk-on-air-text")).to_have_text(HTML_TEXT)
    expect(by_id(kiosk, "kiosk-on-air-origin")).to_contain_text("Lò Thị Mai")
    expect(by_id(kiosk, "kiosk-on-air-origin")).to_contain_text(hall["name"])
    expect(by_id(kiosk, "kiosk-on-air-candidate")).to_contain_text(candidate["name"])
    expect(by_id(kiosk, "kiosk-on-air-also")).to_contain_text(other_hall["name"])
    expect(by_id(phone, "on-air-meta")).to_contain_text(other_hall["name"])
    expect(by_id(phone, "mine")).not_to_contain_text("null")
    for page in (phone, kiosk):
        assert page.locator("main b, main img").count() == 0, "the question became markup"
    # The question on air is readable across the hall: whole on one page, at no less than the
    # kiosk's least size for it (hall.css: --kiosk-question-min, 4.2vh, 30 px at 720 lines).
    expect(by_id(kiosk, "kiosk-on-air-text")).to_have_attribute("data-pages", "1")
    size = kiosk.evaluate(
        """() => parseFloat(getComputedStyle(
            document.querySelector('[data-testid="kiosk-on-air-text"]')).fontSize)"""
    )
    assert size >= 30, f"the question on air is set in {size}px"
    box = by_id(kiosk, "kiosk-on-air-text").bounding_box()
    assert box["y"] + box["height"] <= 720

    phone.evaluate("window.scrollTo(0, 0)")
    phone.screenshot(path=artifacts / "phone-on-air.png")
    phone.screenshot(path=artifacts / "phone-on-air-full.png", full_page=True)
    kiosk.screenshot(path=artifacts / "kiosk-on-air.png")

    # Answered: the kiosk goes back to the programme, the phone says so.
    chair.post(f"questions/{qid}/answer", {"kind": "live"})
    expect(entry).to_have_attribute("data-status", "answered")
    expect(by_id(phone, "on-air")).to_be_hidden()
    expect(by_id(kiosk, "kiosk-stage")).to_be_visible()
    expect(by_id(kiosk, "kiosk-on-air")).to_be_hidden()
    browsing.assert_no_errors()


def test_a_long_question_on_air_fits_the_kiosk(daphne_server, browsing, artifacts):
    hall = daphne_server.halls[2]
    chair = Chair(browsing, daphne_server)
    kiosk = open_kiosk(browsing, hall)
    text = " ".join(["Đề nghị làm rõ lộ trình nâng cấp đường liên xã và kinh phí đối ứng."] * 14)
    qid = chair.floor_question(hall["id"], text[:1000].strip())
    chair.put_on_air(qid)
    on_air = by_id(kiosk, "kiosk-on-air-text")
    # Too long for one page at the least size: it is shown in pages (tests/browser/
    # test_kiosk_screen.py reads them all); each page stays above its origin, on the screen.
    expect(on_air).to_have_attribute("data-pages", re.compile(r"^[2-9]$"))
    pages = int(on_air.get_attribute("data-pages"))
    looked_at: set[str] = set()
    for _turn in range(4 * pages):
        page = on_air.get_attribute("data-page")
        text_box = on_air.bounding_box()
        meta_box = by_id(kiosk, "kiosk-on-air-meta").bounding_box()
        assert text_box["y"] + text_box["height"] <= meta_box["y"] + 1, (
            f"page {page} runs into its origin"
        )
        assert meta_box["y"] + meta_box["height"] <= 720
        looked_at.add(page)
        if len(looked_at) == pages:
            break
        kiosk.keyboard.press("PageDown")
        expect(on_air).not_to_have_attribute("data-page", page)
    assert len(looked_at) == pages
    kiosk.screenshot(path=artifacts / "kiosk-on-air-long.png")
    chair.post(f"questions/{qid}/answer", {"kind": "live"})
    browsing.assert_no_errors()


def test_a_question_sent_offline_arrives_exactly_once(daphne_server, browsing, artifacts):
    hall = daphne_server.halls[2]
    chair = Chair(browsing, daphne_server)
    phone = open_phone(browsing, hall)
    # The page is kept for offline use (phone-sw.js) once its worker runs, while online.
    wait_offline_ready(phone)

    # The network drops; the voter writes anyway. The question waits on the phone.
    text = f"Câu hỏi gửi khi mất sóng {uuid.uuid4().hex[:6]}"
    phone.context.set_offline(True)
    expect(by_id(phone, "offline-banner")).to_be_visible()
    ask(phone, text)
    expect(outbox(phone)).to_have_count(1)
    expect(outbox(phone)).to_have_attribute("data-state", "pending")
    expect(outbox(phone).locator(".q-text")).to_have_text(text)
    expect(by_id(phone, "outbox-card")).to_be_visible()
    by_id(phone, "outbox-card").scroll_into_view_if_needed()
    phone.screenshot(path=artifacts / "phone-offline.png")
    assert chair.with_text(text) == []

    # The network returns: it is sent by itself, once.
    phone.context.set_offline(False)
    expect(outbox(phone)).to_have_count(0, timeout=RECOVERY_MS)
    expect(mine(phone, text)).to_have_count(1)
    expect(by_id(phone, "offline-banner")).to_be_hidden()
    assert len(chair.with_text(text)) == 1

    # Offline again, and the page is reloaded: the service worker (phone-sw.js) serves the
    # page from its cache, the question is still on the phone, and it is sent when the
    # network returns.
    later = f"Câu hỏi trước khi tải lại trang {uuid.uuid4().hex[:6]}"
    phone.context.set_offline(True)
    ask(phone, later)
    expect(outbox(phone)).to_have_attribute("data-state", "pending")
    reloaded = phone.reload()
    assert reloaded is not None and reloaded.from_service_worker
    expect(by_id(phone, "offline-banner")).to_be_visible()
    expect(outbox(phone)).to_have_count(1)
    expect(outbox(phone).locator(".q-text")).to_have_text(later)
    assert chair.with_text(later) == []
    phone.context.set_offline(False)
    wait_live(phone)
    # Chromium logs the offline page's first requests and websocket as failed, as they were.
    forgive(browsing, re.compile(r"net::ERR_INTERNET_DISCONNECTED"))
    expect(mine(phone, later)).to_have_count(1, timeout=RECOVERY_MS)
    expect(outbox(phone)).to_have_count(0)
    assert len(chair.with_text(later)) == 1

    # The server gets a question but its answer is lost on the way back: the phone tries
    # again with the same client id, and the server knows it already.
    lost = f"Câu hỏi mất câu trả lời {uuid.uuid4().hex[:6]}"
    attempts = []

    def lose_first_answer(route):
        attempts.append(route.request.post_data_json["client_id"])
        if len(attempts) == 1:
            route.fetch()  # it reaches the server...
            route.abort()  # ...but the phone never hears back
        else:
            route.continue_()

    phone.route("**/questions", lose_first_answer)
    ask(phone, lost)
    expect(mine(phone, lost)).to_have_count(1, timeout=RECOVERY_MS)
    expect(outbox(phone)).to_have_count(0)
    assert len(attempts) >= 2 and len(set(attempts)) == 1, attempts
    assert len(chair.with_text(lost)) == 1
    phone.unroute("**/questions")
    forgive(browsing)

    # Everything this phone sent is listed once, after a reload too.
    phone.reload()
    wait_live(phone)
    for each in (text, later, lost):
        expect(mine(phone, each)).to_have_count(1)
    browsing.assert_no_errors()


def test_a_phone_reloaded_while_the_server_is_busy_keeps_its_page_and_question(
    daphne_server, browsing
):
    hall = daphne_server.halls[1]
    chair = Chair(browsing, daphne_server)
    phone = open_phone(browsing, hall)
    wait_offline_ready(phone)

    # The server is overloaded: it answers 503 busy (meetings/server_errors.py) to the page and
    # to the question. Routed on the context, so that the service worker's own fetch of the
    # page gets the 503 too.
    def busy(route):
        route.fulfill(
            status=503,
            headers={"Retry-After": "5"},
            json={"code": "busy", "message": "busy", "detail": {"retry_after": 5}},
        )

    questions = re.compile(r".*/api/meetings/[^/]+/questions$")
    phone.context.route(hall["phone"], busy)
    phone.context.route(questions, busy)
    text = f"Câu hỏi lúc máy chủ quá tải {uuid.uuid4().hex[:6]}"
    ask(phone, text)
    expect(outbox(phone)).to_have_count(1)

    # The voter reloads: the worker serves the last good copy instead of the error page, and
    # the question is still waiting on the phone.
    reloaded = phone.reload()
    assert reloaded is not None and reloaded.from_service_worker and reloaded.status == 200
    expect(by_id(phone, "ask-form")).to_be_visible()
    expect(by_id(phone, "server-error")).to_have_count(0)
    expect(outbox(phone).locator(".q-text")).to_have_text(text)
    assert chair.with_text(text) == []

    # The server recovers: the question is sent once.
    phone.context.unroute(hall["phone"])
    phone.context.unroute(questions)
    expect(mine(phone, text)).to_have_count(1, timeout=RECOVERY_MS)
    expect(outbox(phone)).to_have_count(0)
    assert len(chair.with_text(text)) == 1
    forgive(browsing, status=503)
    browsing.assert_no_errors()


def test_a_vote_on_one_phone_shows_on_another(daphne_server, browsing):
    hall = daphne_server.halls[1]
    chair = Chair(browsing, daphne_server)
    text = f"Đề nghị lắp đèn đường tổ 7 {uuid.uuid4().hex[:6]}"
    qid = chair.floor_question(hall["id"], text)
    voter = open_phone(browsing, hall)
    neighbour = open_phone(browsing, daphne_server.halls[2])

    item = by_id(voter, "queue").locator(f'li[data-question="{qid}"]')
    seen_elsewhere = by_id(neighbour, "queue").locator(f'li[data-question="{qid}"]')
    expect(item.locator(".q-text")).to_have_text(text)
    expect(item.get_by_test_id("votes")).to_have_text("0")
    expect(seen_elsewhere.get_by_test_id("votes")).to_have_text("0")

    # The page votes over its websocket (a frame), not with an HTTP request.
    vote_requests = []
    voter.on("request", lambda request: "/vote" in request.url and vote_requests.append(request))
    item.locator('button[data-action="vote"]').tap()
    expect(item.locator('button[data-action="vote"]')).to_be_disabled()
    expect(item.locator('button[data-action="vote"]')).to_have_attribute("aria-pressed", "true")
    expect(seen_elsewhere.get_by_test_id("votes")).to_have_text("1")
    expect(item.get_by_test_id("votes")).to_have_text("1")
    # The neighbour's own button is still theirs to press.
    expect(seen_elsewhere.locator('button[data-action="vote"]')).to_be_enabled()
    assert vote_requests == []

    # The phone remembers its vote.
    voter.reload()
    wait_live(voter)
    expect(item.locator('button[data-action="vote"]')).to_be_disabled()
    assert chair.question(qid)["status"] == "approved"

    # The neighbour asks the same; merged, their entry says so and leads to the queued one,
    # which now carries both votes' worth of support.
    same = f"Lắp đèn đường tổ 7 được không? {uuid.uuid4().hex[:6]}"
    ask(neighbour, same)
    entry = mine(neighbour, same)
    chair.post(f"questions/{question_id(entry)}/merge", {"into": qid})
    expect(entry).to_have_attribute("data-status", "merged")
    link = entry.get_by_test_id("merged-link")
    expect(link).to_have_attribute("href", f"#question-{qid}")
    link.tap()
    expect(seen_elsewhere).to_be_in_viewport()
    browsing.assert_no_errors()


def test_a_rejected_question_says_why_in_the_voters_language(daphne_server, browsing):
    hall = daphne_server.halls[3]
    chair = Chair(browsing, daphne_server)
    phone = open_phone(browsing, hall)
    text = f"Hỏi về việc riêng của gia đình ông A {uuid.uuid4().hex[:6]}"
    # A first question, sent too soon, is withdrawn before the moderators see it.
    hasty = f"Câu hỏi gửi nhầm {uuid.uuid4().hex[:6]}"
    ask(phone, hasty)
    hasty_entry = mine(phone, hasty)
    hasty_entry.locator('button[data-action="withdraw"]').tap()
    hasty_entry.locator('button[data-action="withdraw-yes"]').tap()
    expect(hasty_entry).to_have_attribute("data-status", "withdrawn")
    assert chair.with_text(hasty)[0]["status"] == "withdrawn"

    ask(phone, text)
    entry = mine(phone, text)
    qid = question_id(entry)
    note = "Ý kiến này xin gửi trực tiếp đến UBND xã."
    chair.reject(qid, "personal_data", note)
    expect(entry).to_have_attribute("data-status", "rejected")
    expect(entry.get_by_test_id("mine-note")).to_contain_text(note)
    reason_vi = vietnamese_js("Names or private details of other people")
    if reason_vi is not None:
        expect(entry.get_by_test_id("mine-status")).to_contain_text(reason_vi)

    # In English, the same entry gives the reason in English.
    by_id(phone, "language-switch").locator("button[value=en]").tap()
    expect(phone.locator("html")).to_have_attribute("lang", "en")
    wait_live(phone)
    expect(entry).to_have_attribute("data-status", "rejected")
    expect(entry.get_by_test_id("mine-status")).to_have_text(
        "Not accepted: Names or private details of other people"
    )
    expect(entry.get_by_test_id("mine-note")).to_contain_text(note)
    expect(entry.locator('button[data-action="withdraw"]')).to_have_count(0)
    browsing.assert_no_errors()


def test_empty_and_too_long_questions_are_refused(daphne_server, browsing, artifacts):
    hall = daphne_server.halls[1]
    chair = Chair(browsing, daphne_server)
    phone = open_phone(browsing, hall, viewport=(360, 740))  # a small, cheap phone
    before = len(chair.questions())
    long_text = "Đ" * 1001

    by_id(phone, "ask-text").fill(long_text)
    expect(by_id(phone, "ask-counter")).to_have_attribute("data-over", "true")
    by_id(phone, "ask-send").tap()
    expect(by_id(phone, "ask-message")).to_be_visible()
    expect(by_id(phone, "ask-message")).to_contain_text("1001")
    expect(by_id(phone, "ask-message")).to_have_attribute("data-kind", "error")
    # The text stays for the voter to shorten.
    expect(by_id(phone, "ask-text")).to_have_value(long_text)

    by_id(phone, "ask-text").fill("  \n\t   \n ")
    by_id(phone, "ask-send").tap()
    expect(by_id(phone, "ask-message")).to_be_visible()
    expect(by_id(phone, "ask-message")).not_to_contain_text("1001")
    expect(outbox(phone)).to_have_count(0)
    expect(by_id(phone, "mine").locator("li")).to_have_count(0)
    # Nothing is wider than the phone: no sideways scrolling, even for a long unbroken word.
    unbroken = "Xem https://vanban.example.vn/" + "quy-hoach-su-dung-dat-" * 8
    queued = chair.floor_question(hall["id"], unbroken)
    expect(by_id(phone, "queue").locator(f'li[data-question="{queued}"]')).to_be_visible()
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360
    phone.screenshot(path=artifacts / "phone-360-refused.png")

    # The server is the authority: sent past the page's own check, it refuses the same.
    device = device_id(phone)
    for text, code in ((long_text, "invalid"), ("   \n  ", "empty_text")):
        status, body = phone.evaluate(
            """async ([text, device]) => {
                const config = JSON.parse(document.getElementById("page-config").textContent);
                const response = await fetch(config.api + "/questions", {
                    method: "POST",
                    headers: {"Content-Type": "application/json", "X-Join-Link": config.link,
                              "X-Device-Id": device},
                    body: JSON.stringify({client_id: crypto.randomUUID(), text}),
                });
                return [response.status, await response.json()];
            }""",
            [text, device],
        )
        assert status == 400, body
        assert body["code"] == code and body["message"]
    forgive(browsing, status=400)
    assert len(chair.questions()) == before + 1  # the chair's question from the floor only
    assert chair.with_text(long_text) == []
    browsing.assert_no_errors()


def test_a_question_kept_while_questions_close_can_be_sent_again(daphne_server, browsing):
    hall = daphne_server.halls[3]
    chair = Chair(browsing, daphne_server)
    phone = open_phone(browsing, hall)
    text = f"Câu hỏi viết khi mất sóng, lúc tạm dừng nhận {uuid.uuid4().hex[:6]}"
    wait_offline_ready(phone)
    phone.context.set_offline(True)
    ask(phone, text)
    expect(outbox(phone)).to_have_attribute("data-state", "pending")
    chair.set_intake(False)
    try:
        # Back online: the intake is closed, so the question is not sent; it stays, with the
        # server's reason, and the form gives way to the notice.
        phone.context.set_offline(False)
        expect(outbox(phone)).to_have_attribute("data-state", "failed", timeout=RECOVERY_MS)
        expect(by_id(phone, "ask-closed")).to_be_visible()
        expect(by_id(phone, "ask-form")).to_be_hidden()
        notice = by_id(phone, "ask-closed").text_content().strip()
        expect(outbox(phone).get_by_test_id("outbox-status")).to_contain_text(notice)
        expect(outbox(phone).locator('button[data-action="resend"]')).to_be_disabled()
        assert chair.with_text(text) == []
    finally:
        chair.set_intake(True)
    expect(by_id(phone, "ask-form")).to_be_visible()
    resend = outbox(phone).locator('button[data-action="resend"]')
    expect(resend).to_be_enabled()
    resend.tap()
    expect(outbox(phone)).to_have_count(0)
    expect(mine(phone, text)).to_have_count(1)
    assert len(chair.with_text(text)) == 1
    forgive(browsing, status=409)
    # Whatever the page asked for while the test held it offline (a poll, a send) failed.
    forgive(browsing, re.compile(r"net::ERR_INTERNET_DISCONNECTED"))
    browsing.assert_no_errors()


def test_the_clerk_enters_paper_questions_at_the_kiosk(daphne_server, browsing, artifacts):
    hall = daphne_server.halls[2]
    chair = Chair(browsing, daphne_server)
    kiosk = open_kiosk(browsing, hall)
    drawer = by_id(kiosk, "clerk-drawer")
    expect(drawer).to_be_hidden()

    # The shortcut opens the clerk's panel with the cursor in the question.
    kiosk.keyboard.press("q")
    expect(drawer).to_be_visible()
    expect(by_id(kiosk, "clerk-text")).to_be_focused()
    text = f"Đề nghị kiên cố hóa kênh mương thôn Bản Công {uuid.uuid4().hex[:6]}"
    by_id(kiosk, "clerk-text").fill(text)
    by_id(kiosk, "clerk-topic").select_option("infrastructure")
    by_id(kiosk, "clerk-name").fill("Giàng A Páo")
    by_id(kiosk, "clerk-group").fill("Thôn Bản Công")
    by_id(kiosk, "clerk-send").click()
    entered = by_id(kiosk, "clerk-entered").locator("li").filter(has_text=text)
    expect(entered).to_have_attribute("data-status", "submitted")
    qid = question_id(entered)

    (staff,) = chair.with_text(text)
    assert staff["id"] == qid
    assert staff["source"] == "paper"
    assert staff["hall_id"] == hall["id"]
    assert staff["topic"] == "infrastructure"
    assert staff["asker_name"] == "Giàng A Páo"
    assert staff["asker_named_publicly"] is False

    chair.approve(qid)
    expect(entered).to_have_attribute("data-status", "approved")

    # The hall's link drops while the clerk types the next one: it waits on the kiosk, and
    # arrives once the link is back.
    second = f"Ý kiến về giá điện sinh hoạt {uuid.uuid4().hex[:6]}"
    kiosk.context.set_offline(True)
    by_id(kiosk, "clerk-text").fill(second)
    by_id(kiosk, "clerk-send").click()
    waiting = by_id(kiosk, "clerk-entered").locator("li").filter(has_text=second)
    expect(waiting).to_have_attribute("data-status", "pending")
    expect(by_id(kiosk, "clerk-waiting")).to_be_visible()
    kiosk.screenshot(path=artifacts / "kiosk-clerk.png")
    kiosk.context.set_offline(False)
    expect(waiting).to_have_attribute("data-status", "submitted", timeout=RECOVERY_MS)
    expect(by_id(kiosk, "clerk-waiting")).to_be_hidden()
    (staff_second,) = chair.with_text(second)
    assert staff_second["source"] == "paper"

    # A rejection reaches the kiosk through the hall's stream.
    chair.reject(staff_second["id"], "off_topic")
    expect(waiting).to_have_attribute("data-status", "rejected")
    # ...and survives a reload of the kiosk.
    kiosk.reload()
    wait_live(kiosk)
    expect(waiting).to_have_attribute("data-status", "rejected")
    expect(entered).to_have_attribute("data-status", "approved")

    kiosk.keyboard.press("q")
    expect(drawer).to_be_visible()
    kiosk.keyboard.press("Escape")
    expect(drawer).to_be_hidden()
    browsing.assert_no_errors()


def test_a_phone_that_sends_too_many_waits_its_turn(daphne_server, browsing, artifacts):
    """The per-device limit (5 questions in 10 minutes by default): the sixth waits on the
    phone with the server's explanation, and is not lost or made twice."""
    hall = daphne_server.halls[1]
    chair = Chair(browsing, daphne_server)
    phone = open_phone(browsing, hall)
    tag = uuid.uuid4().hex[:6]
    texts = [f"Câu hỏi số {n} của cùng một máy {tag}" for n in range(1, 7)]
    for text in texts[:5]:
        ask(phone, text)
        expect(mine(phone, text)).to_have_count(1)
    ask(phone, texts[5])
    waiting = outbox(phone)
    expect(waiting).to_have_count(1)
    # Refused for now (429): it stays pending, to go by itself when the wait is over, and
    # shows the server's explanation instead of "waiting for the network".
    phone.wait_for_function(
        "() => (JSON.parse(localStorage.getItem('meetings.demo.outbox')) || [])"
        ".some(item => item.retry_at > Date.now() && item.message)"
    )
    (kept,) = phone.evaluate("JSON.parse(localStorage.getItem('meetings.demo.outbox'))")
    assert kept["state"] == "pending" and kept["body"]["text"] == texts[5]
    expect(waiting).to_have_attribute("data-state", "pending")
    # The server's reason, and that the phone keeps the question and sends it by itself, at
    # the time the server gave: the voter need not type it again.
    when = phone.evaluate(
        "(at) => new Date(at).toLocaleTimeString('vi-VN', "
        "{hour: '2-digit', minute: '2-digit', hourCycle: 'h23'})",
        kept["retry_at"],
    )
    kept_words = vietnamese_js(
        "Your question is kept on this phone and will be sent by itself at %(time)s. "
        "You do not need to send it again."
    )
    assert kept_words is not None
    said = f"{kept['message']} {kept_words.replace('%(time)s', when)}"
    expect(waiting.get_by_test_id("outbox-status")).to_have_text(said)
    # The form, where the voter pressed Send, says so too.
    expect(by_id(phone, "ask-message")).to_have_text(said)
    phone.screenshot(path=artifacts / "phone-rate-limited.png", full_page=True)
    assert chair.with_text(texts[5]) == []
    # A reload does not send it early, nor lose it.
    phone.reload()
    wait_live(phone)
    expect(outbox(phone)).to_have_count(1)
    expect(outbox(phone).get_by_test_id("outbox-status")).to_have_text(said)
    assert chair.with_text(texts[5]) == []
    forgive(browsing, status=429)
    browsing.assert_no_errors()


def test_a_phone_gets_its_id_from_the_server_and_replaces_one_it_does_not_know(
    daphne_server, browsing
):
    """The page asks the server for its device id when it opens. An id the server did not
    issue for the hall (edited, or from elsewhere) is refused; the page gets a new one by
    itself and sends again: the question waiting in its outbox arrives, and the vote over its
    websocket counts, once."""
    hall = daphne_server.halls[2]
    chair = Chair(browsing, daphne_server)
    qid = chair.floor_question(hall["id"], f"Đề nghị nạo vét kênh mương {uuid.uuid4().hex[:6]}")
    phone = open_phone(browsing, hall)
    issued = device_id(phone)
    assert ":" in issued  # signed by the server, not made up by the page

    made_up = str(uuid.uuid4())
    set_device_id(phone, made_up)
    text = f"Bao giờ có nước sạch cho thôn Nà Phặc? {uuid.uuid4().hex[:6]}"
    ask(phone, text)
    expect(mine(phone, text)).to_have_count(1)
    expect(outbox(phone)).to_have_count(0)
    renewed = device_id(phone)
    assert renewed not in (made_up, issued)
    assert len(chair.with_text(text)) == 1

    set_device_id(phone, issued[:-1] + ("A" if issued[-1] != "A" else "B"))  # tampered
    vote_requests = []
    phone.on("request", lambda request: "/vote" in request.url and vote_requests.append(request))
    item = by_id(phone, "queue").locator(f'li[data-question="{qid}"]')
    item.locator('button[data-action="vote"]').tap()
    expect(item.locator('button[data-action="vote"]')).to_have_attribute("aria-pressed", "true")
    expect(item.get_by_test_id("votes")).to_have_text("1")
    assert vote_requests == []  # refused and sent again over the websocket
    assert device_id(phone) not in (made_up, issued, renewed)
    state = chair.get("snapshot")["state"]
    assert state["questions"][str(qid)]["votes"] == 1
    assert state["moderation"][str(qid)]["supports"] == {str(hall["id"]): 1}  # by hall, for staff
    forgive(browsing, status=403)  # the question refused once for the made-up id
    browsing.assert_no_errors()


def test_a_phone_reloaded_offline_shows_what_was_on_last(daphne_server, browsing, artifacts):
    """The "now" card of a page opened again with no network: what the last snapshot said,
    marked as possibly out of date, until the stream is back."""
    phone = open_phone(browsing, daphne_server.halls[2])
    wait_offline_ready(phone)
    now = by_id(phone, "phone-now")
    expect(now).not_to_have_text("")
    on_now = now.text_content()
    status = phone.locator('[data-bind="status"]').text_content()
    expect(by_id(phone, "now-stale")).to_be_hidden()

    phone.context.set_offline(True)
    reloaded = phone.reload()
    assert reloaded is not None and reloaded.from_service_worker
    expect(by_id(phone, "offline-banner")).to_be_visible()
    expect(now).to_have_text(on_now)
    expect(phone.locator('[data-bind="status"]')).to_have_text(status)
    stale = by_id(phone, "now-stale")
    expect(stale).to_be_visible()
    words = vietnamese_js(
        "As of %(time)s, when this phone was last connected: it may have changed since."
    )
    assert words is not None
    before, after = words.split("%(time)s")
    expect(stale).to_have_text(re.compile(re.escape(before) + r"\d\d:\d\d" + re.escape(after)))
    phone.screenshot(path=artifacts / "phone-offline-now.png")

    # Back online: the live state replaces it.
    phone.context.set_offline(False)
    wait_live(phone)
    expect(stale).to_be_hidden()
    expect(now).to_have_text(on_now)
    forgive(browsing, re.compile(r"net::ERR_INTERNET_DISCONNECTED"))
    browsing.assert_no_errors()
