"""Which halls have a kiosk connected, for the dashboard and for the record.

A hall counts as connected while it has at least one kiosk connection (``KioskConnection``: the
websocket of the screen that holds the hall). Connections end when their websocket closes; a web
node that dies cannot say so. So each web process notes, once per heartbeat interval, when each
of its kiosks last pinged (``kiosks_seen``), and ends the connections whose kiosk has been silent
for three intervals, of whichever node (``kiosk_reap_stale``).
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from meetings.rooms import patch
from meetings.rooms.actors import Actor
from meetings.rooms.models import Audience, BridgePoint, KioskConnection, Meeting
from meetings.rooms.record import format_time
from meetings.rooms.services.events import event_append, meeting_has_ended, record_write


def kiosk_connected(*, hall: BridgePoint, channel_name: str) -> None:
    now = timezone.now()
    with record_write(meeting=hall.meeting):
        first = not hall.kiosk_connections.exists()
        KioskConnection.objects.create(
            hall=hall, channel_name=channel_name, opened_at=now, last_seen_at=now
        )
        if first:
            _append_presence(hall=hall, connected=True)


def kiosks_seen(last_seen: dict[str, datetime]) -> set[str]:
    """Note when each kiosk (by channel name) was last heard from; returns the ones that have
    no connection row any more (reaped while their node could not be reached, but alive after
    all)."""
    rows = list(KioskConnection.objects.filter(channel_name__in=list(last_seen)))
    for row in rows:
        row.last_seen_at = last_seen[row.channel_name]
    KioskConnection.objects.bulk_update(rows, ["last_seen_at"], batch_size=500)
    return set(last_seen) - {row.channel_name for row in rows}


def kiosk_disconnected(*, channel_name: str) -> None:
    row = (
        KioskConnection.objects.select_related("hall__meeting")
        .filter(channel_name=channel_name)
        .first()
    )
    if row is None:
        return
    with record_write(meeting=row.hall.meeting):
        deleted, _count = KioskConnection.objects.filter(pk=row.pk).delete()
        if deleted and not row.hall.kiosk_connections.exists():
            _append_presence(hall=row.hall, connected=False)


def kiosk_reap_stale(*, meeting: Meeting) -> int:
    """End the connections of kiosks silent for three heartbeats; returns how many."""
    cutoff = timezone.now() - timedelta(seconds=3 * settings.HEARTBEAT_SECONDS)
    stale = KioskConnection.objects.filter(hall__meeting=meeting, last_seen_at__lt=cutoff)
    if not stale.exists():
        return 0
    with record_write(meeting=meeting):
        # Each hall's kiosks were last heard from at the newest of their pings: the hall has
        # been lost since then, not since the platform noticed.
        last_heard: dict[BridgePoint, datetime] = {}
        for row in stale.select_related("hall__meeting"):
            last_heard[row.hall] = max(last_heard.get(row.hall, row.last_seen_at), row.last_seen_at)
        deleted, _count = stale.delete()
        for hall, since in last_heard.items():
            if not hall.kiosk_connections.exists():
                _append_presence(hall=hall, connected=False, reason="heartbeat_lost", since=since)
    return deleted


def _append_presence(
    *, hall: BridgePoint, connected: bool, reason: str = "", since: datetime | None = None
) -> None:
    if meeting_has_ended(hall.meeting):
        # After the end the record is closed (docs/record.md, "After the end"): a kiosk
        # still connected, or leaving, changes its connection and appends nothing.
        return
    if connected:
        payload = {
            "hall": hall.pk,
            "patch": [
                patch.merge("presence", hall.pk, value={"connected": True}),
                patch.remove("presence_lost", hall.pk),
            ],
        }
    else:
        # When the hall was lost, for the organiser's overview (a hall down for long stands
        # out): the last time its kiosk was heard from, or now when its socket closed.
        lost = format_time(since or timezone.now())
        payload = {
            "hall": hall.pk,
            "since": lost,
            "patch": [
                patch.remove("presence", hall.pk),
                patch.merge("presence_lost", hall.pk, value={"since": lost}),
            ],
        }
    if reason:
        payload["reason"] = reason
    event_append(
        meeting=hall.meeting,
        type="hall.connected" if connected else "hall.disconnected",
        audience=Audience.STAFF,
        payload=payload,
        actor=Actor.system(),
    )
