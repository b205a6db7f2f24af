"""Phones' device ids: the server issues and signs them, a bounded number per hall and per
client address; an id it did not issue for the phone's hall counts for nothing."""

import uuid
from datetime import timedelta

import pytest
from django.db.models import F
from django.test import Client

from meetings.client_address import address_group
from meetings.questions.devices import device_read
from meetings.questions.models import IssuedDevice, Question, Vote
from meetings.questions.services import moderation
from meetings.rooms.models import JoinLinkKind
from tests.questions.helpers import ask, open_conference, phone, send_question

pytestmark = pytest.mark.django_db

API = "/api/meetings/hn-test"
HALL_WIFI = "203.0.113.7"  # a hall's phones share its Wi-Fi's one public address
ONE_WINDOW = 10**9  # seconds: a rate limit's window no test run straddles


@pytest.fixture
def conference():
    return open_conference()


def voter(conference, hall: int = 0, address: str = HALL_WIFI) -> Client:
    """A phone opened from the hall's QR code, before it has a device id."""
    link = conference.token(conference.halls[hall], JoinLinkKind.VOTER)
    client = Client(headers={"X-Join-Link": link}, REMOTE_ADDR=address)
    client.cookies["django_language"] = "en"
    return client


def ask_for_id(client: Client):
    return client.post(f"{API}/device", content_type="application/json")


def issued(client: Client) -> str:
    response = ask_for_id(client)
    assert response.status_code == 201, response.content
    return response.json()["device"]


def vote(client: Client, question, device: str):
    return client.post(
        f"{API}/questions/{question.pk}/vote",
        content_type="application/json",
        headers={"X-Device-Id": device},
    )


def approved(conference, text="Đề nghị sửa đường liên thôn"):
    return moderation.question_approve(question=ask(conference, text), actor=conference.actor)


def test_a_hundred_votes_with_made_up_ids_count_for_nothing_and_a_real_id_once(
    conference, settings
):
    """The attack: one phone supported a question a hundred times by sending a new random
    X-Device-Id with each vote."""
    settings.VOTE_LIMIT_PER_DEVICE = "1000/60"  # the ids, not the rate limit, are under test
    question = approved(conference)
    phone_page = voter(conference)
    for _ in range(100):
        refused = vote(phone_page, question, str(uuid.uuid4()))
        assert refused.status_code == 403
        assert refused.json()["code"] == "unknown_device" and refused.json()["message"]
    assert Question.objects.get(pk=question.pk).vote_count == 0
    assert Vote.objects.count() == 0

    device = issued(phone_page)
    answers = [vote(phone_page, question, device).json()["voted"] for _ in range(100)]
    assert answers == [True] + [False] * 99
    assert Question.objects.get(pk=question.pk).vote_count == 1


def test_an_id_the_server_did_not_issue_for_this_hall_is_refused_everywhere(conference):
    other = open_conference("hn-other")
    question = approved(conference)
    mine = ask(conference, "Câu hỏi của máy số 1", device=1)
    real = phone(conference, 1)
    value, signature = real.rsplit(":", 1)
    meeting_id, _hall, rest = value.split(".", 2)
    forged_hall = f"{meeting_id}.{conference.halls[1].pk}.{rest}:{signature}"
    tampered = f"{value}:{signature[:-1]}{'A' if signature[-1] != 'A' else 'B'}"
    refused_ids = {
        "made up": str(uuid.uuid4()),
        "tampered": tampered,
        "another hall's, relabelled": forged_hall,
        "another hall's": phone(conference, 1, hall=conference.halls[1]),
        "another conference's": phone(other, 1),
        "too long": real + "x" * 300,
        "none": "",
    }
    phone_page = voter(conference)
    for name, device in refused_ids.items():
        headers = {"X-Device-Id": device} if device else {}
        answers = [
            phone_page.post(
                f"{API}/questions",
                {"client_id": str(uuid.uuid4()), "text": "Câu hỏi"},
                content_type="application/json",
                headers=headers,
            ),
            phone_page.post(f"{API}/questions/{question.pk}/vote", headers=headers),
            phone_page.post(f"{API}/questions/{mine.pk}/withdraw", headers=headers),
            phone_page.get(f"{API}/questions/mine", headers=headers),
        ]
        for answer in answers:
            assert answer.status_code == 403, (name, answer.content)
            assert answer.json()["code"] == "unknown_device", (name, answer.content)
    assert Question.objects.filter(meeting=conference.meeting).count() == 2
    assert Vote.objects.count() == 0
    assert Question.objects.get(pk=mine.pk).status == "submitted"
    # The real one works.
    assert vote(phone_page, question, real).json()["voted"] is True


