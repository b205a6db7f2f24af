"""Merged questions as people see them, in real Chromium: a chain of merges (#16 from Tà Xùa
into #10 from Hòa Bình, then #10 into #1 from Bản Công) on the kiosk (1280x720 and 1920x1080),
on the Tà Xùa voter's phone (390 px) and on the public page; and a duplicate from a question's
own hall, which adds no "also asked at".

The conference is one of its own (not the demo the other browser tests share), made and run
through the services in the server's database: the voter's question is sent from the phone
page, the moderators' actions are the services the API calls.
"""

import json
import re
import urllib.request

import pytest
from playwright.sync_api import Page, expect

from tests.browser.test_phone import MOBILE, ask, by_id, mine, wait_live

SLUG = "facts-merges"
MAKE = """
import json
from meetings.rooms.models import BridgePoint
from meetings.rooms.services.join_links import join_link_active, join_link_token
from meetings.rooms.models import JoinLinkKind
from tests.questions.helpers import open_conference
conference = open_conference("{slug}")
names = ("Bản Công", "Hòa Bình", "Tà Xùa")
halls = []
for hall, name in zip(conference.halls, names):
    BridgePoint.objects.filter(pk=hall.pk).update(name=name)
    token = lambda kind: join_link_token(join_link_active(hall=hall, kind=kind))
    halls.append({{"id": hall.pk, "name": name, "phone": "/v/" + token(JoinLinkKind.VOTER) + "/",
                   "kiosk": "/k/" + token(JoinLinkKind.OPERATOR) + "/",
                   "operator": token(JoinLinkKind.OPERATOR)}})
print(json.dumps(halls))
"""
# The moderators' part, up to #1 on air: #16 is the phone's question, found by its text.
CHAIN = """
import json
from meetings.questions.models import Question
from meetings.questions.services import air, merge, moderation
from meetings.rooms.actors import Actor
from meetings.rooms.models import Meeting
from tests.questions.helpers import ask
from tests.factories import Conference
meeting = Meeting.objects.get(slug="{slug}")
halls = list(meeting.bridge_points.filter(is_studio=False).order_by("position", "pk"))
actor = Actor.for_user(meeting.grants.get(role="chair").user)
conference = Conference(meeting, None, None, None, None, None, None, halls, [])
approve = lambda q: moderation.question_approve(question=q, actor=actor)
first = approve(ask(conference, "Khi nào sửa đường liên thôn Bản Công?", hall=halls[0], device=1))
tenth = approve(ask(conference, "Đường liên thôn Hòa Bình hỏng nặng", hall=halls[1], device=10))
sixteenth = Question.objects.get(meeting=meeting, text="{phone_text}")
merge.question_merge(question=sixteenth, into=tenth, actor=actor)
merge.question_merge(question=tenth, into=first, actor=actor)
# A duplicate from the question's own hall, answered too.
own = approve(ask(conference, "Điện sinh hoạt Bản Công chập chờn", hall=halls[0], device=2))
merge.question_merge(question=ask(conference, "Điện chập chờn", hall=halls[0], device=3),
                     into=own, actor=actor)
air.question_put_on_air(question=own, actor=actor)
air.question_answer(question=own, kind="live", summary="Đã có kế hoạch", actor=actor)
air.question_put_on_air(question=first, actor=actor)
print(json.dumps({{"first": first.pk, "sixteenth": sixteenth.pk, "own": own.pk}}))
"""
ANSWER = """
from meetings.questions.models import Question
from meetings.questions.services import air
from meetings.rooms.actors import Actor
from meetings.rooms.models import Meeting
from meetings.rooms.services.meetings import meeting_publish
meeting = Meeting.objects.get(slug="{slug}")
actor = Actor.for_user(meeting.grants.get(role="chair").user)
air.question_answer(question=Question.objects.get(pk={first}), kind="live",
                    summary="Năm sau làm đường", actor=actor)
meeting_publish(meeting=meeting, actor=actor)
"""
PHONE_TEXT = "Bao giờ làm đường liên thôn Tà Xùa?"
# The screens speak Vietnamese by default: "On air now", "Answered", and what the phone said
# when the question it joined had gone on into another.
ON_AIR, ANSWERED = "Đang được trả lời", "Đã trả lời"
WAITING = "Câu hỏi được gộp vào đang chờ xét duyệt."


