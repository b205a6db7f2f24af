"""After the end, a closed record (docs/record.md): what a person can still do to an ended
conference appends only the entries that come after an end by nature; everything else is
refused with `meeting_ended` and changes nothing, and a kiosk that comes or goes is let be
without a word on the record."""

import asyncio
import datetime
import uuid
from dataclasses import dataclass

import pytest
from channels.db import database_sync_to_async

from meetings.questions.models import AnswerKind, Question, QuestionSource
from meetings.questions.services import air, counts, followups, merge, moderation, queue, votes
from meetings.questions.services.submit import question_submit
from meetings.rooms.actors import Actor
from meetings.rooms.errors import MeetingEnded
from meetings.rooms.models import (
    AgendaItem,
    AgendaItemKind,
    Audience,
    Event,
    EventLogHead,
    JoinLinkKind,
    KioskConnection,
    Meeting,
    MeetingStatus,
    Role,
)
from meetings.rooms.services import (
    agenda,
    candidates,
    floor,
    halls,
    join_links,
    kiosk_sessions,
    meetings,
    presence,
    recordings,
    roles,
)
from meetings.rooms.services.events import event_append, record_write
from tests.factories import hold_hall, make_user
from tests.questions.helpers import (
    ask,
    open_conference,
    phone,
    phone_client,
    phone_device,
    send_question,
    signed_in,
)
from tests.realtime import open_live, open_socket


@dataclass
class Ended:
    conference: object
    pending: Question  # awaiting moderation
    queued: Question  # approved, in the queue
    second: Question  # approved, in the queue after it
    promised: Question  # answered "in writing by a date": awaits its written answer
    item: AgendaItem

    @property
    def meeting(self) -> Meeting:
        return self.conference.meeting

    @property
    def actor(self) -> Actor:
        return self.conference.actor


def end(conference, to_status: str = MeetingStatus.ENDED) -> None:
    meetings.meeting_transition(
        meeting=conference.meeting, to_status=MeetingStatus.ENDED, actor=conference.actor
    )
    if to_status == MeetingStatus.ARCHIVED:
        meetings.meeting_transition(
            meeting=conference.meeting, to_status=MeetingStatus.ARCHIVED, actor=conference.actor
        )


def an_ended_conference(to_status: str = MeetingStatus.ENDED) -> Ended:
    conference = open_conference()
    actor = conference.actor
    pending = ask(conference, "Câu hỏi chưa duyệt", device=1)
    queued = moderation.question_approve(
        question=ask(conference, "Sửa đường", device=2), actor=actor
    )
    second = moderation.question_approve(
        question=ask(conference, "Xây trường", device=3), actor=actor
    )
    promised = moderation.question_approve(
        question=ask(conference, "Cấp nước sạch", device=4), actor=actor
    )
    air.question_put_on_air(question=promised, actor=actor)
    promised = air.question_answer(
        question=promised,
        kind=AnswerKind.WRITTEN,
        due_date=datetime.date.today() + datetime.timedelta(days=30),
        actor=actor,
    )
    item, *_ = agenda.agenda_build_default(meeting=conference.meeting, actor=actor)
    end(conference, to_status)
    # The screens' copies of the meeting are as they were loaded: the services must not trust
    # them, so these tests hand them a copy that still says live.
    return Ended(conference, pending, queued, second, promised, item)


def head(meeting: Meeting) -> int:
    return EventLogHead.objects.get(meeting=meeting).seq


