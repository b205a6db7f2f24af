"""The record reaches the public, in real Chromium: a candidate's answer is cut as a clip from the
programme's recording, a written answer promised at the conference is attached on the follow-ups
page, and once the chair publishes from the dashboard anyone can read the answers and play the
clip; withdrawn again, the page is gone (404).

The studio's kiosk sends its fake camera to the hub, which records the programme; the clip is
cut between the question's "on air" and "answered" marks (meetings/rooms/media/recorder.py).

The package's tests share one server: this module sorts after test_foundation, which needs
the demo conference still scheduled.
"""

import datetime
import json
import re
import time
from pathlib import Path

import av
from playwright.sync_api import Page, expect

from tests.browser.test_media import open_kiosk, wait_for_link
from tests.browser.test_moderation import ask, by_id, csrf_headers, prepare_meeting, sign_in

SLUG = "demo"
API = f"/api/meetings/{SLUG}"
PUBLIC = f"/archive/{SLUG}/"
CLIP_SECONDS = 25
# Long enough on air for the clip to hold several of the recording's half-second clusters.
# Seconds of the programme's recording, not of the clock: a busy machine composes fewer frames
# per second, and the clip (cut from the recording) is that much shorter than the wall time.
ON_AIR_SECONDS = 3
# The clip starts on the keyframe forced when its question went on air: a frame or two after
# the mark.
CLIP_LATE_START_SECONDS = 0.2
RECORDING_WAIT_SECONDS = 90
# Prints the part and the start (seconds into the part) of a question's open clip: the row the
# hub writes when it handles the "on air" mark, which may come after the API has answered.
OPEN_CLIP = """
import json, time
from meetings.rooms.models import Clip, ClipStatus
from meetings.rooms.services.recordings import media_path

deadline = time.monotonic() + {timeout}
clips = Clip.objects.filter(question_id={question}, status=ClipStatus.OPEN)
while (clip := clips.select_related("recording").first()) is None:
    assert time.monotonic() < deadline, "no open clip for question {question}"
    time.sleep(0.2)
print(json.dumps({{"part": str(media_path(clip.recording.file)), "start": clip.start_seconds}}))
"""


def moderation(chair: Page, question_id: int) -> dict:
    state = chair.request.get(f"{API}/snapshot").json()["state"]
    return state["moderation"][str(question_id)]


def post(chair: Page, path: str, data: dict) -> dict:
    response = chair.request.post(f"{API}{path}", data=data, headers=csrf_headers(chair))
    assert response.ok, f"{path}: {response.status} {response.text()}"
    return response.json()


def put_on_air(chair: Page, question_id: int) -> None:
    post(chair, f"/questions/{question_id}/approve", {})
    post(chair, f"/questions/{question_id}/on-air", {})


def answer(chair: Page, question_id: int, **fields) -> None:
    version = moderation(chair, question_id)["version"]
    post(chair, f"/questions/{question_id}/answer", {"expected_version": version, **fields})


def recorded_seconds(part: Path) -> float:
    """How far a part being written has reached on disk, in seconds into the part (the clips'
    timeline): its last picture. The recorder writes whole clusters, so this trails the hub."""
    last = 0.0
    try:
        with av.open(str(part)) as container:
            for packet in container.demux(video=0):
                if packet.pts is not None:
                    last = float(packet.pts * packet.time_base)
    except av.error.FFmpegError:
        pass  # a cluster half written as we read it
    return last


def wait_until_recorded(chair: Page, server, question_id: int, seconds: float) -> None:
    """Waits until the programme's recording holds ``seconds`` past the moment the question
    went on air (its clip's start)."""
    printed = server.manage(
        "shell", "-c", OPEN_CLIP.format(question=question_id, timeout=RECORDING_WAIT_SECONDS)
    )
    clip = json.loads(printed.strip().splitlines()[-1])
    part, until = Path(clip["part"]), clip["start"] + seconds
    deadline = time.monotonic() + RECORDING_WAIT_SECONDS
    while (reached := recorded_seconds(part)) < until:
        if time.monotonic() > deadline:
            raise AssertionError(
                f"the recording reached {reached:.2f} s of {part.name}, not {until:.2f} s, "
                f"within {RECORDING_WAIT_SECONDS}s"
            )
        chair.wait_for_timeout(250)


def wait_for_clip(chair: Page, question_id: int) -> dict:
    deadline = time.monotonic() + CLIP_SECONDS
    while time.monotonic() < deadline:
        clips = chair.request.get(f"{API}/snapshot").json()["state"].get("clips", {})
        if str(question_id) in clips:
            return clips[str(question_id)]
        chair.wait_for_timeout(500)
    raise AssertionError(f"no clip of question {question_id} within {CLIP_SECONDS}s")


