"""Builders for question tests, through the services."""

import time
import uuid

from django.test import Client

from meetings.questions.devices import Device, device_read, device_sign
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


def phone(conference: Conference, n: int = 1, *, hall=None, new: bool = False) -> str:
    """The device id the server issues phone ``n`` of ``hall`` (the first hall by default), as
    the page keeps it: the same phone for the same ``n`` and hall. Issued a day ago, unless
    ``new`` (just now: it counts as a new phone)."""
    hall = hall or conference.halls[0]
    return device_sign(
        meeting_id=hall.meeting_id,
        hall_id=hall.pk,
        nonce=f"phone{n}",
        issued_at=int(time.time()) - (0 if new else 86400),
    )


def phone_device(conference: Conference, n: int = 1, *, hall=None, new: bool = False) -> Device:
    """Phone ``n`` of ``hall`` as the server reads its id."""
    hall = hall or conference.halls[0]
    token = phone(conference, n, hall=hall, new=new)
    return device_read(token, meeting_id=hall.meeting_id, hall_id=hall.pk)


def ask(
    conference: Conference,
    text: str = "Khi nào sửa đường liên thôn?",
    *,
    hall=None,
    device: int = 1,
    new: bool = False,
    **kwargs,
):
    """Phone ``device`` of ``hall`` sends a question."""
    hall = hall or conference.halls[0]
    return question_submit(
        meeting=conference.meeting,
        hall=hall,
        source=QuestionSource.PHONE,
        client_id=kwargs.pop("client_id", uuid.uuid4()),
        text=text,
        device=phone_device(conference, device, hall=hall, new=new),
        actor=Actor.for_voter(hall),
        **kwargs,
    ).question


def phone_client(conference: Conference, *, hall: int = 0, device: int = 1) -> Client:
    """A voter's phone on the API: the hall's voter link and the phone's device id."""
    return Client(
        headers={
            "X-Join-Link": conference.token(conference.halls[hall], JoinLinkKind.VOTER),
            "X-Device-Id": phone(conference, device, hall=conference.halls[hall]),
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