# Each: what a person tries once the conference has ended.
REFUSED = {
    "vote": lambda e: votes.question_vote(
        meeting=e.meeting, question_id=e.queued.pk, device=phone_device(e.conference, 9)
    ),
    "vote in a batch": lambda e: _refusal(
        votes.question_votes(
            meeting=e.meeting,
            votes=[votes.VoteRequest(e.queued.pk, phone_device(e.conference, 9))],
        )[0]
    ),
    "question from a phone": lambda e: ask(e.conference, "Câu hỏi sau khi kết thúc", device=8),
    "question on paper": lambda e: question_submit(
        meeting=e.meeting,
        hall=e.conference.halls[0],
        source=QuestionSource.PAPER,
        client_id=uuid.uuid4(),
        text="Câu hỏi trên giấy",
        actor=Actor.for_operator_link(e.conference.halls[0]),
    ),
    "attendance": lambda e: halls.hall_set_attendance(
        hall=e.conference.halls[0], count=120, actor=e.actor
    ),
    "approve": lambda e: moderation.question_approve(question=e.pending, actor=e.actor),
    "reject": lambda e: moderation.question_reject(
        question=e.pending, reason="off_topic", actor=e.actor
    ),
    "edit": lambda e: moderation.question_edit(
        question=e.queued, text="Sửa lời câu hỏi", actor=e.actor
    ),
    "set a topic": lambda e: moderation.question_set_topic(
        question=e.queued, topic_code=None, actor=e.actor
    ),
    "address": lambda e: moderation.question_address(
        question=e.queued, candidate_id=e.conference.candidates[0].pk, actor=e.actor
    ),
    "withdraw": lambda e: moderation.question_withdraw(
        question=e.pending, device_hash=e.pending.device_hash, actor=Actor.system()
    ),
    "merge": lambda e: merge.question_merge(question=e.second, into=e.queued, actor=e.actor),
    "put on air": lambda e: air.question_put_on_air(question=e.queued, actor=e.actor),
    "answer": lambda e: air.question_answer(question=e.queued, kind="live", actor=e.actor),
    "reorder the queue": lambda e: queue.queue_move(question=e.second, index=0, actor=e.actor),
    "floor request": lambda e: floor.floor_request(
        hall=e.conference.halls[0], actor=Actor.for_operator_link(e.conference.halls[0])
    ),
    "floor grant": lambda e: floor.floor_grant(hall=e.conference.halls[0], actor=e.actor),
    "layout": lambda e: floor.programme_set_layout(
        meeting=e.meeting, layout="side_by_side", actor=e.actor
    ),
    "agenda item added": lambda e: agenda.agenda_item_add(
        meeting=e.meeting, kind=AgendaItemKind.OTHER, title="Mục thêm", actor=e.actor
    ),
    "agenda item started": lambda e: agenda.agenda_item_start(item=e.item, actor=e.actor),
    "agenda item changed": lambda e: agenda.agenda_item_update(
        item=e.item, title="Khai mạc (sửa)", actor=e.actor
    ),
    "hall renamed": lambda e: halls.hall_update(
        hall=e.conference.halls[0], name="Tên mới", actor=e.actor
    ),
    "hall added": lambda e: halls.hall_add(meeting=e.meeting, name="Điểm cầu mới", actor=e.actor),
    "candidate changed": lambda e: candidates.candidate_update(
        candidate=e.conference.candidates[0], bio="Tiểu sử mới", actor=e.actor
    ),
    "details changed": lambda e: meetings.meeting_update(
        meeting=e.meeting, title="Tên mới", actor=e.actor
    ),
    "link replaced": lambda e: join_links.join_link_rotate(
        hall=e.conference.halls[0], kind=JoinLinkKind.VOTER, actor=e.actor
    ),
}


def _refusal(outcome):
    if isinstance(outcome, Exception):
        raise outcome
    return outcome


def stale(ended: Ended) -> Ended:
    """The same, with copies of the meeting that still say live, as a screen's may."""
    ended.meeting.status = MeetingStatus.LIVE
    for each in (ended.pending, ended.queued, ended.second, ended.promised, ended.item):
        each.meeting = ended.meeting
    for hall in ended.conference.halls:
        hall.meeting = ended.meeting
    for candidate in ended.conference.candidates:
        candidate.meeting = ended.meeting
    return ended


@pytest.mark.django_db
@pytest.mark.parametrize("status", [MeetingStatus.ENDED, MeetingStatus.ARCHIVED])
@pytest.mark.parametrize("kind", list(REFUSED))
def test_after_the_end_it_is_refused_and_nothing_changes(kind, status):
    ended = stale(an_ended_conference(status))
    before = head(ended.meeting)
    questions_before = list(Question.objects.order_by("pk").values())
    attendance = list(ended.meeting.bridge_points.values_list("attendance", flat=True))
    with pytest.raises(MeetingEnded) as refused:
        REFUSED[kind](ended)
    assert refused.value.code == "meeting_ended" and refused.value.status == 409
    assert head(ended.meeting) == before
    assert list(Question.objects.order_by("pk").values()) == questions_before
    assert list(ended.meeting.bridge_points.values_list("attendance", flat=True)) == attendance


