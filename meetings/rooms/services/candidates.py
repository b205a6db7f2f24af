"""Candidates (ứng cử viên) of a conference."""

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from meetings.rooms import patch
from meetings.rooms.actors import Actor
from meetings.rooms.errors import Conflict, Invalid, MeetingEnded
from meetings.rooms.models import Audience, Candidate, Meeting, MeetingStatus
from meetings.rooms.services.events import event_append, record_write, refuse_after_end
from meetings.rooms.state import candidate_view

_EDITABLE = ("name", "current_position", "bio")


def candidate_add(
    *, meeting: Meeting, name: str, actor: Actor, current_position: str = "", bio: str = ""
) -> Candidate:
    name = name.strip()
    if not name:
        raise Invalid(_("A candidate needs a name."))
    if meeting.status in (MeetingStatus.ENDED, MeetingStatus.ARCHIVED):
        raise MeetingEnded(_("Candidates cannot be added to a conference that has ended."))
    with record_write(meeting=meeting):
        refuse_after_end(meeting)
        try:
            with transaction.atomic():
                candidate = Candidate.objects.create(
                    meeting=meeting,
                    name=name,
                    current_position=current_position.strip(),
                    bio=bio.strip(),
                    position=meeting.candidates.count(),
                )
        except IntegrityError:
            raise Conflict(_("This conference already has a candidate with this name.")) from None
        event_append(
            meeting=meeting,
            type="candidate.added",
            audience=Audience.PUBLIC,
            payload={
                "candidate": candidate.pk,
                "patch": [patch.merge("candidates", candidate.pk, value=candidate_view(candidate))],
            },
            actor=actor,
        )
    return candidate


def candidate_update(*, candidate: Candidate, actor: Actor, **changes: str) -> Candidate:
    unknown = set(changes) - set(_EDITABLE)
    if unknown:
        raise Invalid(_("These fields cannot be changed: %s") % ", ".join(sorted(unknown)))
    with record_write(meeting=candidate.meeting):
        refuse_after_end(candidate.meeting)
        candidate = Candidate.objects.select_related("meeting").get(pk=candidate.pk)
        changed = {
            field: value.strip()
            for field, value in changes.items()
            if value.strip() != getattr(candidate, field)
        }
        if not changed:
            return candidate
        if "name" in changed and not changed["name"]:
            raise Invalid(_("A candidate needs a name."))
        for field, value in changed.items():
            setattr(candidate, field, value)
        try:
            with transaction.atomic():
                candidate.save(update_fields=list(changed))
        except IntegrityError:
            raise Conflict(_("This conference already has a candidate with this name.")) from None
        event_append(
            meeting=candidate.meeting,
            type="candidate.updated",
            audience=Audience.PUBLIC,
            payload={
                "candidate": candidate.pk,
                "patch": [patch.merge("candidates", candidate.pk, value=changed)],
            },
            actor=actor,
        )
    return candidate
