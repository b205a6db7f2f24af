"""Creating a conference, changing its details and moving it through its statuses."""

from datetime import datetime

from django.utils import timezone
from django.utils.crypto import get_random_string
from django.utils.text import slugify
from django.utils.translation import gettext as _

from meetings.rooms import patch
from meetings.rooms.actors import Actor
from meetings.rooms.errors import Conflict, Invalid
from meetings.rooms.models import (
    MEETING_TRANSITIONS,
    Audience,
    JoinLink,
    Meeting,
    MeetingStatus,
    Programme,
)
from meetings.rooms.services.events import (
    event_append,
    note_meeting_status,
    record_write,
    refuse_after_end,
)
from meetings.rooms.services.halls import hall_add
from meetings.rooms.services.join_links import join_link_expiry
from meetings.rooms.signals import meeting_created, meeting_ending
from meetings.rooms.state import meeting_view


def _free_slug(title: str) -> str:
    base = slugify(title)[:48] or "hoi-nghi"
    slug = base
    while Meeting.objects.filter(slug=slug).exists():
        slug = f"{base}-{get_random_string(5, 'abcdefghjkmnpqrstuvwxyz23456789')}"
    return slug


def meeting_create(
    *,
    title: str,
    electoral_unit: str,
    scheduled_start: datetime,
    actor: Actor,
    studio_name: str,
    slug: str | None = None,
    presentation_minutes: int = 10,
) -> Meeting:
    """A new conference in draft, with its central studio."""
    title, electoral_unit = title.strip(), electoral_unit.strip()
    if not title or not electoral_unit:
        raise Invalid(_("A conference needs a title and an electoral unit."))
    if not 1 <= presentation_minutes <= 120:
        raise Invalid(_("Presentation time must be between 1 and 120 minutes."))
    if slug is not None and Meeting.objects.filter(slug=slug).exists():
        raise Conflict(_("A conference with this identifier already exists."))
    meeting = Meeting(
        slug=slug or _free_slug(title),
        title=title,
        electoral_unit=electoral_unit,
        scheduled_start=scheduled_start,
        presentation_minutes=presentation_minutes,
    )
    # Saved by record_write with its record's head, the first row of its record.
    with record_write(meeting=meeting):
        Programme.objects.create(meeting=meeting)
        event_append(
            meeting=meeting,
            type="meeting.created",
            audience=Audience.PUBLIC,
            payload={"patch": [patch.merge("meeting", value=meeting_view(meeting))]},
            actor=actor,
        )
        hall_add(meeting=meeting, name=studio_name, is_studio=True, actor=actor)
        meeting_created.send(sender=Meeting, meeting=meeting, actor=actor)
    return meeting


_EDITABLE = ("title", "electoral_unit", "scheduled_start", "presentation_minutes")


def meeting_update(*, meeting: Meeting, actor: Actor, **changes) -> Meeting:
    """Change a conference's details. The slug never changes: it is part of every hash."""
    unknown = set(changes) - set(_EDITABLE)
    if unknown:
        raise Invalid(_("These fields cannot be changed: %s") % ", ".join(sorted(unknown)))
    with record_write(meeting=meeting):
        refuse_after_end(meeting)
        meeting = Meeting.objects.get(pk=meeting.pk)
        changed = {k: v for k, v in changes.items() if getattr(meeting, k) != v}
        if not changed:
            return meeting
        for field, value in changed.items():
            setattr(meeting, field, value)
        meeting.full_clean(exclude=["slug"])
        meeting.save(update_fields=list(changed))
        if "scheduled_start" in changed:
            # Links printed for the day stay valid if the day moves.
            JoinLink.objects.filter(hall__meeting=meeting, revoked_at__isnull=True).update(
                expires_at=join_link_expiry(meeting)
            )
        view = meeting_view(meeting)
        event_append(
            meeting=meeting,
            type="meeting.updated",
            audience=Audience.PUBLIC,
            payload={
                "fields": sorted(changed),
                "patch": [patch.merge("meeting", value={k: view[k] for k in changed})],
            },
            actor=actor,
        )
    return meeting


