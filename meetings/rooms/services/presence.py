"""Which halls have a kiosk connected, for the dashboard and for the record.

A hall counts as connected while it has at least one kiosk session. Sessions end when their
websocket closes; a web node that dies cannot say so, so sessions whose heartbeat is stale are
reaped by the next kiosk or moderator of the meeting that pings.
"""

from datetime import timedelta

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


def kiosk_heartbeat(*, channel_name: str) -> bool:
    """Note that the kiosk is alive; False if its session was reaped meanwhile."""
    return bool(
        KioskSession.objects.filter(channel_name=channel_name).update(last_seen_at=timezone.now())
    )


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
