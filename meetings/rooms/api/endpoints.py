"""HTTP endpoints of conferences, halls and the agenda. Each is a few lines around a service."""

from typing import Literal

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Query, Router, Schema

from meetings.rooms.api.auth import caller_auth, viewer_of
from meetings.rooms.api.schemas import (
    AgendaItemOut,
    AttendanceIn,
    CheckpointsOut,
    ErrorOut,
    EventsOut,
    HallLinksOut,
    HallOut,
    MeetingOut,
    RecordOut,
    SnapshotOut,
    StatusIn,
)
from meetings.rooms.ids import Id, Seq
from meetings.rooms.links import hall_links
from meetings.rooms.models import AgendaItem, BridgePoint, Event, EventLogHead, JoinLinkKind
from meetings.rooms.record_export import checkpoints_document
from meetings.rooms.services import agenda, halls, join_links, meetings
from meetings.rooms.services.events import event_for_client, record_entry
from meetings.rooms.state import agenda_item_view, hall_view, meeting_snapshot, meeting_view
from meetings.rooms.viewers import require_chair, require_hall_speaker, require_moderator

router = Router(auth=caller_auth, tags=["conferences"])
# What any operation may answer besides its own result, all in the one error shape.
ERRORS = {status: ErrorOut for status in (400, 401, 403, 404, 409, 413, 422, 500, 503)}


@router.get("/meetings/{slug}/snapshot", response={200: SnapshotOut, **ERRORS})
def snapshot(request: HttpRequest, slug: str):
    """The state of the conference the caller may see, and the seq it corresponds to."""
    meeting, viewer = viewer_of(request, slug)
    seq, state = meeting_snapshot(meeting, viewer.audience)
    return {"seq": seq, "viewer": viewer.describe(), "state": state}


@router.get("/meetings/{slug}/events", response={200: EventsOut, **ERRORS})
def events(
    request: HttpRequest,
    slug: str,
    since: Seq = 0,
    limit: int = Query(100, ge=1, le=500),
    newest: bool = Query(False, description="The newest `limit` entries instead of the oldest."),
):
    """The record, oldest first: the entries after ``since`` that the caller may see.

    ``more`` says whether entries were left out (after the last one, or with ``newest``
    before the first one)."""
    meeting, viewer = viewer_of(request, slug)
    visible = Event.objects.filter(
        meeting=meeting,
        seq__gt=since,
        audience__in=[a.value for a in viewer.audience.visible_audiences()],
    )
    if newest:
        rows = list(visible.order_by("-seq")[: limit + 1])[::-1]
        more, rows = len(rows) > limit, rows[-limit:]
    else:
        rows = list(visible.order_by("seq")[: limit + 1])
        more, rows = len(rows) > limit, rows[:limit]
    return {"events": [event_for_client(row) for row in rows], "more": more}


@router.get("/meetings/{slug}/record", response={200: RecordOut, **ERRORS})
def record(
    request: HttpRequest,
    slug: str,
    since: Seq = 0,
    limit: int = Query(500, ge=1, le=2000),
):
    """Every entry of the record, to check its hash chain (docs/record.md).

    Entries the caller may not read come with their payload's digest instead of the payload,
    which is enough to recompute every link."""
    meeting, viewer = viewer_of(request, slug)
    head = EventLogHead.objects.get(meeting=meeting)
    rows = list(Event.objects.filter(meeting=meeting, seq__gt=since).order_by("seq")[: limit + 1])
    entries = [
        record_entry(row, readable=viewer.audience.sees(row.audience)) for row in rows[:limit]
    ]
    return {
        "entries": entries,
        "head_seq": head.seq,
        "head_hash": head.hash,
        "more": len(rows) > limit,
    }


@router.get("/meetings/{slug}/checkpoints", response={200: CheckpointsOut, **ERRORS})
def checkpoints(request: HttpRequest, slug: str, since: Seq = 0):
    """The record's signed checkpoints after ``since`` (a seq), the key that signed them and the
    head: for anyone admitted to the conference to poll while it is live, and keep
    (docs/record.md)."""
    meeting, _viewer = viewer_of(request, slug)
    return checkpoints_document(meeting, since=since)


