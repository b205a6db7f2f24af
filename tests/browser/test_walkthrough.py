"""The README's walk-through ("A conference from start to finish"), step by step in Chromium,
on the demo exactly as seed_demo builds it for `make run`: the chair signs in and switches to
English, opens the conference, a voter's phone sends a question, the chair approves it, puts
it on air, marks it answered, ends the conference and publishes it, and a visitor reads the
answer on the public page. Every button is found by the label the README gives, so a renamed
button or a changed step fails here before it misleads a newcomer.

The demo must be untouched (still scheduled, no question yet): this module has a server of
its own rather than the package's, which the other modules change."""

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import REPO, DaphneServer, serve_demo

TITLE = "Hội nghị tiếp xúc cử tri – Đơn vị bầu cử số 3"
HALL = "Nhà văn hóa tổ dân phố 5, phường Hòa Bình"
CANDIDATE = "Nguyễn Thị Hồng Nhung"
QUESTION = "Khi nào trạm y tế phường có bác sĩ trực ban đêm?"
SUMMARY = "Từ tháng Ba, trạm y tế có bác sĩ trực mỗi đêm."
PHONE = (390, 844)


def _walk_through() -> str:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    start = readme.index("## A conference from start to finish")
    section = readme[start : readme.index("\n## ", start + 1)]
    return re.sub(r"\s+", " ", section)  # a label may be wrapped over two lines


WALK_THROUGH = _walk_through()


def said(label: str) -> str:
    """A label of the screens as the README's walk-through names it: bold in English,
    italic in Vietnamese."""
    assert f"**{label}**" in WALK_THROUGH or f"*{label}*" in WALK_THROUGH, label
    return label


@pytest.fixture(scope="module")
def daphne_server(chromium_path, tmp_path_factory) -> Iterator[DaphneServer]:
    with serve_demo(tmp_path_factory) as server:
        yield server


def answer_to(action: str):
    """Matches the console's answer to an action on a question."""
    return lambda response: (
        response.request.method == "POST" and response.url.endswith(f"/{action}")
    )


class Shots:
    """Numbered screenshots of the walk-through, for a person to look at."""

    def __init__(self, directory):
        self.directory = directory
        self.count = 0

    def __call__(self, page: Page, name: str) -> None:
        self.count += 1
        path = self.directory / f"walkthrough-{self.count:02d}-{name}.png"
        page.screenshot(path=path, full_page=page.viewport_size["width"] < 500)  # a phone


