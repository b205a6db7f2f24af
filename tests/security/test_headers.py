"""The headers of every response, found by walking every URL pattern of the site (the pages,
the admin, the API), so that a new page is checked without anyone adding it here:

- ``Cache-Control: no-store`` on all of them, but the public archive's answers to a visitor who
  is not signed in;
- a Content-Security-Policy with no inline script or style, and pages that need none;
- a Permissions-Policy denying the camera and the microphone but on the screens that send
  them."""

import re
from html.parser import HTMLParser

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from meetings.catalogue import catalogue_url
from meetings.questions.services import moderation
from meetings.rooms.models import JoinLinkKind
from meetings.rooms.services import agenda
from meetings.rooms.services.meetings import meeting_publish
from tests.factories import make_user
from tests.questions.helpers import ask, open_conference

pytestmark = pytest.mark.django_db

# The routes a visitor who is not signed in may keep (a published conference's archive).
PUBLIC_ROUTES = {
    "jsi18n/",
    "jsi18n/<slug:name>.<str:digest>.js",
    "archive/",
    "archive/<slug:slug>/",
    "archive/<slug:slug>/record.json",
    "archive/<slug:slug>/checkpoints.json",
    "archive/<slug:slug>/minutes.<str:fmt>",
    "v/sw.js",
}
# The screens that send a camera and/or a microphone, and what they may use.
MEDIA_ROUTES = {
    "k/<str:token>/": {"camera", "microphone"},  # the hall's kiosk
    "meetings/<slug:slug>/candidate/": {"camera", "microphone"},  # the candidate's console
    "meetings/<slug:slug>/halls/": {"microphone"},  # a moderator speaks to the halls
}
HTML_PAGES = [
    "accounts/login/",
    "meetings/",
    "meetings/<slug:slug>/",
    "meetings/<slug:slug>/queue/",
    "meetings/<slug:slug>/halls/",
    "meetings/<slug:slug>/follow-ups/",
    "meetings/<slug:slug>/candidate/",
    "meetings/<slug:slug>/halls/<int:hall_id>/poster/",
    "k/<str:token>/",
    "v/<str:token>/",
    "archive/",
    "archive/<slug:slug>/",
    "admin/",
    "admin/rooms/meeting/",
    "admin/rooms/meeting/<path:object_id>/change/",
    "api/docs",
]
_PLACEHOLDER = re.compile(r"<(?:(?P<converter>\w+):)?(?P<name>\w+)>")
_GROUP = re.compile(r"\(\?P<(?P<name>\w+)>[^)]*\)")


def every_route(resolver=None, prefix: str = ""):
    """Each URL pattern of the site as (its route, as written), the admin's and the API's too."""
    for entry in (resolver or get_resolver()).url_patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from every_route(entry, route)
        elif isinstance(entry, URLPattern):
            yield route


ROUTES = sorted(set(every_route()))


@pytest.fixture
def site():
    conference = open_conference("hn-headers")
    approved = moderation.question_approve(
        question=ask(conference, "Khi nào sửa đường?"), actor=conference.actor
    )
    item = agenda.agenda_build_default(meeting=conference.meeting, actor=conference.actor)[0]
    meeting_publish(meeting=conference.meeting, actor=conference.actor)
    hall = conference.halls[0]
    values = {
        "slug": conference.meeting.slug,
        "hall_id": hall.pk,
        "question_id": approved.pk,
        "item_id": item.pk,
        "object_id": conference.meeting.pk,
        "fmt": "csv",
        "kind": "voter",
        "action": "start",
        "app_label": "rooms",
        "part": 1,
        "clip_id": 1,
        "url": "nowhere/",
        "name": "vi",
        "digest": catalogue_url("vi").rsplit(".", 2)[1],
    }
    tokens = {
        "k/": conference.token(hall, JoinLinkKind.OPERATOR),
        "v/": conference.token(hall, JoinLinkKind.VOTER),
    }

    def url(route: str) -> str:
        def value(name: str) -> str:
            if name == "token":
                return tokens[route[:2]]
            return str(values.get(name, 1))

        path = _PLACEHOLDER.sub(lambda match: value(match["name"]), route)
        path = _GROUP.sub(lambda match: value(match["name"]), path)
        return "/" + path.lstrip("^").rstrip("$")

    chair = Client(raise_request_exception=False)
    chair.force_login(conference.chair)
    return conference, url, chair