def test_an_issued_id_sends_votes_and_finds_its_own_questions(conference):
    phone_page = voter(conference, hall=1)
    answer = ask_for_id(phone_page)
    assert answer.status_code == 201
    device = answer.json()["device"]
    assert answer.json()["hall"] == conference.halls[1].pk
    record = IssuedDevice.objects.get()
    read = device_read(device, meeting_id=conference.meeting.pk, hall_id=conference.halls[1].pk)
    assert record.hall == conference.halls[1] and record.device_hash == read.hash
    assert device not in str(list(IssuedDevice.objects.values()))  # only its hash is kept

    phone_page.defaults["HTTP_X_DEVICE_ID"] = device
    sent = send_question(phone_page, "Trạm y tế xã bao giờ có bác sĩ?")
    assert sent.status_code == 201
    listed = phone_page.get(f"{API}/questions/mine").json()
    assert [q["id"] for q in listed] == [sent.json()["question"]["id"]]
    # A second phone gets another id: not the same phone.
    assert issued(voter(conference, hall=1)) != device


@pytest.mark.parametrize("caller", ["operator", "chair", "anonymous", "another conference's voter"])
def test_only_a_voters_phone_is_issued_an_id(conference, caller):
    other = open_conference("hn-other")
    clients = {
        "operator": Client(
            headers={"X-Join-Link": conference.token(conference.halls[0], JoinLinkKind.OPERATOR)}
        ),
        "anonymous": Client(),
        "another conference's voter": Client(
            headers={"X-Join-Link": other.token(other.halls[0], JoinLinkKind.VOTER)}
        ),
    }
    if caller == "chair":
        client = Client()
        client.force_login(conference.chair)
        client.get("/meetings/")
        client.defaults["HTTP_X_CSRFTOKEN"] = client.cookies["csrftoken"].value
        clients["chair"] = client
    assert ask_for_id(clients[caller]).status_code in (401, 403)
    assert IssuedDevice.objects.count() == 0


def test_issuing_ids_is_bounded_per_hall(conference, settings):
    settings.DEVICE_LIMIT_PER_HALL = "5/600"
    ids = {issued(voter(conference)) for _ in range(5)}
    assert len(ids) == 5
    over = ask_for_id(voter(conference))
    assert over.status_code == 429
    assert over.json()["code"] == "rate_limited"
    assert 1 <= over.json()["detail"]["retry_after"] <= 601
    # Another hall is not affected.
    issued(voter(conference, hall=1))
    # The window slides: once the first ids are ten minutes old, the hall gets new ones.
    IssuedDevice.objects.filter(hall=conference.halls[0]).update(
        issued_at=F("issued_at") - timedelta(seconds=601)
    )
    issued(voter(conference))
    assert IssuedDevice.objects.filter(hall=conference.halls[0]).count() == 6


def test_issuing_ids_is_bounded_per_address_over_every_hall(conference, settings):
    settings.DEVICE_LIMIT_PER_HALL = "4/600"
    settings.DEVICE_LIMIT_PER_ADDRESS = f"6/{ONE_WINDOW}"
    for _ in range(4):
        issued(voter(conference, hall=0))
    # Refused for its hall: the address's count is given back.
    assert ask_for_id(voter(conference, hall=0)).status_code == 429
    for _ in range(2):
        issued(voter(conference, hall=1))
    refused = ask_for_id(voter(conference, hall=1))
    assert refused.status_code == 429 and "network" in refused.json()["message"]
    # Another address (another hall's Wi-Fi, a phone on mobile data) is not affected.
    issued(voter(conference, hall=1, address="198.51.100.20"))


def test_the_per_address_bound_counts_an_ipv6_subscriber_as_one():
    assert address_group("2001:db8:1:2:aaaa::1") == address_group("2001:db8:1:2:bbbb::9")
    assert address_group("2001:db8:1:3::1") != address_group("2001:db8:1:2::1")
    assert address_group("::ffff:203.0.113.7") == address_group("203.0.113.7") == "203.0.113.7"


def test_a_burst_of_fresh_ids_from_one_client_cannot_lock_the_hall_out(conference, settings):
    """The attack: 130 questions from one client, each with a fresh device id, used up the
    hall's shared allowance; then its real voters and its clerk's paper questions were
    refused. The default allowances, over one long window (the limits count in fixed windows:
    a burst that straddled two would be let through twice)."""
    settings.QUESTION_LIMIT_PER_HALL_NEW_PHONES = f"30/{ONE_WINDOW}"
    settings.QUESTION_LIMIT_PER_HALL = f"120/{ONE_WINDOW}"
    attacker = voter(conference)
    answers = []
    for number in range(130):
        device = ask_for_id(attacker)
        if device.status_code != 201:
            answers.append(device.status_code)
            continue
        attacker.defaults["HTTP_X_DEVICE_ID"] = device.json()["device"]
        answers.append(send_question(attacker, f"Câu hỏi rác số {number}").status_code)
    assert answers.count(201) == 30 and answers.count(429) == 100  # new phones share 30 a minute

    # A phone that has been in the hall since the start (its id issued a day ago).
    established = voter(conference)
    established.defaults["HTTP_X_DEVICE_ID"] = phone(conference, 1)
    assert send_question(established, "Bao giờ sửa cầu treo bản Công?").status_code == 201
    kiosk = Client(headers=conference.kiosk_headers(conference.halls[0]))
    assert send_question(kiosk, "Phiếu giấy: đề nghị làm đường").status_code == 201
