"""One log line per request on a real Daphne under DEBUG=1, as `make run` starts it: Daphne's
access line. Django's own warning for a 4xx ("Not Found: /x") repeated it; its errors (a 5xx,
with the traceback) stay."""

import re
import secrets

import requests

from tests.faults.servers import DaphneNode, base_environment, free_port, manage


def test_every_refused_request_is_logged_once(tmp_path):
    port = free_port()
    env = base_environment(
        VAR_DIR=str(tmp_path),
        SECRET_KEY=secrets.token_urlsafe(40),
        ALLOWED_HOSTS="127.0.0.1,localhost",
        DEBUG="1",
        LOG_LEVEL="INFO",
    )
    manage(env, "migrate", "--no-input")
    node = DaphneNode("web", "127.0.0.1", port, env, tmp_path / "daphne.log")
    node.start()
    try:
        node.wait_until_healthy()
        asked = {
            "/no-such-page/": ("GET", 404),
            "/api/meetings/no-such-conference/snapshot": ("GET", 401),
            "/archive/no-such-conference/": ("GET", 404),
            "/k/not-a-link/": ("GET", 403),
            "/meetings/": ("GET", 302),
        }
        for path, (method, status) in asked.items():
            answer = requests.request(
                method, node.base_url + path, allow_redirects=False, timeout=30
            )
            assert answer.status_code == status, (path, answer.status_code)
    finally:
        node.stop()  # every line is written once the process has ended

    lines = node.log_path.read_text(errors="replace").splitlines()
    for path, (method, status) in asked.items():
        # The kiosk's link is masked in every line (meetings/logs.py): match the path's start.
        shown = path if not path.startswith("/k/") else "/k/"
        mentions = [line for line in lines if re.search(rf"[\s\"]{re.escape(shown)}", line)]
        assert len(mentions) == 1, f"{path}:\n" + "\n".join(mentions)
        assert f'"{method} {shown}' in mentions[0] and f" {status} " in mentions[0]
        assert " INFO daphne.access " in mentions[0]
