"""The address a request came from, as far as this deployment can trust it.

Behind reverse proxies the TCP peer is the nearest proxy; each proxy appends the address it
received the request from to ``X-Forwarded-For``. Only the entries our own proxies appended
can be trusted: whatever stands to their left was sent by the client. With ``TRUSTED_PROXIES``
proxies in front, the client is therefore the entry that many places from the right.

Daphne's ``--proxy-headers`` (compose runs it, for the access log) takes the left-most entry
instead, which a client chooses freely when the proxy appends: so ``REMOTE_ADDR`` is used only
when no proxy is trusted, or when the request carries no ``X-Forwarded-For`` at all (it did
not come through a proxy).
"""

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
    if trusted and entries:
        # Fewer entries than proxies: every entry was written by one of ours.
        return _canonical(entries[-min(trusted, len(entries))])
    return _canonical(peer)


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
