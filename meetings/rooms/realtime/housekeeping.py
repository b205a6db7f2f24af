"""The web process's periodic work for the stream, so that nothing of it rides on a ping:

- every STREAM_CHECK_SECONDS, the record's heads against the process's copies (one query for
  all the meetings it serves): a doorbell lost at the end of a burst is read from the record;
  and the signed-in accounts' stamps (one query, when accounts are connected): an account
  deactivated or given a new password without a message reaching this process is closed
  then (admission.check_accounts);
- every HEARTBEAT_SECONDS, the kiosks' presence (when each local kiosk last pinged, in one
  write; connections of kiosks silent for three intervals, on any node, are ended; so are the
  kiosk sessions of screens that stopped asking to take over a hall), the
  connections whose join link has expired are closed, and ``stream_round`` is sent for the
  other apps' periodic work (the questions app announces counts a dead node left);
- every RESUBSCRIBE_SECONDS, the process's channel joins its groups again (Redis may have
  restarted empty) and feeds without connections for a while are dropped.
"""

import asyncio
import logging
import time
from datetime import timedelta

from channels.db import database_sync_to_async
from django.conf import settings
from django.utils import timezone

from meetings.rooms.models import Audience, BridgePoint, Meeting
from meetings.rooms.realtime import admission, frames, stream
from meetings.rooms.services import kiosk_sessions, presence
from meetings.rooms.signals import stream_round

logger = logging.getLogger(__name__)

RESUBSCRIBE_SECONDS = 30


async def run(fanout) -> None:
    from meetings.rooms.realtime.fanout import being_cancelled

    periods = {
        "heads": lambda: settings.STREAM_CHECK_SECONDS,
        "accounts": lambda: settings.STREAM_CHECK_SECONDS,
        "presence": lambda: settings.HEARTBEAT_SECONDS,
        "subscriptions": lambda: RESUBSCRIBE_SECONDS,
    }
    due = {name: time.monotonic() + period() for name, period in periods.items()}
    jobs = {
        "heads": check_heads,
        "accounts": check_accounts,
        "presence": presence_round,
        "subscriptions": subscriptions,
    }
    while True:
        await asyncio.sleep(max(0.0, min(due.values()) - time.monotonic()))
        now = time.monotonic()
        for name, when in due.items():
            if when > now:
                continue
            due[name] = now + periods[name]()
            try:
                await jobs[name](fanout)
            except asyncio.CancelledError:
                raise
            except Exception:
                if being_cancelled():
                    raise asyncio.CancelledError from None
                logger.exception("stream housekeeping (%s) failed", name)


async def check_heads(fanout) -> None:
    feeds = {mid: feed for mid, feed in fanout.feeds.items() if feed.ready.done()}
    if not feeds:
        return
    heads = await database_sync_to_async(stream.heads)(list(feeds))
    for meeting_id, head in heads.items():
        feed = feeds.get(meeting_id)
        if feed is not None and fanout.feeds.get(meeting_id) is feed:
            feed.check_head(head)


async def check_accounts(fanout) -> None:
    await admission.check_accounts(fanout.connections())


async def presence_round(fanout) -> None:
    connections = fanout.connections()
    for connection in connections:
        if admission.expired(connection):
            await connection.close(int(frames.CloseCode.FORBIDDEN))
    silent_after = 3 * settings.HEARTBEAT_SECONDS
    now, wall_now = time.monotonic(), timezone.now()
    seen = {
        c.channel_name: (c, wall_now - timedelta(seconds=now - c.last_heard))
        for c in connections
        if c.is_kiosk and now - c.last_heard < silent_after
    }
    # The meetings whose kiosks' sessions this process may end: those it has kiosks or staff of
    # (a kiosk on a node that died is shown as gone on the dashboard within three intervals).
    watched = {c.meeting_id for c in connections if c.is_kiosk or c.audience == Audience.STAFF}
    served = sorted({c.meeting_id for c in connections})
    await database_sync_to_async(_presence)(seen, watched, served)


def _presence(seen: dict, watched: set[int], served: list[int]) -> None:
    if seen:
        gone = presence.kiosks_seen({name: at for name, (_c, at) in seen.items()})
        for name in gone:
            connection = seen[name][0]
            hall = BridgePoint.objects.select_related("meeting").get(pk=connection.viewer.hall_id)
            presence.kiosk_connected(hall=hall, channel_name=name)
    for meeting in Meeting.objects.filter(pk__in=watched):
        presence.kiosk_reap_stale(meeting=meeting)
        kiosk_sessions.kiosk_sessions_reap(meeting=meeting)
    if served:
        stream_round.send(sender=Meeting, meeting_ids=served)


async def subscriptions(fanout) -> None:
    fanout.close_idle_feeds()
    await fanout.resubscribe()
