"""The review's malformed requests, sent over the network to a real Daphne serving as `make run`
does (DEBUG on): every answer under /api/ is in the API's error shape, never a traceback or an
HTML page. test_error_shape.py covers each case in both DEBUG modes and both languages, in
process; here Daphne frames the requests, which Django's test client cannot do for a chunked
body."""

import http.client
import json
import os
import re
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from http.cookies import SimpleCookie
from pathlib import Path

import pytest

from tests.faults.servers import REPO, manage

START_SECONDS = 45  # two cores, shared with other test runs
HUGE = "999999999999999999999999999999"
UPLOAD_LIMIT = 2_621_440  # Django's DATA_UPLOAD_MAX_MEMORY_SIZE, which the platform keeps


class Server:
    def __init__(self, port: int, seed: dict, log: Path):
        self.port, self.seed, self.log = port, seed, log
        self.voter_link = re.search(r"/v/([^/]+)/$", seed["halls"][1]["phone"]).group(1)
        self.hall_id = seed["halls"][1]["id"]

    def call(self, method: str, path: str, body=None, headers: dict | None = None):
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            # An iterable body without a Content-Length goes chunked.
            connection.request(method, path, body=body, headers=headers or {})
            response = connection.getresponse()
            return response, response.read()
        finally:
            connection.close()

    def sign_in(self) -> dict[str, str]:
        """The chair's session and CSRF cookies, through the login form."""
        _page, _ = self.call("GET", "/accounts/login/")
        cookies = _cookies(_page)
        form = (
            f"username={self.seed['username']}&password={self.seed['password']}"
            f"&csrfmiddlewaretoken={cookies['csrftoken']}"
        )
        answer, _ = self.call(
            "POST",
            "/accounts/login/",
            form,
            {
                "Content-Type": "application/x-www-form-urlencoded",
                "Cookie": _cookie_header(cookies),
            },
        )
        assert answer.status == 302, answer.status
        cookies.update(_cookies(answer))
        assert "sessionid" in cookies
        return cookies


def _cookies(response) -> dict[str, str]:
    jar = SimpleCookie()
    for header in response.headers.get_all("Set-Cookie") or []:
        jar.load(header)
    return {name: morsel.value for name, morsel in jar.items()}


def _cookie_header(cookies: dict[str, str]) -> str:
    return "; ".join(f"{name}={value}" for name, value in cookies.items())


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    var_dir = tmp_path_factory.mktemp("daphne-errors")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "REDIS_URL", "REDIS_PREFIX", "SQLITE_TEST_NAME"}
    }
    env.update(
        DJANGO_SETTINGS_MODULE="meetings.settings",
        DEBUG="1",  # as `make run`
        SECRET_KEY=secrets.token_urlsafe(60),
        VAR_DIR=str(var_dir),
        PYTHONUNBUFFERED="1",
    )
    manage(env, "migrate", "--no-input")
    password = secrets.token_urlsafe(12)
    seed = json.loads(
        manage(env, "seed_demo", "--json", "--password", password, "--base-url", "http://x")
    )
    log = var_dir / "daphne.log"
    daphne = Path(sys.executable).with_name("daphne")
    with log.open("wb") as output:
        process = subprocess.Popen(
            [str(daphne), "-b", "127.0.0.1", "-p", str(port), "meetings.asgi:application"],
            cwd=REPO,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + START_SECONDS
        while True:
            assert process.poll() is None, log.read_text(errors="replace")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2):
                    break
            except OSError:
                assert time.monotonic() < deadline, log.read_text(errors="replace")
                time.sleep(0.2)
        yield Server(port, seed, log)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def refused(answer, body: bytes, *, status: int, code: str) -> dict:
    shown = (answer.status, answer.getheader("Content-Type"), body[:300])
    assert answer.status == status, shown
    assert answer.getheader("Content-Type", "").startswith("application/json"), shown
    error = json.loads(body)
    assert error["code"] == code and isinstance(error["message"], str), shown
    assert set(error) <= {"code", "message", "detail"}, shown
    return error


def test_requests_a_client_can_send_answer_in_the_apis_shape(server):
    link = {"X-Join-Link": server.voter_link, "X-Device-Id": "00000000-0000-0000-0000-000000000001"}
    as_json = {**link, "Content-Type": "application/json"}
    questions = "/api/meetings/demo/questions"
    for request, status, code in (
        (("POST", questions, "{not json", as_json), 400, "bad_request"),
        (("GET", "/api/meetings/demo/snapshot", None, {}), 401, "not_authenticated"),
        (("GET", "/api/no-such-thing", None, link), 404, "not_found"),
        (("DELETE", "/api/meetings/demo/snapshot", None, link), 405, "method_not_allowed"),
        (("GET", f"{questions}?hall={HUGE}", None, link), 422, "invalid"),
        (("GET", f"{questions}?candidate={HUGE}", None, link), 422, "invalid"),
        (("POST", f"/api/meetings/demo/questions/{HUGE}/vote", "{}", as_json), 422, "invalid"),
        (("POST", questions, b"x" * (UPLOAD_LIMIT + 1), as_json), 413, "too_large"),
        # Chunked: no length to check before Django would read it whole.
        (
            ("POST", questions, iter([b'{"text": "', b"x" * 1000, b'"}']), as_json),
            411,
            "length_required",
        ),
    ):
        answer, body = server.call(*request)
        refused(answer, body, status=status, code=code)


def test_a_signed_in_accounts_malformed_requests_answer_in_the_apis_shape(server):
    cookies = server.sign_in()
    session = {"Cookie": _cookie_header(cookies)}
    intake = "/api/meetings/demo/questions/intake"
    answer, body = server.call(
        "POST", intake, '{"open": false}', {**session, "Content-Type": "application/json"}
    )
    refused(answer, body, status=403, code="csrf_failed")
    # Form data Django cannot read: a boundary over its 200 characters. (Without any boundary
    # Twisted, under Daphne, refuses the request itself with a bare 400 before Django sees it.)
    boundary = "b" * 300
    part = 'Content-Disposition: form-data; name="open"\r\n\r\n1'
    form = f"--{boundary}\r\n{part}\r\n--{boundary}--\r\n"
    answer, body = server.call(
        "POST",
        intake,
        form,
        {
            **session,
            "X-CSRFToken": cookies["csrftoken"],
            "Content-Type": f"multipart/form-data; boundary={boundary}",
        },
    )
    refused(answer, body, status=400, code="bad_request")
    answer, body = server.call("GET", f"/api/meetings/demo/halls/{HUGE}/links", None, session)
    refused(answer, body, status=422, code="invalid")
    # The session still works: none of this was a failure of the server.
    answer, body = server.call("GET", "/api/meetings/demo/snapshot", None, session)
    assert answer.status == 200, body[:300]
    assert b"Traceback" not in server.log.read_bytes()
