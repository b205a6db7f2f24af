"""What a sign-in refused for too many failed passwords answers (django-axes calls it, through
``AXES_LOCKOUT_CALLABLE``, on the sign-in page and the admin's).

The answer is the same whatever the password was, and no password is checked while the lock
holds: it tells nothing about whether a guess was right. It names what is locked (this account
from this address) and for how long, in the page's language.
"""

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import ngettext

from meetings.locale_choice import chosen_language


def cooloff_minutes() -> int:
    return int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)


def lockout_message() -> str:
    minutes = cooloff_minutes()
    return ngettext(
        "Too many failed sign-ins to this account from your address. Signing in from here is "
        "paused for %(minutes)d minute; an administrator can lift the pause sooner.",
        "Too many failed sign-ins to this account from your address. Signing in from here is "
        "paused for %(minutes)d minutes; an administrator can lift the pause sooner.",
        minutes,
    ) % {"minutes": minutes}


def locked_out(request: HttpRequest, *args) -> HttpResponse:
    """The sign-in page with the lock's message, 429 with Retry-After. axes passes the login
    view's response and the credentials, in an order that depends on whether the request was
    served synchronously; neither is needed here."""
    data = request.POST if request.method == "POST" else request.GET
    next_url = data.get("next", "")
    if not url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        next_url = ""
    with translation.override(chosen_language(request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME))):
        response = render(
            request,
            "rooms/login.html",
            {
                "locked_out": lockout_message(),
                "username": data.get("username", "")[:150],
                "next": next_url,
            },
            status=429,
        )
    response["Retry-After"] = str(int(settings.AXES_COOLOFF_TIME.total_seconds()))
    return response
