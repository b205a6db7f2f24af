import json
import re
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client

from meetings.rooms.models import Meeting, MeetingStatus

pytestmark = pytest.mark.django_db


def signs_in(client: Client, password: str) -> bool:
    """Through the sign-in page, as a person would (and as the password throttle sees it)."""
    client.post("/accounts/login/", {"username": "chair", "password": password})
    return "_auth_user_id" in client.session


def seed(*args) -> str:
    out = StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


def test_builds_the_demo_and_prints_every_screen():
    output = seed()
    meeting = Meeting.objects.get(slug="demo")
    assert meeting.status == MeetingStatus.SCHEDULED
    assert (
        meeting.bridge_points.count() == 4
        and meeting.bridge_points.filter(is_studio=True).count() == 1
    )
    assert meeting.candidates.count() == 2
    assert "chair account" in output
    for piece in ("/accounts/login/", "/meetings/demo/", "/k/", "/v/", "/poster/", "/admin/"):
        assert piece in output
    assert output.count("/k/") == 4 and output.count("/v/") == 4


def test_printed_password_signs_the_chair_in_and_links_work():
    data = json.loads(seed("--json", "--password", "demo-pass-123"))
    client = Client()
    assert signs_in(client, "demo-pass-123")
    assert client.get("/meetings/demo/").status_code == 200
    for hall in data["halls"]:
        assert Client().get(hall["kiosk"].split("8000", 1)[1]).status_code == 200
        assert Client().get(hall["phone"].split("8000", 1)[1]).status_code == 200


def test_running_twice_keeps_one_demo_and_prints_a_new_password():
    first = json.loads(seed("--json"))
    second = json.loads(seed("--json"))
    assert Meeting.objects.filter(slug="demo").count() == 1
    assert first["password"] != second["password"]
    assert signs_in(Client(), second["password"])
    assert first["halls"] == second["halls"]


def test_every_printed_url_answers():
    """`make run` prints a URL for every screen of the README's table, and each answers: the
    chair (signed in with the printed password) opens every one; a visitor gets each page, or
    the sign-in page, or (for the archive's files of a conference not yet published) 404."""
    output = seed("--password", "demo-pass-123")
    paths = re.findall(r"http://127\.0\.0\.1:8000(\S*)", output)
    for screen in (
        "/accounts/login/",
        "/meetings/",
        "/meetings/demo/",
        "/meetings/demo/queue/",
        "/meetings/demo/candidate/",
        "/meetings/demo/follow-ups/",
        "/meetings/demo/halls/",
        "/archive/",
        "/archive/demo/",
        *(f"/archive/demo/minutes.{fmt}" for fmt in ("docx", "pdf", "csv", "xlsx")),
        "/archive/demo/record.json",
        "/admin/",
        "/api/",
        "/api/docs",
        "/api/openapi.json",
        "/healthz",
        "/rounds/demo-round/",
        "/rounds/demo-round/synthesis/",
        "/rounds/demo-round/follow-through/",
    ):
        assert screen in paths, screen
    assert len(paths) == 22 + 4 * 3  # and each hall's kiosk, phone page and poster

    chair = Client()
    assert signs_in(chair, "demo-pass-123")
    for path in paths:
        answer = chair.get(path)
        expected = 302 if path == "/accounts/login/" else 200  # signed in already
        assert answer.status_code == expected, (path, answer.status_code)

    unpublished = {path for path in paths if path.startswith("/archive/demo/")}
    for path in paths:
        answer = Client().get(path)
        if path in unpublished:
            assert answer.status_code == 404, (path, answer.status_code)
        elif answer.status_code == 302:
            assert re.match(r"/(admin/|accounts/)login/\?next=", answer["Location"]), path
        else:
            assert answer.status_code == 200, (path, answer.status_code)


def test_the_api_answers_at_its_root_with_where_its_reference_is():
    answer = Client().get("/api/")
    assert answer.status_code == 200
    index = answer.json()
    assert index["docs"] == "/api/docs" and index["openapi"] == "/api/openapi.json"
    assert Client().get(index["docs"]).status_code == 200
    assert Client().get(index["openapi"]).json()["info"]["version"] == index["version"]
