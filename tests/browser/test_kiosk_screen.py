"""The hall's TV as the hall reads it, in real Chromium, on the two screens halls use: a
1280x720 and a 1920x1080 TV read from five metres.

- A long question on air is never shrunk below the kiosk's least size: it turns pages, each
  of whole words, until every word has been shown; the top and bottom bars keep to that size
  too, and nothing leaves the screen.
- The bottom line tells the hall its news only (not the record's technical entries), drops
  "connecting" once the programme plays, and cuts a long message after a whole word.
- Once the conference has ended the kiosk says so and where its record will be, and no longer
  invites voters to scan its code or the clerk to type paper questions; the phone page and the
  server refuse new questions.
- The clock shows the conference's time, whatever zone the TV's browser is set to.

The ended conference is one of its own (``kiosk-ended``), so that the demo conference the other
tests share stays live.
"""

import datetime
import json
import re
import uuid
from zoneinfo import ZoneInfo

from playwright.sync_api import Page, expect

from tests.browser.test_media import (
    by_id,
    csrf_headers,
    english_page,
    open_meeting_live,
    put_question_on_air,
    sign_in_chair,
)

SLUG = "demo"
API = f"/api/meetings/{SLUG}"
WAIT_MS = 25_000
SIZES = [(1280, 720), (1920, 1080)]
# The conference's time zone: settings.TIME_ZONE, which the test server does not change.
CONFERENCE_ZONE = "Asia/Ho_Chi_Minh"

# A question of exactly 1,000 characters whose words are all different, so that a test can
# tell which of them a page showed.
WORDS = [
    *("đường", "liên", "thôn", "bản", "Công", "sạt", "lở", "mùa", "mưa"),
    *("học", "sinh", "trạm", "y", "tế", "xã", "cầu", "treo"),
]


def long_question(length: int = 1000) -> str:
    words, index = [], 0
    while len(" ".join([*words, f"{WORDS[index % len(WORDS)]}{index}"])) <= length - 1:
        words.append(f"{WORDS[index % len(WORDS)]}{index}")
        index += 1
    text = " ".join(words)
    return text + "?" * (length - len(text))


def least_text_px(height: int) -> float:
    """The kiosk's least text size on a screen ``height`` pixels high (hall.css,
    --kiosk-min-text: max(24px, 3.3vh)), less half a pixel of rounding."""
    return max(24.0, height * 0.033) - 0.5


# Every element with text of its own in the kiosk's top bar, bottom bar and the question on air,
# shown, with its computed font size.
SHOWN_TEXTS = """(selectors) => {
  const out = [];
  for (const selector of selectors) {
    for (const element of document.querySelectorAll(selector)) {
      const own = [...element.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
      const box = element.getBoundingClientRect();
      if (!own || box.width === 0 || box.height === 0) continue;
      out.push({ where: selector, text: element.textContent.trim().slice(0, 40),
                 size: Number.parseFloat(getComputedStyle(element).fontSize) });
    }
  }
  return out;
}"""
BARS = [".kiosk-top *", ".kiosk-bottom *", "[data-testid=kiosk-on-air] *"]

# What leaves the viewport: the document's scroll size, and any shown element of the screen
# (the clerk's drawer aside) whose box reaches past an edge.
OVERFLOW = """() => {
  const width = window.innerWidth, height = window.innerHeight;
  const out = [];
  const root = document.documentElement;
  if (root.scrollWidth > width || root.scrollHeight > height) {
    out.push(`document ${root.scrollWidth}x${root.scrollHeight}`);
  }
  for (const element of document.querySelectorAll(".kiosk-screen *")) {
    if (element.closest("[data-testid=clerk-drawer], .kiosk-programme")) continue;
    const box = element.getBoundingClientRect();
    if (box.width === 0 || box.height === 0) continue;
    if (box.left < -1 || box.top < -1 || box.right > width + 1 || box.bottom > height + 1) {
      out.push(`${element.className || element.tagName} ${JSON.stringify(box)}`);
    }
  }
  return out;
}"""

