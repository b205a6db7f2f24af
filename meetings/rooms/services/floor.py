"""Floor control (quyền phát biểu): a hall raises its hand from its kiosk, the moderators grant
the floor to one hall at a time, optionally for a limited time, and take it back. Also the
programme's layout and the halls' pinned quality tiers. The media hub follows all of it."""

from datetime import timedelta

from django.utils import timezone
from django.utils.translation import gettext as _

from meetings.rooms import patch
from meetings.rooms.actors import Actor
from meetings.rooms.errors import Conflict, Invalid
from meetings.rooms.models import (
    Audience,
    BridgePoint,
    FloorRequest,
    Meeting,
    MeetingStatus,
    Programme,
    ProgrammeLayout,
)
from meetings.rooms.services.events import event_append, record_write, refuse_after_end
from meetings.rooms.state import iso, programme_view

MAX_FLOOR_SECONDS = 30 * 60
TIERS = ("high", "low", "audio")


def floor_request(*, hall: BridgePoint, actor: Actor) -> FloorRequest:
    """Raise the hall's hand (again: keeps its place)."""
    if hall.is_studio:
        raise Invalid(_("The studio is always heard; it does not ask for the floor."))
    with record_write(meeting=hall.meeting):
        refuse_after_end(hall.meeting)
        existing = FloorRequest.objects.filter(hall=hall).first()
        if existing is not None:
            return existing
        if Programme.objects.get(meeting=hall.meeting).floor_hall_id == hall.pk:
            raise Conflict(_("This hall already has the floor."))
        request = FloorRequest.objects.create(hall=hall, requested_at=timezone.now())
        event_append(
            meeting=hall.meeting,
            type="floor.requested",
            audience=Audience.PUBLIC,
            payload={
                "hall": hall.pk,
                "patch": [
                    patch.merge(
                        "floor_requests", hall.pk, value={"requested_at": iso(request.requested_at)}
                    )
                ],
            },
            actor=actor,
        )
    return request


def floor_withdraw_request(*, hall: BridgePoint, actor: Actor) -> None:
    with record_write(meeting=hall.meeting):
        refuse_after_end(hall.meeting)
        deleted, _count = FloorRequest.objects.filter(hall=hall).delete()
        if deleted:
            event_append(
                meeting=hall.meeting,
                type="floor.request_withdrawn",
                audience=Audience.PUBLIC,
                payload={"hall": hall.pk, "patch": [patch.remove("floor_requests", hall.pk)]},
                actor=actor,
            )


def floor_grant(*, hall: BridgePoint, actor: Actor, seconds: int | None = None) -> Programme:
    """Give the floor to ``hall`` (taking it from the hall that had it), optionally for
    ``seconds``; the hub ends it when the time is up."""
    if hall.is_studio:
        raise Invalid(_("The studio is always heard; give the floor to a hall."))
    if seconds is not None and not 10 <= seconds <= MAX_FLOOR_SECONDS:
        raise Invalid(_("The time limit must be between 10 seconds and 30 minutes."))
    with record_write(meeting=hall.meeting):
        refuse_after_end(hall.meeting)
        meeting = Meeting.objects.get(pk=hall.meeting_id)
        if meeting.status != MeetingStatus.LIVE:
            raise Conflict(_("The floor can be given only while the conference is live."))
        programme = Programme.objects.get(meeting=meeting)
        if programme.floor_hall_id not in (None, hall.pk):
            _revoke(programme, actor=actor, reason="given_to_another_hall")
        now = timezone.now()
        programme.floor_hall = hall
        programme.floor_granted_at = now
        programme.floor_until = now + timedelta(seconds=seconds) if seconds else None
        programme.save()
        had_request = FloorRequest.objects.filter(hall=hall).delete()[0]
        operations = [patch.merge("programme", value=programme_view(programme))]
        if had_request:
            operations.append(patch.remove("floor_requests", hall.pk))
        event_append(
            meeting=meeting,
            type="floor.granted",
            audience=Audience.PUBLIC,
            payload={"hall": hall.pk, "seconds": seconds, "patch": operations},
            actor=actor,
        )
    return programme


def floor_revoke(*, meeting: Meeting, actor: Actor, reason: str = "moderator") -> Programme:
    with record_write(meeting=meeting):
        refuse_after_end(meeting)
        programme = Programme.objects.get(meeting=meeting)
        if programme.floor_hall_id is None:
            raise Conflict(_("No hall has the floor."))
        _revoke(programme, actor=actor, reason=reason)
    return programme


def floor_time_up(*, meeting: Meeting, hall_id: int) -> bool:
    """The hub says the floor's time is up: end it, if that grant still stands."""
    with record_write(meeting=meeting):
        programme = Programme.objects.get(meeting=meeting)
        if (
            programme.floor_hall_id != hall_id
            or programme.floor_until is None
            or programme.floor_until > timezone.now()
        ):
            return False
        _revoke(programme, actor=Actor.system("floor timer"), reason="time_up")
    return True


def floor_end_for_meeting(*, meeting: Meeting, actor: Actor) -> None:
    """When the conference ends: nobody keeps the floor, no hand stays raised."""
    programme = Programme.objects.get(meeting=meeting)
    if programme.floor_hall_id is not None:
        _revoke(programme, actor=actor, reason="meeting_ended")
    for request in FloorRequest.objects.filter(hall__meeting=meeting):
        floor_withdraw_request(hall=request.hall, actor=actor)


def _revoke(programme: Programme, *, actor: Actor, reason: str) -> None:
    hall_id = programme.floor_hall_id
    programme.floor_hall = None
    programme.floor_granted_at = None
    programme.floor_until = None
    programme.save()
    event_append(
        meeting=programme.meeting,
        type="floor.revoked",
        audience=Audience.PUBLIC,
        payload={
            "hall": hall_id,
            "reason": reason,
            "patch": [patch.merge("programme", value=programme_view(programme))],
        },
        actor=actor,
    )


def programme_set_layout(*, meeting: Meeting, layout: str, actor: Actor) -> Programme:
    if layout not in ProgrammeLayout.values:
        raise Invalid(_("Unknown layout: %s") % layout)
    with record_write(meeting=meeting):
        refuse_after_end(meeting)
        programme = Programme.objects.get(meeting=meeting)
        if programme.layout == layout:
            return programme
        programme.layout = layout
        programme.save(update_fields=["layout"])
        event_append(
            meeting=meeting,
            type="programme.layout_set",
            audience=Audience.PUBLIC,
            payload={
                "layout": layout,
                "patch": [patch.merge("programme", value={"layout": layout})],
            },
            actor=actor,
        )
    return programme


def hall_pin_tier(*, hall: BridgePoint, tier: str | None, actor: Actor) -> BridgePoint:
    """Keep a hall on one quality tier whatever its link says (None: let the hub choose)."""
    if tier is not None and tier not in TIERS:
        raise Invalid(_("Unknown quality tier: %s") % tier)
    with record_write(meeting=hall.meeting):
        refuse_after_end(hall.meeting)
        hall = BridgePoint.objects.select_related("meeting").get(pk=hall.pk)
        if (hall.pinned_tier or None) == tier:
            return hall
        hall.pinned_tier = tier or ""
        hall.save(update_fields=["pinned_tier"])
        event_append(
            meeting=hall.meeting,
            type="hall.tier_pinned",
            audience=Audience.STAFF,
            payload={
                "hall": hall.pk,
                "tier": tier,
                "patch": [
                    patch.merge("tier_pins", value={str(hall.pk): tier})
                    if tier
                    else patch.remove("tier_pins", hall.pk)
                ],
            },
            actor=actor,
        )
    return hall
