"""The headers that limit what a page may run and use, and where a response may be kept.

- Content-Security-Policy (django-csp, the policy in settings.CONTENT_SECURITY_POLICY) on every
  response: scripts, styles, fonts and workers from this site only, no inline script or style
  attribute, images also as data: URLs (the halls' thumbnails), no plugins, never in a frame.
  Websockets go to the page's own host.
- Permissions-Policy (django-permissions-policy, settings.PERMISSIONS_POLICY) denies the camera,
  the microphone and the other powerful features everywhere; ``sends_media`` grants the camera
  and the microphone, to this site only, on the screens that send them.
- ``Cache-Control: no-store`` on every response, unless its view is marked ``public`` and the
  visitor is not signed in: staff pages (the dashboard lists every hall's operator link), the
  kiosk's and phone's pages (their URL is the link), the admin and the API can then never be
  kept by a browser or a proxy, and a new page is covered without anyone remembering to.
"""

from collections.abc import Callable
from functools import wraps

from csp.middleware import CSPMiddleware, PolicyParts
from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.http import HttpRequest, HttpResponseBase
from django.utils.cache import add_never_cache_headers
from django_permissions_policy.decorators import permissions_policy_override

from meetings.wrapping import AroundResponseMiddleware

PUBLIC_ATTRIBUTE = "publicly_cacheable"


class ContentSecurityPolicyMiddleware(CSPMiddleware):
    """django-csp's middleware, with the page's own host added to ``connect-src`` for the
    websocket (ws:// and wss://). CSP 3 lets ``'self'`` match them, but browsers older than
    that (Safari before 15.4, on phones that cannot update) would refuse the voters' socket."""

    def get_policy_parts(
        self, request: HttpRequest, response: HttpResponseBase, report_only: bool = False
    ) -> PolicyParts:
        parts = super().get_policy_parts(request, response, report_only)
        try:
            host = request.get_host()
        except DisallowedHost:
            return parts
        update = dict(parts.update or {})
        update["connect-src"] = [*update.get("connect-src", ()), f"ws://{host}", f"wss://{host}"]
        parts.update = update
        return parts

    # Its two steps only compute strings: run them on the event loop, instead of handing each
    # to a thread as Django does for a middleware that is not async itself.
    async def __acall__(self, request: HttpRequest) -> HttpResponseBase:
        self.process_request(request)
        response = await self.get_response(request)
        return self.process_response(request, response)


def sends_media(*, camera: bool, microphone: bool) -> Callable:
    """A view whose page sends the camera and/or the microphone: the Permissions-Policy grants
    them to this site only; every other feature stays denied as everywhere else."""
    policy = dict(settings.PERMISSIONS_POLICY)
    if camera:
        policy["camera"] = ["self"]
    if microphone:
        policy["microphone"] = ["self"]
    return permissions_policy_override(policy)


def public(view: Callable) -> Callable:
    """A view whose answers are the same for every visitor who is not signed in (the archive,
    the published record and its files, the translations): those may be cached. What a
    signed-in person sees may be theirs (their name, an unpublished preview), and errors are
    not worth keeping: those, like everything else, are sent with ``no-store``."""

    @wraps(view)
    def marked(request: HttpRequest, *args, **kwargs) -> HttpResponseBase:
        response = view(request, *args, **kwargs)
        # Read here, in the view's thread: the middleware may run on the event loop, where
        # loading the session's user from the database is not allowed.
        if response.status_code < 400 and not request.user.is_authenticated:
            setattr(response, PUBLIC_ATTRIBUTE, True)
        return response

    return marked


class NoStoreUnlessPublicMiddleware(AroundResponseMiddleware):
    """``Cache-Control: no-store`` (and Django's other never-cache headers) on every response
    but those of ``public`` views to visitors who are not signed in."""

    def after(self, request: HttpRequest, response: HttpResponseBase, started: object):
        if not getattr(response, PUBLIC_ATTRIBUTE, False):
            add_never_cache_headers(response)
        return response