# The words the question on air shows now, and whether all of it is inside its box.
PAGE_SHOWN = """() => {
  const text = document.querySelector("[data-testid=kiosk-on-air-text]");
  const box = text.parentElement;
  const boxRect = box.getBoundingClientRect();
  return { words: text.textContent.split(/\\s+/).filter(Boolean),
           whole: box.scrollHeight <= box.clientHeight && boxRect.bottom <= window.innerHeight,
           page: Number(text.dataset.page), pages: Number(text.dataset.pages),
           size: Number.parseFloat(getComputedStyle(text).fontSize) };
}"""


def assert_readable(page: Page, height: int, what: str) -> None:
    least = least_text_px(height)
    texts = page.evaluate(SHOWN_TEXTS, BARS)
    places = {text["where"] for text in texts}
    assert places == set(BARS), f"{what}: no text found in {set(BARS) - places}"
    small = [text for text in texts if text["size"] < least]
    assert not small, f"{what}: texts under {least:.1f}px: {small}"
    assert page.evaluate(OVERFLOW) == [], f"{what}: past the screen's edge"


def kiosk_page(browsing, server, hall: dict, size, *, lang: str = "en", **options) -> Page:
    page = browsing.new_page(viewport=size, **options)
    page.context.add_cookies([{"name": "django_language", "value": lang, "url": server.base_url}])
    page.goto(hall["kiosk"])
    expect(page.locator("body")).to_have_attribute("data-hold", "holding", timeout=WAIT_MS)
    expect(by_id(page, "connection")).to_have_attribute("data-state", "live", timeout=WAIT_MS)
    return page


def programme_plays(page: Page) -> None:
    expect(page.locator("body")).to_have_class(re.compile(r"\bhas-programme\b"), timeout=WAIT_MS)


# --- a long question on air -------------------------------------------------------------------


def test_a_long_question_turns_pages_at_a_readable_size(daphne_server, browsing, artifacts):
    chair = sign_in_chair(browsing, daphne_server)
    open_meeting_live(chair)
    hall = daphne_server.halls[1]
    text = long_question()
    assert len(text) == 1000
    put_question_on_air(chair, hall, text)
    words = text.split()

    for (width, height), lang in zip(SIZES, ("vi", "en"), strict=True):
        what = f"{width}x{height}"
        kiosk = kiosk_page(browsing, daphne_server, hall, (width, height), lang=lang)
        programme_plays(kiosk)
        on_air = by_id(kiosk, "kiosk-on-air-text")
        expect(on_air).to_have_attribute("data-pages", re.compile(r"^[2-9]$"))
        indicator = by_id(kiosk, "on-air-page")
        expect(indicator).to_be_visible()
        pages = int(on_air.get_attribute("data-pages"))
        # Each page as it is shown, turned by the operator's key. The pages also turn by
        # themselves (every 4-20 s), so a page is read whole from one evaluation and the loop
        # goes round until it has read every page, whichever turned it.
        shown_pages: dict[int, list[str]] = {}
        for _turn in range(4 * pages):
            shown = kiosk.evaluate(PAGE_SHOWN)
            assert shown["pages"] == pages, (what, shown)
            number = shown["page"]
            assert shown["whole"], f"{what}: page {number} is not whole in its box"
            assert shown["size"] >= least_text_px(height) + 0.5, (what, shown["size"])
            if number not in shown_pages:
                expect(indicator).to_contain_text(f"{pages}")
                assert_readable(kiosk, height, f"{what}, page {number}")
                kiosk.screenshot(path=artifacts / f"kiosk-long-question-{what}-page{number}.png")
                shown_pages[number] = shown["words"]
            if len(shown_pages) == pages:
                break
            kiosk.keyboard.press("PageDown")
            expect(on_air).not_to_have_attribute("data-page", str(number))
        # Every word, whole and in order, over the pages.
        assert sorted(shown_pages) == list(range(1, pages + 1)), (what, sorted(shown_pages))
        seen = [word for number in sorted(shown_pages) for word in shown_pages[number]]
        assert seen == words, what
        browsing.assert_no_errors()

    # Left alone, the pages turn by themselves.
    current = int(on_air.get_attribute("data-page"))
    expect(on_air).to_have_attribute("data-page", str(current % pages + 1), timeout=30_000)


# --- the bottom line ----------------------------------------------------------------------------

