"""An anonymous visitor follows a round's recommendations in Chromium: from the archive to the
round's public page, searching by district, commune, topic and free text, in Vietnamese and
then in English, each search a link that can be shared; without JavaScript of its own, the
page is forms and links. Every step waits on what the page shows, never on time.

The round is made in the server's database (``manage.py shell``) with the world of the
follow-through tests (tests/questions/follow_through_world.py), apart from the demo conference
the other browser tests share."""

import json
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Page, expect

from tests.browser.test_moderation import sign_in

ROUND = "lao-cai-theo-doi"
MAKE_ROUND = """
import json
from meetings.rooms.models import Round
from meetings.rooms.services.rounds import round_organiser_grant
from tests.factories import make_user
from tests.questions.follow_through_world import build_world

if not Round.objects.filter(slug={slug!r}).exists():
    world = build_world()
    north = world.conferences["north"]
    round_organiser_grant(round=world.round, user=make_user("lc_organiser"), actor=north.actor)
    print(json.dumps({{name: q.pk for name, q in world.public.items()}}))
else:
    print(json.dumps(None))
"""


@pytest.fixture(scope="module")
def public_round(daphne_server) -> dict[str, int]:
    printed = daphne_server.manage("shell", "-c", MAKE_ROUND.format(slug=ROUND))
    made = json.loads(printed.strip().splitlines()[-1])
    assert made is not None, "the round was already there"
    return made


def shown(page: Page):
    return page.get_by_test_id("follow-ups").locator("li[data-question]")


def expect_listed(page: Page, questions: list[int]) -> None:
    expect(shown(page)).to_have_count(len(questions))
    ids = shown(page).evaluate_all("(rows) => rows.map((row) => Number(row.dataset.question))")
    assert sorted(ids) == sorted(questions)


def search(page: Page, **fields: str) -> None:
    """Fill the search form as a visitor does and send it; returns once the new page is in."""
    form = page.get_by_test_id("follow-filters")
    for name, value in fields.items():
        field = form.locator(f"[name={name}]")
        if field.evaluate("(element) => element.tagName") == "SELECT":
            field.select_option(label=value) if value else field.select_option(value="")
        else:
            field.fill(value)
    with page.expect_navigation():
        page.get_by_test_id("filter-submit").click()


def test_an_anonymous_visitor_searches_the_round_in_vietnamese_and_english(
    browsing, public_round, artifacts
):
    ids = public_round
    visitor = browsing.new_page(hall_screen=False, locale="vi-VN")
    visitor.goto("/archive/")
    visitor.get_by_test_id("archive-rounds").get_by_role("link").filter(
        has_text="Tiếp xúc cử tri tỉnh Lào Cai"
    ).click()
    expect(visitor).to_have_url(re.compile(rf"/archive/rounds/{ROUND}/$"))
    expect(visitor.locator("html")).to_have_attribute("lang", "vi")
    expect_listed(visitor, list(ids.values()))
    expect(visitor.get_by_test_id("count-total")).to_have_text("4")
    expect(visitor.get_by_test_id("count-overdue")).to_have_text("1")
    # Overdue first, with its days.
    expect(shown(visitor).first).to_have_attribute("data-question", str(ids["clinic"]))
    expect(shown(visitor).first.get_by_test_id("follow-state")).to_have_text(
        re.compile(r"Quá hạn \d+ ngày")
    )

    search(visitor, district="Huyện Bát Xát")
    expect_listed(visitor, [ids["road"], ids["clinic"]])
    expect(visitor.get_by_test_id("count-total")).to_have_text("2")
    search(visitor, commune="Xã Bản Vược")
    expect_listed(visitor, [ids["road"]])
    search(visitor, district="", commune="", topic="Hạ tầng, giao thông")
    expect_listed(visitor, [ids["road"], ids["water"]])
    search(visitor, topic="", q="bác sĩ")
    expect_listed(visitor, [ids["clinic"]])
    search(visitor, q="không có kiến nghị nào như thế")
    expect(visitor.get_by_test_id("no-follow-ups")).to_be_visible()
    # A search is a link: opened elsewhere, it shows the same.
    search(visitor, q="", topic="Hạ tầng, giao thông", district="Thành phố Lào Cai")
    expect_listed(visitor, [ids["water"]])
    shared = visitor.url
    assert parse_qs(urlsplit(shared).query) == {
        "district": ["Thành phố Lào Cai"],
        "topic": ["infrastructure"],
    }
    visitor.screenshot(path=str(artifacts / "follow-through-vi.png"), full_page=True)

    # English, from the page's own switch: the same search, in English.
    with visitor.expect_navigation():
        visitor.get_by_test_id("language-switch").get_by_role("button", name="EN").click()
    expect(visitor.locator("html")).to_have_attribute("lang", "en")
    expect(visitor).to_have_url(shared)
    expect_listed(visitor, [ids["water"]])
    expect(visitor.get_by_test_id("filter-topic")).to_have_value("infrastructure")
    expect(visitor.get_by_test_id("filter-topic").locator("option:checked")).to_have_text(
        "Infrastructure and roads"
    )
    search(visitor, topic="Health", district="")
    expect_listed(visitor, [ids["clinic"]])
    expect(shown(visitor).first.get_by_test_id("follow-state")).to_have_text(
        re.compile(r"Overdue by \d+ days?")
    )
    expect(shown(visitor).first.get_by_test_id("follow-topic")).to_have_text("Health")
    search(visitor, topic="", q="Phong Niên")
    expect_listed(visitor, [ids["school"]])
    expect(shown(visitor).first.get_by_test_id("follow-state")).to_have_text("Awaiting the answer")
    visitor.screenshot(path=str(artifacts / "follow-through-en.png"), full_page=True)
    # The link to the question on its conference's page.
    with visitor.expect_navigation():
        shown(visitor).first.get_by_test_id("follow-link").click()
    expect(visitor).to_have_url(re.compile(rf"/archive/ln-south/#question-{ids['school']}$"))
    expect(visitor.locator(f"#question-{ids['school']}")).to_be_visible()
    expect(visitor.get_by_test_id("round-link")).to_have_attribute(
        "href", f"/archive/rounds/{ROUND}/"
    )
    browsing.assert_no_errors()


