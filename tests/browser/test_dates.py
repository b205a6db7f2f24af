"""Dates read the same on every screen and cannot be misread: in English the day first with
the month in words ("6 Dec 2026", never the American "12/06/2026", which a Vietnamese reader
takes for 12 June), in Vietnamese as documents write them; 24-hour times in both. Checked on
the pages the server writes (dashboard, public page) and in the scripts that write the others
(format.js, questions.js, question-words.js), in Chromium with an American English browser."""

import datetime
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Page, expect

from tests.browser.test_moderation import by_id, sign_in

SLUG = "demo"
ZONE = ZoneInfo("Asia/Ho_Chi_Minh")  # the server's TIME_ZONE and the browser's time zone
MOMENT = "2026-12-06T12:30:05Z"  # 19:30 in Hà Nội, on 6 December
DAY = "2026-12-06"
# The scripts' date and time words, called in the page as the screens call them.
SCRIPT_DATES = """async ([moment, day]) => {
    const format = await import("/static/js/format.js");
    const words = await import("/static/js/question-words.js");
    const questions = await import("/static/js/questions.js");
    return {
        dateTime: format.dateTime(moment),
        clock: format.clock(moment),
        shortDate: words.shortDate(day),
        due: questions.answerWords({kind: "written", due_date: day}),
        sent: questions.shortClock(moment),
    };
}"""

EXPECTED = {
    "en": {
        "dateTime": "6 Dec 2026, 19:30",
        "clock": "19:30:05",
        "shortDate": "6 Dec 2026",
        "sent": "19:30",
    },
    "vi": {
        "dateTime": "19:30, ngày 6 tháng 12 năm 2026",
        "clock": "19:30:05",
        "shortDate": "ngày 6 tháng 12 năm 2026",
        "sent": "19:30",
    },
}


def scheduled(page: Page) -> datetime.datetime:
    state = page.request.get(f"/api/meetings/{SLUG}/snapshot").json()["state"]
    return datetime.datetime.fromisoformat(state["meeting"]["scheduled_start"]).astimezone(ZONE)


def choose(page: Page, server, language: str) -> None:
    page.context.add_cookies(
        [{"name": "django_language", "value": language, "url": server.base_url}]
    )


@pytest.mark.parametrize("language", ["en", "vi"])
def test_every_screen_writes_dates_day_first(daphne_server, browsing, artifacts, language):
    chair = sign_in(browsing, daphne_server, daphne_server.username, daphne_server.password)
    choose(chair, daphne_server, language)
    start = scheduled(chair)
    day_month = f"{start.day} {start:%b} {start.year}"
    if language == "en":
        dashboard_when = f"{day_month}, {start:%H:%M}"
        public_when = dashboard_when
    else:
        dashboard_when = f"{start:%H:%M}, {start:%d/%m/%Y}"
        public_when = f"{start:%H:%M}, ngày {start.day} tháng {start.month} năm {start.year}"

    chair.goto(daphne_server.seed["dashboard"])
    expect(chair.locator("html")).to_have_attribute("lang", language)
    expect(by_id(chair, "meeting-when")).to_have_text(dashboard_when)
    chair.screenshot(path=str(artifacts / f"dates-dashboard-{language}.png"))

    chair.goto(f"/archive/{SLUG}/")  # the staff's preview of the public page
    expect(by_id(chair, "meeting-when")).to_have_text(public_when)

    chair.goto(daphne_server.seed["dashboard"])
    written = chair.evaluate(SCRIPT_DATES, [MOMENT, DAY])
    for key, value in EXPECTED[language].items():
        assert written[key] == value, (key, written)
    assert EXPECTED[language]["shortDate"] in written["due"], written
    browsing.assert_no_errors()