# What the kiosk's bottom line makes of entries of the record that the halls receive.
TOLD = """async (hall) => {
  const { hallNews } = await import("/static/js/kiosk-ticker.js");
  const events = {
    "recording.part_closed": { part: 1, status: "complete" },
    "clip.ready": { question: 1 },
    "meeting.status_changed": { from: "live", to: "ended" },
  };
  const out = {};
  for (const [type, payload] of Object.entries(events)) {
    out[type] = hallNews({ type, payload }, { halls: {} }, String(hall));
  }
  return out;
}"""


def kiosk_seq(page: Page) -> int:
    return page.evaluate("() => window.__media.stream.seq")


def newest_event(chair: Page, event_type: str, since: int = 0) -> int | None:
    """The seq of the newest ``event_type`` on the record after ``since``."""
    found = None
    while True:
        answer = chair.request.get(f"{API}/events?since={since}&limit=500").json()
        for event in answer["events"]:
            if event["type"] == event_type:
                found = event["seq"]
        if not answer["events"] or not answer["more"]:
            return found
        since = answer["events"][-1]["seq"]


def test_the_bottom_line_says_only_the_halls_news(daphne_server, browsing, artifacts):
    chair = sign_in_chair(browsing, daphne_server)
    open_meeting_live(chair)
    # Two halls' TVs, one of each size.
    halls = daphne_server.halls[2:4]
    kiosks = [
        kiosk_page(browsing, daphne_server, hall, size)
        for hall, size in zip(halls, SIZES, strict=True)
    ]
    kiosk, hall = kiosks[0], halls[0]
    ticker = by_id(kiosk, "ticker")

    # Once the programme plays, the line no longer says it is connecting.
    for page in kiosks:
        programme_plays(page)
        expect(by_id(page, "ticker")).not_to_have_text(re.compile("Connecting"))

    # News for the hall: its attendance, set at the studio.
    start = chair.request.get(f"{API}/snapshot").json()["seq"]
    response = chair.request.post(
        f"{API}/halls/{hall['id']}/attendance", data={"count": 31}, headers=csrf_headers(chair)
    )
    assert response.ok, response.text()
    expect(ticker).to_contain_text("31 voters present")

    # A technical entry the hall receives (the programme's layout): not on the line.
    for layout in ("side_by_side", "inset"):
        response = chair.request.post(
            f"{API}/programme/layout", data={"layout": layout}, headers=csrf_headers(chair)
        )
        assert response.ok, response.text()
    layout_seq = newest_event(chair, "programme.layout_set", since=start)
    assert layout_seq is not None
    kiosk.wait_for_function(f"() => window.__media.stream.seq >= {layout_seq}")
    expect(ticker).to_have_text(re.compile(r"31 voters present$"))
    # Nor the recording's entries, which the halls receive too: what the kiosk makes of them.
    told = kiosk.evaluate(TOLD, hall["id"])
    assert told["recording.part_closed"] is None, told
    assert told["clip.ready"] is None, told
    assert told["meeting.status_changed"] == "Conference is now: Ended", told

    # A long question on air: the line holds whole words only, the last one followed by "…".
    marker = uuid.uuid4().hex[:6]
    text = (
        f"Xin hỏi ứng cử viên {marker}: khi nào đường liên thôn từ bản Công ra trung tâm xã "
        "được sửa lại, vì mùa mưa năm nào cũng sạt lở, học sinh phải nghỉ học nhiều ngày, "
        "người ốm không đưa được xuống trạm y tế, hàng hóa của bà con không mang ra chợ được?"
    )
    question = put_question_on_air(chair, hall, text)
    full = f"On air: #{question} “{text}”"
    for page, (width, height) in zip(kiosks, SIZES, strict=True):
        line = by_id(page, "ticker")
        expect(line).to_contain_text(f"#{question}")
        shown = line.text_content()
        assert shown.endswith("…") and len(shown) < len(full), shown
        shown_words = shown.removesuffix("…").split()
        assert shown_words == full.split()[: len(shown_words)], f"cut mid-word: {shown!r}"
        assert line.evaluate("e => e.scrollHeight <= e.clientHeight"), "the line overflows"
        assert_readable(page, height, f"{width}x{height}")
        page.screenshot(path=artifacts / f"kiosk-bottom-line-{width}x{height}.png")
    browsing.assert_no_errors()


# --- after the end ----------------------------------------------------------------------------

