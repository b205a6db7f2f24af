"""The HTML screens: who reaches them, and what the kiosk, phone page and poster hold."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from meetings.rooms.models import Event, JoinLink, JoinLinkKind
from meetings.rooms.services import join_links
from tests.factories import make_conference, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def conference():
    return make_conference()


def test_sign_in_page_is_vietnamese_by_default(client):
    response = client.get("/accounts/login/")
    assert response.status_code == 200
    assert '<html lang="vi">' in response.content.decode()


def test_home_sends_visitors_to_sign_in_and_accounts_to_their_conferences(conference):
    assert Client().get("/").url == "/accounts/login/"
    chair = Client()
    chair.force_login(conference.chair)
    assert chair.get("/").url == "/meetings/"
    listing = chair.get("/meetings/").content.decode()
    assert conference.meeting.title in listing


def test_meeting_list_shows_only_the_accounts_conferences(conference):
    make_conference("hn-other")
    chair = Client()
    chair.force_login(conference.chair)
    listing = chair.get("/meetings/").content.decode()
    assert "/meetings/hn-test/" in listing and "/meetings/hn-other/" not in listing


def test_dashboard_for_staff_only(conference):
    for user, status in [
        (conference.chair, 200),
        (conference.observer, 200),
        (conference.candidate_user, 200),
        (make_user("stranger"), 403),
    ]:
        client = Client()
        client.force_login(user)
        assert client.get("/meetings/hn-test/").status_code == status, user
    assert Client().get("/meetings/hn-test/").status_code == 302  # to sign-in
    chair = Client()
    chair.force_login(conference.chair)
    assert chair.get("/meetings/nope/").status_code == 404


def test_kiosk_opens_from_the_operator_link_with_the_voters_qr(conference):
    hall = conference.halls[0]
    page = Client().get(f"/k/{conference.token(hall, JoinLinkKind.OPERATOR)}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert hall.name in html and "<svg" in html
    assert conference.token(hall, JoinLinkKind.VOTER) in html  # the QR's link, printed too


def test_links_open_only_their_own_screen(conference):
    hall = conference.halls[0]
    voter = conference.token(hall, JoinLinkKind.VOTER)
    operator = conference.token(hall, JoinLinkKind.OPERATOR)
    assert Client().get(f"/v/{voter}/").status_code == 200
    assert Client().get(f"/k/{voter}/").status_code == 403
    assert Client().get(f"/v/{operator}/").status_code == 403


def test_expired_and_rotated_links_are_403_and_create_nothing(conference):
    hall = conference.halls[0]
    voter = conference.token(hall, JoinLinkKind.VOTER)
    operator = conference.token(hall, JoinLinkKind.OPERATOR)
    JoinLink.objects.filter(hall=hall, kind=JoinLinkKind.OPERATOR).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    join_links.join_link_rotate(hall=hall, kind=JoinLinkKind.VOTER, actor=conference.actor)
    before = Event.objects.count()
    for path in (f"/k/{operator}/", f"/v/{voter}/", "/k/garbage/", f"/v/{voter[:-2]}/"):
        response = Client().get(path)
        assert response.status_code == 403, path
    assert Event.objects.count() == before


def test_poster_holds_the_hall_name_and_the_voter_qr(conference):
    hall = conference.halls[1]
    chair = Client()
    chair.force_login(conference.chair)
    html = chair.get(f"/meetings/hn-test/halls/{hall.pk}/poster/").content.decode()
    assert hall.name in html and "<svg" in html
    assert conference.token(hall, JoinLinkKind.VOTER) in html
    observer = Client()
    observer.force_login(conference.observer)
    assert observer.get(f"/meetings/hn-test/halls/{hall.pk}/poster/").status_code == 403


def test_public_base_url_is_used_in_printed_links(conference, settings):
    settings.PUBLIC_BASE_URL = "https://tiepxuc.example.vn"
    chair = Client()
    chair.force_login(conference.chair)
    html = chair.get(f"/meetings/hn-test/halls/{conference.halls[0].pk}/poster/").content.decode()
    assert "https://tiepxuc.example.vn/v/" in html


def test_healthz(client):
    assert b"database: ok" in client.get("/healthz").content
