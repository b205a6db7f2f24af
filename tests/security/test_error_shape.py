"""Every error of the API answers in the documented shape, `{"code", "message", "detail"?}`
(docs/protocol.md, "Errors"), in the page's language, with the same status whether DEBUG is on
or off (`make run` serves with it on); no input gets a 500, on the API or on the pages.

Each request is made twice, by a client that chose English and by one that chose Vietnamese
with the screens' language switch (the `django_language` cookie)."""

import json
import re
import uuid
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.conf import settings as django_settings
from django.template.defaultfilters import filesizeformat
from django.test import Client
from django.utils import translation

from meetings.api import api
from meetings.rooms.error_codes import DEFAULT_MESSAGES, HTTP_STATUS, ErrorCode
from meetings.rooms.ids import MAX_ID
from meetings.rooms.models import Event, JoinLinkKind
from meetings.rooms.services.join_links import join_link_resolve
from meetings.rooms.services.meetings import meeting_publish, meeting_set_questions_open
from tests.factories import make_conference
from tests.questions.helpers import phone

pytestmark = pytest.mark.django_db

HUGE = "999999999999999999999999999999"  # 30 digits: past any 64-bit integer
VIETNAMESE = re.compile("[ăâđêôơưạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ]", re.IGNORECASE)
PROTOCOL = Path(__file__).resolve().parents[2] / "docs" / "protocol.md"


@pytest.fixture(params=[False, True], ids=["DEBUG=0", "DEBUG=1"])
def debug(request, settings):
    # Django's test runner turns DEBUG off; `make run` serves with it on.
    settings.DEBUG = request.param
    return request.param


@pytest.fixture
def conference():
    return make_conference()


def browsers(*, user=None, link: str | None = None, csrf: bool = True) -> dict[str, Client]:
    """The same caller twice, one in each language. Django's CSRF check is on, as in a browser;
    a failure comes back as the answer it would be, not as an exception."""
    clients = {}
    for language in ("en", "vi"):
        client = Client(enforce_csrf_checks=True, raise_request_exception=False)
        if user is not None:
            client.force_login(user)
            client.get("/meetings/")  # sets the CSRF cookie
            if csrf:
                client.defaults["HTTP_X_CSRFTOKEN"] = client.cookies["csrftoken"].value
        if link is not None:
            client.defaults["HTTP_X_JOIN_LINK"] = link
            client.defaults["HTTP_X_DEVICE_ID"] = device_for(link)
        client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = language
        clients[language] = client
    return clients


def refused(clients: dict[str, Client], call, *, status: int, code: str) -> dict:
    """``call(client)`` answered by each client: the status and code asked for, in the shape,
    with a message in the client's language. Returns the Vietnamese body."""
    bodies = {}
    for language, client in clients.items():
        response = call(client)
        shown = (
            language,
            response.status_code,
            response.get("Content-Type"),
            response.content[:300],
        )
        assert response.status_code == status, shown
        assert response["Content-Type"].startswith("application/json"), shown
        body = json.loads(response.content)
        assert isinstance(body, dict) and set(body) <= {"code", "message", "detail"}, shown
        assert body["code"] == code, shown
        assert isinstance(body["message"], str) and body["message"], shown
        assert b"Traceback" not in response.content, shown
        bodies[language] = body
    assert VIETNAMESE.search(bodies["vi"]["message"]), bodies
    assert not VIETNAMESE.search(bodies["en"]["message"]), bodies
    return bodies["vi"]


def post_json(path: str, body, **extra):
    text = body if isinstance(body, str | bytes) else json.dumps(body)
    return lambda client: client.post(path, text, content_type="application/json", **extra)


def device_for(link: str) -> str:
    """The device id the server would have issued a phone of the link's hall."""
    hall = join_link_resolve(link).hall
    return phone(SimpleNamespace(halls=[hall]), 1)


def client_id(n: int) -> str:
    return str(uuid.UUID(int=n))


def voter_link(conference) -> str:
    return conference.token(conference.halls[0], JoinLinkKind.VOTER)


# --- bodies that cannot be read -------------------------------------------------------------


def test_a_body_that_is_not_json_is_400_bad_request(conference, debug):
    for clients in (browsers(user=conference.chair), browsers(link=voter_link(conference))):
        for text in ("{not json", '{"open": tru', "[" * 5000, b'{"open": "\xff"}'):
            refused(
                clients,
                post_json("/api/meetings/hn-test/questions/intake", text),
                status=400,
                code="bad_request",
            )


