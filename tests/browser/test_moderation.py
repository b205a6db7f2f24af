"""The moderators' console, as the chair and a secretary use it at the same time: voters' questions
arrive live, one moderator approves with a shortcut while the other sees it move, duplicates are
merged from the similarity suggestions and the merge undone, the queue is reordered with the
keyboard and by dragging, a question goes on air and is answered in writing, and a moderator who
acts on an outdated card is told so. The candidate's console follows the question on air.

The secretary's websocket passes through a Playwright route that the test can hold, so that the
stale action is certain rather than a race: while held, the secretary's screen still shows what
the chair has just changed.

The pages are switched to English (the language cookie) so that the screenshots read the same
for every reviewer; the checks use test ids, data attributes and the texts of the questions.
"""

import datetime
import re
import time
import uuid
from typing import Any

from playwright.sync_api import Page, expect

SECRETARY = "secretary"
SECRETARY_PASSWORD = "secretary-" + uuid.uuid4().hex[:12]
SLUG = "demo"
CANDIDATE_NAME = "Nguyễn Thị Hồng Nhung"  # the demo's candidate1 (seed_demo)
# The browser's own line for an API refusal the test provokes on purpose.
CONFLICT_NOISE = re.compile(r"status of 409\b")

CREATE_SECRETARY = """
from django.contrib.auth import get_user_model
from meetings.rooms.actors import Actor
from meetings.rooms.models import Meeting, Role, RoleGrant
from meetings.rooms.services.roles import role_grant

User = get_user_model()
user, _ = User.objects.get_or_create(
    username={username!r}, defaults={{"first_name": "Phạm Thị", "last_name": "Thu"}}
)
user.set_password({password!r})
user.save()
meeting = Meeting.objects.get(slug={slug!r})
if not RoleGrant.objects.filter(meeting=meeting, user=user, role=Role.SECRETARY).exists():
    chair = User.objects.get(username="chair")
    role_grant(meeting=meeting, user=user, role=Role.SECRETARY, actor=Actor.for_user(chair))
"""


def by_id(page: Page, test_id: str):
    return page.get_by_test_id(test_id)


def card(page: Page, list_name: str, question_id: int):
    return by_id(page, list_name).locator(f'li.qcard[data-id="{question_id}"]')


def list_ids(page: Page, list_name: str) -> list[int]:
    return [
        int(value)
        for value in by_id(page, list_name)
        .locator("li.qcard")
        .evaluate_all("cards => cards.map(card => card.dataset.id)")
    ]


def csrf_headers(page: Page) -> dict[str, str]:
    token = next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")
    return {"X-CSRFToken": token, "Referer": page.url}


class HeldStream:
    """Passes a page's meeting websocket through, and can hold back what the server sends
    (as a slow link would) until released."""

    def __init__(self, page: Page):
        self.held = False
        self.waiting: list[tuple[Any, Any]] = []
        page.route_web_socket(re.compile(r"/ws/meetings/"), self._route)

    def _route(self, ws) -> None:
        server = ws.connect_to_server()
        ws.on_message(server.send)
        server.on_message(lambda message: self._deliver(ws, message))

    def _deliver(self, ws, message) -> None:
        if self.held:
            self.waiting.append((ws, message))
        else:
            ws.send(message)

    def hold(self) -> None:
        self.held = True

    def release(self) -> None:
        self.held = False
        waiting, self.waiting = self.waiting, []
        for ws, message in waiting:
            ws.send(message)


def sign_in(browsing, server, username: str, password: str, *, viewport=(1440, 900)) -> Page:
    page = browsing.new_page(viewport=viewport)
    page.context.add_cookies([{"name": "django_language", "value": "en", "url": server.base_url}])
    page.goto(server.seed["login"])
    page.locator("main form input[name=username]").fill(username)
    page.locator("main form input[name=password]").fill(password)
    page.locator("main form button[type=submit]").click()
    expect(by_id(page, "meeting-list")).to_be_visible()
    return page


def open_console(page: Page) -> None:
    page.goto(f"/meetings/{SLUG}/queue/")
    expect(by_id(page, "connection")).to_have_attribute("data-state", "live")
    expect(by_id(page, "hall-strip").locator("li")).not_to_have_count(0)


