"""TURN credentials: minted with coturn's shared-secret scheme for every screen and for the hub,
never the secret itself, and a TURN server without a secret refused at start-up."""

import base64
import hashlib
import hmac

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import Client
from django.utils import timezone

from meetings.rooms.media.ice import browser_ice_servers, hub_configuration, turn_credentials
from tests.factories import make_conference
from tests.test_settings import run

TURN = {"urls": ["turns:turn.example.vn:443?transport=tcp", "turn:turn.example.vn:3478"]}
STUN = {"urls": "stun:stun.example.vn"}


def coturn_accepts(username: str, credential: str, secret: str) -> bool:
    """What coturn's use-auth-secret checks: base64(HMAC-SHA1(secret, username)), unexpired."""
    expected = base64.b64encode(hmac.new(secret.encode(), username.encode(), "sha1").digest())
    expiry = int(username.split(":", 1)[0])
    return expected.decode() == credential and expiry > timezone.now().timestamp()


@pytest.fixture
def turn_settings(settings):
    settings.ICE_SERVERS = [TURN, STUN]
    settings.TURN_SECRET = "s3cret-shared-with-coturn"  # pragma: allowlist secret
    settings.TURN_CREDENTIAL_SECONDS = 3600
    return settings


def test_the_credential_is_coturns_hmac_of_a_username_carrying_its_expiry(turn_settings):
    minted = turn_credentials("operator-7")
    expiry, _colon, who = minted["username"].partition(":")
    assert who == "operator-7"
    assert 3590 <= int(expiry) - timezone.now().timestamp() <= 3600
    assert coturn_accepts(minted["username"], minted["credential"], "s3cret-shared-with-coturn")
    assert not coturn_accepts(minted["username"], minted["credential"], "another secret")
    digest = hashlib.sha1  # the scheme is SHA-1 (coturn's default), not SHA-256
    assert len(base64.b64decode(minted["credential"])) == digest().digest_size


def test_an_expired_username_is_one_coturn_refuses(turn_settings):
    turn_settings.TURN_CREDENTIAL_SECONDS = -10  # settings refuse this; it only ages the name
    minted = turn_credentials("hub")
    assert not coturn_accepts(minted["username"], minted["credential"], turn_settings.TURN_SECRET)


@pytest.mark.django_db
def test_every_screen_gets_its_own_credentials_and_never_the_secret(turn_settings):
    conference = make_conference()
    first, second = conference.halls[:2]
    chair = Client()
    chair.force_login(conference.chair)
    answers = {
        "kiosk 1": Client(headers=conference.kiosk_headers(first)),
        "kiosk 2": Client(headers=conference.kiosk_headers(second)),
        "studio": chair,
    }
    usernames = set()
    for screen, client in answers.items():
        body = client.get("/api/meetings/hn-test/media/ice").json()
        turn, stun = body["ice_servers"]
        assert turn["urls"] == TURN["urls"], screen
        assert coturn_accepts(turn["username"], turn["credential"], turn_settings.TURN_SECRET)
        assert "username" not in stun and "credential" not in stun, screen
        assert turn_settings.TURN_SECRET not in str(body), screen
        usernames.add(turn["username"].partition(":")[2])
    assert usernames == {f"operator-{first.pk}", f"operator-{second.pk}", "moderator-0"}


def test_the_hub_gets_credentials_too(turn_settings):
    turn, stun = hub_configuration().iceServers
    assert turn.urls == TURN["urls"] and turn.username.endswith(":hub")
    assert coturn_accepts(turn.username, turn.credential, turn_settings.TURN_SECRET)
    assert stun.username is None and stun.credential is None


def test_a_server_with_its_own_credentials_keeps_them(turn_settings):
    turn_settings.ICE_SERVERS = [{**TURN, "username": "static", "credential": "pw"}]
    assert browser_ice_servers("hub") == [{**TURN, "username": "static", "credential": "pw"}]


def test_a_turn_server_is_never_handed_out_without_credentials(turn_settings):
    turn_settings.TURN_SECRET = ""  # what settings refuse at start-up, were it overridden later
    with pytest.raises(ImproperlyConfigured, match="TURN_SECRET"):
        browser_ice_servers("operator-1")
    turn_settings.ICE_SERVERS = [STUN]
    assert browser_ice_servers("operator-1") == [STUN]


@pytest.mark.parametrize(
    "ice_servers",
    [
        '[{"urls": "turn:turn.example.vn:3478"}]',
        '[{"urls": ["stun:stun.example.vn", "turns:turn.example.vn:443?transport=tcp"]}]',
        '[{"urls": "turn:turn.example.vn:3478", "username": "only-a-name"}]',
    ],
)
def test_a_turn_server_without_a_secret_is_refused_at_start_up(tmp_path, ice_servers):
    result = run("import django; django.setup()", tmp_path, ICE_SERVERS=ice_servers)
    assert result.returncode != 0
    assert "set TURN_SECRET" in result.stderr and "turn.example.vn" in result.stderr
    started = run(
        "import django; django.setup()", tmp_path, ICE_SERVERS=ice_servers, TURN_SECRET="x"
    )
    assert started.returncode == 0, started.stderr