def test_form_data_without_a_boundary_is_400_bad_request(conference, debug):
    def send(client):
        return client.post(
            "/api/meetings/hn-test/questions/intake", "open=1", content_type="multipart/form-data"
        )

    refused(browsers(user=conference.chair), send, status=400, code="bad_request")


def test_a_body_over_the_upload_limit_is_413_with_the_limit(conference, debug):
    limit = django_settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    text = json.dumps({"client_id": client_id(5), "text": "x" * limit})
    for clients in (browsers(user=conference.chair), browsers(link=voter_link(conference))):
        body = refused(
            clients,
            post_json("/api/meetings/hn-test/questions", text),
            status=413,
            code="too_large",
        )
        assert body["detail"] == {"limit": limit}
        with translation.override("vi"):
            assert filesizeformat(limit) in body["message"]  # "2,5 MB"
    # Form-encoded, as a signed-in account's CSRF check reads it.
    refused(
        browsers(user=conference.chair),
        lambda client: client.post(
            "/api/meetings/hn-test/questions/intake",
            "open=" + "1" * limit,
            content_type="application/x-www-form-urlencoded",
        ),
        status=413,
        code="too_large",
    )


# --- who is calling -------------------------------------------------------------------------


def test_no_credentials_is_401_for_reading_and_for_writing(conference, debug):
    refused(
        browsers(),
        lambda client: client.get("/api/meetings/hn-test/snapshot"),
        status=401,
        code="not_authenticated",
    )
    # Not a CSRF refusal: there is no session for a token to protect.
    refused(
        browsers(),
        post_json("/api/meetings/hn-test/questions/intake", {"open": False}),
        status=401,
        code="not_authenticated",
    )


def test_a_signed_in_account_without_its_csrf_token_is_refused(conference, debug):
    before = Event.objects.count()
    refused(
        browsers(user=conference.chair, csrf=False),
        post_json("/api/meetings/hn-test/questions/intake", {"open": True}),
        status=403,
        code="csrf_failed",
    )
    refused(
        browsers(user=conference.chair, csrf=False),
        post_json(
            "/api/meetings/hn-test/questions/intake", {"open": True}, HTTP_X_CSRFTOKEN="x" * 32
        ),
        status=403,
        code="csrf_failed",
    )
    assert Event.objects.count() == before


# --- addresses and methods ------------------------------------------------------------------


def test_an_address_the_api_does_not_have_is_404(conference, debug):
    for clients in (browsers(), browsers(user=conference.chair)):
        for call in (
            lambda client: client.get("/api/no-such-thing"),
            lambda client: client.get("/api/meetings/hn-test/snapshot/"),  # no trailing slash
            post_json("/api/meetings/hn-test/no-such-action", {}),
        ):
            refused(clients, call, status=404, code="not_found")


def test_a_method_the_address_does_not_take_is_405(conference, debug):
    clients = browsers(link=voter_link(conference))
    for method in ("delete", "put", "patch"):
        for client in clients.values():
            answer = getattr(client, method)("/api/meetings/hn-test/snapshot")
            assert answer["Allow"] == "GET"
        body = refused(
            clients,
            lambda client, method=method: getattr(client, method)("/api/meetings/hn-test/snapshot"),
            status=405,
            code="method_not_allowed",
        )
        assert body["detail"] == {"allowed": ["GET"]}


def test_a_request_django_refuses_before_the_api_is_in_the_shape_too(conference, debug):
    # A Host the server does not serve: refused by Django's middleware, with its own page.
    refused(
        browsers(link=voter_link(conference)),
        lambda client: client.get("/api/meetings/hn-test/snapshot", HTTP_HOST="evil.example"),
        status=400,
        code="bad_request",
    )


# --- numbers --------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["hall", "candidate"])
def test_a_filter_past_64_bits_is_invalid_not_a_server_error(conference, debug, name):
    for clients in (browsers(link=voter_link(conference)), browsers(user=conference.chair)):
        body = refused(
            clients,
            lambda client: client.get(f"/api/meetings/hn-test/questions?{name}={HUGE}"),
            status=422,
            code="invalid",
        )
        assert [error["loc"] for error in body["detail"]] == [["query", name]]


