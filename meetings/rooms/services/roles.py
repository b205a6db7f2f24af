"""Granting and revoking what an account may do in one conference."""

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from meetings.rooms.actors import Actor
from meetings.rooms.errors import Conflict, Invalid
from meetings.rooms.models import Audience, BridgePoint, Candidate, Meeting, Role, RoleGrant
from meetings.rooms.services.events import event_append, record_write


def role_grant(
    *,
    meeting: Meeting,
    user: AbstractBaseUser,
    role: Role,
    actor: Actor,
    hall: BridgePoint | None = None,
    candidate: Candidate | None = None,
) -> RoleGrant:
    # The admin's form gives the choice's plain string; the record names the role by its value.
    role = Role(role)
    if (role == Role.BRIDGE_OPERATOR) != (hall is not None):
        raise Invalid(_("A bridge-point operator grant names exactly one hall."))
    if (role == Role.CANDIDATE) != (candidate is not None):
        raise Invalid(_("A candidate grant names exactly one candidate."))
    if hall is not None and hall.meeting_id != meeting.pk:
        raise Invalid(_("That hall belongs to another conference."))
    if candidate is not None and candidate.meeting_id != meeting.pk:
        raise Invalid(_("That candidate belongs to another conference."))
    with record_write(meeting=meeting):
        try:
            with transaction.atomic():
                grant = RoleGrant.objects.create(
                    meeting=meeting, user=user, role=role, hall=hall, candidate=candidate
                )
        except IntegrityError:
            raise Conflict(_("This account already holds that role here.")) from None
        event_append(
            meeting=meeting,
            type="role.granted",
            audience=Audience.STAFF,
            payload={
                "user": Actor.for_user(user).label,
                "role": role.value,
                "hall": hall.pk if hall else None,
                "candidate": candidate.pk if candidate else None,
            },
            actor=actor,
        )
    return grant


def role_revoke(*, grant: RoleGrant, actor: Actor) -> None:
    meeting = grant.meeting
    with record_write(meeting=meeting):
        deleted, _count = RoleGrant.objects.filter(pk=grant.pk).delete()
        if not deleted:
            return
        event_append(
            meeting=meeting,
            type="role.revoked",
            audience=Audience.STAFF,
            payload={"user": Actor.for_user(grant.user).label, "role": grant.role},
            actor=actor,
        )
