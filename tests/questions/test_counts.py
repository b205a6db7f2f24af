"""Counts (votes, each hall's tally) are announced in batches, not with every question action:
what the phones receive, what snapshots show, and what a dead timer leaves behind."""

import copy

import pytest

from meetings.questions.models import AnnouncedTally
from meetings.questions.services import counts, moderation, votes
from meetings.rooms.models import Audience, Event
from meetings.rooms.patch import apply_patch
from meetings.rooms.state import meeting_snapshot
from tests.questions.helpers import ask, open_conference, phone_client, phone_device, send_question


def events_after(conference, seq: int, audience: Audience = Audience.PUBLIC) -> list[Event]:
    return list(
        Event.objects.filter(
            meeting=conference.meeting,
            seq__gt=seq,
            audience__in=[a.value for a in audience.visible_audiences()],
        ).order_by("seq")
    )


def replayed(state: dict, events: list[Event]) -> dict:
    state = copy.deepcopy(state)
    for event in events:
        apply_patch(state, event.payload.get("patch", []))
    return state


@pytest.mark.django_db(transaction=True)
def test_a_submission_makes_no_public_event(server_loop, settings):
    settings.COUNTS_PUBLISH_SECONDS = 3600  # armed, never fired during the test
    conference = open_conference()
    seq, _state = meeting_snapshot(conference.meeting, Audience.STAFF)
    response = send_question(phone_client(conference), "Khi nào có nước sạch?")
    assert response.status_code == 201
    assert [(e.type, e.audience) for e in events_after(conference, seq, Audience.STAFF)] == [
        ("question.submitted", "staff")
    ]
    server_loop.caught_up()
    assert counts.publisher.armed == {conference.meeting.pk}  # the counts will follow


@pytest.mark.django_db
def test_a_rejected_or_withdrawn_question_is_still_named_to_its_phone():
    """Nothing public changes when an unmoderated question is turned down or taken back, but the
    phone that sent it follows it by id through the public entries."""
    conference = open_conference()
    rejected = ask(conference, "Câu hỏi không phù hợp", device=1)
    withdrawn = ask(conference, "Câu hỏi sẽ rút", device=2)
    seq, _state = meeting_snapshot(conference.meeting, Audience.PUBLIC)
    moderation.question_reject(question=rejected, reason="off_topic", actor=conference.actor)
    moderation.question_withdraw(
        question=withdrawn, device_hash=phone_device(conference, 2).hash, actor=conference.actor
    )
    named = [
        (e.type, e.payload["question"], e.payload["status"], e.payload["patch"])
        for e in events_after(conference, seq)
        if e.type != "public.tally"
    ]
    assert named == [
        ("public.rejected", rejected.pk, "rejected", []),
        ("public.withdrawn", withdrawn.pk, "withdrawn", []),
    ]


@pytest.mark.django_db(transaction=True)
def test_one_announcement_carries_the_tally_of_several_submissions(server_loop, settings):
    settings.COUNTS_PUBLISH_SECONDS = 0.2
    conference = open_conference()
    with server_loop.busy():
        seq_before, state_before = meeting_snapshot(conference.meeting, Audience.PUBLIC)
        ask(conference, "Câu một", device=1)
        ask(conference, "Câu hai", device=2)
        ask(conference, "Câu ba", hall=conference.halls[1], device=3)
        # Taken between the submissions and the announcement: the counts announced so far.
        seq_between, state_between = meeting_snapshot(conference.meeting, Audience.PUBLIC)
    server_loop.settle()

    assert state_between["tally"] == state_before["tally"] == {}
    assert seq_between == seq_before  # nothing public was appended by the submissions
    announcements = events_after(conference, seq_between)
    assert [e.type for e in announcements] == ["public.tally"]
    tally = announcements[0].payload["tally"]
    assert set(tally) == {str(conference.halls[0].pk), str(conference.halls[1].pk)}
    assert tally[str(conference.halls[0].pk)]["received"] == 2
    assert tally[str(conference.halls[1].pk)]["pending"] == 1
    _seq, state_now = meeting_snapshot(conference.meeting, Audience.PUBLIC)
    assert replayed(state_between, announcements) == state_now
    assert state_now["tally"] == tally