@router.post("/meetings/{slug}/status", response={200: MeetingOut, **ERRORS})
def change_status(request: HttpRequest, slug: str, body: StatusIn):
    """Open, end or archive the conference (the chair only)."""
    meeting, viewer = viewer_of(request, slug)
    require_chair(viewer)
    meeting = meetings.meeting_transition(
        meeting=meeting, to_status=body.status, actor=viewer.actor
    )
    return meeting_view(meeting)


class PublishIn(Schema):
    published: bool = True


@router.post("/meetings/{slug}/publish", response={200: MeetingOut, **ERRORS})
def publish(request: HttpRequest, slug: str, body: PublishIn):
    """Publish the meeting's page, clips, minutes and record (the chair only), or withdraw it."""
    meeting, viewer = viewer_of(request, slug)
    require_chair(viewer)
    meeting = meetings.meeting_publish(
        meeting=meeting, published=body.published, actor=viewer.actor
    )
    return meeting_view(meeting)


@router.post("/meetings/{slug}/agenda/default", response={200: list[AgendaItemOut], **ERRORS})
def build_agenda(request: HttpRequest, slug: str):
    """Fill an empty agenda with the usual running order and equal time per candidate."""
    meeting, viewer = viewer_of(request, slug)
    require_moderator(viewer)
    items = agenda.agenda_build_default(meeting=meeting, actor=viewer.actor)
    return [agenda_item_view(item) for item in items]


@router.post("/meetings/{slug}/agenda/{item_id}/{action}", response={200: AgendaItemOut, **ERRORS})
def run_agenda_item(request: HttpRequest, slug: str, item_id: Id, action: Literal["start", "end"]):
    """Start an item's timer (ending the running one) or end it."""
    meeting, viewer = viewer_of(request, slug)
    require_moderator(viewer)
    item = get_object_or_404(AgendaItem, pk=item_id, meeting=meeting)
    run = agenda.agenda_item_start if action == "start" else agenda.agenda_item_end
    return agenda_item_view(run(item=item, actor=viewer.actor))


@router.post("/meetings/{slug}/halls/{hall_id}/attendance", response={200: HallOut, **ERRORS})
def set_attendance(request: HttpRequest, slug: str, hall_id: Id, body: AttendanceIn):
    """Record the number of voters present in a hall (moderators, or that hall's kiosk)."""
    meeting, viewer = viewer_of(request, slug)
    require_hall_speaker(viewer, hall_id)
    hall = get_object_or_404(BridgePoint, pk=hall_id, meeting=meeting)
    return hall_view(halls.hall_set_attendance(hall=hall, count=body.count, actor=viewer.actor))


@router.get("/meetings/{slug}/halls/{hall_id}/links", response={200: HallLinksOut, **ERRORS})
def get_links(request: HttpRequest, slug: str, hall_id: Id):
    """The hall's current operator and voter links (moderators)."""
    meeting, viewer = viewer_of(request, slug)
    require_moderator(viewer)
    hall = get_object_or_404(BridgePoint, pk=hall_id, meeting=meeting)
    return hall_links(request, hall)


@router.post(
    "/meetings/{slug}/halls/{hall_id}/links/{kind}/rotate", response={200: HallLinksOut, **ERRORS}
)
def rotate_link(request: HttpRequest, slug: str, hall_id: Id, kind: Literal["operator", "voter"]):
    """Replace a hall's link; the old one stops working at once (moderators)."""
    meeting, viewer = viewer_of(request, slug)
    require_moderator(viewer)
    hall = get_object_or_404(BridgePoint, pk=hall_id, meeting=meeting)
    join_links.join_link_rotate(hall=hall, kind=JoinLinkKind(kind), actor=viewer.actor)
    return hall_links(request, hall)
