"""Names as long as their columns allow still fit wherever the platform builds a label from
them: the record's actor ("voter: <hall>", "kiosk: <hall>", an account's full name) and the
usual agenda's titles ("Action programme: <candidate>"). SQLite stores a string longer than
its column whole, PostgreSQL refuses it: the services tier runs these on PostgreSQL, where a
200-character hall name used to make every question and vote of its voters fail."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.utils import timezone

from meetings.rooms.actors import LABEL_MAX_LENGTH, Actor
from meetings.rooms.models import AgendaItem, Event, Role
from meetings.rooms.services import agenda, candidates, halls, meetings, roles
from tests.factories import make_user
from tests.questions.helpers import open_conference, phone_client, send_question

LONGEST_NAME = "Nhà văn hóa thôn Bản Công " * 8  # 208 characters: cut to the column's 200


def the_longest(name: str = LONGEST_NAME, length: int = 200) -> str:
    return name[:length]


def record_is_intact(slug: str) -> str:
    out = StringIO()
    call_command("verify_record", slug, stdout=out)
    return out.getvalue()


def labels_fit(meeting) -> None:
    longest = max(len(label) for label in Event.objects.values_list("actor_label", flat=True))
    assert longest <= LABEL_MAX_LENGTH == Event._meta.get_field("actor_label").max_length


def voices_of_a_hall_with_the_longest_name():
    conference = open_conference()
    hall = conference.halls[0]
    halls.hall_update(hall=hall, name=the_longest(), actor=conference.actor)
    hall.refresh_from_db()
    assert len(hall.name) == 200

    # A voter's phone asks; the hall's kiosk sets its attendance.
    answer = send_question(phone_client(conference), "Khi nào sửa đường liên thôn?")
    assert answer.status_code == 201, answer.content
    kiosk = Client(headers=conference.kiosk_headers(hall))
    answer = kiosk.post(
        f"/api/meetings/{conference.meeting.slug}/halls/{hall.pk}/attendance",
        {"count": 87},
        content_type="application/json",
    )
    assert answer.status_code == 200, answer.content

    voter = Event.objects.get(meeting=conference.meeting, type="question.submitted")
    assert voter.actor_kind == "voter" and voter.actor_label.startswith("voter: Nhà văn hóa")
    assert len(voter.actor_label) == LABEL_MAX_LENGTH and voter.actor_label.endswith("…")
    counted = Event.objects.get(meeting=conference.meeting, type="hall.attendance_set")
    assert counted.actor_kind == "operator_link"
    assert counted.actor_label.startswith("kiosk: Nhà văn hóa")
    labels_fit(conference.meeting)
    assert "intact" in record_is_intact(conference.meeting.slug)


def an_account_and_a_candidate_with_the_longest_names():
    chair = make_user("chu_tri", first_name="Nguyễn " * 21 + "Thị", last_name="Hồng " * 30)
    assert len(chair.get_full_name()) > LABEL_MAX_LENGTH
    actor = Actor.for_user(chair)
    assert len(actor.label) == LABEL_MAX_LENGTH and actor.label.startswith("Nguyễn Nguyễn")
    meeting = meetings.meeting_create(
        slug="hn-long",
        title="Hội nghị tiếp xúc cử tri",
        electoral_unit="Đơn vị bầu cử số 1",
        scheduled_start=timezone.now(),
        studio_name=the_longest("Điểm cầu trung tâm – " * 12),
        actor=actor,
    )
    roles.role_grant(meeting=meeting, user=chair, role=Role.CHAIR, actor=actor)
    candidates.candidate_add(meeting=meeting, name=the_longest("Trần Văn Minh " * 16), actor=actor)
    agenda.agenda_build_default(meeting=meeting, actor=actor)

    titles = list(AgendaItem.objects.filter(meeting=meeting).values_list("title", flat=True))
    presentation = titles[1]
    assert " Trần Văn Minh Trần" in presentation  # "Action programme: …", in either language
    assert len(presentation) == 200 and presentation.endswith("…")
    labels_fit(meeting)
    granted = Event.objects.get(meeting=meeting, type="role.granted")
    assert granted.payload["user"] == actor.label
    assert "intact" in record_is_intact(meeting.slug)


@pytest.mark.django_db
def test_a_hall_with_the_longest_name_keeps_its_voices_on_the_record():
    voices_of_a_hall_with_the_longest_name()


@pytest.mark.django_db
def test_accounts_and_candidates_with_the_longest_names_fit_the_record_and_the_agenda():
    an_account_and_a_candidate_with_the_longest_names()


@pytest.mark.services
@pytest.mark.django_db
def test_on_postgresql_the_longest_names_fit_every_column():
    # The tier's point: PostgreSQL refuses what does not fit, where SQLite would not notice.
    assert connection.vendor == "postgresql"
    voices_of_a_hall_with_the_longest_name()
    an_account_and_a_candidate_with_the_longest_names()
