"""Conferences: the status table, the studio, halls, candidates, roles and the agenda."""

import threading

import pytest
from django.db import IntegrityError, connection, transaction

from meetings.rooms.errors import Conflict, Invalid
from meetings.rooms.models import (
    MEETING_TRANSITIONS,
    AgendaItemKind,
    BridgePoint,
    Event,
    MeetingStatus,
    Role,
    RoleGrant,
)
from meetings.rooms.services import agenda, halls, meetings, roles
from tests.factories import make_conference, make_user

pytestmark = pytest.mark.django_db

ALL_PAIRS = [(a, b) for a in MeetingStatus.values for b in MeetingStatus.values]


def conference_in(status: str):
    return make_conference(status=status)


@pytest.mark.parametrize(("current", "target"), ALL_PAIRS)
def test_every_status_move_follows_the_table(current, target):
    conference = conference_in(current)
    before = Event.objects.count()
    allowed = target in MEETING_TRANSITIONS[current]
    if allowed:
        meetings.meeting_transition(
            meeting=conference.meeting, to_status=target, actor=conference.actor
        )
        conference.refresh()
        assert conference.meeting.status == target
        last = Event.objects.latest("id")
        assert (last.type, last.payload["from"], last.payload["to"]) == (
            "meeting.status_changed",
            current,
            target,
        )
    else:
        with pytest.raises(Conflict) as refused:
            meetings.meeting_transition(
                meeting=conference.meeting, to_status=target, actor=conference.actor
            )
        assert refused.value.detail == {"status": current}
        conference.refresh()
        assert conference.meeting.status == current
        assert Event.objects.count() == before


def test_the_table_is_a_single_line_from_draft_to_archived():
    assert {
        "draft": {"scheduled"},
        "scheduled": {"live"},
        "live": {"ended"},
        "ended": {"archived"},
        "archived": set(),
    } == MEETING_TRANSITIONS