@pytest.fixture
def administrator():
    client = Client(raise_request_exception=False)
    client.force_login(make_user("headers_admin", is_staff=True, is_superuser=True))
    return client


def no_store(response) -> bool:
    return "no-store" in response.get("Cache-Control", "")


def test_every_response_to_staff_is_no_store(site, administrator):
    """The chair's and an administrator's (who reaches the admin's pages)."""
    _conference, url, chair = site
    for client in (chair, administrator):
        kept = [route for route in ROUTES if not no_store(client.get(url(route)))]
        assert kept == []


def test_only_the_published_archive_may_be_kept_for_visitors(site):
    _conference, url, _chair = site
    anonymous = Client(raise_request_exception=False)
    kept = set()
    for route in ROUTES:
        response = anonymous.get(url(route))
        if not no_store(response):
            kept.add(route)
            assert response.status_code < 400, route
    assert kept == PUBLIC_ROUTES


def test_the_kiosk_page_and_the_dashboard_are_never_kept(site):
    """The operator link is the kiosk's URL; the dashboard lists every hall's link."""
    _conference, url, chair = site
    for client, route in ((Client(), "k/<str:token>/"), (chair, "meetings/<slug:slug>/")):
        response = client.get(url(route))
        assert response.status_code == 200
        assert "no-store" in response["Cache-Control"]
        assert "private" in response["Cache-Control"]


def policy(response) -> dict[str, str]:
    directives = (part.strip() for part in response["Content-Security-Policy"].split(";"))
    return {name: value for name, _, value in (d.partition(" ") for d in directives if d)}


def test_every_response_has_the_content_security_policy(site):
    _conference, url, chair = site
    for route in ROUTES:
        directives = policy(chair.get(url(route)))
        assert directives["default-src"] == "'self'", route
        assert directives["script-src"] == "'self'", route
        assert directives["style-src"] == "'self'", route
        assert directives["object-src"] == "'none'", route
        assert directives["frame-ancestors"] == "'none'", route
        assert directives["base-uri"] == "'none'", route
        assert directives["form-action"] == "'self'", route
        # The websocket: to this host only, also for browsers whose 'self' is http(s) only.
        assert directives["connect-src"] == "'self' ws://testserver wss://testserver", route
        assert "unsafe" not in " ".join(directives.values()), route


class InlineCode(HTMLParser):
    """What a policy without 'unsafe-inline' would refuse in a page."""

    def __init__(self):
        super().__init__()
        self.found: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        for name in attributes:
            if name == "style" or name.startswith("on"):
                self.found.append(f"<{tag} {name}=…>")
            if name in ("href", "src", "action") and (attributes[name] or "").startswith(
                "javascript:"
            ):
                self.found.append(f"<{tag} {name}=javascript:…>")
        if tag == "style":
            self.found.append("<style>")
        executable = attributes.get("type") in (None, "", "module", "text/javascript")
        self._in_script = tag == "script" and executable and not attributes.get("src")

    def handle_data(self, data):
        if self._in_script and data.strip():
            self.found.append(f"<script>{data.strip()[:40]}…")

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False


@pytest.mark.parametrize("route", HTML_PAGES)
def test_the_pages_need_no_inline_script_or_style(site, administrator, route):
    _conference, url, chair = site
    if route.startswith(("k/", "v/", "accounts/")):
        client = Client()
    else:
        client = administrator if route.startswith("admin/") else chair
    response = client.get(url(route))
    assert response.status_code == 200, route
    assert response["Content-Type"].startswith("text/html")
    parser = InlineCode()
    parser.feed(response.content.decode())
    assert parser.found == []


def permissions(response) -> dict[str, str]:
    items = (item.strip() for item in response["Permissions-Policy"].split(","))
    return dict(item.split("=", 1) for item in items)


def test_only_the_screens_that_send_media_may_use_the_camera_or_microphone(site):
    _conference, url, chair = site
    for route in ROUTES:
        client = Client() if route.startswith(("k/", "v/")) else chair
        granted = permissions(client.get(url(route)))
        allowed = MEDIA_ROUTES.get(route, set())
        for feature in ("camera", "microphone"):
            assert granted[feature] == ("(self)" if feature in allowed else "()"), route
        for feature in ("geolocation", "payment", "usb", "display-capture"):
            assert granted[feature] == "()", route
