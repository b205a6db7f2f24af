"""Behind the proxy, on a real Daphne: a trusted proxy's X-Forwarded-For names the client (in
the access log and for the sign-in throttle); the same header from any other peer is ignored,
so a client reaching the web port directly cannot choose its address."""

import http.client
import re
import secrets
from urllib.parse import urlencode

import pytest

from meetings.client_address import TrustedProxyClient
from tests.faults.servers import DaphneNode, base_environment, free_port, manage

PROXY = "127.0.0.1"  # TRUSTED_PROXY_NETWORKS below
STRANGER = "127.0.0.2"  # another peer on loopback: not a trusted proxy
HALL = "198.51.100.10"
FORGED = "192.0.2.99"  # what a client writes into the header itself
GUESSER = "203.0.113.66"  # someone behind the proxy guessing the chair's password
PASSWORD = secrets.token_urlsafe(12)


def _request(node, peer, method, path, *, forwarded=None, body=None, cookie=None):
    connection = http.client.HTTPConnection(
        node.host, node.port, timeout=30, source_address=(peer, 0)
    )
    headers = {"Host": "127.0.0.1"}
    if forwarded:
        headers["X-Forwarded-For"] = forwarded
    if cookie:
        headers["Cookie"] = cookie
    if body is not None:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
        headers["Referer"] = "http://127.0.0.1/accounts/login/"
    connection.request(method, path, body=body, headers=headers)
    answer = connection.getresponse()
    answer.read()
    connection.close()
    return answer


def _sign_in(node, peer, password, *, forwarded=None) -> int:
    page = _request(node, peer, "GET", "/accounts/login/", forwarded=forwarded)
    token = re.search(r"csrftoken=([^;]+)", page.getheader("Set-Cookie")).group(1)
    body = urlencode({"username": "chair", "password": password, "csrfmiddlewaretoken": token})
    answer = _request(
        node,
        peer,
        "POST",
        "/accounts/login/",
        forwarded=forwarded,
        body=body,
        cookie=f"csrftoken={token}",
    )
    return answer.status


@pytest.fixture
def node(tmp_path):
    env = base_environment(
        VAR_DIR=str(tmp_path),
        SECRET_KEY=secrets.token_urlsafe(40),
        ALLOWED_HOSTS="127.0.0.1",
        LOG_LEVEL="INFO",
        TRUSTED_PROXIES="1",
        TRUSTED_PROXY_NETWORKS=f"{PROXY}/32",
        LOGIN_FAILURE_LIMIT="3",
        DJANGO_SUPERUSER_PASSWORD=PASSWORD,
    )
    manage(env, "migrate", "--no-input")
    manage(env, "createsuperuser", "--no-input", "--username", "chair", "--email", "c@x.vn")
    daphne = DaphneNode("web", "127.0.0.1", free_port(), env, tmp_path / "daphne.log")
    daphne.start()
    try:
        daphne.wait_until_healthy()
        yield daphne
    finally:
        daphne.stop()


def test_a_trusted_proxys_header_names_the_hall_and_a_strangers_is_ignored(node):
    assert (
        _request(node, PROXY, "GET", "/livez?from=proxy", forwarded=f"{FORGED}, {HALL}").status
        == 200
    )
    assert _request(node, STRANGER, "GET", "/livez?from=stranger", forwarded=HALL).status == 200

    # The throttle counts per address. Through the proxy: a guesser behind it locks only
    # itself, however it forges the header's left part; the hall still signs in.
    # (the third failure reaches LOGIN_FAILURE_LIMIT: its own answer is already the lockout)
    guesses = [_sign_in(node, PROXY, "wrong", forwarded=f"{HALL}, {GUESSER}") for _ in range(3)]
    assert guesses == [200, 200, 429]
    assert _sign_in(node, PROXY, PASSWORD, forwarded=f"{HALL}, {GUESSER}") == 429
    assert _sign_in(node, PROXY, PASSWORD, forwarded=f"{FORGED}, {HALL}") == 302
    # Straight to the port: the stranger's header is ignored, so changing it escapes nothing.
    guesses = [_sign_in(node, STRANGER, "wrong", forwarded=f"192.0.2.{n}") for n in range(3)]
    assert guesses == [200, 200, 429]
    assert _sign_in(node, STRANGER, PASSWORD, forwarded="192.0.2.200") == 429

    node.stop()  # every line is written once the process has ended
    log = node.log_path.read_text(errors="replace")
    assert re.search(rf"INFO daphne.access {re.escape(HALL)}:\d+ \"GET /livez\?from=proxy", log), (
        log
    )
    assert re.search(rf"INFO daphne.access {STRANGER}:\d+ \"GET /livez\?from=stranger", log), log
    assert f"daphne.access {FORGED}" not in log
    assert re.search(rf"daphne.access {GUESSER}:\d+ \"POST /accounts/login/\" 429", log), log


async def test_websocket_scopes_are_rewritten_only_from_a_trusted_peer(settings):
    settings.TRUSTED_PROXIES = 1
    settings.TRUSTED_PROXY_NETWORKS = [f"{PROXY}/32"]
    seen = []

    async def app(scope, receive, send):
        seen.append((scope["client"][0], dict(scope["headers"]).get(b"x-forwarded-for")))

    middleware = TrustedProxyClient(app)
    header = [(b"x-forwarded-for", f"{FORGED}, {HALL}".encode())]
    await middleware({"type": "websocket", "client": [PROXY, 1], "headers": header}, None, None)
    await middleware({"type": "websocket", "client": [STRANGER, 1], "headers": header}, None, None)
    assert seen == [(HALL, None), (STRANGER, f"{FORGED}, {HALL}".encode())]


def test_the_launcher_refuses_daphnes_proxy_headers():
    from meetings.serve import LaunchRefused, plan_from

    with pytest.raises(LaunchRefused, match="TRUSTED_PROXIES"):
        plan_from(["--processes", "1", "--proxy-headers"])
