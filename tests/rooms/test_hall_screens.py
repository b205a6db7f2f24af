"""The hall screens' question parts, as served: the phone's question form and the kiosk's
clerk panel and on-air stage. What they do is tested in the browser
(tests/browser/test_phone.py)."""

import pytest
from django.test import Client

from meetings.rooms.models import JoinLinkKind
from meetings.rooms.services.halls import hall_update
from tests.factories import make_conference

pytestmark = pytest.mark.django_db

FIELDS = (
    'name="text"',
    'name="topic"',
    'name="candidate_id"',
    'name="asker_name"',
    'name="asker_group"',
    'name="named_publicly"',
)


@pytest.fixture
def conference():
    return make_conference()


def page(conference, kind: JoinLinkKind) -> str:
    hall = conference.halls[0]
    prefix = "v" if kind == JoinLinkKind.VOTER else "k"
    response = Client().get(f"/{prefix}/{conference.token(hall, kind)}/")
    assert response.status_code == 200
    return response.content.decode()


def test_the_phone_page_holds_the_question_form_and_the_voters_lists(conference):
    html = page(conference, JoinLinkKind.VOTER)
    assert "css/hall.css" in html
    for field in FIELDS:
        assert html.count(field) == 1, field
    for test_id in ("ask-form", "ask-closed", "outbox", "mine", "queue", "on-air", "phone-now"):
        assert f'data-testid="{test_id}"' in html, test_id
    # Vietnamese first: the form's words come from the catalogue, the page says its language.
    assert '<html lang="vi">' in html


def test_the_kiosk_holds_the_on_air_stage_and_the_clerk_panel(conference):
    html = page(conference, JoinLinkKind.OPERATOR)
    assert "css/hall.css" in html
    for field in FIELDS:
        assert html.count(field) == 1, field
    for test_id in ("kiosk-now", "kiosk-on-air", "kiosk-tally", "clerk-open", "clerk-drawer"):
        assert f'data-testid="{test_id}"' in html, test_id


def test_a_hall_name_with_markup_is_text_in_the_forms_explanation(conference):
    hall = conference.halls[0]
    hall_update(hall=hall, name="Nhà văn hóa <b>số 1</b>", actor=conference.actor)
    for kind in (JoinLinkKind.VOTER, JoinLinkKind.OPERATOR):
        html = page(conference, kind)
        assert "<b>số 1</b>" not in html
        assert "&lt;b&gt;số 1&lt;/b&gt;" in html
