"""The counts still pending when a conference ends are announced in the transaction that ends
it, before its end (docs/record.md, "After the end: a closed record"); none after it."""

import pytest

from meetings.questions.models import Question
from meetings.questions.services import counts, moderation, votes
from meetings.rooms.models import Event, EventLogHead, MeetingStatus
from meetings.rooms.services.meetings import meeting_transition
from tests.questions.helpers import ask, open_conference, phone_device


@pytest.mark.django_db(transaction=True)
def test_ending_announces_the_pending_counts_before_the_end(server_loop, settings):
    settings.COUNTS_PUBLISH_SECONDS = 3600  # armed, never fired during the test
    conference = open_conference()
    question = moderation.question_approve(question=ask(conference), actor=conference.actor)
    with server_loop.busy():
        for device in (2, 3):
            assert votes.question_vote(
                meeting=conference.meeting,
                question_id=question.pk,
                device=phone_device(conference, device),
            )
        assert counts.counts_pending(meeting=conference.meeting)
        meeting_transition(
            meeting=conference.meeting, to_status=MeetingStatus.ENDED, actor=conference.actor
        )
    assert not counts.counts_pending(meeting=conference.meeting)
    last = list(
        Event.objects.filter(meeting=conference.meeting)
        .order_by("-seq")[:4]
        .values_list("type", "payload")
    )[::-1]
    assert [type for type, _payload in last] == [
        "public.votes",
        "moderation.supports",
        "public.tally",
        "meeting.status_changed",
    ]
    assert last[0][1]["votes"] == {str(question.pk): 2}
    assert last[-1][1]["to"] == "ended"
    # The timer armed by the votes fires after the end: it finds nothing, and appends nothing.
    seq = EventLogHead.objects.get(meeting=conference.meeting).seq
    assert counts.counts_publish(meeting=conference.meeting) == counts.CountsAnnounced(0, 0)
    assert EventLogHead.objects.get(meeting=conference.meeting).seq == seq
    assert Question.objects.get(pk=question.pk).votes_published == 2