def test_an_id_past_64_bits_in_the_path_or_body_is_invalid(conference, debug):
    chair = browsers(user=conference.chair)
    hall = conference.halls[0].pk
    for call in (
        lambda client: client.get(f"/api/meetings/hn-test/questions/{HUGE}/similar"),
        post_json(f"/api/meetings/hn-test/halls/{HUGE}/attendance", {"count": 5}),
        post_json(f"/api/meetings/hn-test/halls/{HUGE}/floor/grant", {}),
        post_json(f"/api/meetings/hn-test/agenda/{HUGE}/start", {}),
        post_json(
            "/api/meetings/hn-test/questions",
            {"client_id": client_id(9), "text": "Câu hỏi", "source": "floor", "hall_id": int(HUGE)},
        ),
        post_json(
            "/api/meetings/hn-test/questions",
            {
                "client_id": client_id(9),
                "text": "Câu hỏi",
                "hall_id": hall,
                "candidate_id": int(HUGE),
            },
        ),
        post_json("/api/meetings/hn-test/queue/order", {"order": [int(HUGE)]}),
    ):
        refused(chair, call, status=422, code="invalid")
    refused(
        browsers(link=voter_link(conference)),
        post_json(f"/api/meetings/hn-test/questions/{HUGE}/vote", {}),
        status=422,
        code="invalid",
    )


def test_a_nul_in_a_text_or_a_filter_is_no_server_error(conference, debug):
    """PostgreSQL refuses NUL characters in text (SQLite keeps them): either way not a 500, and
    a refusal in the shape."""
    meeting_set_questions_open(meeting=conference.meeting, open=True, actor=conference.actor)
    phone_clients = browsers(link=voter_link(conference))
    for call in (
        lambda client: client.get("/api/meetings/hn-test/questions?topic=%00&status=%00"),
        post_json(
            "/api/meetings/hn-test/questions",
            {"client_id": client_id(3), "text": "Câu hỏi\x00", "asker_name": "Bà\x00 Mai"},
        ),
    ):
        for client in phone_clients.values():
            answer = call(client)
            assert answer.status_code < 500, answer.content[:300]
            if answer.status_code >= 400:
                assert answer.json()["code"] == "invalid", answer.content[:300]
    meeting_publish(meeting=conference.meeting, published=True, actor=conference.actor)
    for path in ("/archive/?q=%00", "/archive/hn-test/?q=%00&topic=%00"):
        assert Client(raise_request_exception=False).get(path).status_code == 200, path


def test_every_integer_the_api_takes_is_bounded():
    """So a new endpoint cannot forget: use meetings/rooms/ids.py's Id, Seq, Version, or give
    the integer its own bounds."""
    document = api.get_openapi_schema()
    components = document.get("components", {}).get("schemas", {})
    unbounded = []

    def walk(schema: dict, where: str, seen: frozenset = frozenset()) -> None:
        if "$ref" in schema:
            name = schema["$ref"].rsplit("/", 1)[-1]
            if name not in seen:
                walk(components[name], f"{where} ({name})", seen | {name})
            return
        bounded = "minimum" in schema and schema.get("maximum", MAX_ID + 1) <= MAX_ID
        if schema.get("type") == "integer" and not bounded:
            unbounded.append(where)
        for key in ("anyOf", "oneOf", "allOf"):
            for index, option in enumerate(schema.get(key, [])):
                walk(option, f"{where}[{index}]", seen)
        for name, field in schema.get("properties", {}).items():
            walk(field, f"{where}.{name}", seen)
        if isinstance(schema.get("items"), dict):
            walk(schema["items"], f"{where}[]", seen)
        if isinstance(schema.get("additionalProperties"), dict):
            walk(schema["additionalProperties"], f"{where}{{}}", seen)

    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            for parameter in operation.get("parameters", []):
                walk(parameter["schema"], f"{method} {path} {parameter['name']}")
            for content in operation.get("requestBody", {}).get("content", {}).values():
                walk(content["schema"], f"{method} {path} body")
    assert unbounded == []


# --- failures of the server -----------------------------------------------------------------


def test_a_failure_inside_an_operation_is_the_same_500_with_debug_on_or_off(
    conference, debug, monkeypatch
):
    from meetings.rooms.api import endpoints

    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(endpoints, "meeting_snapshot", broken)
    refused(
        browsers(link=voter_link(conference)),
        lambda client: client.get("/api/meetings/hn-test/snapshot"),
        status=500,
        code="server_error",
    )


def test_a_busy_database_before_the_operation_is_503_with_debug_on_or_off(
    conference, debug, monkeypatch
):
    from django.db import OperationalError

    def busy(*args, **kwargs):
        raise OperationalError("couldn't get a connection after 10.00 sec")

    clients = browsers(link=voter_link(conference))
    # The language middleware runs before any view: its failure never reaches the API.
    monkeypatch.setattr("meetings.locale_choice.chosen_language", busy)
    for client in clients.values():
        answer = client.get("/api/meetings/hn-test/snapshot")
        assert answer.status_code == 503 and answer["Retry-After"] == "5"
        assert answer.json()["code"] == "busy"