def prepare_meeting(chair: Page) -> None:
    """The demo as the test needs it whatever ran before: live, taking questions, nothing on
    air."""
    api = f"/api/meetings/{SLUG}"
    snapshot = chair.request.get(f"{api}/snapshot").json()["state"]
    if snapshot["meeting"]["status"] != "live":
        response = chair.request.post(
            f"{api}/status", data={"status": "live"}, headers=csrf_headers(chair)
        )
        assert response.ok, response.text()
    if not snapshot["meeting"].get("questions_open"):
        response = chair.request.post(
            f"{api}/questions/intake", data={"open": True}, headers=csrf_headers(chair)
        )
        assert response.ok, response.text()
    for question in snapshot.get("moderation", {}).values():
        if question["status"] == "on_air":
            chair.request.post(
                f"{api}/questions/{question['id']}/back-to-queue",
                data={},
                headers=csrf_headers(chair),
            )


def ask(voter: Page, hall: dict, text: str, **fields) -> int:
    """A voter's phone sends a question through the API, as the phone page does."""
    token = hall["phone"].rstrip("/").rsplit("/", 1)[1]
    issued = voter.request.post(f"/api/meetings/{SLUG}/device", headers={"X-Join-Link": token})
    assert issued.status == 201, issued.text()
    response = voter.request.post(
        f"/api/meetings/{SLUG}/questions",
        data={"client_id": str(uuid.uuid4()), "text": text, **fields},
        headers={"X-Join-Link": token, "X-Device-Id": issued.json()["device"]},
    )
    assert response.status == 201, response.text()
    return response.json()["question"]["id"]


def press_on(page: Page, locator, key: str) -> None:
    """Focus a card as a moderator does (a click on its text), then press a shortcut."""
    locator.locator(".qcard-text").click()
    expect(locator).to_be_focused()
    page.keyboard.press(key)