ENDED_SLUG = "kiosk-ended"
ENDED_API = f"/api/meetings/{ENDED_SLUG}"
# A conference of its own with a studio and two halls, scheduled and not yet taking questions;
# prints its halls' links.
CREATE_CONFERENCE = """
import json
from datetime import timedelta
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone
from meetings.rooms.actors import Actor
from meetings.rooms.models import JoinLinkKind, MeetingStatus
from meetings.rooms.services import halls, meetings
from meetings.rooms.services.join_links import join_link_active, join_link_token

actor = Actor.for_user(get_user_model().objects.get(username="chair"))
meeting = meetings.meeting_create(
    slug="{slug}", title="Hội nghị đã kết thúc", electoral_unit="Đơn vị bầu cử số 9",
    scheduled_start=timezone.now() + timedelta(hours=1), studio_name="Điểm cầu trung tâm",
    actor=actor,
)
for name in ("Nhà văn hóa thôn Nà Phặc", "Hội trường xã Mường Lống"):
    halls.hall_add(meeting=meeting, name=name, actor=actor)
meetings.meeting_transition(meeting=meeting, to_status=MeetingStatus.SCHEDULED, actor=actor)

def link(hall, kind, view):
    return reverse(view, args=[join_link_token(join_link_active(hall=hall, kind=kind))])

print(json.dumps([
    {{"id": hall.pk, "name": hall.name, "kiosk": link(hall, JoinLinkKind.OPERATOR, "kiosk"),
      "phone": link(hall, JoinLinkKind.VOTER, "phone")}}
    for hall in meeting.bridge_points.filter(is_studio=False)
]))
"""


def post(chair: Page, path: str, data: dict) -> None:
    response = chair.request.post(f"{ENDED_API}{path}", data=data, headers=csrf_headers(chair))
    assert response.ok, f"{path}: {response.status} {response.text()}"


