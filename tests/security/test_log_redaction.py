"""No log line carries a join link, a session id or a device id (meetings/logs.py).

The filter is tested on records as loggers make them (arguments, tracebacks); the logging
configuration on every handler Django leaves behind; and the whole way on a real Daphne with its
access log on, asked for a kiosk's page, a phone's page, a refused link and the websocket with
``?link=``: its output has none of the tokens, and the masked ones instead."""

import asyncio
import io
import json
import logging
import secrets
import subprocess
import sys
import uuid
from urllib.parse import quote

import pytest
import requests
from django.core import signing
from django.test import Client
from django.utils.crypto import get_random_string

from meetings.logs import PLACEHOLDER, RedactSecrets, redact
from meetings.rooms.models import JoinLinkKind
from meetings.rooms.views import pages
from tests.factories import make_conference
from tests.faults.clients import WebSocket, claim_kiosk, ws_url
from tests.faults.servers import REPO, DaphneNode, base_environment, free_port, manage

# Made here, not written down: the repository's secret scan would take them for secrets.
TOKEN = signing.Signer(salt="tests").sign(f"12.{get_random_string(24)}")
DEVICE = str(uuid.uuid4())
SESSION = get_random_string(32)


def filtered(msg: str, *args, exc_info=None, stack_info=None) -> logging.LogRecord:
    record = logging.LogRecord(
        "test", logging.WARNING, __file__, 1, msg, args or None, exc_info, sinfo=stack_info
    )
    if args and len(args) == 1 and isinstance(args[0], dict):
        record.args = args[0]
    assert RedactSecrets().filter(record) is True
    return record


def rendered(record: logging.LogRecord) -> str:
    return logging.Formatter("%(message)s").format(record)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"GET /k/{TOKEN}/ HTTP/1.1", f"GET /k/12.{PLACEHOLDER}/ HTTP/1.1"),
        (f"GET /v/{TOKEN}/", f"GET /v/12.{PLACEHOLDER}/"),
        ("GET /v/sw.js", "GET /v/sw.js"),
        (
            f"WSCONNECTING /ws/meetings/demo/?link={quote(TOKEN, safe='')}&since=4",
            f"WSCONNECTING /ws/meetings/demo/?link=12.{PLACEHOLDER}&since=4",
        ),
        (f"X-Join-Link: {TOKEN}", f"X-Join-Link: 12.{PLACEHOLDER}"),
        (f"{{'X-Device-Id': '{DEVICE}'}}", f"{{'X-Device-Id': '{PLACEHOLDER}'}}"),
        (f'{{"device_id": "{DEVICE}"}}', f'{{"device_id": "{PLACEHOLDER}"}}'),
        (
            f"Cookie: sessionid={SESSION}; csrftoken=abc123",
            f"Cookie: sessionid={PLACEHOLDER}; csrftoken={PLACEHOLDER}",
        ),
        (f"kiosk_session={SESSION}", f"kiosk_session={PLACEHOLDER}"),
        (f"the link {TOKEN} was refused", f"the link 12.{PLACEHOLDER} was refused"),
        ("refused join link for hn-demo: malformed", "refused join link for hn-demo: malformed"),
        ("GET /api/meetings/demo/snapshot?since=3", "GET /api/meetings/demo/snapshot?since=3"),
    ],
    ids=[
        "kiosk page",
        "phone page",
        "service worker",
        "websocket query",
        "join-link header",
        "device header",
        "device key",
        "cookies",
        "kiosk session",
        "bare token",
        "no credential",
        "plain query",
    ],
)
def test_credentials_are_masked_and_the_rest_kept(text, expected):
    assert redact(text) == expected
    assert redact(expected) == expected  # masking twice changes nothing


def test_the_filter_masks_arguments_of_each_kind():
    assert rendered(filtered("%s %s", "GET", f"/k/{TOKEN}/")) == f"GET /k/12.{PLACEHOLDER}/"
    dict_args = filtered("%(method)s %(path)s", {"method": "GET", "path": f"/v/{TOKEN}/"})
    assert rendered(dict_args) == f"GET /v/12.{PLACEHOLDER}/"
    # Arguments that do not fit the message: logging would print them raw in its complaint.
    broken = filtered("%s and %s", f"/k/{TOKEN}/")
    assert TOKEN not in rendered(broken) and PLACEHOLDER in rendered(broken)
    plain = filtered("stream of meeting %s failed", 7)
    assert plain.args == (7,) and rendered(plain) == "stream of meeting 7 failed"


def test_the_filter_masks_tracebacks_and_stacks():
    try:
        raise ValueError(f"bad link {TOKEN}")
    except ValueError:
        exc_info = sys.exc_info()
    record = filtered("failed", exc_info=exc_info, stack_info=f"called with /k/{TOKEN}/")
    text = rendered(record)
    assert "ValueError: bad link 12." in text
    assert TOKEN not in text and TOKEN.split(":")[0] not in text


# Run in a fresh process as a web node starts (settings, then the ASGI application): the test
# process has handlers of its own (pytest's, and those test tools add to their loggers).
UNFILTERED_HANDLERS = """
import json, logging
import meetings.asgi
from meetings.logs import RedactSecrets
loggers = [logging.getLogger()] + [
    logger for logger in logging.Logger.manager.loggerDict.values()
    if isinstance(logger, logging.Logger)
]
print(json.dumps(sorted(
    [logger.name, type(handler).__name__]
    for logger in loggers
    for handler in logger.handlers
    if not isinstance(handler, logging.NullHandler)  # writes nothing
    and not any(isinstance(f, RedactSecrets) for f in handler.filters)
)))
print(sum(1 for h in logging.getLogger().handlers if h.filters))
"""


