"""The question queue's screens: who may open the moderators' console and the candidate's
console, and what each page tells its script about the viewer."""

import json

import pytest
from django.test import Client

from meetings.questions.models import RejectReason
from tests.factories import make_conference, make_user

pytestmark = pytest.mark.django_db

QUEUE = "/meetings/hn-test/queue/"
CANDIDATE = "/meetings/hn-test/candidate/"


@pytest.fixture
def conference():
    return make_conference()


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def page_config(response) -> dict:
    """The JSON the page's script starts from (json_script "page-config")."""
    html = response.content.decode()
    start = html.index('<script id="page-config" type="application/json">')
    start = html.index(">", start) + 1
    return json.loads(html[start : html.index("</script>", start)])


def test_queue_console_for_moderators_and_observers_only(conference):
    for user, status in [
        (conference.chair, 200),
        (conference.secretary, 200),
        (conference.observer, 200),
        (conference.candidate_user, 403),
        (conference.operator_user, 403),
        (make_user("stranger"), 403),
    ]:
        assert signed_in(user).get(QUEUE).status_code == status, user
    anonymous = Client().get(QUEUE)
    assert anonymous.status_code == 302
    assert anonymous.url.startswith("/accounts/login/")
    assert signed_in(conference.chair).get("/meetings/nope/queue/").status_code == 404


def test_queue_console_tells_observers_they_only_read(conference):
    chair = page_config(signed_in(conference.chair).get(QUEUE))
    observer = page_config(signed_in(conference.observer).get(QUEUE))
    assert chair["read_only"] is False and chair["viewer"]["can_moderate"] is True
    assert observer["read_only"] is True and observer["viewer"]["kind"] == "observer"
    assert chair["slug"] == "hn-test"
    assert chair["ws"] == "/ws/meetings/hn-test/"
    assert chair["api"] == "/api/meetings/hn-test"
    # The reasons offered in the reject dialog are exactly the model's.
    assert [r["value"] for r in chair["reject_reasons"]] == list(RejectReason.values)


def test_observers_get_no_moderating_controls(conference):
    chair = signed_in(conference.chair).get(QUEUE).content.decode()
    observer = signed_in(conference.observer).get(QUEUE).content.decode()
    for control in ('data-dialog="reject"', 'data-action="toggle-intake"', "floor-question"):
        assert control in chair
        assert control not in observer


def test_candidate_console_for_candidates_and_staff(conference):
    for user, status in [
        (conference.candidate_user, 200),
        (conference.chair, 200),
        (conference.secretary, 200),
        (conference.observer, 200),
        (conference.operator_user, 403),
        (make_user("stranger"), 403),
    ]:
        assert signed_in(user).get(CANDIDATE).status_code == status, user
    anonymous = Client().get(CANDIDATE)
    assert anonymous.status_code == 302
    assert anonymous.url.startswith("/accounts/login/")


def test_a_candidate_sees_their_own_console_whatever_the_address_asks(conference):
    own, other = conference.candidates
    response = signed_in(conference.candidate_user).get(f"{CANDIDATE}?candidate={other.pk}")
    assert page_config(response)["candidate"] == own.pk
    html = response.content.decode()
    assert own.name in html
    assert 'data-testid="candidate-picker"' not in html  # no choosing other candidates


def test_moderators_choose_the_candidate(conference):
    first, second = conference.candidates
    chair = signed_in(conference.chair)
    assert page_config(chair.get(CANDIDATE))["candidate"] == first.pk
    chosen = chair.get(f"{CANDIDATE}?candidate={second.pk}")
    assert page_config(chosen)["candidate"] == second.pk
    assert 'data-testid="candidate-picker"' in chosen.content.decode()
    assert chair.get(f"{CANDIDATE}?candidate=999999").status_code == 404
    assert chair.get(f"{CANDIDATE}?candidate=abc").status_code == 404
    other = make_conference("hn-other")
    foreign = other.candidates[0].pk
    assert chair.get(f"{CANDIDATE}?candidate={foreign}").status_code == 404


def test_screens_link_to_the_consoles(conference):
    dashboard = signed_in(conference.chair).get("/meetings/hn-test/").content.decode()
    assert QUEUE in dashboard and CANDIDATE in dashboard
    observer = signed_in(conference.observer).get("/meetings/hn-test/").content.decode()
    assert QUEUE in observer
    candidate = signed_in(conference.candidate_user).get("/meetings/hn-test/").content.decode()
    assert CANDIDATE in candidate and QUEUE not in candidate


def test_meeting_list_sends_candidates_to_their_console(conference):
    listing = signed_in(conference.candidate_user).get("/meetings/").content.decode()
    assert f'href="{CANDIDATE}"' in listing
    assert 'href="/meetings/hn-test/"' not in listing and QUEUE not in listing
    chair = signed_in(conference.chair).get("/meetings/").content.decode()
    assert 'href="/meetings/hn-test/"' in chair and QUEUE in chair
