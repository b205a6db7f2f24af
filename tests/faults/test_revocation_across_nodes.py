"""Access taken away through one web node closes the screens it admitted on another at once.

Two Daphne nodes share PostgreSQL and a Redis of the test's own. Each viewer's websocket is on
node B; the chair takes the access away through node A, as an administrator would: a role
revoked (the admin's delete page), an account deactivated (the admin's action), a new password
(the admin's password form), a voter link replaced (the API). Each socket on node B must close
with 4403 well before the next ping (every 20 s), and coming back to node B with what was taken
away must be refused. The latency each close took is printed; only "not at the next ping" is
asserted.
"""

import asyncio
import json
import time
from urllib.parse import urlsplit

import pytest

from tests.faults.clients import Account, WebSocket, ws_url

pytestmark = pytest.mark.services

CLOSE_WAIT_SECONDS = 10
NOT_AT_THE_NEXT_PING_SECONDS = 5
NEW_PASSWORD = "a-new-studio-passphrase-2026"

ADD_SECRETARY = """
from django.contrib.auth import get_user_model
from meetings.rooms.actors import Actor
from meetings.rooms.models import Meeting, Role
from meetings.rooms.services import roles
user = get_user_model().objects.create_user("secretary", password={password!r})
roles.role_grant(
    meeting=Meeting.objects.get(slug="demo"), user=user, role=Role.SECRETARY,
    actor=Actor.system(),
)
"""


def connect(url: str, cookie: str | None):
    origin = "http://" + urlsplit(url).netloc
    return WebSocket.connect(url, origin=origin, headers={"Cookie": cookie} if cookie else None)


async def open_screen(url: str, cookie: str | None = None) -> WebSocket:
    """A screen on ``url``, live (welcome, hello, snapshot)."""
    socket = await connect(url, cookie)
    welcome = json.loads(await socket.recv())
    assert welcome["type"] == "welcome", welcome
    await socket.send_text(json.dumps({"type": "hello"}))
    while json.loads(await socket.recv())["type"] != "snapshot":
        pass
    return socket


async def closed(socket: WebSocket) -> float:
    """When the server closed the socket (whatever it sent before)."""
    while await socket.recv() is not None:
        pass
    return time.monotonic()


async def refused(url: str, cookie: str | None = None) -> int | None:
    socket = await connect(url, cookie)
    await asyncio.wait_for(closed(socket), CLOSE_WAIT_SECONDS)
    return socket.close_code


async def taken_away(name: str, socket: WebSocket, action) -> None:
    """Runs ``action`` (blocking HTTP through node A) and waits for ``socket`` to close."""
    watcher = asyncio.ensure_future(closed(socket))
    sent = time.monotonic()
    status = await asyncio.to_thread(action)
    answered = time.monotonic()
    assert status in (200, 302), f"{name}: node A answered {status}"
    closed_at = await asyncio.wait_for(watcher, CLOSE_WAIT_SECONDS)
    latency = closed_at - sent
    print(
        f"{name}: closed on node B with {socket.close_code} {latency * 1000:.0f} ms after the "
        f"request to node A was sent ({max(0.0, closed_at - answered) * 1000:.0f} ms after "
        "its answer)"
    )
    assert socket.close_code == 4403, f"{name}: closed with {socket.close_code}"
    assert latency < NOT_AT_THE_NEXT_PING_SECONDS, f"{name}: closed only after {latency:.1f}s"


def admin_post(chair: Account, base_url: str, path: str, data: dict) -> int:
    token = chair.http.cookies["csrftoken"]
    answer = chair.http.post(
        base_url + path,
        data={**data, "csrfmiddlewaretoken": token},
        headers={"Referer": base_url + path},
        timeout=30,
        allow_redirects=False,
    )
    return answer.status_code


async def test_access_taken_away_through_node_a_closes_screens_on_node_b(platform_factory):
    platform = await asyncio.to_thread(platform_factory, nodes=2)
    node_a, node_b = platform.nodes
    password = platform.chair_password
    await asyncio.to_thread(platform.manage, "shell", "-c", ADD_SECRETARY.format(password=password))
    ids = dict(platform.query("SELECT username, id FROM auth_user"))
    chair = await asyncio.to_thread(Account, node_a.base_url, "chair", password)
    viewers = {
        username: await asyncio.to_thread(Account, node_b.base_url, username, password)
        for username in ("candidate1", "candidate2", "secretary")
    }
    screen_url = ws_url(node_b.ws_url, platform.slug)
    hall = platform.halls[1]
    voter_link = platform.link_token(hall["phone"])
    voter_url = ws_url(node_b.ws_url, platform.slug, voter_link)

    screens = {name: await open_screen(screen_url, v.cookie) for name, v in viewers.items()}
    voter = await open_screen(voter_url)
    chair_on_b = await open_screen(screen_url, chair.cookie)

    grant = platform.query(
        "SELECT id FROM rooms_rolegrant WHERE user_id = %s", (ids["candidate1"],)
    )[0][0]
    await taken_away(
        "role revoked",
        screens["candidate1"],
        lambda: admin_post(
            chair, node_a.base_url, f"/admin/rooms/rolegrant/{grant}/delete/", {"post": "yes"}
        ),
    )
    await taken_away(
        "account deactivated",
        screens["secretary"],
        lambda: admin_post(
            chair,
            node_a.base_url,
            "/admin/auth/user/",
            {"action": "deactivate_accounts", "_selected_action": ids["secretary"]},
        ),
    )
    await taken_away(
        "new password",
        screens["candidate2"],
        lambda: admin_post(
            chair,
            node_a.base_url,
            f"/admin/auth/user/{ids['candidate2']}/password/",
            {"usable_password": "true", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
        ),
    )
    await taken_away(
        "voter link replaced",
        voter,
        lambda: (
            chair.post(
                node_a.base_url,
                f"/api/meetings/{platform.slug}/halls/{hall['id']}/links/voter/rotate",
            ).status_code
        ),
    )

    # Nothing taken away comes back on node B: the role, the account, the session, the link.
    assert await refused(screen_url, viewers["candidate1"].cookie) == 4403
    assert await refused(screen_url, viewers["secretary"].cookie) == 4401
    assert await refused(screen_url, viewers["candidate2"].cookie) == 4401
    assert await refused(voter_url) == 4403
    # The chair's own screen on node B was not touched.
    await chair_on_b.send_text(json.dumps({"type": "ping", "id": "still"}))
    while (frame := json.loads(await asyncio.wait_for(chair_on_b.recv(), 10)))["type"] != "pong":
        pass
    assert frame["id"] == "still"
    await chair_on_b.close()