def test_after_the_end_the_kiosk_says_so_and_invites_no_questions(
    daphne_server, browsing, artifacts
):
    printed = daphne_server.manage("shell", "-c", CREATE_CONFERENCE.format(slug=ENDED_SLUG))
    halls = json.loads(printed.strip().splitlines()[-1])
    chair = sign_in_chair(browsing, daphne_server)
    # Each hall's TV is a device that opens its link first: it holds the hall.
    kiosks = [
        kiosk_page(browsing, daphne_server, hall, size, hall_screen=False)
        for hall, size in zip(halls, SIZES, strict=True)
    ]

    # Scheduled, questions not open yet: the code invites voters to follow, not to ask.
    for kiosk in kiosks:
        expect(by_id(kiosk, "kiosk-qr")).to_be_visible()
        expect(by_id(kiosk, "qr-follow")).to_be_visible()
        expect(by_id(kiosk, "qr-ask")).to_be_hidden()
    # Open and live: the invitation to ask, and the clerk's paper questions.
    post(chair, "/questions/intake", {"open": True})
    post(chair, "/status", {"status": "live"})
    for kiosk in kiosks:
        expect(by_id(kiosk, "qr-ask")).to_have_text("Scan to send your question to the candidates")
        expect(by_id(kiosk, "clerk-open")).to_be_visible()
        expect(by_id(kiosk, "kiosk-ended")).to_be_hidden()

    # The chair ends the conference.
    post(chair, "/status", {"status": "ended"})
    public_url = f"{daphne_server.base_url}/archive/{ENDED_SLUG}/"
    for kiosk, (width, height) in zip(kiosks, SIZES, strict=True):
        expect(kiosk.locator("body")).to_have_attribute("data-phase", "ended")
        expect(by_id(kiosk, "kiosk-now")).to_have_text("The conference has ended. Thank you.")
        expect(by_id(kiosk, "kiosk-ended")).to_be_visible()
        expect(by_id(kiosk, "public-will-be")).to_be_visible()
        expect(by_id(kiosk, "public-url")).to_have_text(public_url)
        # No code, no invitation, no paper questions.
        expect(by_id(kiosk, "kiosk-qr")).to_be_hidden()
        expect(kiosk.locator(".kiosk-qr svg")).to_be_hidden()
        assert "Scan to" not in kiosk.locator("body").inner_text()
        expect(by_id(kiosk, "clerk-open")).to_be_hidden()
        kiosk.keyboard.press("q")
        expect(by_id(kiosk, "clerk-drawer")).to_be_hidden()
        expect(by_id(kiosk, "ticker")).to_have_text("Conference is now: Ended")
        assert kiosk.evaluate(OVERFLOW) == [], f"{width}x{height}: past the screen's edge"
        kiosk.screenshot(path=artifacts / f"kiosk-ended-{width}x{height}.png")

    # Published: the kiosk says where the record is.
    post(chair, "/publish", {"published": True})
    expect(by_id(kiosks[0], "public-is")).to_be_visible()
    expect(by_id(kiosks[0], "public-will-be")).to_be_hidden()
    expect(by_id(kiosks[0], "ticker")).to_have_text(
        "The conference's page and record are published"
    )

    # The phone page no longer offers the form, and the server refuses a question, saying why.
    phone = english_page(browsing, daphne_server, viewport=(390, 844))
    phone.goto(halls[0]["phone"])
    expect(by_id(phone, "connection")).to_have_attribute("data-state", "live")
    expect(by_id(phone, "ask-form")).to_be_hidden()
    expect(by_id(phone, "ask-closed")).to_have_text(
        "The conference is not taking questions at the moment."
    )
    token = halls[0]["phone"].rstrip("/").rsplit("/", 1)[1]
    issued = phone.request.post(f"{ENDED_API}/device", headers={"X-Join-Link": token})
    assert issued.status == 201, issued.text()
    refused = phone.request.post(
        f"{ENDED_API}/questions",
        data={"client_id": str(uuid.uuid4()), "text": "Còn hỏi được không?"},
        headers={"X-Join-Link": token, "X-Device-Id": issued.json()["device"]},
    )
    assert refused.status == 409, refused.text()
    assert refused.json()["code"] == "meeting_ended"
    assert refused.json()["message"] == "The conference has ended; it takes no more questions."
    # Nor paper questions from the kiosk's clerk.
    kiosk_token = halls[0]["kiosk"].rstrip("/").rsplit("/", 1)[1]
    session = kiosks[0].evaluate(
        f"() => JSON.parse(localStorage.getItem('meetings.{ENDED_SLUG}.kiosk.{halls[0]['id']}"
        ".session'))"
    )
    paper = kiosks[0].request.post(
        f"{ENDED_API}/questions",
        data={"client_id": str(uuid.uuid4()), "text": "Câu hỏi trên giấy"},
        headers={"X-Join-Link": kiosk_token, "X-Kiosk-Session": session},
    )
    assert paper.status == 409, paper.text()
    assert paper.json()["code"] == "meeting_ended"
    phone.screenshot(path=artifacts / "phone-ended.png", full_page=True)
    browsing.assert_no_errors()


# --- the clock ----------------------------------------------------------------------------------


def test_the_clock_shows_the_conferences_time_whatever_the_tvs_zone(
    daphne_server, browsing, artifacts
):
    hall = daphne_server.halls[3]
    for size in SIZES:
        # The TV's browser is set to New York, twelve hours from the conference (Vietnam).
        kiosk = kiosk_page(
            browsing, daphne_server, hall, size, lang="vi", timezone_id="America/New_York"
        )
        assert kiosk.evaluate("Intl.DateTimeFormat().resolvedOptions().timeZone") == (
            "America/New_York"
        )
        clock = kiosk.locator('[data-bind="clock"]')
        expect(clock).to_have_text(re.compile(r"^\d\d:\d\d$"))
        # Still connecting the programme (the text-only look) or not, all of it on the screen.
        assert kiosk.evaluate(OVERFLOW) == [], f"{size}: past the screen's edge"
        now = datetime.datetime.now(datetime.UTC)
        conference = {
            (now + datetime.timedelta(minutes=step))
            .astimezone(ZoneInfo(CONFERENCE_ZONE))
            .strftime("%H:%M")
            for step in (-1, 0, 1)
        }
        shown = clock.text_content()
        assert shown in conference, f"the clock says {shown}, the conference's time is {conference}"
        kiosk.screenshot(path=artifacts / f"kiosk-clock-{size[0]}x{size[1]}.png")
    # The zone comes with the snapshot, as every screen reads the conference.
    chair = sign_in_chair(browsing, daphne_server)
    state = chair.request.get(f"{API}/snapshot").json()["state"]
    assert state["meeting"]["time_zone"] == CONFERENCE_ZONE
    browsing.assert_no_errors()
