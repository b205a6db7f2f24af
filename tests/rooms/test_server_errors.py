"""Django's last resort (meetings/server_errors.py): a busy database outside the API's own
handler answers 503 with Retry-After and asks to try again; any other failure is a 500 page."""

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.db import OperationalError
from django.test import Client

from meetings.rooms.models import JoinLinkKind
from meetings.rooms.views import pages
from tests.factories import make_conference

pytestmark = pytest.mark.django_db

POOL_EXHAUSTED = OperationalError("couldn't get a connection after 10.00 sec")


@pytest.fixture
def conference():
    return make_conference()


def failing(error: Exception):
    def fail(*args, **kwargs):
        raise error

    return fail


def visitor() -> Client:
    # Django's test client re-raises a view's error by default; a browser gets the response.
    return Client(raise_request_exception=False)


def test_a_phone_page_that_meets_a_busy_database_answers_503_in_vietnamese(conference, monkeypatch):
    token = conference.token(conference.halls[0], JoinLinkKind.VOTER)
    monkeypatch.setattr(pages, "_link_or_none", failing(POOL_EXHAUSTED))
    page = visitor().get(f"/v/{token}/")
    assert page.status_code == 503
    assert page["Retry-After"] == "5"
    html = page.content.decode()
    assert '<html lang="vi">' in html
    assert 'data-busy="true"' in html
    assert "Máy chủ đang bận" in html


def test_a_signed_in_page_whose_session_cannot_be_read_answers_503(conference, monkeypatch):
    chair = visitor()
    chair.force_login(conference.chair)
    chair.cookies["django_language"] = "en"
    monkeypatch.setattr(SessionStore, "load", failing(POOL_EXHAUSTED))
    page = chair.get("/meetings/")
    assert page.status_code == 503
    assert "The server is busy" in page.content.decode()


def test_an_api_call_failing_outside_its_view_gets_the_apis_busy_error(conference, monkeypatch):
    # The language middleware runs before any view: its failure never reaches the API's handler.
    monkeypatch.setattr("meetings.locale_choice.chosen_language", failing(POOL_EXHAUSTED))
    token = conference.token(conference.halls[0], JoinLinkKind.VOTER)
    answer = visitor().get("/api/meetings/hn-test/snapshot", headers={"X-Join-Link": token})
    assert answer.status_code == 503
    assert answer["Retry-After"] == "5"
    assert answer.json()["code"] == "busy"
    assert answer.json()["detail"] == {"retry_after": 5}


def test_any_other_failure_is_a_500_page_without_retry_after(conference, monkeypatch):
    token = conference.token(conference.halls[0], JoinLinkKind.VOTER)
    monkeypatch.setattr(pages, "_link_or_none", failing(RuntimeError("a bug")))
    page = visitor().get(f"/v/{token}/")
    assert page.status_code == 500
    assert "Retry-After" not in page
    assert 'data-busy="false"' in page.content.decode()


def test_an_error_page_that_cannot_render_falls_back_to_plain_text(conference, monkeypatch):
    from meetings import server_errors

    token = conference.token(conference.halls[0], JoinLinkKind.VOTER)
    monkeypatch.setattr(pages, "_link_or_none", failing(POOL_EXHAUSTED))
    monkeypatch.setattr(server_errors, "render_to_string", failing(RuntimeError("no template")))
    page = visitor().get(f"/v/{token}/")
    assert page.status_code == 503
    assert page["Retry-After"] == "5"
    assert page["Content-Type"].startswith("text/plain")
    assert "Máy chủ đang bận" in page.content.decode()
