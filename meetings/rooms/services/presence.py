"""Which halls have a kiosk connected, for the dashboard and for the record.

A hall counts as connected while it has at least one kiosk session. Sessions end when their
websocket closes; a web node that dies cannot say so. So each web process notes, once per
heartbeat interval, when each of its kiosks last pinged (``kiosks_seen``), and ends the sessions
whose kiosk has been silent for three intervals, of whichever node (``kiosk_reap_stale``).
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from meetings.rooms import patch
from meetings.rooms.actors import Actor
from meetings.rooms.models import Audience, BridgePoint, KioskSession, Meeting
from meetings.rooms.services.events import event_append, event_log_lock


def kiosk_connected(*, hall: BridgePoint, channel_name: str) -> None:
    now = timezone.now()
    with transaction.atomic():
        event_log_lock(meeting=hall.meeting)
        first = not hall.kiosk_sessions.exists()
        KioskSession.objects.create(
            hall=hall, channel_name=channel_name, opened_at=now, last_seen_at=now
        )
        if first:
            _append_presence(hall=hall, connected=True)


def kiosks_seen(last_seen: dict[str, datetime]) -> set[str]:
    """Note when each kiosk (by channel name) was last heard from; returns the ones that have
    no session any more (reaped while their node could not be reached, but alive after all)."""
    sessions = list(KioskSession.objects.filter(channel_name__in=list(last_seen)))
    for session in sessions:
        session.last_seen_at = last_seen[session.channel_name]
    KioskSession.objects.bulk_update(sessions, ["last_seen_at"], batch_size=500)
    return set(last_seen) - {session.channel_name for session in sessions}


def kiosk_disconnected(*, channel_name: str) -> None:
    session = (
        KioskSession.objects.select_related("hall__meeting")
        .filter(channel_name=channel_name)
        .first()
    )
    if session is None:
        return
    with transaction.atomic():
        event_log_lock(meeting=session.hall.meeting)
        deleted, _count = KioskSession.objects.filter(pk=session.pk).delete()
        if deleted and not session.hall.kiosk_sessions.exists():
            _append_presence(hall=session.hall, connected=False)


def kiosk_reap_stale(*, meeting: Meeting) -> int:
    """End the sessions of kiosks silent for three heartbeats; returns how many."""
    cutoff = timezone.now() - timedelta(seconds=3 * settings.HEARTBEAT_SECONDS)
    stale = KioskSession.objects.filter(hall__meeting=meeting, last_seen_at__lt=cutoff)
    if not stale.exists():
        return 0
    with transaction.atomic():
        event_log_lock(meeting=meeting)
        halls = {session.hall for session in stale.select_related("hall__meeting")}
        deleted, _count = stale.delete()
        for hall in halls:
            if not hall.kiosk_sessions.exists():
                _append_presence(hall=hall, connected=False, reason="heartbeat_lost")
    return deleted


def _append_presence(*, hall: BridgePoint, connected: bool, reason: str = "") -> None:
    payload = {
        "hall": hall.pk,
        "patch": [
            patch.merge("presence", hall.pk, value={"connected": True})
            if connected
            else patch.remove("presence", hall.pk)
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
