"""What tests/browser/test_round_overview.py does to a round while the overview is open, through
the services, in the server's database: each function runs in a ``manage.py shell`` of its own
(``run(server, "name", *args)``)."""

import json
import uuid
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.utils import timezone

from meetings.questions.models import Question, QuestionSource
from meetings.questions.services.air import question_answer, question_put_on_air
from meetings.questions.services.moderation import question_approve
from meetings.questions.services.submit import question_submit
from meetings.rooms.actors import Actor
from meetings.rooms.models import BridgePoint, Meeting, MeetingStatus, Round
from meetings.rooms.services.agenda import agenda_build_default, agenda_item_start
from meetings.rooms.services.halls import hall_set_attendance
from meetings.rooms.services.meetings import (
    meeting_set_questions_open,
    meeting_transition,
    meeting_update,
)
from meetings.rooms.services.presence import (
    kiosk_connected,
    kiosk_disconnected,
    kiosk_reap_stale,
    kiosks_seen,
)
from meetings.rooms.services.rounds import round_organiser_grant

ACTOR = Actor.system("test")
# The background kiosks are heard from "until then", so that the server's own reaper (three
# silent heartbeats) leaves them connected however long the test runs.
HEARD_UNTIL = timedelta(days=1)


def conference(n: int) -> Meeting:
    return Meeting.objects.get(slug=f"lao-cai-don-vi-{n}")


def halls(n: int) -> list[BridgePoint]:
    return list(conference(n).bridge_points.order_by("position", "pk"))


def open_conference(n: int) -> None:
    meeting = conference(n)
    if meeting.status == MeetingStatus.DRAFT:
        meeting = meeting_transition(meeting=meeting, to_status="scheduled", actor=ACTOR)
    meeting_transition(meeting=meeting, to_status="live", actor=ACTOR)


def set_up(username: str, password: str, live: str, late: str) -> None:
    """The organiser's account and grant; every conference scheduled an hour from now but
    those in ``late`` (20 minutes ago); those in ``live`` open, with their agenda, questions
    open and every hall but the last connected."""
    user = get_user_model().objects.create_user(
        username=username, password=password, first_name="Hà", last_name="Thu"
    )
    round = Round.objects.get(slug="lao-cai-2026")
    round_organiser_grant(round=round, user=user, actor=ACTOR)
    now = timezone.now()
    late_ones = {int(n) for n in late.split(",") if n}
    for meeting in round.meetings.all():
        n = int(meeting.slug.rsplit("-", 1)[1])
        start = now - timedelta(minutes=20) if n in late_ones else now + timedelta(hours=1)
        meeting_update(meeting=meeting, actor=ACTOR, scheduled_start=start)
    for n in (int(n) for n in live.split(",")):
        open_conference(n)
        meeting = conference(n)
        agenda_build_default(meeting=meeting, actor=ACTOR)
        meeting_set_questions_open(meeting=meeting, open=True, actor=ACTOR)
        seen = {}
        for hall in halls(n)[:-1]:
            name = f"test-kiosk-{hall.pk}"
            kiosk_connected(hall=hall, channel_name=name)
            seen[name] = now + HEARD_UNTIL
        kiosks_seen(seen)


def connect(n: int, index: int) -> None:
    hall = halls(n)[index]
    name = f"test-kiosk-{hall.pk}"
    kiosk_connected(hall=hall, channel_name=name)
    kiosks_seen({name: timezone.now() + HEARD_UNTIL})


def lose(n: int, index: int) -> None:
    """The hall's kiosk closes its socket: lost from now."""
    kiosk_disconnected(channel_name=f"test-kiosk-{halls(n)[index].pk}")


def lose_long_ago(n: int, index: int, seconds: int) -> None:
    """The hall's kiosk was last heard from ``seconds`` ago, and the platform notices it."""
    hall = halls(n)[index]
    name = f"test-kiosk-{hall.pk}"
    kiosks_seen({name: timezone.now() - timedelta(seconds=seconds)})
    kiosk_reap_stale(meeting=hall.meeting)


def start_item(n: int, position: int) -> None:
    item = conference(n).agenda.order_by("position")[position]
    agenda_item_start(item=item, actor=ACTOR)
    print(json.dumps({"title": item.title}))


def attendance(n: int, index: int, count: int) -> None:
    hall_set_attendance(hall=halls(n)[index], count=count, actor=ACTOR)


def ask(n: int, text: str) -> None:
    hall = halls(n)[1]
    submission = question_submit(
        meeting=conference(n),
        hall=hall,
        source=QuestionSource.PAPER,
        client_id=uuid.uuid4(),
        text=text,
        actor=Actor.for_operator_link(hall),
    )
    print(json.dumps({"id": submission.question.pk}))


def approve(question_id: int) -> None:
    question_approve(question=Question.objects.get(pk=question_id), actor=ACTOR)


def answer(question_id: int) -> None:
    question = question_put_on_air(question=Question.objects.get(pk=question_id), actor=ACTOR)
    candidate = question.meeting.candidates.order_by("position", "pk").first()
    question_answer(
        question=question,
        kind="live",
        summary="Đã trả lời tại hội nghị.",
        candidate_id=candidate.pk,
        actor=ACTOR,
    )