def test_the_secretary_and_the_organiser_follow_up_and_the_public_sees_it(
    browsing, daphne_server, public_round, artifacts
):
    """Runs after the visitor's test (it changes the states that test counts)."""
    ids = public_round
    # A secretary of the southern conference, on its follow-ups page: the water referral's due
    # date moved with a reason, the school's written answer recorded with who answered.
    secretary = sign_in(browsing, daphne_server, "ln_south_secretary", "pw-ln_south_secretary")
    secretary.goto("/meetings/ln-south/follow-ups/")
    water = secretary.get_by_test_id("follow-ups").locator(f'li[data-question="{ids["water"]}"]')
    water.get_by_test_id("new-due-date").fill("2027-06-30")
    water.get_by_test_id("due-date-reason").fill("Chờ bố trí vốn")
    water.get_by_test_id("move-due-date").click()
    expect(water.get_by_test_id("promise")).to_contain_text("30")
    school = secretary.get_by_test_id("follow-ups").locator(f'li[data-question="{ids["school"]}"]')
    school.get_by_test_id("written-answer-input").fill("Sở đã bố trí thêm 4 phòng học năm 2027.")
    school.get_by_test_id("answered-by").fill("Phòng Giáo dục huyện Bảo Thắng")
    school.get_by_test_id("attach-written-answer").click()
    expect(school.get_by_test_id("written-answer")).to_contain_text("Phòng Giáo dục")
    # The organiser, on the round's page (forms, no script): the road's answer.
    organiser = sign_in(browsing, daphne_server, "lc_organiser", "pw-lc_organiser")
    organiser.goto(f"/rounds/{ROUND}/follow-through/")
    road = organiser.locator(f'li[data-question="{ids["road"]}"]')
    road.locator("textarea[name=text]").fill("Sở đưa tuyến đường vào kế hoạch năm 2027.")
    road.locator("input[name=answered_by]").fill("Sở Giao thông vận tải")
    with organiser.expect_navigation():
        road.get_by_role("button", name="Record the answer").click()
    expect(organiser.get_by_test_id("message")).to_have_text(
        "The agency's answer is on the conference's record."
    )
    organiser.screenshot(path=str(artifacts / "follow-through-organiser.png"), full_page=True)
    # The visitor sees both answers, and the counts moved.
    visitor = browsing.new_page(hall_screen=False)
    visitor.context.add_cookies(
        [{"name": "django_language", "value": "en", "url": daphne_server.base_url}]
    )
    visitor.goto(f"/archive/rounds/{ROUND}/")
    expect(visitor.get_by_test_id("count-answered")).to_have_text("2")
    answered = visitor.get_by_test_id("follow-ups").locator("li[data-question]")
    expect(answered.last.get_by_test_id("follow-state")).to_have_text("Answered")
    page = visitor.get_by_test_id("follow-ups")
    expect(page).to_contain_text("Answer from Phòng Giáo dục huyện Bảo Thắng")
    expect(page).to_contain_text("Answer from Sở Giao thông vận tải")
    expect(
        page.locator(f'li[data-question="{ids["water"]}"]').get_by_test_id("follow-due")
    ).to_contain_text("2027")
    browsing.assert_no_errors()
