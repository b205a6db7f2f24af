"""The running order of a conference and its timers."""

from django.utils import timezone
from django.utils.translation import gettext as _

from meetings.rooms import patch
from meetings.rooms.actors import Actor
from meetings.rooms.bounded import bounded
from meetings.rooms.errors import Conflict, Invalid
from meetings.rooms.models import (
    AgendaItem,
    AgendaItemKind,
    Audience,
    Candidate,
    Meeting,
    MeetingStatus,
)
from meetings.rooms.services.events import event_append, record_write, refuse_after_end
from meetings.rooms.state import agenda_item_view

MAX_ALLOWANCE_SECONDS = 4 * 60 * 60


def agenda_item_add(
    *,
    meeting: Meeting,
    kind: AgendaItemKind,
    title: str,
    actor: Actor,
    candidate: Candidate | None = None,
    allowance_seconds: int | None = None,
) -> AgendaItem:
    """Append an item to the running order. A presentation's allowance defaults to the
    conference's equal time per candidate."""
    title = title.strip()
    if not title:
        raise Invalid(_("An agenda item needs a title."))
    if kind == AgendaItemKind.PRESENTATION and candidate is None:
        raise Invalid(_("A presentation belongs to a candidate."))
    if candidate is not None and candidate.meeting_id != meeting.pk:
        raise Invalid(_("That candidate belongs to another conference."))
    if allowance_seconds is None:
        allowance_seconds = (
            meeting.presentation_minutes * 60 if kind == AgendaItemKind.PRESENTATION else 0
        )
    if not 0 <= allowance_seconds <= MAX_ALLOWANCE_SECONDS:
        raise Invalid(_("The time allowance must be between 0 and 4 hours."))
    with record_write(meeting=meeting):
        refuse_after_end(meeting)
        item = AgendaItem.objects.create(
            meeting=meeting,
            position=meeting.agenda.count(),
            kind=kind,
            title=title,
            candidate=candidate,
            allowance_seconds=allowance_seconds,
        )
        event_append(
            meeting=meeting,
            type="agenda.item_added",
            audience=Audience.PUBLIC,
            payload={
                "item": item.pk,
                "patch": [patch.merge("agenda", item.pk, value=agenda_item_view(item))],
            },
            actor=actor,
        )
    return item


def agenda_build_default(*, meeting: Meeting, actor: Actor) -> list[AgendaItem]:
    """The usual running order: opening, each candidate's presentation with equal time,
    voters' questions, closing."""
    with record_write(meeting=meeting):
        refuse_after_end(meeting)
        if meeting.agenda.exists():
            raise Conflict(_("This conference already has an agenda."))
        items = [
            agenda_item_add(
                meeting=meeting, kind=AgendaItemKind.OPENING, title=_("Opening"), actor=actor
            )
        ]
        for candidate in meeting.candidates.all():
            items.append(
                agenda_item_add(
                    meeting=meeting,
                    kind=AgendaItemKind.PRESENTATION,
                    # A candidate's name may fill the title's whole column by itself.
                    title=bounded(
                        _("Action programme: %(name)s") % {"name": candidate.name},
                        AgendaItem._meta.get_field("title").max_length,
                    ),
                    candidate=candidate,
                    actor=actor,
                )
            )
        items.append(
            agenda_item_add(
                meeting=meeting,
                kind=AgendaItemKind.QUESTIONS,
                title=_("Voters' questions and candidates' answers"),
                actor=actor,
            )
        )
        items.append(
            agenda_item_add(
                meeting=meeting, kind=AgendaItemKind.CLOSING, title=_("Closing"), actor=actor
            )
        )
    return items


def agenda_item_start(*, item: AgendaItem, actor: Actor) -> AgendaItem:
    """Start an item's timer; the item that was running ends at the same moment."""
    with record_write(meeting=item.meeting):
        refuse_after_end(item.meeting)
        item = AgendaItem.objects.select_related("meeting").get(pk=item.pk)
        if item.meeting.status != MeetingStatus.LIVE:
            raise Conflict(_("The conference must be live to start an agenda item."))
        if item.started_at is not None:
            raise Conflict(_("This item has already been started."), detail=agenda_item_view(item))
        for running in item.meeting.agenda.filter(started_at__isnull=False, ended_at__isnull=True):
            agenda_item_end(item=running, actor=actor)
        item.started_at = timezone.now()
        item.save(update_fields=["started_at"])
        event_append(
            meeting=item.meeting,
            type="agenda.item_started",
            audience=Audience.PUBLIC,
            payload={
                "item": item.pk,
                "title": item.title,
                "patch": [
                    patch.merge(
                        "agenda",
                        item.pk,
                        value={"started_at": agenda_item_view(item)["started_at"]},
                    )
                ],
            },
            actor=actor,
        )
    return item


def agenda_item_end(*, item: AgendaItem, actor: Actor) -> AgendaItem:
    with record_write(meeting=item.meeting):
        refuse_after_end(item.meeting)
        item = AgendaItem.objects.select_related("meeting").get(pk=item.pk)
        if item.started_at is None or item.ended_at is not None:
            raise Conflict(_("This item is not running."), detail=agenda_item_view(item))
        item.ended_at = timezone.now()
        item.save(update_fields=["ended_at"])
        used = int((item.ended_at - item.started_at).total_seconds())
        event_append(
            meeting=item.meeting,
            type="agenda.item_ended",
            audience=Audience.PUBLIC,
            payload={
                "item": item.pk,
                "title": item.title,
                "seconds": used,
                "patch": [
                    patch.merge(
                        "agenda", item.pk, value={"ended_at": agenda_item_view(item)["ended_at"]}
                    )
                ],
            },
            actor=actor,
        )
    return item


def agenda_item_update(
    *,
    item: AgendaItem,
    actor: Actor,
    title: str | None = None,
    allowance_seconds: int | None = None,
) -> AgendaItem:
    """Retitle an item or change its allowance, while it has not started."""
    with record_write(meeting=item.meeting):
        refuse_after_end(item.meeting)
        item = AgendaItem.objects.select_related("meeting").get(pk=item.pk)
        if item.started_at is not None:
            raise Conflict(_("An item that has started cannot be changed."))
        changes: dict = {}
        if title is not None and title.strip() != item.title:
            if not title.strip():
                raise Invalid(_("An agenda item needs a title."))
            changes["title"] = title.strip()
        if allowance_seconds is not None and allowance_seconds != item.allowance_seconds:
            if not 0 <= allowance_seconds <= MAX_ALLOWANCE_SECONDS:
                raise Invalid(_("The time allowance must be between 0 and 4 hours."))
            changes["allowance_seconds"] = allowance_seconds
        if not changes:
            return item
        for field, value in changes.items():
            setattr(item, field, value)
        item.save(update_fields=list(changes))
        event_append(
            meeting=item.meeting,
            type="agenda.item_updated",
            audience=Audience.PUBLIC,
            payload={"item": item.pk, "patch": [patch.merge("agenda", item.pk, value=changes)]},
            actor=actor,
        )
    return item