@pytest.mark.django_db
def test_the_refusal_says_why_in_the_callers_language():
    from django.utils import translation

    ended = an_ended_conference()
    with translation.override("vi"), pytest.raises(MeetingEnded) as refused:
        REFUSED["vote"](ended)
    assert refused.value.message == "Hội nghị đã kết thúc; không nhận thêm lượt ủng hộ."
    with translation.override("vi"), pytest.raises(MeetingEnded) as refused:
        REFUSED["approve"](ended)
    assert refused.value.message == "Hội nghị đã kết thúc; không thể thực hiện việc này nữa."


@pytest.mark.django_db
def test_a_phone_gets_meeting_ended_over_http_and_nothing_is_kept():
    ended = an_ended_conference()
    before = head(ended.meeting)
    phone = phone_client(ended.conference, device=9)
    voted = phone.post(f"/api/meetings/hn-test/questions/{ended.queued.pk}/vote")
    assert voted.status_code == 409 and voted.json()["code"] == "meeting_ended"
    asked = send_question(phone, "Câu hỏi gửi muộn")
    assert asked.status_code == 409 and asked.json()["code"] == "meeting_ended"
    assert asked.json()["message"]  # the phone shows it beside the question it keeps
    chair = signed_in(ended.conference.chair)
    counted = chair.post(
        f"/api/meetings/hn-test/halls/{ended.conference.halls[0].pk}/attendance",
        {"count": 80},
        content_type="application/json",
    )
    assert counted.status_code == 409 and counted.json()["code"] == "meeting_ended"
    assert head(ended.meeting) == before
    assert Question.objects.get(pk=ended.queued.pk).vote_count == 0


@pytest.mark.django_db
def test_what_comes_after_an_end_by_nature_is_still_appended():
    ended = stale(an_ended_conference())
    actor = ended.actor
    written = followups.answer_attach_written(
        question=ended.promised, text="Trả lời bằng văn bản: sẽ làm trong quý tới.", actor=actor
    )
    assert written.answer.written_answer
    meetings.meeting_publish(meeting=ended.meeting, actor=actor)
    meetings.meeting_publish(meeting=ended.meeting, actor=actor, published=False)
    roles.role_grant(
        meeting=ended.meeting, user=make_user("late_secretary"), role=Role.SECRETARY, actor=actor
    )
    meetings.meeting_transition(meeting=ended.meeting, to_status="archived", actor=actor)
    meetings.meeting_publish(meeting=ended.meeting, actor=actor)
    after_end = list(
        Event.objects.filter(
            meeting=ended.meeting,
            seq__gt=Event.objects.get(
                meeting=ended.meeting, type="meeting.status_changed", payload__to="ended"
            ).seq,
        )
        .order_by("seq")
        .values_list("type", flat=True)
    )
    assert after_end == [
        "question.followed_up",
        "public.followed_up",
        "meeting.published",
        "meeting.unpublished",
        "role.granted",
        "meeting.status_changed",
        "meeting.published",
    ]


@pytest.mark.django_db
def test_the_recording_closes_and_its_clips_are_cut_after_the_end(tmp_path, settings):
    settings.MEDIA_ROOT = str(tmp_path)
    conference = open_conference()
    part = recordings.recording_start(meeting=conference.meeting)
    question = moderation.question_approve(question=ask(conference), actor=conference.actor)
    clip = recordings.clip_open(question_id=question.pk, recording=part, start=1.0)
    end(conference)
    recordings.recording_close(recording=part, seconds=12.5)
    recordings.clip_ready(clip=clip, seconds=3.25, size=100, sha256="ab" * 32)
    last_two = Event.objects.filter(meeting=conference.meeting).order_by("-seq")[:2]
    assert [event.type for event in last_two] == ["clip.ready", "recording.part_closed"]
    with pytest.raises(MeetingEnded):
        recordings.recording_start(meeting=conference.meeting)


@pytest.mark.django_db
def test_the_record_refuses_what_a_service_let_through():
    """The last line: event_append itself, reading the status under the lock, whatever the
    caller's copy of the meeting says."""
    ended = stale(an_ended_conference())
    assert ended.meeting.status == MeetingStatus.LIVE  # the caller's copy
    before = head(ended.meeting)
    with pytest.raises(MeetingEnded), record_write(meeting=ended.meeting):
        event_append(
            meeting=ended.meeting,
            type="hall.attendance_set",
            audience=Audience.PUBLIC,
            payload={"hall": ended.conference.halls[0].pk, "count": 5},
            actor=ended.actor,
        )
    assert head(ended.meeting) == before
    with record_write(meeting=ended.meeting):
        event_append(
            meeting=ended.meeting,
            type="meeting.unpublished",
            audience=Audience.PUBLIC,
            payload={"patch": []},
            actor=ended.actor,
        )
    assert head(ended.meeting) == before + 1


