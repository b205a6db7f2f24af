"""Builders for question tests, through the services."""

import uuid

from django.test import Client

from meetings.questions.devices import device_hash
from meetings.questions.models import QuestionSource
from meetings.questions.services.submit import question_submit
from meetings.rooms.actors import Actor
from meetings.rooms.models import JoinLinkKind
from meetings.rooms.services.meetings import meeting_set_questions_open
from tests.factories import Conference, make_conference


def open_conference(slug: str = "hn-test", **kwargs) -> Conference:
    conference = make_conference(slug, **kwargs)
    meeting_set_questions_open(meeting=conference.meeting, open=True, actor=conference.actor)
    conference.refresh()
    return conference


def phone(n: int = 1) -> str:
    """A phone's device id (what the page keeps in its storage)."""
    return str(uuid.UUID(int=n))


def ask(
    conference: Conference,
    text: str = "Khi nào sửa đường liên thôn?",
    *,
    hall=None,
    device: int = 1,
    **kwargs,
):
    hall = hall or conference.halls[0]
    return question_submit(
        meeting=conference.meeting,
        hall=hall,
        source=QuestionSource.PHONE,
        client_id=kwargs.pop("client_id", uuid.uuid4()),
        text=text,
        device_hash=device_hash(phone(device)),
        actor=Actor.for_voter(hall),
        **kwargs,
    ).question


def phone_client(conference: Conference, *, hall: int = 0, device: int = 1) -> Client:
    """A voter's phone on the API: the hall's voter link and the phone's device id."""
    return Client(
        headers={
            "X-Join-Link": conference.token(conference.halls[hall], JoinLinkKind.VOTER),
            "X-Device-Id": phone(device),
        }
    )


def send_question(client: Client, text: str, slug: str = "hn-test", **body):
    body = {"client_id": str(uuid.uuid4()), "text": text, **body}
    return client.post(f"/api/meetings/{slug}/questions", body, content_type="application/json")


def signed_in(user) -> Client:
    """An account's browser on the API: its session and the CSRF token the pages set."""
    client = Client()
    client.force_login(user)
    client.get("/meetings/")
    client.defaults["HTTP_X_CSRFTOKEN"] = client.cookies["csrftoken"].value
    return client
