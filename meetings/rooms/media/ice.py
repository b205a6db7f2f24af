"""ICE: the servers browsers and the hub use, and the addresses the hub offers.

- ICE_SERVERS (settings): STUN/TURN servers, none by default, so nothing outside is contacted.
- TURN_SECRET: a TURN server's shared secret (coturn's use-auth-secret); browsers then get
  time-limited credentials made here, never the secret.
- MEDIA_HOST_ADDRESSES: the addresses the hub offers as its host candidates. aioice leaves out
  loopback, so a machine whose only interface is loopback (tests) offers none and never
  connects; a hub behind 1:1 NAT lists its public address here.
"""

import asyncio
import base64
import hashlib
import hmac
import random
import socket
import time
import types

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


def parse_port_range(text: str) -> range | None:
    """``"40000-40999"`` as a range of ports (both ends included); empty: None."""
    if not text.strip():
        return None
    low, dash, high = text.partition("-")
    try:
        first, last = int(low), int(high if dash else low)
    except ValueError:
        raise ValueError(f"MEDIA_UDP_PORTS must look like 40000-40999, not {text!r}") from None
    if not 1024 <= first <= last <= 65535:
        raise ValueError(f"MEDIA_UDP_PORTS must lie within 1024-65535: {text!r}")
    return range(first, last + 1)


class _PortRangeLoop:
    """The running event loop, except that a UDP socket asked for on port 0 (what aioice asks
    for each host candidate) is bound to a free port of ``ports`` instead."""

    def __init__(self, loop: asyncio.AbstractEventLoop, ports: range):
        self._loop = loop
        self._ports = ports

    def __getattr__(self, name):
        return getattr(self._loop, name)

    async def create_datagram_endpoint(self, factory, local_addr=None, **kwargs):
        if local_addr is None or local_addr[1] != 0:
            return await self._loop.create_datagram_endpoint(
                factory, local_addr=local_addr, **kwargs
            )
        return await self._loop.create_datagram_endpoint(
            factory, sock=bind_in_range(local_addr[0], self._ports)
        )


def bind_in_range(address: str, ports: range) -> socket.socket:
    """A UDP socket bound to ``address`` on a free port of ``ports``, tried from a random start
    (OSError when every one is taken)."""
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    start = random.randrange(len(ports))
    for offset in range(len(ports)):
        port = ports[(start + offset) % len(ports)]
        sock = socket.socket(family, socket.SOCK_DGRAM)
        try:
            sock.bind((address, port))
        except OSError:
            sock.close()
            continue
        sock.setblocking(False)
        return sock
    raise OSError(f"no free UDP port in {ports.start}-{ports.stop - 1} on {address}")


class _AsyncioWithPortRange(types.ModuleType):
    """What aioice.ice sees as ``asyncio``: the real module, but get_running_loop() returns the
    loop that binds its host candidates within the range."""

    def __init__(self, ports: range):
        super().__init__("asyncio")
        self._ports = ports

    def __getattr__(self, name):
        return getattr(asyncio, name)

    def get_running_loop(self):
        return _PortRangeLoop(asyncio.get_running_loop(), self._ports)


def use_port_range(ports: range | None) -> None:
    """Make this process's ICE agents bind their host candidates' UDP ports within ``ports``
    (None: any port the system gives). aioice (0.13, pinned through aiortc) has no option for
    this: it binds each candidate with ``create_datagram_endpoint(local_addr=(address, 0))``
    on ``asyncio.get_running_loop()``, so the ``asyncio`` its module sees is replaced by one
    whose loop binds in the range. TURN relays and STUN queries are unaffected (outgoing)."""
    aioice.ice.asyncio = asyncio if ports is None else _AsyncioWithPortRange(ports)


def configure_hub_network() -> None:
    """This process's ICE agents: the host addresses and the UDP ports the settings name."""
    use_host_addresses(settings.MEDIA_HOST_ADDRESSES)
    use_port_range(parse_port_range(settings.MEDIA_UDP_PORTS))