def meeting_transition(*, meeting: Meeting, to_status: str, actor: Actor) -> Meeting:
    """Move the conference along MEETING_TRANSITIONS; the loser of a race gets Conflict."""
    if to_status not in MeetingStatus.values:
        raise Invalid(_("Unknown status: %s") % to_status)
    with record_write(meeting=meeting):
        current = Meeting.objects.get(pk=meeting.pk)
        if to_status not in MEETING_TRANSITIONS[current.status]:
            raise Conflict(
                _("A conference that is %(current)s cannot become %(target)s.")
                % {
                    "current": MeetingStatus(current.status).label,
                    "target": MeetingStatus(to_status).label,
                },
                detail={"status": current.status},
            )
        if to_status == MeetingStatus.ENDED:
            # Before the status changes: what ending closes (the running item, the floor, the
            # counts not yet announced) goes on the record before the end, which closes it
            # (docs/record.md, "After the end: a closed record").
            _end_running_items(meeting=current, actor=actor)
            from meetings.rooms.services.floor import floor_end_for_meeting

            floor_end_for_meeting(meeting=current, actor=actor)
            meeting_ending.send(sender=Meeting, meeting=current, actor=actor)
        won = Meeting.objects.filter(pk=meeting.pk, status=current.status).update(status=to_status)
        if not won:
            latest = Meeting.objects.get(pk=meeting.pk)
            raise Conflict(
                _("Someone else changed the conference's status first."),
                detail={"status": latest.status},
            )
        note_meeting_status(current, to_status)
        changes = {"status": to_status}
        if to_status in QUESTIONS_CLOSED:
            Meeting.objects.filter(pk=meeting.pk).update(questions_open=False)
            changes["questions_open"] = False
        event_append(
            meeting=current,
            type="meeting.status_changed",
            audience=Audience.PUBLIC,
            payload={
                "from": current.status,
                "to": to_status,
                "patch": [patch.merge("meeting", value=changes)],
            },
            actor=actor,
        )
        # The media hub follows the record: live, it records the programme; ended, it
        # closes the recording.
        current.status = to_status
    return current


# Statuses in which no question is accepted; a conference that reaches one closes its intake.
QUESTIONS_CLOSED = frozenset({MeetingStatus.DRAFT, MeetingStatus.ENDED, MeetingStatus.ARCHIVED})


def meeting_set_questions_open(*, meeting: Meeting, open: bool, actor: Actor) -> Meeting:
    """Open or close the intake of voters' questions (while scheduled or live)."""
    with record_write(meeting=meeting):
        meeting = Meeting.objects.get(pk=meeting.pk)
        if open and meeting.status in QUESTIONS_CLOSED:
            raise Conflict(
                _("Questions can be opened only while the conference is scheduled or live."),
                detail={"status": meeting.status},
            )
        if meeting.questions_open == open:
            return meeting
        meeting.questions_open = open
        meeting.save(update_fields=["questions_open"])
        event_append(
            meeting=meeting,
            type="meeting.questions_opened" if open else "meeting.questions_closed",
            audience=Audience.PUBLIC,
            payload={"patch": [patch.merge("meeting", value={"questions_open": open})]},
            actor=actor,
        )
    return meeting


PUBLISHABLE = frozenset({MeetingStatus.LIVE, MeetingStatus.ENDED, MeetingStatus.ARCHIVED})


def meeting_publish(*, meeting: Meeting, actor: Actor, published: bool = True) -> Meeting:
    """Make the meeting's page, clips, minutes and record public (or private again)."""
    with record_write(meeting=meeting):
        meeting = Meeting.objects.get(pk=meeting.pk)
        if published and meeting.status not in PUBLISHABLE:
            raise Conflict(
                _("A conference is published once it has started."),
                detail={"status": meeting.status},
            )
        if (meeting.published_at is not None) == published:
            return meeting
        meeting.published_at = timezone.now() if published else None
        meeting.save(update_fields=["published_at"])
        event_append(
            meeting=meeting,
            type="meeting.published" if published else "meeting.unpublished",
            audience=Audience.PUBLIC,
            payload={
                "patch": [
                    patch.merge(
                        "meeting", value={"published_at": meeting_view(meeting)["published_at"]}
                    )
                ]
            },
            actor=actor,
        )
    return meeting


def _end_running_items(*, meeting: Meeting, actor: Actor) -> None:
    from meetings.rooms.services.agenda import agenda_item_end

    for item in meeting.agenda.filter(started_at__isnull=False, ended_at__isnull=True):
        agenda_item_end(item=item, actor=actor)
