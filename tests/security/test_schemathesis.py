"""schemathesis drives every operation of /api/openapi.json with generated input, as the chair
and as a voter's phone: no input may make the server fail (5xx), and every refusal (4xx) is in
the documented shape, {"code", "message", "detail"?}, with a code of error_codes.py."""

import gzip
import json
from contextlib import contextmanager

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.test import Client
from hypothesis import HealthCheck, settings

from meetings.questions.services import moderation
from meetings.rooms.error_codes import ErrorCode
from meetings.rooms.models import JoinLinkKind
from tests.questions.helpers import ask, open_conference, phone

schema = schemathesis.openapi.from_wsgi("/api/openapi.json", get_wsgi_application())


@contextmanager
def keeping_the_test_connection():
    """As Django's test client does around each request: a request made inside the test's
    transaction must not close its database connection when it starts and ends."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


def json_body(response) -> dict:
    """The answer's JSON, unzipped if the server gzipped it (it does for every client that
    accepts it, as schemathesis's does; its transport here, the WSGI app, does not unzip)."""
    content = response.content
    if response.headers.get("content-encoding", [""])[0] == "gzip":
        content = gzip.decompress(content)
    return json.loads(content)


@pytest.fixture
def callers():
    conference = open_conference("fuzz")
    approved = moderation.question_approve(
        question=ask(conference, "Đã duyệt", device=2), actor=conference.actor
    )
    ask(conference, "Chờ duyệt", device=3)
    client = Client()
    client.force_login(conference.chair)
    client.get("/meetings/")
    return {
        "chair": {"X-CSRFToken": client.cookies["csrftoken"].value},
        "chair_cookies": {name: morsel.value for name, morsel in client.cookies.items()},
        "voter": {
            "X-Join-Link": conference.token(conference.halls[0], JoinLinkKind.VOTER),
            "X-Device-Id": phone(conference, 7),
        },
        "known": {"slug": "fuzz", "question_id": approved.pk, "hall_id": conference.halls[0].pk},
    }


@pytest.mark.django_db
@schema.parametrize()
@settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_input_makes_the_server_fail(case, callers):
    # Half the time aim at the real meeting and objects, so the generated input reaches past
    # the "not found".
    for name in ("slug", "question_id", "hall_id"):
        if name in (case.path_parameters or {}) and hash(str(case.body)) % 2 == 0:
            case.path_parameters[name] = callers["known"][name]
    for caller in ("chair", "voter"):
        # The session goes in as cookies: the document declares the session cookie, and a
        # Cookie header of our own would be replaced by the one schemathesis builds.
        case.cookies = callers["chair_cookies"] if caller == "chair" else {}
        with keeping_the_test_connection():
            response = case.call(headers=callers[caller])
        shown = (caller, case.method, case.path, case.path_parameters, case.query, case.body)
        assert response.status_code < 500, shown
        if response.status_code >= 400:
            assert response.headers["content-type"][0].startswith("application/json"), shown
            body = json_body(response)
            assert set(body) <= {"code", "message", "detail"}, (body, *shown)
            assert body["code"] in set(ErrorCode), (body, *shown)
            assert isinstance(body["message"], str) and body["message"], (body, *shown)
