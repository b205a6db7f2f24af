"""Every question action keeps each audience's live copy equal to a fresh snapshot, and never
shows voters what they may not see."""

import datetime

import pytest

from meetings.questions.services import air, merge, moderation, queue, votes
from meetings.questions.services.counts import counts_publish
from meetings.rooms.models import Audience, Event
from meetings.rooms.patch import apply_patch
from meetings.rooms.services.meetings import meeting_transition
from meetings.rooms.state import meeting_snapshot
from tests.questions.helpers import ask, open_conference, phone_device

pytestmark = pytest.mark.django_db


def run_a_queue(conference, after_each_step=lambda: None):
    """A small meeting's queue: every kind of question action, with ``after_each_step``
    called after each one (the invariant test below compares the states after each)."""
    actor = conference.actor
    step = after_each_step
    a = ask(
        conference, "Đường liên thôn xuống cấp, khi nào sửa?", device=1, asker_name="Bà Lò Thị Mai"
    )
    step()
    b = ask(conference, "Khi nào sửa đường liên thôn?", hall=conference.halls[1], device=2)
    step()
    c = ask(
        conference,
        "Trạm y tế xã thiếu bác sĩ.",
        hall=conference.halls[2],
        device=3,
        asker_name="Ông Sùng A Páo",
        asker_named_publicly=True,
    )
    step()
    d = ask(conference, "spam spam", device=4)
    step()
    e = ask(conference, "Rút lại câu này", device=5)
    step()
    f = ask(conference, "Học phí năm nay thế nào?", hall=conference.halls[1], device=6)
    step()
    moderation.question_edit(
        question=a, text="Đường liên thôn xuống cấp nặng, khi nào sửa?", actor=actor
    )
    step()
    moderation.question_set_topic(question=a, topic_code="infrastructure", actor=actor)
    step()
    moderation.question_address(question=a, candidate_id=conference.candidates[0].pk, actor=actor)
    step()
    a = moderation.question_approve(question=a, actor=actor)
    step()
    c = moderation.question_approve(question=c, actor=actor)
    step()
    f = moderation.question_approve(question=f, actor=actor)
    step()
    merge.question_merge(question=b, into=a, actor=actor)
    step()
    moderation.question_reject(
        question=d, reason="inappropriate", note="Xin giữ lời lẽ lịch sự", actor=actor
    )
    step()
    moderation.question_withdraw(
        question=e, device_hash=phone_device(conference, 5).hash, actor=actor
    )
    step()
    for device in (7, 8, 9):
        votes.question_vote(
            meeting=c.meeting, question_id=c.pk, device=phone_device(conference, device)
        )
    votes.question_vote(meeting=a.meeting, question_id=a.pk, device=phone_device(conference, 7))
    step()
    counts_publish(meeting=conference.meeting)
    step()
    queue.queue_move(question=f, index=0, actor=actor)
    step()
    queue.queue_set_order(
        meeting=conference.meeting, order=queue.round_robin_order(conference.meeting), actor=actor
    )
    step()
    moderation.question_edit(
        question=c, text="Trạm y tế xã thiếu bác sĩ, đề nghị bổ sung.", actor=actor
    )
    step()
    air.question_put_on_air(question=c, actor=actor)
    step()
    air.question_back_to_queue(question=c, actor=actor)
    step()
    air.question_put_on_air(question=a, actor=actor)
    step()
    air.question_answer(
        question=a,
        kind="referred",
        agency="Sở Giao thông vận tải",
        due_date=datetime.date(2026, 12, 20),
        summary="Sẽ chuyển Sở",
        actor=actor,
    )
    step()
    f2 = moderation.question_approve(
        question=ask(conference, "Câu hỏi mới", device=10), actor=actor
    )
    step()
    merge.question_merge(question=f2, into=f, actor=actor)
    step()
    merge.question_unmerge(question=f2, actor=actor)
    step()
    air.question_put_on_air(question=f, actor=actor)
    step()
    air.question_answer(
        question=f, kind="written", due_date=datetime.date(2026, 12, 20), actor=actor
    )
    step()
    return a, b, c, d


class Replica:
    """A screen's copy of the state for one audience, kept by applying its events."""

    def __init__(self, conference, audience):
        self.conference, self.audience = conference, audience
        self.seq, self.state = meeting_snapshot(conference.meeting, audience)
        self.steps = 0

    def catch_up_and_compare(self):
        for event in Event.objects.filter(
            meeting=self.conference.meeting,
            seq__gt=self.seq,
            audience__in=[a.value for a in self.audience.visible_audiences()],
        ).order_by("seq"):
            apply_patch(self.state, event.payload.get("patch", []))
            self.seq = event.seq
        _seq, fresh = meeting_snapshot(self.conference.meeting, self.audience)
        self.steps += 1
        assert self.state == fresh, f"{self.audience} differs after step {self.steps}"


def test_after_every_step_each_audiences_copy_equals_a_fresh_snapshot():
    conference = open_conference()
    replicas = [Replica(conference, audience) for audience in Audience]

    def compare_all():
        for replica in replicas:
            replica.catch_up_and_compare()

    run_a_queue(conference, after_each_step=compare_all)
    meeting_transition(meeting=conference.meeting, to_status="ended", actor=conference.actor)
    compare_all()
    assert replicas[0].steps > 25
    assert replicas[0].state["questions"]  # something public was compared


def test_voters_never_see_unmoderated_questions_or_askers_names():
    conference = open_conference()
    a, _b, _c, d = run_a_queue(conference)
    _seq, public = meeting_snapshot(conference.meeting, Audience.PUBLIC)
    public_events = Event.objects.filter(meeting=conference.meeting, audience="public")
    text_seen = str(public) + str([e.payload for e in public_events])
    assert "spam spam" not in text_seen  # rejected
    assert "Rút lại câu này" not in text_seen  # withdrawn before moderation
    assert "Khi nào sửa đường liên thôn?" not in text_seen  # merged before approval
    assert "Bà Lò Thị Mai" not in text_seen  # did not choose to be named
    assert "Ông Sùng A Páo" in text_seen  # chose to be named
    assert "Xin giữ lời lẽ lịch sự" not in text_seen  # the note is for the asker
    assert "moderation" not in public
    _seq, staff = meeting_snapshot(conference.meeting, Audience.STAFF)
    assert staff["moderation"][str(d.pk)]["text"] == "spam spam"
    assert staff["moderation"][str(a.pk)]["asker_name"] == "Bà Lò Thị Mai"


def test_the_tally_adds_up():
    conference = open_conference()
    run_a_queue(conference)
    _seq, state = meeting_snapshot(conference.meeting, Audience.PUBLIC)
    for counts in state["tally"].values():
        assert counts["received"] == (
            counts["pending"]
            + counts["approved"]
            + counts["merged"]
            + counts["withdrawn"]
            + counts["rejected"]
        )
        assert counts["rejected"] == sum(counts["rejected_by_reason"].values())
    total = sum(c["received"] for c in state["tally"].values())
    assert total == conference.meeting.questions.count()