def test_two_moderators_run_the_queue_live(daphne_server, browsing, artifacts):
    daphne_server.manage(
        "shell",
        "-c",
        CREATE_SECRETARY.format(username=SECRETARY, password=SECRETARY_PASSWORD, slug=SLUG),
    )
    chair = sign_in(browsing, daphne_server, daphne_server.username, daphne_server.password)
    prepare_meeting(chair)
    secretary = sign_in(browsing, daphne_server, SECRETARY, SECRETARY_PASSWORD)
    secretary_stream = HeldStream(secretary)
    # The secretary's account reaches the console from the conference list.
    by_id(secretary, "queue-link").first.click()
    expect(by_id(secretary, "connection")).to_have_attribute("data-state", "live")
    open_console(chair)
    expect(by_id(chair, "intake")).to_have_attribute("data-open", "true")
    # The intake closes and opens again, for both.
    by_id(chair, "toggle-intake").click()
    expect(by_id(secretary, "intake")).to_have_attribute("data-open", "false")
    by_id(chair, "toggle-intake").click()
    expect(by_id(secretary, "intake")).to_have_attribute("data-open", "true")

    # Voters at three halls ask; both consoles show the questions as they arrive.
    halls = daphne_server.halls[1:]  # halls[0] is the studio
    marker = uuid.uuid4().hex[:6]
    voter = browsing.new_page()
    roads = ask(
        voter,
        halls[0],
        f"Khi nào sửa đường liên thôn từ bản Công ra trung tâm xã {marker}? Mùa mưa không đi được.",
        asker_name="Nguyễn Văn Bình",
        asker_group="Tổ 5",
    )
    for page in (chair, secretary):
        expect(card(page, "incoming", roads)).to_be_visible()
    expect(card(chair, "incoming", roads)).to_contain_text("Nguyễn Văn Bình")
    roads_again = ask(
        voter,
        halls[1],
        f"Đề nghị cho biết khi nào sửa đường liên thôn ra trung tâm xã {marker}, mùa mưa đi khó.",
    )
    health = ask(voter, halls[2], f"Trạm y tế xã {marker} thiếu bác sĩ, đề nghị tăng cường.")
    school = ask(voter, halls[0], f"Trường mầm non thôn {marker} bị dột, khi nào sửa?")
    # Text is shown as text, never as markup.
    sneaky = ask(voter, halls[1], f"<b>{marker}</b><img src=x onerror=alert(1)> đường xã?")
    for page in (chair, secretary):
        for question in (roads_again, health, school, sneaky):
            expect(card(page, "incoming", question)).to_be_visible()

    # The chair notes a question spoken from the floor of a hall; it joins Incoming, focused.
    by_id(chair, "floor-question").click()
    floor = by_id(chair, "floor-dialog")
    expect(floor).to_be_visible()
    floor.locator('select[name="hall_id"]').select_option(str(halls[2]["id"]))
    spoken = f"Ý kiến tại chỗ {marker}: đề nghị làm cầu treo qua suối."
    floor.locator('textarea[name="text"]').fill(spoken)
    floor.locator('input[name="asker_name"]').fill("Giàng A Páo")
    by_id(chair, "floor-confirm").click()
    expect(floor).to_be_hidden()
    floor_card = by_id(chair, "incoming").locator("li.qcard", has_text="cầu treo qua suối")
    expect(floor_card).to_be_focused()
    expect(floor_card.locator('[data-source="floor"]')).to_be_visible()
    floor_id = int(floor_card.get_attribute("data-id"))
    expect(card(secretary, "incoming", floor_id)).to_contain_text("Giàng A Páo")

    # The chair corrects its wording (E) while other questions keep arriving: the half-typed
    # text and the focus survive the live updates.
    chair.keyboard.press("e")
    editor = floor_card.locator("textarea")
    expect(editor).to_be_focused()
    editor.press_sequentially(" Xin cảm ơn")
    late = ask(voter, halls[0], f"Câu hỏi đến muộn {marker} về điện chiếu sáng?")
    expect(card(chair, "incoming", late)).to_be_visible()
    expect(editor).to_be_focused()
    expect(editor).to_have_value(spoken + " Xin cảm ơn")
    editor.press("Control+Enter")
    expect(card(secretary, "incoming", floor_id).locator(".qcard-text")).to_have_text(
        spoken + " Xin cảm ơn"
    )
    expect(floor_card.locator(".qcard-original")).to_contain_text(spoken)
    expect(floor_card).to_be_focused()
    expect(card(chair, "incoming", sneaky).locator(".qcard-text")).to_have_text(
        f"<b>{marker}</b><img src=x onerror=alert(1)> đường xã?"
    )
    expect(card(chair, "incoming", sneaky).locator("img")).to_have_count(0)

    # The chair approves with the keyboard; the secretary sees it move to the queue live.
    press_on(chair, card(chair, "incoming", health), "a")
    expect(card(secretary, "queue", health)).to_be_visible()
    expect(card(secretary, "incoming", health)).to_have_count(0)
    # Focus stays in Incoming, on the next card, ready for the next shortcut.
    expect(chair.locator("li.qcard:focus")).to_have_count(1)
    focused_list = chair.evaluate("document.activeElement.parentElement.dataset.list")
    assert focused_list == "incoming"
    # The per-hall strip counts it for its hall.
    health_hall = by_id(secretary, "hall-strip").locator(f'li[data-hall="{halls[2]["id"]}"]')
    expect(health_hall).not_to_have_attribute("data-approved", "0")
    expect(health_hall).not_to_have_class(re.compile(r"\bnone-approved\b"))

    # The secretary approves the first roads question and rejects the sneaky one with a reason.
    press_on(secretary, card(secretary, "incoming", roads), "a")
    expect(card(chair, "queue", roads)).to_be_visible()
    press_on(secretary, card(secretary, "incoming", sneaky), "r")
    reject = by_id(secretary, "reject-dialog")
    expect(reject).to_be_visible()
    reject.locator('input[name="reason"][value="unclear"]').check()
    reject.locator('textarea[name="note"]').fill("Xin ghi rõ nội dung.")
    by_id(secretary, "reject-confirm").click()
    expect(reject).to_be_hidden()
    rejected = card(chair, "done", sneaky)
    expect(rejected).to_have_attribute("data-status", "rejected")
    expect(rejected).to_contain_text("Xin ghi rõ nội dung.")

    # Merge: the similar list suggests the other hall's roads question; the chair merges.
    press_on(chair, card(chair, "incoming", roads_again), "m")
    merge = by_id(chair, "merge-dialog")
    expect(merge).to_be_visible()
    suggestion = by_id(chair, "similar").locator(f'li[data-similar="{roads}"]')
    expect(suggestion).to_be_visible()
    assert int(suggestion.locator(".score").inner_text().rstrip("%")) >= 60
    suggestion.get_by_test_id("merge-into").click()
    expect(merge).to_be_hidden()
    for page in (chair, secretary):
        expect(card(page, "done", roads_again)).to_have_attribute("data-status", "merged")
        target = card(page, "queue", roads)
        expect(target.locator(f'[data-merged="{roads_again}"]')).to_be_visible()
    # Both halls now count for the question that stays in the queue.
    chair.screenshot(path=artifacts / "moderation-merged.png", full_page=True)

    # The secretary undoes the merge from under the target; it returns to Incoming.
    card(secretary, "queue", roads).locator(f'[data-merged="{roads_again}"]').get_by_test_id(
        "undo-merge"
    ).click()
    for page in (chair, secretary):
        expect(card(page, "incoming", roads_again)).to_be_visible()
        expect(card(page, "queue", roads).locator("[data-merged]")).to_have_count(0)
    press_on(chair, card(chair, "incoming", roads_again), "a")
    expect(card(secretary, "queue", roads_again)).to_be_visible()

    # Reorder with the keyboard: the second roads question moves up past the first.
    order = list_ids(chair, "queue")
    assert order.index(roads) + 1 == order.index(roads_again), order
    press_on(chair, card(chair, "queue", roads_again), "Alt+ArrowUp")
    expected = list(order)
    expected.remove(roads_again)
    expected.insert(order.index(roads), roads_again)
    for page in (chair, secretary):
        expect(by_id(page, "queue").locator("li.qcard")).to_have_count(len(expected))
        page.wait_for_function(
            """expected => JSON.stringify([...document.querySelectorAll(
                '[data-testid="queue"] li.qcard')].map(c => Number(c.dataset.id)))
                === JSON.stringify(expected)""",
            arg=expected,
        )
    expect(card(chair, "queue", roads_again)).to_be_focused()

    # ...and by dragging its handle: the health question goes to the end of the queue.
    last = by_id(chair, "queue").locator("li.qcard").last
    assert list_ids(chair, "queue")[-1] != health
    card(chair, "queue", health).locator(".drag-handle").drag_to(
        last, target_position={"x": 40, "y": last.bounding_box()["height"] - 4}
    )
    secretary.wait_for_function(
        """id => {
            const cards = document.querySelectorAll('[data-testid="queue"] li.qcard');
            return cards.length && Number(cards[cards.length - 1].dataset.id) === id;
        }""",
        arg=health,
    )

    # The chair addresses the roads question to a candidate (C), and puts it on air (O).
    roads_card = card(chair, "queue", roads_again)
    press_on(chair, roads_card, "c")
    select = roads_card.get_by_test_id("candidate-select")
    expect(select).to_be_focused()
    [candidate_id] = select.select_option(label=CANDIDATE_NAME)
    expect(roads_card).to_be_focused()
    expect(card(secretary, "queue", roads_again).get_by_test_id("candidate-select")).to_have_value(
        candidate_id
    )
    chair.keyboard.press("o")
    for page in (chair, secretary):
        expect(card(page, "on-air", roads_again)).to_be_visible()
        expect(by_id(page, "on-air-panel")).to_have_class(re.compile(r"\bactive\b"))
    expect(card(chair, "on-air", roads_again)).to_be_focused()
    chair.screenshot(path=artifacts / "moderation-on-air.png", full_page=True)

    # The candidate's console shows it on air, large, as addressed to them.
    candidate_page = sign_in(browsing, daphne_server, "candidate1", daphne_server.password)
    by_id(candidate_page, "meeting-list").locator("a").first.click()
    expect(candidate_page).to_have_url(re.compile(rf"/meetings/{SLUG}/candidate/$"))
    expect(by_id(candidate_page, "connection")).to_have_attribute("data-state", "live")
    expect(by_id(candidate_page, "on-air-text")).to_contain_text(marker)
    expect(candidate_page.locator(".stage-meta .for-you")).to_be_visible()
    candidate_page.screenshot(path=artifacts / "candidate-console-on-air.png", full_page=True)

    # Answered in writing, with a due date: D on the card on air.
    chair.keyboard.press("d")
    answer = by_id(chair, "answer-dialog")
    expect(answer).to_be_visible()
    answer.locator('input[name="kind"][value="written"]').check()
    due = datetime.date.today() + datetime.timedelta(days=30)
    by_id(chair, "answer-due-date").fill(due.isoformat())
    answer.locator('textarea[name="summary"]').fill("Sở GTVT trả lời bằng văn bản.")
    by_id(chair, "answer-confirm").click()
    expect(answer).to_be_hidden()
    for page in (chair, secretary):
        answered = card(page, "done", roads_again)
        expect(answered).to_have_attribute("data-status", "answered")
        expect(answered).to_contain_text(str(due.year))
        expect(answered).to_contain_text("Sở GTVT trả lời bằng văn bản.")
        expect(by_id(page, "on-air-panel")).not_to_have_class(re.compile(r"\bactive\b"))
    expect(
        by_id(candidate_page, "candidate-answered").locator(f'li[data-id="{roads_again}"]')
    ).to_be_visible()
    # After answering, the focus waits on the next question of the queue.
    assert chair.evaluate("document.activeElement.parentElement.dataset.list") == "queue"

    # A stale action: the secretary's screen lags behind while the chair approves the school
    # question; the secretary then approves it too and is told someone else was first.
    secretary_stream.hold()
    press_on(chair, card(chair, "incoming", school), "a")
    expect(card(chair, "queue", school)).to_be_visible()
    stale = card(secretary, "incoming", school)
    expect(stale).to_be_visible()
    with secretary.expect_response(lambda r: f"/questions/{school}/approve" in r.url) as refused:
        press_on(secretary, stale, "a")
    assert refused.value.status == 409
    message = refused.value.json()["message"]
    toast = by_id(secretary, "toast")
    expect(toast).to_be_visible()
    expect(toast).to_have_attribute("data-kind", "error")
    expect(toast).to_contain_text(message)
    expect(toast).to_contain_text(f"#{school}")
    secretary.screenshot(path=artifacts / "moderation-conflict.png", full_page=True)
    secretary_stream.release()
    expect(card(secretary, "queue", school)).to_be_visible()
    browsing.errors[:] = [e for e in browsing.errors if not CONFLICT_NOISE.search(e)]

    # A fair order: the suggestion takes the halls in turn; applying it reorders both screens.
    # (The school question first moves up before the health question of another hall.)
    order = list_ids(chair, "queue")
    assert order.index(health) + 1 == order.index(school), order
    press_on(chair, card(chair, "queue", school), "Alt+ArrowUp")
    chair.wait_for_function(
        """([school, health]) => {
            const ids = [...document.querySelectorAll('[data-testid="queue"] li.qcard')]
                .map(c => Number(c.dataset.id));
            return ids.indexOf(school) + 1 === ids.indexOf(health);
        }""",
        arg=[school, health],
    )
    by_id(chair, "suggest-order").click()
    suggestion_panel = by_id(chair, "round-robin")
    expect(suggestion_panel).to_be_visible()
    suggested = [
        int(v)
        for v in suggestion_panel.locator("li[data-id]").evaluate_all(
            "items => items.map(item => item.dataset.id)"
        )
    ]
    assert sorted(suggested) == sorted(list_ids(chair, "queue"))
    assert suggested.index(health) < suggested.index(school), suggested
    expect(by_id(chair, "apply-order")).to_be_enabled()
    by_id(chair, "apply-order").click()
    expect(suggestion_panel).to_be_hidden()
    for page in (chair, secretary):
        page.wait_for_function(
            """expected => JSON.stringify([...document.querySelectorAll(
                '[data-testid="queue"] li.qcard')].map(c => Number(c.dataset.id)))
                === JSON.stringify(expected)""",
            arg=suggested,
        )

    # Done folds away and back.
    by_id(secretary, "toggle-done").click()
    expect(by_id(secretary, "done")).to_be_hidden()
    expect(by_id(secretary, "toggle-done")).to_have_attribute("aria-expanded", "false")
    by_id(secretary, "toggle-done").click()
    expect(card(secretary, "done", roads_again)).to_be_visible()

    # The help lists the shortcuts.
    card(chair, "queue", school).focus()
    chair.keyboard.press("?")
    expect(by_id(chair, "help-dialog")).to_be_visible()
    chair.screenshot(path=artifacts / "moderation-help.png")
    chair.keyboard.press("Escape")
    expect(by_id(chair, "help-dialog")).to_be_hidden()

    chair.screenshot(path=artifacts / "moderation-chair.png", full_page=True)
    secretary.screenshot(path=artifacts / "moderation-secretary.png", full_page=True)
    candidate_page.screenshot(path=artifacts / "candidate-console.png", full_page=True)

    # The dashboard's live record tells each change once, though staff receive it twice (the
    # staff entry and its public twin).
    chair.goto(daphne_server.seed["dashboard"])
    expect(by_id(chair, "connection")).to_have_attribute("data-state", "live")
    feed = by_id(chair, "feed")
    expect(feed.locator("li", has_text="The queue was reordered").first).to_be_visible()
    expect(
        feed.locator("li", has_text=f"#{roads_again} ").filter(has_text="Answered")
    ).to_have_count(1)
    browsing.assert_no_errors()


