"""Password guessing on every sign-in (the page and the admin's): failures count per account and
client address together, the pause lifts by itself or by an administrator, and a stranger
cannot pause the chair's sign-in from elsewhere."""

import re
from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db.models import F
from django.test import Client, RequestFactory
from django.utils import translation

from meetings.client_address import client_address
from meetings.sign_in import lockout_message

pytestmark = pytest.mark.django_db

PASSWORD = "studio-pass-2026"
STUDIO = "198.51.100.10"  # where the chair signs in
STRANGER = "203.0.113.66"  # someone who knows the chair's username
PROXY = "127.0.0.1"  # the reverse proxy, as the web node sees it
SIGN_IN = "/accounts/login/"
ADMIN_SIGN_IN = "/admin/login/"


@pytest.fixture(autouse=True)
def _chair():
    get_user_model().objects.create_user(
        "chair", password=PASSWORD, is_staff=True, is_superuser=True
    )
    get_user_model().objects.create_user("secretary", password=PASSWORD)


def attempt(address: str, password: str, *, username="chair", path=SIGN_IN, **headers):
    """One sign-in from a fresh browser at ``address``: (response, whether it signed in)."""
    client = Client(REMOTE_ADDR=address, **headers)
    response = client.post(path, {"username": username, "password": password, "next": "/"})
    return response, "_auth_user_id" in client.session


def guess(times: int, address: str, **kwargs) -> list[int]:
    return [attempt(address, f"wrong-{n}", **kwargs)[0].status_code for n in range(times)]


def limit() -> int:
    return settings.AXES_FAILURE_LIMIT


def without_csrf(html: str) -> str:
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", html)


def test_thirty_wrong_passwords_then_the_right_one_is_refused(settings):
    statuses = guess(30, STRANGER)
    # The first failures get the usual page; from the limit on, the pause.
    assert statuses[: limit() - 1] == [200] * (limit() - 1)
    assert statuses[limit() - 1 :] == [429] * (30 - limit() + 1)
    response, signed_in = attempt(STRANGER, PASSWORD)
    assert not signed_in
    assert response.status_code == 429
    assert response["Retry-After"] == str(int(settings.AXES_COOLOFF_TIME.total_seconds()))
    with translation.override("vi"):
        assert lockout_message() in response.content.decode()


def test_a_guesser_with_a_whole_ipv6_network_gets_no_more_guesses():
    """An IPv6 subscriber chooses any address of its /64: a new address for each guess must not
    buy a new allowance. The chair, on another network, still signs in."""
    statuses = [attempt(f"2001:db8:5:6::{n:x}", f"wrong-{n}")[0].status_code for n in range(1, 31)]
    assert statuses[limit() - 1 :] == [429] * (30 - limit() + 1)
    assert not attempt("2001:db8:5:6:ffff::1", PASSWORD)[1]
    assert attempt("2001:db8:5:7::1", PASSWORD)[1]


def test_the_pause_says_nothing_about_whether_the_password_was_right():
    guess(limit(), STRANGER)
    right, _ = attempt(STRANGER, PASSWORD)
    wrong, _ = attempt(STRANGER, "wrong-again")
    assert right.status_code == wrong.status_code == 429
    assert without_csrf(right.content.decode()) == without_csrf(wrong.content.decode())


def test_the_chair_still_signs_in_from_another_address():
    guess(30, STRANGER)
    response, signed_in = attempt(STUDIO, PASSWORD)
    assert signed_in
    assert response.status_code == 302


def test_another_account_still_signs_in_from_the_paused_address():
    """A hall's or an office's network shares one address: one account's pause is not all's."""
    guess(30, STRANGER)
    assert attempt(STRANGER, PASSWORD, username="secretary")[1]


def test_the_pause_lifts_after_the_cooloff(settings):
    guess(limit(), STRANGER)
    cooloff = settings.AXES_COOLOFF_TIME
    # Time moved on by changing when the failures happened, not by waiting: a minute before
    # the end of the pause it still holds (and the refused attempt does not lengthen it)...
    failures_happened_earlier(cooloff - timedelta(minutes=1))
    assert attempt(STRANGER, PASSWORD)[1] is False
    # ...and a minute after, the right password signs in.
    failures_happened_earlier(timedelta(minutes=2))
    assert attempt(STRANGER, PASSWORD)[1]


