import json
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
