"""The organiser's overview of a round in Chromium: a round like Lào Cai's (14 conferences,
150 halls, 92 candidates), several conferences live at once; while the organiser's page is
open, conferences open, halls connect and are lost, questions are received, approved and
answered, agenda items start, attendance comes in, and each shows on the page. A hall lost
more than 30 s ago (its kiosk last heard from 100 s ago: a fact of the record, not a wait)
stands out.

Screenshots (Vietnamese, English, only the problems) go to $SHOTS_DIR/overview-*.png when
SHOTS_DIR is set."""

import json
import os
import re
import secrets
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.rounds.spreadsheets import lao_cai, workbook

ORGANISER = "organiser-lao-cai"
PASSWORD = "organiser-" + secrets.token_urlsafe(10)  # pragma: allowlist secret
LIVE = (1, 2, 3, 4, 5)
LATE = (3, 14)


def run(server, function: str, *args) -> str:
    """Calls ``function`` of tests/browser/round_driver.py in the server's database."""
    call = f"from tests.browser import round_driver as d; d.{function}(*{args!r})"
    output = server.manage("shell", "--no-imports", "-c", call).strip()
    return output.splitlines()[-1] if output else ""


def row(page: Page, n: int):
    return page.locator(f'tr[data-slug="lao-cai-don-vi-{n}"]')


def shoot(page: Page, name: str) -> None:
    folder = os.environ.get("SHOTS_DIR")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"overview-{name}.png"), full_page=True)


@pytest.fixture
def round_server(daphne_server, tmp_path):
    path = tmp_path / "lao-cai.xlsx"
    path.write_bytes(workbook(lao_cai()))
    daphne_server.manage("import_round", str(path))
    run(
        daphne_server,
        "set_up",
        ORGANISER,
        PASSWORD,
        ",".join(map(str, LIVE)),
        ",".join(map(str, LATE)),
    )
    return daphne_server


def test_the_organiser_follows_the_whole_round_live(browsing, round_server):
    server = round_server
    page = browsing.new_page(viewport=(1600, 1000), hall_screen=False)
    page.goto(server.seed["login"])
    page.locator("main form input[name=username]").fill(ORGANISER)
    page.locator("main form input[name=password]").fill(PASSWORD)
    page.locator("main form button[type=submit]").click()
    expect(page.get_by_test_id("meeting-list")).to_be_visible()
    page.get_by_test_id("rounds-organised").get_by_role("link").click()
    expect(page).to_have_url(re.compile(r"/rounds/lao-cai-2026/$"))
    expect(page.locator("html")).to_have_attribute("lang", "vi")

    # Every conference has its row, once each stream's snapshot is in.
    rows = page.get_by_test_id("rows").locator("tr")
    expect(rows).to_have_count(14)
    expect(page.locator("tr[data-slug][data-phase=unknown]")).to_have_count(0)
    expect(page.locator("tr[data-phase=live]")).to_have_count(len(LIVE))
    expect(page.get_by_test_id("connection")).to_have_attribute("data-state", "live")
    # Conference 1 (11 halls): every hall but the last connected, none lost yet.
    expect(row(page, 1).get_by_test_id("connected")).to_have_attribute("data-connected", "10")
    expect(row(page, 1).get_by_test_id("connected")).to_have_attribute("data-total", "11")
    expect(row(page, 1).get_by_test_id("lost")).to_have_count(0)
    # 14 scheduled 20 minutes ago and not open: late. 3 is open, nothing started yet: late.
    expect(row(page, 14).get_by_test_id("late")).to_have_attribute("data-kind", "not-opened")
    expect(row(page, 3).get_by_test_id("late")).to_have_attribute("data-kind", "nothing-started")
    expect(row(page, 7).get_by_test_id("late")).to_have_count(0)
    expect(page.get_by_test_id("total-halls")).to_contain_text("150")

    # A conference opens.
    run(server, "open_conference", 6)
    expect(row(page, 6)).to_have_attribute("data-phase", "live")
    expect(row(page, 6).get_by_test_id("state")).to_have_text("Đang diễn ra")

    # A hall connects, one is lost now, one was last heard from 100 s ago.
    run(server, "connect", 6, 0)
    expect(row(page, 6).get_by_test_id("connected")).to_have_attribute("data-connected", "1")
    run(server, "lose", 1, 2)
    lost_now = row(page, 1).get_by_test_id("lost").locator("li")
    expect(lost_now).to_have_count(1)
    expect(lost_now).to_contain_text("Nhà văn hóa thôn 29")
    expect(row(page, 1).get_by_test_id("connected")).to_have_attribute("data-connected", "9")
    run(server, "lose_long_ago", 2, 1, 100)
    long_lost = row(page, 2).locator('[data-testid=lost] li[data-long="true"]')
    expect(long_lost).to_have_count(1)
    expect(long_lost).to_contain_text("Nhà văn hóa thôn 16")
    expect(long_lost).to_contain_text(re.compile(r"0[12]:\d\d"))
    expect(row(page, 2)).to_have_class(re.compile(r"\bproblem\b"))
    expect(page.get_by_test_id("total-lost")).to_have_class(re.compile(r"\bproblem\b"))

    # An agenda item starts; attendance comes in.
    title = json.loads(run(server, "start_item", 1, 0))["title"]
    expect(row(page, 1).get_by_test_id("agenda")).to_contain_text(title)
    # A candidate's presentation runs in conference 2: their speaking time counts up.
    title = json.loads(run(server, "start_item", 2, 1))["title"]
    expect(row(page, 2).get_by_test_id("agenda")).to_contain_text(title)
    run(server, "attendance", 1, 0, 120)
    run(server, "attendance", 1, 1, 45)
    expect(row(page, 1).get_by_test_id("attendance")).to_have_attribute("data-value", "165")

    # A question is received, approved, answered; its candidate's time counts.
    question = json.loads(run(server, "ask", 1, "Bao giờ làm đường liên thôn?"))["id"]
    expect(row(page, 1).get_by_test_id("received")).to_have_text("1")
    expect(row(page, 1).get_by_test_id("approved")).to_have_text("0")
    run(server, "approve", question)
    expect(row(page, 1).get_by_test_id("approved")).to_have_text("1")
    run(server, "answer", question)
    expect(row(page, 1).get_by_test_id("answered")).to_have_text("1")
    expect(row(page, 1).get_by_test_id("speaking")).to_have_attribute("data-candidates", "7")
    shoot(page, "vi")

    # Only the problems: the late ones and the one with a hall lost for long.
    page.get_by_test_id("only-problems").check()
    expect(row(page, 2)).to_be_visible()
    expect(row(page, 14)).to_be_visible()
    expect(row(page, 7)).to_have_count(0)
    page.get_by_test_id("sort").select_option("problems")
    expect(rows.first).to_have_attribute("data-problems", re.compile(r"[1-9]"))
    shoot(page, "problems")
    page.get_by_test_id("only-problems").uncheck()
    page.get_by_test_id("sort").select_option("schedule")

    # In English.
    page.get_by_test_id("language-switch").get_by_role("button", name="EN").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(rows).to_have_count(14)
    expect(row(page, 6).get_by_test_id("state")).to_have_text("Live")
    expect(row(page, 1).get_by_test_id("answered")).to_have_text("1")
    expect(row(page, 2).locator('[data-testid=lost] li[data-long="true"]')).to_have_count(1)
    expect(page.locator("tr[data-slug][data-phase=unknown]")).to_have_count(0)  # every stream back
    expect(row(page, 14).get_by_test_id("late")).to_contain_text("late")
    shoot(page, "en")
    browsing.assert_no_errors()
