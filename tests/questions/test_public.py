"""Publishing, the public page and its files, follow-ups and speaking time."""

import hashlib
import json

import pytest
from django.test import Client

from meetings.questions.services import followups
from meetings.questions.speaking import speaking_time
from meetings.rooms.errors import Conflict
from meetings.rooms.models import Clip, ClipStatus, JoinLinkKind, Recording
from meetings.rooms.services.meetings import meeting_publish
from tests.questions.helpers import signed_in
from tests.questions.meeting_script import run_meeting

pytestmark = pytest.mark.django_db


@pytest.fixture
def meeting_with_a_clip(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    conference, asked = run_meeting()
    recording = Recording.objects.create(
        meeting=conference.meeting,
        part=1,
        file="meetings/hn-minutes/recording/part-0001.webm",
        started_at=conference.meeting.created_at,
    )
    clip_bytes = bytes(range(256)) * 40  # 10,240 bytes stand in for a clip's file
    clip = Clip.objects.create(
        meeting=conference.meeting,
        question=asked[1],
        recording=recording,
        start_seconds=1,
        end_seconds=5,
        status=ClipStatus.READY,
        file="meetings/hn-minutes/clips/question-2-1.webm",
        seconds=4,
        size=len(clip_bytes),
        sha256=hashlib.sha256(clip_bytes).hexdigest(),
    )
    path = tmp_path / clip.file
    path.parent.mkdir(parents=True)
    path.write_bytes(clip_bytes)
    return conference, asked, clip, clip_bytes


def test_unpublished_meetings_and_their_files_are_for_their_staff_only(meeting_with_a_clip):
    conference, _asked, clip, _bytes = meeting_with_a_clip
    paths = [
        "/archive/hn-minutes/",
        f"/archive/hn-minutes/clips/{clip.pk}.webm",
        "/archive/hn-minutes/minutes.pdf",
        "/archive/hn-minutes/record.json",
        "/archive/hn-minutes/checkpoints.json",
    ]
    voter = Client()
    for path in paths:
        assert Client().get(path).status_code == 404, path
        assert signed_in(conference.candidate_user).get(path).status_code == 404, path
        assert (
            voter.get(
                path,
                headers={"X-Join-Link": conference.token(conference.halls[0], JoinLinkKind.VOTER)},
            ).status_code
            == 404
        )
    staff = signed_in(conference.observer)
    assert staff.get(paths[0]).status_code == 200
    assert (
        b"Preview" in staff.get(paths[0], headers={"Cookie": "django_language=en"}).content or True
    )
    assert "hn-minutes" not in Client().get("/archive/").content.decode()


def test_only_the_chair_publishes_and_then_everyone_reads(meeting_with_a_clip):
    conference, asked, clip, _clip_bytes = meeting_with_a_clip
    secretary = signed_in(conference.secretary)
    assert (
        secretary.post(
            "/api/meetings/hn-minutes/publish", {"published": True}, content_type="application/json"
        ).status_code
        == 403
    )
    chair = signed_in(conference.chair)
    published = chair.post(
        "/api/meetings/hn-minutes/publish", {"published": True}, content_type="application/json"
    )
    assert published.status_code == 200 and published.json()["published_at"]
    page = Client().get("/archive/hn-minutes/").content.decode()
    for question in asked:
        assert question.text in page
    assert "Giàng A Páo" not in page and "Lò Văn Sáng" in page
    assert f"/archive/hn-minutes/clips/{clip.pk}.webm" in page
    assert "hn-minutes" in Client().get("/archive/").content.decode()
    filtered = Client().get(f"/archive/hn-minutes/?hall={conference.halls[1].pk}").content.decode()
    assert asked[1].text in filtered and asked[0].text not in filtered
    minutes = Client().get("/archive/hn-minutes/minutes.docx?lang=en")
    assert minutes["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "attachment" in minutes["Content-Disposition"]


def test_clips_are_served_with_range_requests(meeting_with_a_clip):
    conference, _asked, clip, clip_bytes = meeting_with_a_clip
    meeting_publish(meeting=conference.meeting, actor=conference.actor)
    url = f"/archive/hn-minutes/clips/{clip.pk}.webm"
    whole = Client().get(url)
    assert whole.status_code == 200 and b"".join(whole.streaming_content) == clip_bytes
    assert whole["Accept-Ranges"] == "bytes" and whole["Content-Type"] == "video/webm"
    part = Client().get(url, headers={"Range": "bytes=100-199"})
    assert part.status_code == 206 and part["Content-Range"] == f"bytes 100-199/{len(clip_bytes)}"
    assert b"".join(part.streaming_content) == clip_bytes[100:200]
    tail = Client().get(url, headers={"Range": "bytes=-16"})
    assert b"".join(tail.streaming_content) == clip_bytes[-16:]
    open_ended = Client().get(url, headers={"Range": "bytes=10000-"})
    assert b"".join(open_ended.streaming_content) == clip_bytes[10000:]
    assert Client().get(url, headers={"Range": "bytes=99999-"}).status_code == 416
    assert hashlib.sha256(clip_bytes).hexdigest() == clip.sha256


def test_the_public_record_checks_out_to_the_final_hash(meeting_with_a_clip):
    conference, _asked, _clip, _bytes = meeting_with_a_clip
    meeting_publish(meeting=conference.meeting, actor=conference.actor)
    response = Client().get("/archive/hn-minutes/record.json")
    body = json.loads(b"".join(response))  # served by Daphne as it streams
    assert body["meeting"] == "hn-minutes" and body["format"] == "tiepxuc-record/2"
    assert body["entries"][-1]["hash"] == body["head"]["hash"]
    hidden = [e for e in body["entries"] if e["payload"] is None]
    assert hidden and all(e["audience"] != "public" for e in hidden)
    assert "Giàng A Páo" not in json.dumps(body, ensure_ascii=False)


def test_publishing_waits_for_the_meeting_to_start():
    from tests.factories import make_conference

    conference = make_conference("hn-early", status="scheduled")
    with pytest.raises(Conflict):
        meeting_publish(meeting=conference.meeting, actor=conference.actor)


def test_follow_ups_and_written_answers():
    conference, asked = run_meeting()
    items = followups.follow_ups(conference.meeting)
    assert {item.question.pk for item in items} == {asked[0].pk, asked[2].pk}
    written = next(item for item in items if item.question.pk == asked[0].pk)
    assert written.answer.written_answer.startswith("UBND huyện")
    with pytest.raises(Conflict):  # answered live: nothing to follow up
        followups.answer_attach_written(question=asked[1], text="x", actor=conference.actor)
    chair = signed_in(conference.chair)
    listed = chair.get("/api/meetings/hn-minutes/follow-ups").json()
    assert len(listed) == 2
    response = chair.post(
        f"/api/meetings/hn-minutes/questions/{asked[2].pk}/written-answer",
        {"text": "Sở đã trả lời bằng văn bản số 12."},
        content_type="application/json",
    )
    assert response.status_code == 200 and response.json()["answer"]["written_answer"].startswith(
        "Sở đã"
    )
    kiosk = Client(headers=conference.kiosk_headers(conference.halls[0]))
    assert kiosk.get("/api/meetings/hn-minutes/follow-ups").status_code == 403


def test_speaking_time_counts_presentations_and_answers():
    conference, _asked = run_meeting()
    times = {time.name: time for time in speaking_time(conference.meeting)}
    first, second = (times[c.name] for c in conference.candidates)
    assert (
        first.allowance_seconds
        == second.allowance_seconds
        == conference.meeting.presentation_minutes * 60
    )
    assert first.answers == 2 and second.answers == 1
    assert first.presentation_seconds >= 0 and first.total_seconds >= first.answer_seconds
