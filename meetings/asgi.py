"""The ASGI application Daphne serves: Django for HTTP, the meeting websocket for ws://."""

import asyncio
import gc
import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "meetings.settings")

from django.core.asgi import get_asgi_application

# Django must be set up before the consumers (and the models they import) load.
django_http = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from meetings.client_address import TrustedProxyClient  # noqa: E402
from meetings.logs import route_daphne_access_log  # noqa: E402
from meetings.questions.services.counts import publisher  # noqa: E402
from meetings.rooms.realtime.routing import websocket_urlpatterns  # noqa: E402
from meetings.rooms.realtime.wire import DaphneWebsocketAccess  # noqa: E402


class ServerLoop:
    """Hands the server's event loop to what schedules work on it (announcements of counts)."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        loop = asyncio.get_running_loop()
        if publisher.loop is not loop:
            publisher.attach(loop)
        return await self.app(scope, receive, send)


router = ProtocolTypeRouter(
    {
        "http": django_http,
        # Browsers always send Origin on websockets; one from a host we do not serve is refused
        # during the handshake (HTTP 403), so another site cannot use a voter's session.
        "websocket": AllowedHostsOriginValidator(
            AuthMiddlewareStack(URLRouter(websocket_urlpatterns))
        ),
    }
)
# TrustedProxyClient: behind our proxies, the client's own address (meetings/client_address.py).
application = TrustedProxyClient(DaphneWebsocketAccess(ServerLoop(router)))

# Daphne's access log prints every path, and so every kiosk's and phone's link: its lines go
# through logging and its filter instead (meetings/logs.py).
route_daphne_access_log()

# Everything loaded so far (Django, the apps, their modules) lives as long as the process: keep
# it out of the cyclic collector's full passes, and make those passes rarer. With 2,150 screens
# connected a full pass walked some 500,000 objects and stopped the event loop, and every
# screen's events, for up to 0.4 s (bench/realtime; 0.05 s after this).
gc.freeze()
gc.set_threshold(5_000, 10, 10)
