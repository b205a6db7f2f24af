"""The public pages on a 390 px phone: a published conference with many halls of long
Vietnamese names, its tally, long questions and answers, the record's signed checkpoints and
the entries appended after the end, the archive, and a voter's phone page. Nothing may be
wider than the screen: the page does not scroll sideways and every element stays inside it.

The conference is made in the server's database (``manage.py shell``), apart from the demo
conference the other browser tests share."""

import json
import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.test_phone import MOBILE, open_phone

SLUG = "hn-phone-width"
HALLS = [
    "Nhà văn hóa thôn Nậm Khắt, xã Nậm Khắt, huyện Mù Cang Chải",
    "Hội trường Ủy ban nhân dân xã Tà Xùa, huyện Bắc Yên, tỉnh Sơn La",
    "Nhà sinh hoạt cộng đồng bản Hua Tạt, xã Vân Hồ",
    "Điểm cầu phường Nguyễn Trung Trực, quận Ba Đình",
    "Trường Tiểu học và Trung học cơ sở Bán trú Dân tộc thiểu số",
    "Nhà văn hóa tổ dân phố 12, phường Thịnh Quang",
    "Trạm y tế xã Phìn Ngan, huyện Bát Xát, tỉnh Lào Cai",
    "Nhà văn hóa khu phố Khmer, phường 5, thành phố Sóc Trăng",
    "Hội trường thôn Pác Bó, xã Trường Hà, huyện Hà Quảng",
    "Nhà rông làng Kon Klor, phường Thắng Lợi, thành phố Kon Tum",
]
# The factory's studio and three halls come before these.
OTHER_HALLS = 4
LONG_QUESTION = (
    "Đề nghị các vị ứng cử viên cho biết lộ trình cụ thể nâng cấp tuyến đường liên xã từ trung "
    "tâm huyện đi các thôn vùng cao, kinh phí đối ứng của địa phương, thời gian khởi công và "
    "cơ chế giám sát của người dân; đồng thời xem văn bản tại "
    "https://vanban.example.vn/quy-hoach-su-dung-dat-giai-doan-2026-2030-tinh-yen-bai.pdf"
)
# Run in the server's database: the conference, answered (the first question with a written
# answer promised), merged, rejected, ended, the written answer attached after the end, and
# published.
MAKE_CONFERENCE = """
import datetime, json
from meetings.questions.services import air, followups, merge, moderation
from meetings.rooms.models import Meeting
from meetings.rooms.services import halls, meetings
from tests.questions.helpers import ask, open_conference

if not Meeting.objects.filter(slug={slug!r}).exists():
    conference = open_conference({slug!r})
    actor = conference.actor
    meeting = conference.meeting
    added = [halls.hall_add(meeting=meeting, name=name, actor=actor) for name in {halls!r}]
    for index, hall in enumerate(added):
        question = ask(conference, {question!r} + f" ({{index}})", hall=hall, device=index + 1)
        question = moderation.question_approve(question=question, actor=actor)
        air.question_put_on_air(question=question, actor=actor)
        summary = ({question!r} + " ") * 2
        if index == 0:
            promised = air.question_answer(
                question=question, kind="written", due_date=datetime.date(2027, 1, 15),
                summary=summary, actor=actor,
            )
        else:
            air.question_answer(question=question, kind="live", summary=summary, actor=actor)
        duplicate = ask(conference, "Bao giờ sửa đường?", hall=added[index - 1], device=50 + index)
        merge.question_merge(question=duplicate, into=question, actor=actor)
        other = ask(conference, "Không liên quan", hall=hall, device=80 + index)
        moderation.question_reject(question=other, reason="off_topic", actor=actor)
    meetings.meeting_transition(meeting=meeting, to_status="ended", actor=actor)
    followups.answer_attach_written(question=promised, text={question!r}, actor=actor)
    meetings.meeting_publish(meeting=conference.meeting, actor=actor)
print(json.dumps({{"ok": True}}))
"""
# Everything wider than the viewport, or starting left of it: tag, class, test id and box.
OUTSIDE = """(width) => {
    const outside = [];
    for (const element of document.body.querySelectorAll("*")) {
        const box = element.getBoundingClientRect();
        if (box.width === 0 && box.height === 0) continue;
        if (box.right > width + 0.5 || box.left < -0.5) {
            outside.push([element.tagName, element.className, element.dataset.testid || "",
                          Math.round(box.left), Math.round(box.right)]);
        }
    }
    return outside;
}"""