def support(voter: Page, hall: dict, question_id: int) -> None:
    """A new phone of ``hall`` gets its device id and supports the question, as the phone
    page does."""
    token = hall["phone"].rstrip("/").rsplit("/", 1)[1]
    issued = voter.request.post(f"/api/meetings/{SLUG}/device", headers={"X-Join-Link": token})
    assert issued.status == 201, issued.text()
    response = voter.request.post(
        f"/api/meetings/{SLUG}/questions/{question_id}/vote",
        headers={"X-Join-Link": token, "X-Device-Id": issued.json()["device"]},
    )
    assert response.ok and response.json()["voted"] is True, response.text()


def test_the_queue_shows_where_each_questions_supports_come_from(daphne_server, browsing):
    chair = sign_in(browsing, daphne_server, daphne_server.username, daphne_server.password)
    prepare_meeting(chair)
    open_console(chair)
    first, second = daphne_server.halls[1], daphne_server.halls[2]
    voter = browsing.new_page()
    question = ask(voter, first, f"Đề nghị mở rộng trường mầm non {uuid.uuid4().hex[:6]}")
    approved = chair.request.post(
        f"/api/meetings/{SLUG}/questions/{question}/approve", data={}, headers=csrf_headers(chair)
    )
    assert approved.ok, approved.text()
    supports = card(chair, "queue", question).get_by_test_id("supports")
    expect(supports).to_be_hidden()  # none yet
    for hall in (second, first, second):
        support(voter, hall, question)
    # Most first, each hall's phones counted apart.
    expect(supports).to_have_text(f"Supports by hall: {second['name']}: 2 · {first['name']}: 1")
    expect(card(chair, "queue", question).locator('[data-part="votes"]')).to_have_text("▲ 3")
    browsing.assert_no_errors()


