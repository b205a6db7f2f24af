"""Zulip's invariant: a client that applies the events it is sent to the snapshot it had ends
up with the snapshot it would get now. Checked for every audience, over every kind of change."""

import copy
from datetime import timedelta

import pytest

from meetings.rooms.models import AgendaItemKind, Audience, Event, JoinLinkKind, MeetingStatus
from meetings.rooms.patch import apply_patch
from meetings.rooms.services import (
    agenda,
    candidates,
    floor,
    halls,
    join_links,
    kiosk_sessions,
    meetings,
    presence,
)
from meetings.rooms.state import meeting_snapshot
from tests.factories import make_conference

pytestmark = pytest.mark.django_db


def every_kind_of_change(conference):
    actor = conference.actor
    meeting = conference.meeting
    new_hall = halls.hall_add(
        meeting=meeting, name="Nhà văn hóa bản Mới", operator_name="Chị Lò Thị Mai", actor=actor
    )
    halls.hall_update(hall=new_hall, address="Bản Mới, xã Tà Xùa", actor=actor)
    halls.hall_update(hall=new_hall, operator_name="", operator_phone="", actor=actor)
    halls.hall_update(hall=conference.halls[0], operator_phone="0912 345 678", actor=actor)
    halls.hall_set_attendance(hall=conference.halls[0], count=140, actor=actor)
    halls.hall_set_attendance(hall=conference.studio, count=35, actor=actor)
    candidate = candidates.candidate_add(meeting=meeting, name="Hoàng Văn Thụ", actor=actor)
    candidates.candidate_update(candidate=candidate, current_position="Kỹ sư", actor=actor)
    items = agenda.agenda_build_default(meeting=meeting, actor=actor)
    extra = agenda.agenda_item_add(
        meeting=meeting, kind=AgendaItemKind.OTHER, title="Văn nghệ", actor=actor
    )
    agenda.agenda_item_update(item=extra, allowance_seconds=300, actor=actor)
    agenda.agenda_item_start(item=items[0], actor=actor)
    agenda.agenda_item_start(item=items[1], actor=actor)  # ends items[0]
    agenda.agenda_item_end(item=items[1], actor=actor)
    agenda.agenda_item_start(item=items[2], actor=actor)
    join_links.join_link_rotate(hall=conference.halls[1], kind=JoinLinkKind.VOTER, actor=actor)
    presence.kiosk_connected(hall=conference.halls[1], channel_name="kiosk-a")
    presence.kiosk_connected(hall=conference.halls[1], channel_name="kiosk-b")
    presence.kiosk_connected(hall=conference.halls[2], channel_name="kiosk-c")
    presence.kiosk_disconnected(channel_name="kiosk-a")
    presence.kiosk_disconnected(channel_name="kiosk-c")
    floor.floor_request(hall=conference.halls[0], actor=actor)
    floor.floor_request(hall=conference.halls[1], actor=actor)
    floor.floor_withdraw_request(hall=conference.halls[0], actor=actor)
    floor.floor_grant(hall=conference.halls[1], seconds=60, actor=actor)
    floor.floor_grant(hall=conference.halls[2], actor=actor)
    floor.programme_set_layout(meeting=meeting, layout="hall", actor=actor)
    floor.hall_pin_tier(hall=conference.halls[2], tier="low", actor=actor)
    floor.hall_pin_tier(hall=conference.halls[1], tier="audio", actor=actor)
    floor.hall_pin_tier(hall=conference.halls[1], tier=None, actor=actor)
    floor.floor_request(hall=conference.halls[0], actor=actor)
    # Screens: one holds hall 0, another asks, comes back from elsewhere and takes over; a
    # third is refused; hall 2's screen ends with its replaced link.
    holder = kiosk_sessions.kiosk_session_claim(
        hall=conference.halls[0], token=None, user_agent="Chrome/131", address="10.0.0.1"
    )
    asking = kiosk_sessions.kiosk_session_claim(
        hall=conference.halls[0], token=None, user_agent="Firefox/128", address="10.0.0.2"
    )
    kiosk_sessions.kiosk_session_claim(
        hall=conference.halls[0], token=asking.token, user_agent="Firefox/129", address="10.0.0.3"
    )
    kiosk_sessions.kiosk_session_allow(session=asking.session, actor=actor)
    refused = kiosk_sessions.kiosk_session_claim(
        hall=conference.halls[0], token=holder.token, user_agent="Chrome/131", address="10.0.0.1"
    )
    kiosk_sessions.kiosk_session_end(session=refused.session, actor=actor)
    kiosk_sessions.kiosk_session_claim(
        hall=conference.halls[2], token=None, user_agent="Edg/130", address="10.0.0.4"
    )
    join_links.join_link_rotate(hall=conference.halls[2], kind=JoinLinkKind.OPERATOR, actor=actor)
    meetings.meeting_update(
        meeting=meeting,
        title="Hội nghị tiếp xúc cử tri (điều chỉnh)",
        scheduled_start=meeting.scheduled_start + timedelta(minutes=30),
        actor=actor,
    )
    meetings.meeting_transition(meeting=meeting, to_status=MeetingStatus.ENDED, actor=actor)


@pytest.mark.parametrize("audience", list(Audience))
def test_events_applied_to_an_old_snapshot_give_the_new_snapshot(audience):
    conference = make_conference()
    seq_before, state_before = meeting_snapshot(conference.meeting, audience)

    every_kind_of_change(conference)

    seq_after, state_after = meeting_snapshot(conference.meeting, audience)
    visible = Event.objects.filter(
        meeting=conference.meeting,
        seq__gt=seq_before,
        audience__in=[a.value for a in audience.visible_audiences()],
    ).order_by("seq")
    assert visible.exists()
    replayed = copy.deepcopy(state_before)
    for event in visible:
        apply_patch(replayed, event.payload.get("patch", []))
    assert replayed == state_after
    assert seq_after == visible.last().seq


def test_the_invariant_would_catch_a_change_without_an_event():
    """The check above can fail: a change made behind the services shows up as a difference."""
    conference = make_conference()
    _seq, state_before = meeting_snapshot(conference.meeting, Audience.PUBLIC)
    conference.halls[0].__class__.objects.filter(pk=conference.halls[0].pk).update(attendance=9)
    _seq, state_after = meeting_snapshot(conference.meeting, Audience.PUBLIC)
    assert state_before != state_after
