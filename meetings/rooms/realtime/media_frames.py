"""The meeting websocket's media frames: signalling to the hub, and kiosks' thumbnails.

Mixed into MeetingConsumer. Signalling goes to the meeting's hub through the gateway (a
thread of this process, or a media worker over Redis); the hub's answers and link figures come
back as ``media.frame`` channel messages, forwarded to the client as they are.
"""

import time

from django.core.cache import cache
from django.utils import timezone
from django.utils.translation import gettext as _

from meetings.rooms.errors import Forbidden, HallHeldElsewhere
from meetings.rooms.media.gateway import gateway
from meetings.rooms.media.hub import Role
from meetings.rooms.models import Audience
from meetings.rooms.realtime import frames, groups
from meetings.rooms.record import format_time
from meetings.rooms.viewers import ViewerKind, require_hall_screen

THUMBNAIL_EVERY_SECONDS = 2.0
THUMBNAIL_CACHE_SECONDS = 120


def thumbnail_key(meeting_id: int, hall_id: int) -> str:
    return f"thumbnail:{meeting_id}:{hall_id}"


class MediaFrames:
    joined_media = False
    last_thumbnail = 0.0

    def _media_role(self, send: bool) -> Role:
        viewer = self.viewer
        if viewer.is_hall_screen:
            # Only the screen that holds its hall is the hall (or the studio) at the hub; the
            # hub keeps one peer per hall, the newest of this screen's.
            return Role.STUDIO if self._hall_is_studio else Role.HALL
        if viewer.kind == ViewerKind.OPERATOR and viewer.link_id is None:
            # A bridge-point operator's account is not the hall's screen: it watches.
            return Role.MONITOR
        if viewer.kind == ViewerKind.OPERATOR:
            raise HallHeldElsewhere()
        if viewer.kind == ViewerKind.CANDIDATE:
            return Role.CANDIDATE if send else Role.MONITOR
        if viewer.can_moderate:
            return Role.MODERATOR if send else Role.MONITOR
        if viewer.kind == ViewerKind.OBSERVER:
            return Role.MONITOR
        raise Forbidden(_("The programme is shown on the hall's screen, not on phones."))

    async def on_media_offer(self, frame: frames.MediaOfferFrame):
        role = self._media_role(frame.send)
        self.joined_media = True
        await gateway().send(
            self.meeting_id,
            {
                "type": "media.offer",
                "peer": self.channel_name,
                "reply_to": self.channel_name,
                "role": role.value,
                "hall": self.viewer.hall_id,
                "sdp": frame.sdp,
            },
        )

    async def on_media_candidate(self, frame: frames.MediaCandidateFrame):
        if self.joined_media:
            await gateway().send(
                self.meeting_id,
                {
                    "type": "media.candidate",
                    "peer": self.channel_name,
                    "candidate": frame.candidate.model_dump(),
                },
            )

    async def on_media_leave(self, frame: frames.MediaLeaveFrame | None = None):
        if self.joined_media:
            self.joined_media = False
            await gateway().send(
                self.meeting_id, {"type": "media.leave", "peer": self.channel_name}
            )

    async def on_thumbnail(self, frame: frames.ThumbnailFrame):
        require_hall_screen(self.viewer)
        now = time.monotonic()
        if now - self.last_thumbnail < THUMBNAIL_EVERY_SECONDS:
            return  # too soon: the grid needs a picture every few seconds, not more
        self.last_thumbnail = now
        thumbnail = {
            "type": "thumbnail",
            "hall": self.viewer.hall_id,
            "image": frame.image,
            "at": format_time(timezone.now()),
        }
        cache.set(
            thumbnail_key(self.meeting_id, self.viewer.hall_id), thumbnail, THUMBNAIL_CACHE_SECONDS
        )
        await self.channel_layer.group_send(
            groups.screens(self.meeting_id, Audience.STAFF),
            {"type": "media.frame", "frame": thumbnail},
        )

    async def media_frame(self, message):
        """From the hub (answers, link figures) or a kiosk (thumbnails): pass it on."""
        if self.viewer is not None:
            await self.send(text_data=frames.dumps(message["frame"]))