def test_a_command_given_before_the_last_ones_answer_is_not_lost(daphne_server, browsing):
    """A moderator approves and, seeing the card already in the queue (the stream brought it),
    puts it on air before the approval's own HTTP answer is back: the second command waits for
    that answer and then runs, instead of being dropped without a word."""
    chair = sign_in(browsing, daphne_server, daphne_server.username, daphne_server.password)
    prepare_meeting(chair)
    open_console(chair)
    voter = browsing.new_page()
    question = ask(voter, daphne_server.halls[1], f"Khi nào có nước sạch? {uuid.uuid4().hex[:6]}")
    # The approval reaches the server (and the record, and the stream), but its answer is held
    # from the page until the test lets it through.
    held = []

    def hold_the_answer(route):
        held.append((route, route.fetch()))

    chair.route(f"**/api/meetings/{SLUG}/questions/{question}/approve", hold_the_answer)
    card(chair, "incoming", question).get_by_role("button", name="Approve").click()
    queued = card(chair, "queue", question)
    expect(queued).to_be_visible()
    # The handler runs in Playwright's dispatcher: wait until it has the server's answer.
    deadline = time.monotonic() + 20
    while not held and time.monotonic() < deadline:
        chair.wait_for_timeout(50)
    assert len(held) == 1
    queued.get_by_role("button", name="On air").click()
    expect(queued).to_have_attribute("data-waiting", "on_air")
    route, response = held.pop()
    route.fulfill(response=response)
    expect(card(chair, "on-air", question)).to_be_visible()
    expect(card(chair, "on-air", question)).not_to_have_attribute("data-waiting", "on_air")
    chair.unroute(f"**/api/meetings/{SLUG}/questions/{question}/approve")
    chair.request.post(
        f"/api/meetings/{SLUG}/questions/{question}/back-to-queue",
        data={},
        headers=csrf_headers(chair),
    )
    browsing.assert_no_errors()