@pytest.mark.django_db(transaction=True)
def test_votes_and_tally_are_announced_together_with_consecutive_seqs(server_loop, settings):
    settings.COUNTS_PUBLISH_SECONDS = 3600
    conference = open_conference()
    question = moderation.question_approve(
        question=ask(conference, "Đề nghị sửa đường", device=1), actor=conference.actor
    )
    for device in (2, 3):
        votes.question_vote(
            meeting=question.meeting,
            question_id=question.pk,
            device=phone_device(conference, device),
        )
    ask(conference, "Câu hỏi mới", hall=conference.halls[2], device=4)
    seq, state = meeting_snapshot(conference.meeting, Audience.PUBLIC)
    assert state["questions"][str(question.pk)]["votes"] == 0
    # The live counts are the truth, ahead of what was announced.
    live = phone_client(conference).get("/api/meetings/hn-test/tally").json()
    assert live[str(conference.halls[2].pk)]["received"] == 1
    assert str(conference.halls[2].pk) not in state["tally"]

    announced = counts.counts_publish(meeting=conference.meeting)

    assert announced == counts.CountsAnnounced(questions=1, halls=2)
    after = events_after(conference, seq)
    assert [e.type for e in after] == ["public.votes", "public.tally"]
    # One transaction, nothing between them but the votes by hall, for staff.
    staff = events_after(conference, after[0].seq - 1, Audience.STAFF)
    assert [e.type for e in staff] == ["public.votes", "moderation.supports", "public.tally"]
    assert [e.seq for e in staff] == [after[0].seq, after[0].seq + 1, after[1].seq]
    assert after[0].payload["votes"] == {str(question.pk): 2}
    supports = staff[1].payload["supports"]
    assert supports == {str(question.pk): {str(conference.halls[0].pk): 2}}
    _seq, fresh = meeting_snapshot(conference.meeting, Audience.PUBLIC)
    assert replayed(state, after) == fresh
    assert fresh["tally"] == live
    # Nothing left to announce: a second run appends nothing.
    assert not counts.counts_publish(meeting=conference.meeting)
    assert events_after(conference, after[1].seq, Audience.STAFF) == []
    _seq, staff_view = meeting_snapshot(conference.meeting, Audience.STAFF)
    assert staff_view["moderation"][str(question.pk)]["supports"] == supports[str(question.pk)]


@pytest.mark.django_db(transaction=True)
def test_the_pending_counts_are_announced_after_a_timer_died_with_its_node(server_loop, settings):
    settings.COUNTS_PUBLISH_SECONDS = 3600
    conference = open_conference()
    quiet = open_conference("hn-quiet")
    question = moderation.question_approve(
        question=ask(conference, "Đề nghị sửa cầu", device=1), actor=conference.actor
    )
    votes.question_vote(
        meeting=question.meeting, question_id=question.pk, device=phone_device(conference, 2)
    )
    server_loop.caught_up()
    assert counts.publisher.armed == {conference.meeting.pk}
    server_loop.stop()  # the node dies with its timer armed
    seq, state = meeting_snapshot(conference.meeting, Audience.STAFF)
    assert counts.counts_pending(meeting=conference.meeting)
    assert not counts.counts_pending(meeting=quiet.meeting)

    announced = counts.counts_publish_pending(meeting_ids=[conference.meeting.pk, quiet.meeting.pk])

    assert announced == {conference.meeting.pk: counts.CountsAnnounced(questions=1, halls=1)}
    after = events_after(conference, seq, Audience.STAFF)
    assert [e.type for e in after] == ["public.votes", "moderation.supports", "public.tally"]
    _seq, fresh = meeting_snapshot(conference.meeting, Audience.STAFF)
    assert replayed(state, after) == fresh
    assert fresh["questions"][str(question.pk)]["votes"] == 1
    assert fresh["moderation"][str(question.pk)]["supports"] == {str(conference.halls[0].pk): 1}
    assert fresh["tally"][str(conference.halls[0].pk)]["approved"] == 1
    assert AnnouncedTally.objects.get(hall=conference.halls[0]).counts["received"] == 1
    # Once announced, nothing is pending: the next periodic call appends nothing.
    assert counts.counts_publish_pending(meeting_ids=[conference.meeting.pk]) == {}
    assert events_after(conference, after[-1].seq, Audience.STAFF) == []
