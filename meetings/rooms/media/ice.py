"""ICE: the servers browsers and the hub use, and the addresses the hub offers.

- ICE_SERVERS (settings): STUN/TURN servers, none by default, so nothing outside is contacted.
- TURN_SECRET: a TURN server's shared secret (coturn's use-auth-secret); browsers then get
  time-limited credentials made here, never the secret.
- MEDIA_HOST_ADDRESSES: the addresses the hub offers as its host candidates. aioice leaves out
  loopback, so a machine whose only interface is loopback (tests) offers none and never
  connects; a hub behind 1:1 NAT lists its public address here.
"""

import base64
import hashlib
import hmac
import time

import aioice.ice
from aiortc import RTCConfiguration, RTCIceServer
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


def browser_ice_servers(username_hint: str = "hall") -> list[dict]:
    """ICE servers for a browser's RTCPeerConnection, with fresh TURN credentials."""
    servers = []
    for server in settings.ICE_SERVERS:
        server = dict(server)
        if _is_turn(server) and not ("username" in server and "credential" in server):
            if not settings.TURN_SECRET:
                # Settings refuse this at start-up; never hand a browser a TURN server it
                # cannot use (Chromium throws InvalidAccessError and the screen gets no media).
                raise ImproperlyConfigured("a TURN server in ICE_SERVERS needs TURN_SECRET")
            server.update(turn_credentials(username_hint))
        servers.append(server)
    return servers


def turn_credentials(username_hint: str) -> dict[str, str]:
    """coturn's REST API scheme: the username carries its expiry, the credential is the
    HMAC-SHA1 of the username with the shared secret."""
    expiry = int(time.time()) + settings.TURN_CREDENTIAL_SECONDS
    username = f"{expiry}:{username_hint}"
    digest = hmac.new(settings.TURN_SECRET.encode(), username.encode(), hashlib.sha1).digest()
    return {"username": username, "credential": base64.b64encode(digest).decode()}


def hub_configuration() -> RTCConfiguration:
    servers = [
        RTCIceServer(
            urls=server["urls"],
            username=server.get("username"),
            credential=server.get("credential"),
        )
        for server in browser_ice_servers("hub")
    ]
    return RTCConfiguration(iceServers=servers)


def _is_turn(server: dict) -> bool:
    urls = server["urls"] if isinstance(server["urls"], list) else [server["urls"]]
    return any(url.startswith(("turn:", "turns:")) for url in urls)


_original_host_addresses = aioice.ice.get_host_addresses


def use_host_addresses(addresses: list[str]) -> None:
    """Make this process's ICE agents offer exactly ``addresses`` (empty: aioice's own choice).

    aioice has no option for this, so its module function is replaced: the hub runs in its
    own process or thread, and aioice is pinned through aiortc."""
    if addresses:
        aioice.ice.get_host_addresses = lambda use_ipv4, use_ipv6: list(addresses)
    else:
        aioice.ice.get_host_addresses = _original_host_addresses