# --- the pages ------------------------------------------------------------------------------


@pytest.mark.parametrize("value", [HUGE, "²", "-1", "0", "abc", "1e3"])
def test_the_public_page_shows_every_answer_for_a_filter_that_names_nothing(
    conference, debug, value
):
    meeting_publish(meeting=conference.meeting, published=True, actor=conference.actor)
    for name in ("hall", "candidate"):
        page = Client(raise_request_exception=False).get(f"/archive/hn-test/?{name}={value}")
        assert page.status_code == 200, (name, value, page.content[:300])
        # The form says "all halls" and "all candidates", as the list shows.
        assert not re.search(rb'<option value="[0-9]+" selected>', page.content)


def test_the_public_page_still_filters_by_a_hall_of_the_meeting(conference):
    meeting_publish(meeting=conference.meeting, published=True, actor=conference.actor)
    hall = conference.halls[1]
    page = Client().get(f"/archive/hn-test/?hall={hall.pk}").content.decode()
    assert f'<option value="{hall.pk}" selected>' in page


@pytest.mark.parametrize("value", [HUGE, "²", "-1", "abc"])
def test_the_candidate_console_is_404_for_a_number_that_is_no_candidate(conference, debug, value):
    client = Client(raise_request_exception=False)
    client.force_login(conference.chair)
    page = client.get(f"/meetings/hn-test/candidate/?candidate={value}")
    assert page.status_code == 404, page.content[:300]


def test_a_path_id_past_64_bits_on_a_page_is_404(conference, debug):
    client = Client(raise_request_exception=False)
    client.force_login(conference.chair)
    assert client.get(f"/meetings/hn-test/halls/{HUGE}/poster/").status_code == 404
    meeting_publish(meeting=conference.meeting, published=True, actor=conference.actor)
    for path in (f"/archive/hn-test/clips/{HUGE}.webm", f"/archive/hn-test/recording/{HUGE}.webm"):
        assert Client(raise_request_exception=False).get(path).status_code == 404


# --- the websocket --------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
async def test_the_websockets_error_frames_have_the_same_shape_and_codes():
    from channels.db import database_sync_to_async

    from meetings.questions.services import moderation
    from tests.questions.helpers import ask, open_conference
    from tests.realtime import open_live

    conference = await database_sync_to_async(open_conference)()
    queued = await database_sync_to_async(ask)(conference, "Đề nghị làm đường", device=1)
    await database_sync_to_async(moderation.question_approve)(
        question=queued, actor=conference.actor
    )
    link = await database_sync_to_async(voter_link)(conference)
    voter, _snapshot = await open_live("hn-test", link=link)
    device = phone(conference, 7)
    for frame, code in (
        (
            {"type": "vote", "question": int(HUGE), "device": device, "id": "v1"},
            "bad_frame",
        ),
        ({"type": "hello", "since": int(HUGE)}, "bad_frame"),
        (
            {"type": "vote", "question": MAX_ID, "device": device, "id": "v2"},
            "not_found",
        ),
        (
            {"type": "vote", "question": queued.pk, "device": "not-a-phone", "id": "v3"},
            "unknown_device",
        ),
        ("x" * 70_000, "too_large"),
    ):
        await voter.send(frame)
        error = await voter.receive_type("error")
        assert error["code"] == code and error["code"] in set(ErrorCode), error
        assert set(error) <= {"type", "code", "message", "detail", "id"}, error
        assert isinstance(error["message"], str) and VIETNAMESE.search(error["message"]), error
    # The connection is still of use.
    await voter.send({"type": "vote", "question": queued.pk, "device": device, "id": "v4"})
    assert (await voter.receive_type("voted"))["voted"] is True
    await voter.close()


# --- the codes ------------------------------------------------------------------------------


def test_each_code_has_its_status_and_message_and_is_documented():
    assert set(HTTP_STATUS) == set(ErrorCode) == set(DEFAULT_MESSAGES)
    errors = PROTOCOL.read_text().split("\n## Errors\n", 1)[1].split("\n## ", 1)[0]
    documented = re.findall(r"^\| `([a-z_]+)` \|", errors, flags=re.MULTILINE)
    assert sorted(documented) == sorted(code.value for code in ErrorCode)