@pytest.mark.django_db
def test_counts_are_not_announced_after_the_end():
    ended = an_ended_conference()
    before = head(ended.meeting)
    # A count that moved after the end's batch (a vote that committed while the end was
    # being written): left unannounced.
    Question.objects.filter(pk=ended.queued.pk).update(vote_count=5)
    assert counts.counts_publish(meeting=ended.meeting) == counts.CountsAnnounced(0, 0)
    assert counts.counts_publish_pending(meeting_ids=[ended.meeting.pk]) == {}
    assert head(ended.meeting) == before


@pytest.mark.django_db
def test_a_kiosk_that_comes_and_goes_after_the_end_appends_nothing_and_is_not_refused():
    conference = open_conference()
    hall = conference.halls[0]
    presence.kiosk_connected(hall=hall, channel_name="kiosk-before")
    end(conference)
    before = head(conference.meeting)
    presence.kiosk_connected(hall=hall, channel_name="kiosk-after")
    presence.kiosk_disconnected(channel_name="kiosk-before")
    presence.kiosk_disconnected(channel_name="kiosk-after")
    assert not KioskConnection.objects.filter(hall=hall).exists()
    # A new screen opening the operator link, and the one holding it coming back.
    claim = kiosk_sessions.kiosk_session_claim(
        hall=conference.halls[1], token=None, user_agent="Firefox", address="10.0.0.9"
    )
    kiosk_sessions.kiosk_session_claim(
        hall=conference.halls[1], token=claim.token, user_agent="Chrome", address="10.0.0.10"
    )
    assert head(conference.meeting) == before
    # A moderator's decision about a screen is refused like any other.
    with pytest.raises(MeetingEnded):
        kiosk_sessions.kiosk_session_end(session=claim.session, actor=conference.actor)
    assert head(conference.meeting) == before


@pytest.mark.django_db(transaction=True)
async def test_a_kiosk_websocket_that_disconnects_after_the_end_appends_nothing():
    conference = await database_sync_to_async(open_conference)()
    hall = conference.halls[0]
    link = await database_sync_to_async(conference.token)(hall, JoinLinkKind.OPERATOR)
    await database_sync_to_async(hold_hall)(hall)
    kiosk = await open_socket("hn-test", link=link)
    await kiosk.receive_type("welcome")
    connected = database_sync_to_async(KioskConnection.objects.filter(hall=hall).exists)
    while not await connected():
        await kiosk.send({"type": "ping"})
        await kiosk.receive_type("pong")
    await database_sync_to_async(end)(conference)
    before = await database_sync_to_async(head)(conference.meeting)
    await kiosk.close()
    while await connected():  # the consumer ends its connection as the socket goes
        await asyncio.sleep(0.01)
    assert await database_sync_to_async(head)(conference.meeting) == before


@pytest.mark.django_db(transaction=True)
async def test_a_vote_over_the_websocket_after_the_end_gets_an_error_frame():
    conference = await database_sync_to_async(open_conference)()
    question = await database_sync_to_async(
        lambda: moderation.question_approve(question=ask(conference), actor=conference.actor)
    )()
    voter_link = await database_sync_to_async(conference.token)(
        conference.halls[0], JoinLinkKind.VOTER
    )
    voter, _snapshot = await open_live("hn-test", link=voter_link)
    await database_sync_to_async(end)(conference)
    before = await database_sync_to_async(head)(conference.meeting)
    device = await database_sync_to_async(phone)(conference, 5)
    await voter.send({"type": "vote", "question": question.pk, "device": device, "id": "late"})
    refusal = await voter.receive_type("error")
    assert (refusal["code"], refusal["id"]) == ("meeting_ended", "late"), refusal
    assert refusal["message"]
    await voter.close()
    count = await database_sync_to_async(lambda: Question.objects.get(pk=question.pk).vote_count)()
    assert count == 0
    assert await database_sync_to_async(head)(conference.meeting) == before