def test_every_handler_of_every_logger_masks(tmp_path):
    """Django's own default handlers too (its console under DEBUG, mail to ADMINS): no logger
    of a web process keeps a handler without the filter."""
    for debug in ("0", "1"):
        env = base_environment(
            VAR_DIR=str(tmp_path), SECRET_KEY=secrets.token_urlsafe(40), DEBUG=debug
        )
        result = subprocess.run(
            [sys.executable, "-c", UNFILTERED_HANDLERS],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        unfiltered, filtered_on_root = result.stdout.splitlines()[-2:]
        assert json.loads(unfiltered) == []
        assert int(filtered_on_root) == 1


@pytest.mark.django_db
def test_djangos_error_about_a_kiosk_page_is_masked(monkeypatch):
    """A kiosk page that fails: Django logs the path, with the link in it, and the traceback.
    (A refused link is a 403, which only the access log tells: settings.LOGGING.)"""
    conference = make_conference("hn-logs")
    token = conference.token(conference.halls[0], JoinLinkKind.OPERATOR)

    def fail(*args, **kwargs):
        raise RuntimeError(f"the link /k/{token}/ could not be read")

    monkeypatch.setattr(pages, "_link_or_none", fail)
    console = next(
        h
        for h in logging.getLogger().handlers
        if any(isinstance(f, RedactSecrets) for f in h.filters)
    )
    captured = io.StringIO()
    previous = console.setStream(captured)
    try:
        assert Client(raise_request_exception=False).get(f"/k/{token}/").status_code == 500
    finally:
        console.setStream(previous)
    output = captured.getvalue()
    assert "Internal Server Error: /k/" in output and "RuntimeError" in output
    assert token not in output and token.split(":")[0] not in output
    assert f"/k/{token.split('.')[0]}.{PLACEHOLDER}/" in output


# --- a real Daphne ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def daphne(tmp_path_factory):
    var_dir = tmp_path_factory.mktemp("logs")
    port = free_port()
    env = base_environment(
        VAR_DIR=str(var_dir),
        SECRET_KEY=secrets.token_urlsafe(40),
        ALLOWED_HOSTS="127.0.0.1,localhost",
        LOG_LEVEL="DEBUG",  # every line any logger has, not only the access log
    )
    manage(env, "migrate", "--no-input")
    demo = json.loads(manage(env, "seed_demo", "--json", "--base-url", f"http://127.0.0.1:{port}"))
    node = DaphneNode("web", "127.0.0.1", port, env, var_dir / "daphne.log")
    node.start()
    try:
        node.wait_until_healthy()
        yield node, demo
    finally:
        node.stop()


def token_of(url: str) -> str:
    return url.rstrip("/").rsplit("/", 1)[1]


async def open_stream(node: DaphneNode, token: str, screen: str) -> None:
    """The kiosk's stream, opened with its link and the kiosk session that holds the hall."""
    url = ws_url(node.ws_url, "demo", token) + f"&session={quote(screen, safe='')}"
    socket = await WebSocket.connect(url, origin=node.base_url)
    assert json.loads(await socket.recv())  # the snapshot: the link was taken
    await socket.close()


def test_daphne_logs_no_token(daphne):
    node, demo = daphne
    hall = demo["halls"][1]
    operator, voter = token_of(hall["kiosk"]), token_of(hall["phone"])
    refused = operator[:-3] + ("aaa" if not operator.endswith("aaa") else "bbb")
    assert requests.get(hall["kiosk"], timeout=30).status_code == 200
    assert requests.get(hall["phone"], timeout=30).status_code == 200
    assert requests.get(f"{node.base_url}/k/{refused}/", timeout=30).status_code == 403
    screen = claim_kiosk(node.base_url, "demo", operator)
    asyncio.run(open_stream(node, operator, screen))
    answer = requests.get(
        f"{node.base_url}/api/meetings/demo/snapshot?link={quote(voter, safe='')}",
        headers={"X-Join-Link": voter},
        timeout=30,
    )
    assert answer.status_code == 200
    node.stop()  # every line is written once the process has ended

    output = node.log_path.read_text(errors="replace")
    for secret in (operator, voter, refused):
        nonce_and_signature = secret.split(".", 1)[1]
        for form in (secret, quote(secret, safe=""), nonce_and_signature):
            assert form not in output
        assert nonce_and_signature.split(":")[0] not in output  # the nonce alone
    # The kiosk session's token, sent in the websocket's query and the API's header.
    assert screen not in output and quote(screen, safe="") not in output
    link_number = operator.split(".")[0]
    # The access log is on, and masked: the kiosk's page, the phone's, the websocket.
    assert f'"GET /k/{link_number}.{PLACEHOLDER}/" 200' in output
    assert f'"GET /v/{voter.split(".")[0]}.{PLACEHOLDER}/" 200' in output
    assert "WSCONNECT /ws/meetings/demo/" in output
    assert f"?link={voter.split('.')[0]}.{PLACEHOLDER}" in output
    assert f'"GET /k/{link_number}.{PLACEHOLDER}/" 403' in output  # the refused one