def test_unknown_status_is_invalid():
    conference = make_conference()
    with pytest.raises(Invalid):
        meetings.meeting_transition(
            meeting=conference.meeting, to_status="paused", actor=conference.actor
        )


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_two_chairs_ending_at_once_exactly_one_wins():
    conference = make_conference("race")
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def end():
        try:
            barrier.wait()
            meetings.meeting_transition(
                meeting=conference.meeting, to_status="ended", actor=conference.actor
            )
            outcomes.append("won")
        except Conflict:
            outcomes.append("conflict")
        finally:
            connection.close()

    threads = [threading.Thread(target=end) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["conflict", "won"]
    assert (
        Event.objects.filter(
            meeting=conference.meeting, type="meeting.status_changed", payload__to="ended"
        ).count()
        == 1
    )


def test_a_meeting_has_exactly_one_studio():
    conference = make_conference()
    assert conference.meeting.bridge_points.filter(is_studio=True).count() == 1
    with pytest.raises(Conflict):
        halls.hall_add(
            meeting=conference.meeting, name="Second studio", is_studio=True, actor=conference.actor
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        BridgePoint.objects.create(meeting=conference.meeting, name="Sneaky", is_studio=True)


def test_hall_names_are_unique_per_meeting_and_refusals_change_nothing():
    conference = make_conference()
    before = Event.objects.count()
    with pytest.raises(Conflict):
        halls.hall_add(
            meeting=conference.meeting, name=conference.halls[0].name, actor=conference.actor
        )
    with pytest.raises(Invalid):
        halls.hall_add(meeting=conference.meeting, name="   ", actor=conference.actor)
    assert Event.objects.count() == before


def test_every_hall_gets_an_operator_and_a_voter_link():
    conference = make_conference()
    for hall in conference.meeting.bridge_points.all():
        assert sorted(
            hall.links.filter(revoked_at__isnull=True).values_list("kind", flat=True)
        ) == [
            "operator",
            "voter",
        ]


def test_role_grants_name_their_hall_or_candidate():
    conference = make_conference()
    user = make_user("new-operator")
    with pytest.raises(Invalid):
        roles.role_grant(
            meeting=conference.meeting, user=user, role=Role.BRIDGE_OPERATOR, actor=conference.actor
        )
    with pytest.raises(Invalid):
        roles.role_grant(
            meeting=conference.meeting,
            user=user,
            role=Role.CHAIR,
            hall=conference.halls[0],
            actor=conference.actor,
        )
    with pytest.raises(Invalid):
        roles.role_grant(
            meeting=conference.meeting, user=user, role=Role.CANDIDATE, actor=conference.actor
        )
    other = make_conference("hn-other")
    with pytest.raises(Invalid):
        roles.role_grant(
            meeting=conference.meeting,
            user=user,
            role=Role.BRIDGE_OPERATOR,
            hall=other.halls[0],
            actor=conference.actor,
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        RoleGrant.objects.create(meeting=conference.meeting, user=user, role=Role.BRIDGE_OPERATOR)
    grant = roles.role_grant(
        meeting=conference.meeting,
        user=user,
        role=Role.BRIDGE_OPERATOR,
        hall=conference.halls[1],
        actor=conference.actor,
    )
    assert Event.objects.filter(type="role.granted").latest("seq").audience == "staff"
    roles.role_revoke(grant=grant, actor=conference.actor)
    assert not RoleGrant.objects.filter(pk=grant.pk).exists()
    assert Event.objects.filter(type="role.revoked").exists()


def test_default_agenda_gives_every_candidate_equal_time():
    conference = make_conference()
    items = agenda.agenda_build_default(meeting=conference.meeting, actor=conference.actor)
    kinds = [item.kind for item in items]
    assert kinds == ["opening", "presentation", "presentation", "questions", "closing"]
    presentations = [item for item in items if item.kind == AgendaItemKind.PRESENTATION]
    assert {item.candidate_id for item in presentations} == {c.pk for c in conference.candidates}
    assert {item.allowance_seconds for item in presentations} == {
        conference.meeting.presentation_minutes * 60
    }
    with pytest.raises(Conflict):
        agenda.agenda_build_default(meeting=conference.meeting, actor=conference.actor)


def test_starting_an_item_ends_the_running_one_and_times_are_recorded():
    conference = make_conference()
    opening, first, *_ = agenda.agenda_build_default(
        meeting=conference.meeting, actor=conference.actor
    )
    agenda.agenda_item_start(item=opening, actor=conference.actor)
    agenda.agenda_item_start(item=first, actor=conference.actor)
    opening.refresh_from_db()
    first.refresh_from_db()
    assert opening.ended_at is not None and opening.ended_at <= first.started_at
    assert first.is_running
    with pytest.raises(Conflict):
        agenda.agenda_item_start(item=opening, actor=conference.actor)
    with pytest.raises(Conflict):
        agenda.agenda_item_update(item=first, title="Changed", actor=conference.actor)


def test_agenda_items_start_only_while_the_meeting_is_live():
    conference = make_conference(status="scheduled")
    opening, *_ = agenda.agenda_build_default(meeting=conference.meeting, actor=conference.actor)
    with pytest.raises(Conflict):
        agenda.agenda_item_start(item=opening, actor=conference.actor)


def test_ending_the_meeting_ends_the_running_item():
    conference = make_conference()
    opening, *_ = agenda.agenda_build_default(meeting=conference.meeting, actor=conference.actor)
    agenda.agenda_item_start(item=opening, actor=conference.actor)
    meetings.meeting_transition(
        meeting=conference.meeting, to_status="ended", actor=conference.actor
    )
    opening.refresh_from_db()
    assert opening.ended_at is not None


def test_slug_cannot_change():
    conference = make_conference()
    with pytest.raises(Invalid):
        meetings.meeting_update(meeting=conference.meeting, slug="new", actor=conference.actor)
