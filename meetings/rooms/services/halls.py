"""Bridge points (điểm cầu): adding and describing them, and their attendance on the day."""

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from meetings.rooms import patch
from meetings.rooms.actors import Actor
from meetings.rooms.errors import Conflict, Invalid, MeetingEnded
from meetings.rooms.models import Audience, BridgePoint, JoinLinkKind, Meeting, MeetingStatus
from meetings.rooms.services.events import event_append, record_write, refuse_after_end
from meetings.rooms.services.join_links import join_link_issue
from meetings.rooms.state import hall_contact_view, hall_view

MAX_ATTENDANCE = 100_000


def hall_add(
    *,
    meeting: Meeting,
    name: str,
    actor: Actor,
    address: str = "",
    operator_name: str = "",
    operator_phone: str = "",
    is_studio: bool = False,
) -> BridgePoint:
    """A new hall with its operator and voter links."""
    name = name.strip()
    if not name:
        raise Invalid(_("A bridge point needs a name."))
    if meeting.status in (MeetingStatus.ENDED, MeetingStatus.ARCHIVED):
        raise MeetingEnded(_("Halls cannot be added to a conference that has ended."))
    with record_write(meeting=meeting):
        refuse_after_end(meeting)
        position = meeting.bridge_points.count()
        try:
            with transaction.atomic():
                hall = BridgePoint.objects.create(
                    meeting=meeting,
                    name=name,
                    is_studio=is_studio,
                    address=address.strip(),
                    operator_name=operator_name.strip(),
                    operator_phone=operator_phone.strip(),
                    position=position,
                )
        except IntegrityError:
            raise Conflict(
                _("This conference already has a studio or a hall with this name.")
            ) from None
        for kind in JoinLinkKind:
            join_link_issue(hall=hall, kind=kind)
        event_append(
            meeting=meeting,
            type="hall.added",
            audience=Audience.PUBLIC,
            payload={
                "hall": hall.pk,
                "patch": [patch.merge("halls", hall.pk, value=hall_view(hall))],
            },
            actor=actor,
        )
        if hall.operator_name or hall.operator_phone:
            _append_contact(hall=hall, actor=actor)
    return hall


def hall_update(
    *,
    hall: BridgePoint,
    actor: Actor,
    name: str | None = None,
    address: str | None = None,
    operator_name: str | None = None,
    operator_phone: str | None = None,
) -> BridgePoint:
    public = {"name": name, "address": address}
    contact = {"operator_name": operator_name, "operator_phone": operator_phone}
    with record_write(meeting=hall.meeting):
        refuse_after_end(hall.meeting)
        hall = BridgePoint.objects.select_related("meeting").get(pk=hall.pk)
        public_changes = _changes(hall, public)
        contact_changes = _changes(hall, contact)
        if "name" in public_changes and not public_changes["name"]:
            raise Invalid(_("A bridge point needs a name."))
        for field, value in {**public_changes, **contact_changes}.items():
            setattr(hall, field, value)
        if not public_changes and not contact_changes:
            return hall
        try:
            with transaction.atomic():
                hall.save(update_fields=[*public_changes, *contact_changes])
        except IntegrityError:
            raise Conflict(_("Another hall of this conference has this name.")) from None
        if public_changes:
            event_append(
                meeting=hall.meeting,
                type="hall.updated",
                audience=Audience.PUBLIC,
                payload={
                    "hall": hall.pk,
                    "patch": [patch.merge("halls", hall.pk, value=public_changes)],
                },
                actor=actor,
            )
        if contact_changes:
            _append_contact(hall=hall, actor=actor)
    return hall


def _changes(hall: BridgePoint, proposed: dict[str, str | None]) -> dict[str, str]:
    return {
        field: value.strip()
        for field, value in proposed.items()
        if value is not None and value.strip() != getattr(hall, field)
    }


def _append_contact(*, hall: BridgePoint, actor: Actor) -> None:
    contact = hall_contact_view(hall)
    has_contact = any(contact.values())
    event_append(
        meeting=hall.meeting,
        type="hall.contact_set",
        audience=Audience.STAFF,
        payload={
            "hall": hall.pk,
            "patch": [
                patch.merge("hall_contacts", hall.pk, value=contact)
                if has_contact
                else patch.remove("hall_contacts", hall.pk)
            ],
        },
        actor=actor,
    )


def hall_set_attendance(*, hall: BridgePoint, count: int, actor: Actor) -> BridgePoint:
    """Record how many voters are in the hall (entered on the day, may be corrected)."""
    if isinstance(count, bool) or not isinstance(count, int) or not 0 <= count <= MAX_ATTENDANCE:
        raise Invalid(
            _("Attendance must be a whole number from 0 to %(max)s.") % {"max": MAX_ATTENDANCE}
        )
    with record_write(meeting=hall.meeting):
        refuse_after_end(
            hall.meeting, _("The conference has ended; its attendance can no longer be changed.")
        )
        hall = BridgePoint.objects.select_related("meeting").get(pk=hall.pk)
        previous = hall.attendance
        if previous == count:
            return hall
        hall.attendance = count
        hall.save(update_fields=["attendance"])
        event_append(
            meeting=hall.meeting,
            type="hall.attendance_set",
            audience=Audience.PUBLIC,
            payload={
                "hall": hall.pk,
                "previous": previous,
                "count": count,
                "patch": [patch.merge("halls", hall.pk, value={"attendance": count})],
            },
            actor=actor,
        )
    return hall
