"""The organiser's overview of a round (docs/rounds.md, "The organiser's overview"): who may open
it, and the one fact it needed that the staff stream did not carry, since when a hall is lost
(``presence_lost``). tests/browser/test_round_overview.py drives the page itself."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from meetings.rooms.models import Audience, Event
from meetings.rooms.patch import apply_patch
from meetings.rooms.record import format_time
from meetings.rooms.services.presence import (
    kiosk_connected,
    kiosk_disconnected,
    kiosk_reap_stale,
    kiosks_seen,
)
from meetings.rooms.services.rounds import round_organiser_grant
from meetings.rooms.state import meeting_snapshot
from tests.factories import make_conference, make_round, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def rounds():
    round = make_round("dot-1")
    first = make_conference("dot-1-a", round=round)
    second = make_conference("dot-1-b", round=round)
    other = make_conference("khac", round=make_round("dot-2"))
    organiser = make_user("organiser")
    round_organiser_grant(round=round, user=organiser, actor=first.actor)
    foreign = make_user("foreign")
    round_organiser_grant(round=other.meeting.round, user=foreign, actor=other.actor)
    return round, first, second, other, organiser, foreign


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_round_s_organisers_and_superusers_open_its_overview(rounds):
    *_conferences, organiser, _foreign = rounds
    admin = make_user("admin", is_superuser=True, is_staff=True)
    for user in (organiser, admin):
        response = signed_in(user).get("/rounds/dot-1/")
        assert response.status_code == 200, user
        config = response.context["config"]
        assert [c["slug"] for c in config["conferences"]] == ["dot-1-a", "dot-1-b"]
        assert config["conferences"][0]["ws"] == "/ws/meetings/dot-1-a/"
        assert config["hall_lost_seconds"] == 30
        assert b"js/overview.js" in response.content


def test_the_organiser_s_three_screens_link_each_other(rounds):
    *_conferences, organiser, _foreign = rounds
    client = signed_in(organiser)
    screens = {
        "overview": "/rounds/dot-1/",
        "synthesis": "/rounds/dot-1/synthesis/",
        "follow-through": "/rounds/dot-1/follow-through/",
    }
    for name, address in screens.items():
        page = client.get(address).content.decode()
        for other in screens.values():
            assert f'href="{other}"' in page, (name, other)
        assert page.count('aria-current="page"') == 1, name


def test_nobody_else_opens_it(rounds):
    _round, first, _second, _other, _organiser, foreign = rounds
    # An organiser of another round; a conference's chair, secretary and observer who do not
    # organise the round.
    for user in (foreign, first.chair, first.secretary, first.observer, first.candidate_user):
        response = signed_in(user).get("/rounds/dot-1/")
        assert response.status_code == 403, user
        assert b"js/overview.js" not in response.content
    anonymous = Client().get("/rounds/dot-1/")
    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith("/accounts/login/")
    assert signed_in(foreign).get("/rounds/no-such-round/").status_code == 404


def test_the_rounds_page_lists_the_rounds_one_organises(rounds):
    _round, first, _second, _other, organiser, foreign = rounds
    assert b"/rounds/dot-1/" in signed_in(organiser).get("/rounds/").content
    assert b"/rounds/dot-2/" not in signed_in(organiser).get("/rounds/").content
    assert b"/rounds/dot-1/" not in signed_in(foreign).get("/rounds/").content
    assert b"/rounds/dot-1/" not in signed_in(first.chair).get("/rounds/").content
    assert Client().get("/rounds/").status_code == 302


def staff_state(conference):
    return meeting_snapshot(conference.meeting, Audience.STAFF)


def test_a_lost_hall_says_since_when_in_the_staff_state(rounds):
    _round, first, _second, _other, _organiser, _foreign = rounds
    hall, quiet = first.halls[1], first.halls[2]
    seq, before = staff_state(first)
    assert before["presence_lost"] == {}

    kiosk_connected(hall=hall, channel_name="kiosk-a")
    closed_at = timezone.now()
    kiosk_disconnected(channel_name="kiosk-a")
    # A kiosk that went silent is lost since it was last heard from, not since it was noticed.
    kiosk_connected(hall=quiet, channel_name="kiosk-b")
    heard = timezone.now() - timedelta(seconds=100)
    kiosks_seen({"kiosk-b": heard})
    kiosk_reap_stale(meeting=first.meeting)

    _seq, state = staff_state(first)
    assert str(hall.pk) not in state["presence"]
    assert state["presence_lost"][str(quiet.pk)] == {"since": format_time(heard)}
    since = state["presence_lost"][str(hall.pk)]["since"]
    assert abs((timezone.datetime.fromisoformat(since) - closed_at).total_seconds()) < 5
    # The events carry it: applied to the old snapshot, they give the new one.
    events = Event.objects.filter(meeting=first.meeting, seq__gt=seq).order_by("seq")
    for event in events:
        apply_patch(before, event.payload.get("patch", []))
    assert before["presence_lost"] == state["presence_lost"]
    lost = [e.payload for e in events if e.type == "hall.disconnected"]
    assert [p["since"] for p in lost] == [since, format_time(heard)]

    # Connected again: no longer lost.
    kiosk_connected(hall=quiet, channel_name="kiosk-c")
    _seq, state = staff_state(first)
    assert str(quiet.pk) not in state["presence_lost"]
    assert str(hall.pk) in state["presence_lost"]
    # Only staff see it, as they see presence.
    _seq, public = meeting_snapshot(first.meeting, Audience.PUBLIC)
    assert "presence_lost" not in public
