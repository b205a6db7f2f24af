"""The address a request came from, as far as this deployment can trust it.

Behind reverse proxies the TCP peer is the nearest proxy; each proxy appends the address it
received the request from to ``X-Forwarded-For``. Only the entries our own proxies appended
can be trusted: whatever stands to their left was sent by the client. With ``TRUSTED_PROXIES``
proxies in front, the client is therefore the entry that many places from the right.

The header is read only when the TCP peer is one of ``TRUSTED_PROXY_NETWORKS`` (our proxies'
addresses): anyone else reaching the web port keeps its own address, whatever it sends.

Daphne's ``--proxy-headers`` takes the left-most entry instead, which a client chooses freely
when the proxy appends, and trusts every peer: it must not be used (``meetings.serve`` refuses
it). ``TrustedProxyClient`` below does the right thing for the whole ASGI application instead:
with a trusted peer it puts the client's address in ``scope["client"]``, so Django's
``REMOTE_ADDR``, the websockets, the rate limits and Daphne's access log all see the hall's own
address.
"""

import functools
import ipaddress

from django.conf import settings
from django.http import HttpRequest


def client_address(request: HttpRequest) -> str | None:
    """The client's address in canonical form; None if a trusted proxy wrote no valid one."""
    return _trusted_address(
        request.META.get("REMOTE_ADDR", ""), request.META.get("HTTP_X_FORWARDED_FOR", "")
    )


def websocket_client_address(scope: dict) -> str | None:
    """The same for a websocket's ASGI scope (its peer, and its X-Forwarded-For header)."""
    peer = (scope.get("client") or ("",))[0] or ""
    forwarded = b",".join(
        value for name, value in scope.get("headers", ()) if name == b"x-forwarded-for"
    )
    return _trusted_address(peer, forwarded.decode("latin1"))


def _trusted_address(peer: str, forwarded: str) -> str | None:
    trusted = settings.TRUSTED_PROXIES
    entries = [entry.strip() for entry in forwarded.split(",") if entry.strip()]
    if trusted and entries and is_trusted_proxy(peer):
        # Fewer entries than proxies: every entry was written by one of ours.
        return _canonical(entries[-min(trusted, len(entries))])
    return _canonical(peer)


def is_trusted_proxy(peer: str) -> bool:
    """Whether the TCP peer is one of our proxies (settings TRUSTED_PROXY_NETWORKS)."""
    try:
        address = ipaddress.ip_address(peer)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return any(address in network for network in _networks(tuple(settings.TRUSTED_PROXY_NETWORKS)))


@functools.lru_cache(maxsize=4)
def _networks(texts: tuple[str, ...]) -> tuple:
    return tuple(ipaddress.ip_network(text.strip(), strict=False) for text in texts if text.strip())


class TrustedProxyClient:
    """ASGI middleware: a request or websocket from a trusted proxy gets the client's address
    (the one the proxies saw, as ``client_address`` finds it) in ``scope["client"]``, and its
    ``X-Forwarded-For`` is consumed (removed), so nothing applies it twice. From any other
    peer, or with ``TRUSTED_PROXIES=0``, the scope is left as it is.

    Daphne (4.2, pinned) hands the application the very list it later writes in its access
    log: the address is changed in that list, so the access log shows it too (tests/
    test_proxy_headers.py checks both on a real Daphne)."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        client = scope.get("client")
        if scope["type"] in ("http", "websocket") and client and settings.TRUSTED_PROXIES:
            peer = client[0]
            headers = scope.get("headers", ())
            forwarded = [value for name, value in headers if name == b"x-forwarded-for"]
            if forwarded and is_trusted_proxy(peer):
                address = _trusted_address(peer, b",".join(forwarded).decode("latin1"))
                if address is not None:
                    if isinstance(client, list):
                        client[0] = address  # Daphne's own list: its access log reads it
                    else:
                        client = [address, client[1]]
                    scope = {
                        **scope,
                        "client": client,
                        "headers": [(n, v) for n, v in headers if n != b"x-forwarded-for"],
                    }
        return await self.app(scope, receive, send)


def _canonical(text: str) -> str | None:
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        return None


def address_group(address: str) -> str:
    """What a per-address limit counts: an IPv4 address, or the /64 network an IPv6 address is
    in (written as its first address). A subscriber gets a whole /64 and chooses its addresses
    in it freely: counted one by one, a limit per address would be none."""
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address[:64] or "unknown"
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.ip_network(f"{parsed}/64", strict=False).network_address)
    return str(parsed)


def throttled_address(request: HttpRequest) -> str | None:
    """The client address the sign-in throttle counts failures for (settings
    AXES_CLIENT_IP_CALLABLE): the client's address, an IPv6 one by its /64."""
    address = client_address(request)
    return address_group(address) if address is not None else None
