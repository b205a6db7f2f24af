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
    trusted = settings.TRUSTED_PROXIES
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    entries = [entry.strip() for entry in forwarded.split(",") if entry.strip()]
    if trusted and entries:
        # Fewer entries than proxies: every entry was written by one of ours.
        return _canonical(entries[-min(trusted, len(entries))])
    return _canonical(request.META.get("REMOTE_ADDR", ""))


def _canonical(text: str) -> str | None:
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        return None
