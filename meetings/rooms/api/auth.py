"""How API callers prove who they are: a hall's join link in a header (kiosks, phones) or the
session cookie of a signed-in account (with Django's CSRF check for unsafe methods). A kiosk
also sends its kiosk session's token: only the screen that holds its hall acts for it."""

from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja.security import APIKeyCookie, APIKeyHeader
from ninja.utils import check_csrf

from meetings.rooms.error_codes import ErrorCode
from meetings.rooms.errors import Forbidden, NotFound, RequestRefused
from meetings.rooms.models import JoinLinkKind, Meeting, RoleGrant
from meetings.rooms.services.join_links import JoinLinkRefused, join_link_resolve
from meetings.rooms.services.kiosk_sessions import kiosk_session_holding
from meetings.rooms.viewers import Viewer, organises, viewer_for_link, viewer_from_grants

JOIN_LINK_HEADER = "X-Join-Link"
KIOSK_SESSION_HEADER = "X-Kiosk-Session"


@dataclass(frozen=True)
class Caller:
    user: AbstractBaseUser | None = None
    link_token: str | None = None
    kiosk_token: str | None = None

    def admitted_to(self, slug: str) -> tuple[Meeting, Viewer]:
        """The meeting at ``slug`` and the caller as its viewer. A join link brings its hall
        and meeting in one query; an account's grants bring the meeting along. An unknown
        address is 404 whatever the credentials."""
        if self.link_token is not None:
            try:
                link = join_link_resolve(self.link_token)
            except JoinLinkRefused:
                meeting_or_404(slug)
                raise
            meeting = link.hall.meeting
            if meeting.slug != slug:
                meeting_or_404(slug)
                raise JoinLinkRefused("other_meeting")
            holding = None
            if link.kind == JoinLinkKind.OPERATOR and self.kiosk_token:
                holding = kiosk_session_holding(hall_id=link.hall_id, token=self.kiosk_token)
            return meeting, viewer_for_link(link, kiosk_session_id=holding)
        user = self.user
        active = user is not None and user.is_authenticated and user.is_active
        grants = []
        if active:
            grants = list(
                RoleGrant.objects.filter(meeting__slug=slug, user=user).select_related("meeting")
            )
        meeting = grants[0].meeting if grants else meeting_or_404(slug)
        viewer = (
            viewer_from_grants(user, meeting, grants, organiser=organises(user, meeting))
            if active
            else None
        )
        if viewer is None:
            raise Forbidden(_("Your account has no role in this conference."))
        return meeting, viewer


class JoinLinkAuth(APIKeyHeader):
    param_name = JOIN_LINK_HEADER

    def authenticate(self, request: HttpRequest, key: str | None) -> Caller | None:
        if not key:
            return None
        return Caller(link_token=key, kiosk_token=request.headers.get(KIOSK_SESSION_HEADER))


class SessionAuth(APIKeyCookie):
    param_name = "sessionid"

    def _get_key(self, request: HttpRequest) -> str | None:
        """A signed-in account's session, which an unsafe method may use only with the CSRF
        token (Django's check, as ninja's own); no session at all is a 401, not a CSRF
        refusal."""
        if not request.user.is_authenticated:
            return None
        if check_csrf(request):
            raise RequestRefused(ErrorCode.CSRF_FAILED)
        return request.COOKIES.get(self.param_name)

    def authenticate(self, request: HttpRequest, key: str | None) -> Caller | None:
        user = request.user
        return Caller(user=user) if user.is_authenticated else None


caller_auth = [JoinLinkAuth(), SessionAuth()]


def meeting_or_404(slug: str) -> Meeting:
    meeting = Meeting.objects.filter(slug=slug).first()
    if meeting is None:
        raise NotFound(_("There is no conference at this address."))
    return meeting


def viewer_of(request: HttpRequest, slug: str) -> tuple[Meeting, Viewer]:
    return request.auth.admitted_to(slug)