def failures_happened_earlier(by: timedelta) -> None:
    AccessAttempt.objects.update(attempt_time=F("attempt_time") - by)


@pytest.mark.parametrize("command", [("axes_reset_username", "chair"), ("axes_reset",)])
def test_an_administrator_lifts_the_pause_at_once(command):
    guess(limit(), STRANGER)
    assert not attempt(STRANGER, PASSWORD)[1]
    call_command(*command)
    assert attempt(STRANGER, PASSWORD)[1]


def test_the_admin_sign_in_is_throttled_too():
    statuses = guess(30, STRANGER, path=ADMIN_SIGN_IN)
    assert statuses[-1] == 429
    response, signed_in = attempt(STRANGER, PASSWORD, path=ADMIN_SIGN_IN)
    assert (response.status_code, signed_in) == (429, False)
    # One count for both pages: failures at the admin pause the sign-in page too.
    assert not attempt(STRANGER, PASSWORD)[1]
    assert attempt(STUDIO, PASSWORD, path=ADMIN_SIGN_IN)[1]


def test_the_pause_is_explained_in_the_pages_language():
    guess(limit(), STRANGER)
    english = Client(REMOTE_ADDR=STRANGER)
    english.cookies["django_language"] = "en"
    response = english.post(SIGN_IN, {"username": "chair", "password": PASSWORD})
    page = response.content.decode()
    assert "Too many failed sign-ins to this account from your address" in page
    vietnamese = attempt(STRANGER, PASSWORD)[0].content.decode()
    assert "Too many failed sign-ins" not in vietnamese
    with translation.override("vi"):
        assert lockout_message() in vietnamese


def test_behind_a_proxy_a_forged_forwarded_address_neither_escapes_nor_frames(settings):
    """The proxy appends the address it saw; whatever a client wrote to its left is its own.
    The web node's peer is the proxy (no Daphne --proxy-headers: meetings.serve refuses it)."""
    settings.TRUSTED_PROXIES = 1

    def through_proxy(password: str, forwarded: str):
        return attempt(PROXY, password, HTTP_X_FORWARDED_FOR=forwarded)

    for n in range(30):  # a new forged address with each guess, or the chair's own
        forged = STUDIO if n % 2 else f"192.0.2.{n}"
        response, _ = through_proxy(f"wrong-{n}", f"{forged}, {STRANGER}")
    assert response.status_code == 429
    assert not through_proxy(PASSWORD, f"192.0.2.200, {STRANGER}")[1]
    assert through_proxy(PASSWORD, STUDIO)[1]


@pytest.mark.parametrize(
    ("trusted", "meta", "expected"),
    [
        (0, {"REMOTE_ADDR": STUDIO, "HTTP_X_FORWARDED_FOR": "192.0.2.1"}, STUDIO),
        (1, {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": f"192.0.2.1, {STUDIO}"}, STUDIO),
        (2, {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": f"1.1.1.1,{STUDIO}, 10.0.0.2"}, STUDIO),
        (1, {"REMOTE_ADDR": STUDIO}, STUDIO),  # not through the proxy at all
        (2, {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": STUDIO}, STUDIO),
        (1, {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": "192.0.2.1, not-an-address"}, None),
        (0, {"REMOTE_ADDR": "2001:DB8:0:0::1"}, "2001:db8::1"),
        # A peer that is not one of our proxies (TRUSTED_PROXY_NETWORKS): its header is ignored.
        (1, {"REMOTE_ADDR": STRANGER, "HTTP_X_FORWARDED_FOR": STUDIO}, STRANGER),
    ],
)
def test_the_client_address_is_the_one_the_trusted_proxies_saw(settings, trusted, meta, expected):
    settings.TRUSTED_PROXIES = trusted
    request = RequestFactory().get("/", **meta)
    assert client_address(request) == expected