@pytest.fixture(scope="module")
def wide_conference(daphne_server) -> str:
    printed = daphne_server.manage(
        "shell",
        "-c",
        MAKE_CONFERENCE.format(slug=SLUG, halls=HALLS, question=LONG_QUESTION),
    )
    assert json.loads(printed.strip().splitlines()[-1]) == {"ok": True}
    return SLUG


def assert_fits(page: Page, what: str, width: int = 390) -> None:
    # A mobile browser widens its layout viewport to the widest content and zooms out, so
    # innerWidth grows with the overflow too.
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= width, f"{what} is {scroll_width} px wide on a {width} px phone"
    assert page.evaluate("window.innerWidth") == width
    outside = page.evaluate(OUTSIDE, width)
    assert outside == [], f"{what}: elements outside the screen: {outside[:10]}"


@pytest.mark.parametrize("language", ["vi", "en"])
def test_the_public_pages_fit_a_390_px_phone(
    daphne_server, browsing, artifacts, wide_conference, language
):
    visitor = browsing.new_page(**MOBILE, hall_screen=False)
    visitor.context.add_cookies(
        [{"name": "django_language", "value": language, "url": daphne_server.base_url}]
    )

    visitor.goto(f"/archive/{wide_conference}/")
    expect(visitor.get_by_test_id("answered").locator("li")).to_have_count(len(HALLS))
    expect(visitor.get_by_test_id("tally").locator("tbody tr")).to_have_count(
        len(HALLS) + OTHER_HALLS
    )
    # The hall filter offers every hall, by its whole name.
    options = visitor.get_by_test_id("filters").locator("select[name=hall] option")
    expect(options).to_have_count(len(HALLS) + OTHER_HALLS + 1)  # and "all halls"
    assert_fits(visitor, "the public page")
    # The tally still says which figure is which, and the hall's whole name.
    row = visitor.get_by_test_id("tally").locator("tbody tr").filter(has_text=HALLS[1])
    expect(row).to_be_visible()
    expect(row.locator("td").nth(1)).to_have_attribute("data-label", re.compile(r"\w"))
    visitor.screenshot(path=str(artifacts / f"public-390-{language}.png"), full_page=True)
    visitor.get_by_test_id("tally").scroll_into_view_if_needed()
    visitor.screenshot(path=str(artifacts / f"public-390-tally-{language}.png"))
    # The record: the end checkpoint, the head now (signed at publication), and the entries
    # after the end, each explained: the written answer (staff and public) and the publication.
    end = visitor.get_by_test_id("end-checkpoint")
    expect(end).to_be_visible()
    expect(end.locator('[data-field="signature"]')).to_have_text(
        re.compile(r"^[A-Za-z0-9+/]{86}==$")
    )
    expect(visitor.get_by_test_id("current-head")).to_be_visible()
    expect(visitor.get_by_test_id("head-checkpoint")).to_be_visible()
    later = visitor.get_by_test_id("after-end").locator("li")
    expect(later).to_have_count(3)
    expect(later.last).to_contain_text("meeting.published")
    expect(visitor.get_by_test_id("public-key")).to_be_visible()
    expect(visitor.get_by_test_id("checkpoints-link")).to_have_attribute(
        "href", f"/archive/{wide_conference}/checkpoints.json"
    )
    visitor.get_by_test_id("record").scroll_into_view_if_needed()
    visitor.get_by_test_id("record").screenshot(
        path=str(artifacts / f"public-390-record-{language}.png")
    )

    # Filtered by the hall with the longest name: still inside.
    visitor.get_by_test_id("filters").locator("select[name=hall]").select_option(label=HALLS[1])
    visitor.get_by_test_id("filters").locator("button[type=submit]").click()
    expect(visitor).to_have_url(re.compile(r"[?&]hall=\d+"))
    # Its own question, and the one its duplicate was merged into.
    expect(visitor.get_by_test_id("answered").locator("li")).to_have_count(2)
    assert_fits(visitor, "the filtered public page")

    visitor.goto("/archive/")
    expect(visitor.get_by_test_id("archive")).to_contain_text("Hội nghị tiếp xúc cử tri")
    assert_fits(visitor, "the archive")
    visitor.screenshot(path=str(artifacts / f"archive-390-{language}.png"), full_page=True)
    browsing.assert_no_errors()


def test_the_phone_page_fits_a_390_px_phone(daphne_server, browsing, artifacts):
    phone = open_phone(browsing, daphne_server.halls[1])
    expect(phone.get_by_test_id("ask-form")).to_be_visible()
    assert_fits(phone, "the phone page")
    phone.screenshot(path=str(artifacts / "phone-390.png"), full_page=True)
    browsing.assert_no_errors()
