"""How API callers prove who they are: a hall's join link in a header (kiosks, phones) or the
session cookie of a signed-in account (with Django's CSRF check for unsafe methods)."""

from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja.security import APIKeyCookie, APIKeyHeader

from meetings.rooms.errors import Forbidden, NotFound
from meetings.rooms.models import Meeting
from meetings.rooms.services.join_links import join_link_resolve
from meetings.rooms.viewers import Viewer, viewer_for_link, viewer_for_user

JOIN_LINK_HEADER = "X-Join-Link"


@dataclass(frozen=True)
class Caller:
    user: AbstractBaseUser | None = None
    link_token: str | None = None

    def viewer_in(self, meeting: Meeting) -> Viewer:
        """The caller as a viewer of this meeting; Forbidden if it has no business there."""
        if self.link_token is not None:
            return viewer_for_link(join_link_resolve(self.link_token, meeting=meeting))
        viewer = viewer_for_user(self.user, meeting) if self.user is not None else None
        if viewer is None:
            raise Forbidden(_("Your account has no role in this conference."))
        return viewer


class JoinLinkAuth(APIKeyHeader):
    param_name = JOIN_LINK_HEADER

    def authenticate(self, request: HttpRequest, key: str | None) -> Caller | None:
        return Caller(link_token=key) if key else None


class SessionAuth(APIKeyCookie):
    param_name = "sessionid"

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
    meeting = meeting_or_404(slug)
    return meeting, request.auth.viewer_in(meeting)