def test_an_answer_is_published_with_its_clip_and_its_written_answer(
    daphne_server, browsing, artifacts
):
    studio_hall, hall = daphne_server.halls[0], daphne_server.halls[1]
    chair = sign_in(browsing, daphne_server, daphne_server.username, daphne_server.password)
    prepare_meeting(chair)
    candidate_id = chair.request.get(f"{API}/snapshot").json()["state"]["candidates"]
    candidate_id = int(next(iter(candidate_id)))

    # The studio sends its camera; the hub records the programme.
    studio = open_kiosk(browsing, daphne_server, studio_hall)
    wait_for_link(studio, lambda s: s["sending"] and s["sent"] > 0, "the studio sends its camera")

    # One question answered live (its clip is cut), one promised a written answer.
    voter = browsing.new_page()
    live = ask(voter, hall, "Khi nào đường liên xã được trải nhựa?")
    put_on_air(chair, live)
    wait_until_recorded(chair, daphne_server, live, ON_AIR_SECONDS)
    answer(chair, live, kind="live", summary="Trong quý II năm sau.", candidate_id=candidate_id)
    written = ask(voter, hall, "Trạm y tế xã có thêm bác sĩ không?")
    put_on_air(chair, written)
    due = (datetime.date.today() + datetime.timedelta(days=30)).isoformat()
    answer(chair, written, kind="written", due_date=due, candidate_id=candidate_id)
    clip = wait_for_clip(chair, live)
    assert float(clip["seconds"]) >= ON_AIR_SECONDS - CLIP_LATE_START_SECONDS

    # Not published yet: the public sees nothing, the staff a preview.
    visitor = browsing.new_page()
    assert visitor.request.get(PUBLIC).status == 404
    assert visitor.request.get(f"/archive/{SLUG}/clips/{clip['clip']}.webm").status == 404

    # The dashboard's record card: not public, the minutes, one follow-up awaiting.
    chair.goto(daphne_server.seed["dashboard"])
    expect(by_id(chair, "connection")).to_have_attribute("data-state", "live")
    expect(by_id(chair, "published-badge")).to_have_text("not public")
    awaiting = re.compile(r"awaiting a written answer: [1-9]")
    expect(by_id(chair, "follow-ups-count")).to_have_text(awaiting)
    expect(by_id(chair, "clips-count")).to_have_text(re.compile(r"recorded as clips: [1-9]"))
    docx = chair.request.get(by_id(chair, "minutes-docx").get_attribute("href"))
    assert docx.ok and docx.body()[:2] == b"PK", docx.status
    # Each candidate's time, counted from the answers (at least the seconds on air).
    expect(by_id(chair, "speaking-time").locator("tbody tr")).not_to_have_count(0)

    # The secretary's follow-ups page: attach the written answer.
    chair.goto(f"/meetings/{SLUG}/follow-ups/")
    item = chair.locator(f'[data-testid="follow-ups"] > li[data-question="{written}"]')
    expect(item.get_by_test_id("promise")).to_contain_text("Written answer due")
    item.get_by_test_id("written-answer-input").fill("Sở Y tế sẽ điều động thêm một bác sĩ.")
    item.get_by_test_id("attach-written-answer").click()
    expect(item.get_by_test_id("written-answer")).to_contain_text("điều động thêm một bác sĩ")
    expect(item).to_have_class(re.compile(r"\bdone\b"))

    # The chair publishes from the dashboard, after confirming.
    chair.goto(daphne_server.seed["dashboard"])
    chair.once("dialog", lambda dialog: dialog.accept())
    by_id(chair, "publish").click()
    expect(by_id(chair, "published-badge")).to_have_text("public")
    expect(by_id(chair, "publish")).to_have_text("Unpublish")

    # Anyone now reads the answers and plays the clip.
    visitor.goto(PUBLIC)
    answered = by_id(visitor, "answered")
    expect(answered.locator(f'li[data-question="{written}"]')).to_contain_text(
        "điều động thêm một bác sĩ"
    )
    video = answered.locator(f'li[data-question="{live}"]').get_by_test_id("clip")
    expect(video).to_be_visible()
    video.evaluate("video => { video.muted = true; return video.play(); }")
    visitor.wait_for_function(
        "video => video.currentTime > 1 && video.videoWidth > 0", arg=video.element_handle()
    )
    assert video.evaluate("video => video.error") is None
    expect(by_id(visitor, "final-hash")).to_have_text(re.compile(r"^[0-9a-f]{64}$"))
    # Published while live: no end checkpoint yet; the head is signed by the publication.
    expect(by_id(visitor, "end-checkpoint")).to_contain_text(
        re.compile("chưa có điểm mốc kết thúc|no end checkpoint")
    )
    expect(by_id(visitor, "head-checkpoint")).to_contain_text(
        re.compile("Khi công bố|At publication")
    )
    visitor.screenshot(path=str(artifacts / "public-meeting.png"), full_page=True)

    # Withdrawn: the page and its clips are gone again.
    chair.once("dialog", lambda dialog: dialog.accept())
    by_id(chair, "publish").click()
    expect(by_id(chair, "published-badge")).to_have_text("not public")
    assert visitor.request.get(PUBLIC).status == 404
    assert visitor.request.get(f"/archive/{SLUG}/clips/{clip['clip']}.webm").status == 404