def run(server, script: str, **values) -> str:
    """The script's last line of output (the shell may say what it imported first)."""
    out = server.manage("shell", "-c", script.format(slug=SLUG, **values))
    return (out.strip().splitlines() or [""])[-1]


def hold(server, hall: dict) -> str:
    """The hall's screen claims the hall, as the kiosk page does when it opens."""
    request = urllib.request.Request(
        f"{server.base_url}/api/meetings/{SLUG}/kiosk/session",
        data=b"{}",
        method="POST",
        headers={"X-Join-Link": hall["operator"], "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        body = json.load(response)
    assert body["session"]["state"] == "holding", body
    return body["token"]


def open_kiosk(browsing, hall: dict, token: str, viewport: tuple[int, int]) -> Page:
    page = browsing.new_page(viewport=viewport, hall_screen=False)
    key = f"meetings.{SLUG}.kiosk.{hall['id']}.session"
    page.context.add_init_script(
        f"localStorage.setItem({json.dumps(key)}, {json.dumps(json.dumps(token))});"
    )
    page.goto(hall["kiosk"])
    wait_live(page)
    return page


@pytest.fixture(scope="module")
def halls(daphne_server):
    return json.loads(run(daphne_server, MAKE))


def test_a_chain_of_merges_shows_every_hall_and_the_phone_follows_it(
    daphne_server, browsing, artifacts, halls
):
    ban_cong, _hoa_binh, ta_xua = halls
    # The Tà Xùa voter asks from the phone page.
    phone = browsing.new_page(**MOBILE)
    phone.goto(ta_xua["phone"])
    wait_live(phone)
    ask(phone, PHONE_TEXT)
    expect(mine(phone, PHONE_TEXT)).to_have_count(1)
    ids = json.loads(run(daphne_server, CHAIN, phone_text=PHONE_TEXT))

    # Both kiosks show #1 on air with both halls it was also asked at.
    token = hold(daphne_server, ban_cong)
    for viewport in ((1280, 720), (1920, 1080)):
        kiosk = open_kiosk(browsing, ban_cong, token, viewport)
        expect(by_id(kiosk, "kiosk-on-air")).to_be_visible()
        also = kiosk.get_by_test_id("kiosk-on-air-also")
        expect(also).to_have_text("Cũng được hỏi tại Hòa Bình, Tà Xùa")
        kiosk.screenshot(path=str(artifacts / f"merged-chain-kiosk-{viewport[0]}.png"))
        kiosk.context.close()

    # The phone's question was merged into #10, which went on into #1, now on air.
    own = mine(phone, PHONE_TEXT)
    expect(own).to_have_attribute("data-status", "merged")
    expect(own.get_by_test_id("mine-status")).to_contain_text(ON_AIR)
    run(daphne_server, ANSWER, first=ids["first"])
    # #1 answered: the phone says so, and links to it, without a reload.
    expect(own.get_by_test_id("mine-status")).to_contain_text(ANSWERED)
    expect(own).not_to_contain_text(WAITING)
    phone.screenshot(path=str(artifacts / "merged-chain-phone-390.png"), full_page=True)

    # The public page, on a phone and on a desktop.
    for viewport, options in (((390, 844), MOBILE), ((1280, 900), {})):
        page = browsing.new_page(**{**options, "viewport": viewport}, hall_screen=False)
        page.goto(f"/archive/{SLUG}/")
        first = page.locator(f'li[data-question="{ids["first"]}"]')
        expect(first.get_by_test_id("also-asked-at")).to_have_text(
            "cũng được hỏi tại Hòa Bình, Tà Xùa"
        )
        same_hall = page.locator(f'li[data-question="{ids["own"]}"]')
        expect(same_hall).to_contain_text("Điện sinh hoạt Bản Công chập chờn")
        expect(same_hall.get_by_test_id("also-asked-at")).to_have_count(0)
        expect(same_hall).not_to_contain_text(re.compile("cũng được hỏi tại", re.I))
        page.screenshot(
            path=str(artifacts / f"merged-chain-public-{viewport[0]}.png"), full_page=True
        )
        # Filtered by the hall at the end of the chain, #1 is there.
        page.goto(f"/archive/{SLUG}/?hall={ta_xua['id']}")
        expect(page.locator(f'li[data-question="{ids["first"]}"]')).to_have_count(1)
    browsing.assert_no_errors()
