"""Who is looking at a meeting, and what they may see and do.

Every screen, API call and websocket resolves its caller to a ``Viewer`` first: from the
session's account and its role grants, or from a hall's join link. Permission checks then read
the viewer, never the request.
"""

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.utils.translation import gettext as _

from meetings.rooms.actors import Actor
from meetings.rooms.errors import Forbidden, HallHeldElsewhere
from meetings.rooms.models import (
    Audience,
    BridgePoint,
    JoinLink,
    JoinLinkKind,
    Meeting,
    Role,
    RoleGrant,
    RoundGrant,
)
from meetings.rooms.models.role import MODERATOR_ROLES

# What an organiser of the conference's round holds in it (models/round.py: RoundGrant): not a
# role granted in the conference, but named among the viewer's roles like one.
ORGANISER = "organiser"


class ViewerKind(StrEnum):
    MODERATOR = "moderator"  # chair or secretary
    OBSERVER = "observer"
    CANDIDATE = "candidate"
    OPERATOR = "operator"  # a hall's kiosk (operator link) or a bridge-operator account
    VOTER = "voter"  # a phone admitted by a hall's voter link


_AUDIENCE = {
    ViewerKind.MODERATOR: Audience.STAFF,
    ViewerKind.OBSERVER: Audience.STAFF,
    ViewerKind.CANDIDATE: Audience.CANDIDATES,
    ViewerKind.OPERATOR: Audience.HALLS,
    ViewerKind.VOTER: Audience.PUBLIC,
}


@dataclass(frozen=True)
class Viewer:
    meeting_id: int
    kind: ViewerKind
    actor: Actor
    roles: frozenset[str] = field(default_factory=frozenset)
    hall_id: int | None = None
    candidate_id: int | None = None
    link_id: int | None = None
    # The kiosk session a screen admitted by its hall's operator link holds its hall with; None
    # for a screen that does not hold it (it may read, not act for the hall).
    kiosk_session_id: int | None = None
    # The hall a join link admitted, as loaded with the link: no need to read it again.
    hall: BridgePoint | None = field(default=None, compare=False, repr=False)

    @property
    def audience(self) -> Audience:
        return _AUDIENCE[self.kind]

    @property
    def can_moderate(self) -> bool:
        return self.kind == ViewerKind.MODERATOR

    @property
    def is_chair(self) -> bool:
        return Role.CHAIR in self.roles

    @property
    def is_hall_screen(self) -> bool:
        """The screen that holds its hall: its camera, picture and presence are the hall's."""
        return self.kiosk_session_id is not None

    def speaks_for_hall(self, hall_id: int) -> bool:
        """Moderators act for any hall; an operator only for its own: a bridge-point operator's
        account (a named person, on the record by name), or the screen that holds the hall.
        A screen with only the operator link does not."""
        if self.can_moderate:
            return True
        if self.kind != ViewerKind.OPERATOR or self.hall_id != hall_id:
            return False
        return self.link_id is None or self.is_hall_screen

    def describe(self) -> dict[str, Any]:
        """What a client is told about itself."""
        return {
            "kind": self.kind.value,
            "audience": self.audience.value,
            "name": self.actor.label if self.actor.user is not None else None,
            "hall": self.hall_id,
            "candidate": self.candidate_id,
            "roles": sorted(self.roles),
            "can_moderate": self.can_moderate,
            "is_chair": self.is_chair,
        }


def viewer_for_user(user: AbstractBaseUser | AnonymousUser, meeting: Meeting) -> Viewer | None:
    """The viewer an account is in this meeting, or None if it holds no grant here.

    Superusers administer the platform and count as chair everywhere.
    """
    if not user.is_authenticated or not user.is_active:
        return None
    return viewer_from_grants(
        user,
        meeting,
        list(RoleGrant.objects.filter(meeting=meeting, user=user)),
        organiser=organises(user, meeting),
    )


def organises(user: AbstractBaseUser, meeting: Meeting) -> bool:
    """Whether the account organises the conference's round; no query for a conference that
    belongs to no round."""
    if meeting.round_id is None:
        return False
    return RoundGrant.objects.filter(round_id=meeting.round_id, user=user).exists()


def viewer_from_grants(
    user: AbstractBaseUser, meeting: Meeting, grants: list[RoleGrant], *, organiser: bool = False
) -> Viewer | None:
    """The viewer an active account is, given its grants in this meeting and whether it
    organises the meeting's round (an organiser sees what an observer sees, and does nothing
    more)."""
    roles = frozenset(grant.role for grant in grants)
    if user.is_superuser:
        roles |= {Role.CHAIR}
    if organiser:
        roles |= {ORGANISER}
    if not roles:
        return None
    actor = Actor.for_user(user)
    if roles & MODERATOR_ROLES:
        kind = ViewerKind.MODERATOR
    elif Role.OBSERVER in roles or ORGANISER in roles:
        kind = ViewerKind.OBSERVER
    elif Role.CANDIDATE in roles:
        kind = ViewerKind.CANDIDATE
    else:
        kind = ViewerKind.OPERATOR
    by_role = {grant.role: grant for grant in grants}
    operator = by_role.get(Role.BRIDGE_OPERATOR)
    candidate = by_role.get(Role.CANDIDATE)
    return Viewer(
        meeting_id=meeting.pk,
        kind=kind,
        actor=actor,
        roles=roles,
        hall_id=operator.hall_id if operator else None,
        candidate_id=candidate.candidate_id if candidate else None,
    )


def viewer_for_link(link: JoinLink, *, kiosk_session_id: int | None = None) -> Viewer:
    """The viewer a join link admits; ``kiosk_session_id``: the session with which a screen
    holds the link's hall (operator links only)."""
    hall = link.hall
    if link.kind == JoinLinkKind.OPERATOR:
        kind, actor = ViewerKind.OPERATOR, Actor.for_operator_link(hall)
    else:
        kind, actor = ViewerKind.VOTER, Actor.for_voter(hall)
    return Viewer(
        meeting_id=hall.meeting_id,
        kind=kind,
        actor=actor,
        hall_id=hall.pk,
        link_id=link.pk,
        kiosk_session_id=kiosk_session_id if link.kind == JoinLinkKind.OPERATOR else None,
        hall=hall,
    )


def require_moderator(viewer: Viewer) -> None:
    if not viewer.can_moderate:
        raise Forbidden(_("Only the chair and the secretaries may do this."))


def require_chair(viewer: Viewer) -> None:
    if not viewer.is_chair:
        raise Forbidden(_("Only the chair may do this."))


def require_hall_speaker(viewer: Viewer, hall_id: int) -> None:
    if viewer.speaks_for_hall(hall_id):
        return
    if viewer.kind == ViewerKind.OPERATOR and viewer.hall_id == hall_id:
        raise HallHeldElsewhere()
    raise Forbidden(_("Only the moderators or this hall's operator may do this."))


def require_hall_screen(viewer: Viewer) -> None:
    """What only the screen that holds its hall does: send the hall's camera and picture."""
    if viewer.is_hall_screen:
        return
    if viewer.kind == ViewerKind.OPERATOR and viewer.link_id is not None:
        raise HallHeldElsewhere()
    raise Forbidden(_("Only a hall's kiosk sends its picture."))