def test_the_readme_walk_through_runs_a_conference_from_start_to_publication(
    daphne_server, browsing, artifacts
):
    shot = Shots(artifacts)

    # 1. Sign in as the chair with the password `make run` printed; EN shows English.
    chair = browsing.new_page(hall_screen=False)
    chair.goto(daphne_server.seed["login"])
    expect(chair.get_by_role("heading", name="Đăng nhập")).to_be_visible()
    chair.get_by_role("button", name=said("EN")).click()
    chair.get_by_label(said("Username")).fill(daphne_server.username)
    chair.get_by_label(said("Password")).fill(daphne_server.password)
    shot(chair, "sign-in")
    chair.get_by_role("button", name=said("Sign in")).click()

    # 2. Conferences: the demo. Its dashboard: open the conference.
    expect(chair.get_by_role("heading", name=said("Conferences"))).to_be_visible()
    chair.get_by_role("link", name=TITLE).click()
    status = chair.get_by_test_id("meeting-status")
    expect(status).to_have_class(re.compile(r"\bstatus-scheduled\b"))
    chair.get_by_role("button", name=said("Open the conference")).click()
    expect(status).to_have_class(re.compile(r"\bstatus-live\b"))
    shot(chair, "dashboard-open")

    # 3. A voter's phone: the hall's "Phone page" link (its QR code on the poster).
    links = chair.get_by_role("table").filter(has_text="Kiosk (operator)")
    phone_link = (
        links.get_by_role("row").filter(has_text=HALL).get_by_role("link", name=said("Phone page"))
    )
    phone_url = phone_link.get_attribute("href")
    phone = browsing.new_page(
        hall_screen=False, viewport=PHONE, is_mobile=True, has_touch=True, device_scale_factor=2
    )
    phone.goto(phone_url)
    expect(phone.get_by_test_id("connection")).to_have_attribute("data-state", "live")
    phone.get_by_label(said("Câu hỏi của bạn")).fill(QUESTION)
    phone.get_by_role("button", name=said("Gửi câu hỏi")).click()
    expect(phone.get_by_test_id("mine")).to_contain_text(QUESTION)
    shot(phone, "phone-sent")

    # 4. The question queue: approve, then on air.
    chair.get_by_role("link", name=said("Question queue")).click()
    expect(chair.get_by_test_id("connection")).to_have_attribute("data-state", "live")
    incoming = chair.get_by_test_id("incoming").get_by_role("listitem").filter(has_text=QUESTION)
    expect(incoming).to_be_visible()
    shot(chair, "queue-incoming")
    # A second command on a question waits in the console until the first one's answer is back
    # (frontend/js/queue.js, waiting); the test waits for each answer to keep its steps apart.
    with chair.expect_response(answer_to("approve")):
        incoming.get_by_role("button", name=said("Approve")).click()
    queued = chair.get_by_test_id("queue").get_by_role("listitem").filter(has_text=QUESTION)
    with chair.expect_response(answer_to("on-air")):
        queued.get_by_role("button", name=said("On air")).click()
    on_air = chair.get_by_test_id("on-air").get_by_role("listitem").filter(has_text=QUESTION)
    expect(on_air).to_be_visible()
    # The hall's screens and the voters' phones show it as the question being answered.
    expect(phone.get_by_test_id("on-air-text")).to_have_text(QUESTION)
    expect(phone.get_by_test_id("on-air-mine")).to_be_visible()
    shot(phone, "phone-on-air")
    shot(chair, "queue-on-air")

    # 5. Once the candidate has answered: Answered…, who answered, a summary, Mark answered.
    on_air.get_by_role("button", name=said("Answered…")).click()
    dialog = chair.get_by_role("dialog", name=said("Mark the question answered"))
    dialog.get_by_label(said("Answered at the conference")).check()
    dialog.get_by_label(said("Answered by")).select_option(label=CANDIDATE)
    dialog.get_by_label(said("Short summary of the answer")).fill(SUMMARY)
    shot(chair, "answer-dialog")
    dialog.get_by_role("button", name=said("Mark answered")).click()
    done = chair.get_by_test_id("done").get_by_role("listitem").filter(has_text=QUESTION)
    expect(done).to_have_attribute("data-status", "answered")
    expect(phone.get_by_test_id("mine")).to_contain_text("Đã trả lời tại hội nghị")

    # 6. Back on the dashboard: end the conference (confirmed), then publish (confirmed).
    chair.get_by_role("link", name=TITLE).click()
    chair.once("dialog", lambda confirm: confirm.accept())
    chair.get_by_role("button", name=said("End the conference")).click()
    expect(status).to_have_class(re.compile(r"\bstatus-ended\b"))
    expect(chair.get_by_test_id("published-badge")).to_have_text("not public")
    chair.once("dialog", lambda confirm: confirm.accept())
    chair.get_by_role("button", name=said("Publish")).click()
    expect(chair.get_by_test_id("published-badge")).to_have_text(said("public"))
    shot(chair, "dashboard-published")

    # 7. Anyone: the archive lists the conference, and its public page shows the answer.
    with chair.context.expect_page() as opened:
        chair.get_by_role("link", name=said("Open the public page")).click()
    expect(opened.value.get_by_test_id("answered")).to_contain_text(QUESTION)
    visitor = browsing.new_page(hall_screen=False)
    visitor.goto("/archive/")
    visitor.get_by_role("link", name=TITLE).click()
    answered = visitor.get_by_test_id("answered").get_by_role("listitem").filter(has_text=QUESTION)
    expect(answered).to_contain_text(SUMMARY)
    expect(answered).to_contain_text(CANDIDATE)
    expect(answered).to_contain_text(HALL)
    shot(visitor, "public-page")
    browsing.assert_no_errors()
