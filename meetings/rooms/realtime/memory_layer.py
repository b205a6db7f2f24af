"""The in-memory channel layer of the single-process default, made to carry a large meeting.

Channels' InMemoryChannelLayer walks every channel and every group membership to drop expired
messages on each send, group send and receive. Each event reaches every connection through one
receive, so an event costs connections² steps: with 2,000 phones about a second of the event
loop's time per event (measured by bench/realtime). Expired messages are dropped at most once
a second instead; they expire after a minute anyway, and nothing depends on the layer (a
doorbell, docs/architecture.md).
"""

import contextlib
import time

from channels.exceptions import ChannelFull
from channels.layers import InMemoryChannelLayer as ChannelsInMemoryChannelLayer

CLEAN_EVERY_SECONDS = 1.0


class InMemoryChannelLayer(ChannelsInMemoryChannelLayer):
    _cleaned_at = float("-inf")

    def _clean_expired(self):
        now = time.monotonic()
        if now - self._cleaned_at < CLEAN_EVERY_SECONDS:
            return
        self._cleaned_at = now
        super()._clean_expired()

    async def group_send(self, group, message):
        """As Channels' own, without a task per member. Our send never waits (the queues are
        unbounded in time, bounded in size: a full one raises at once), so awaiting each in turn
        is the same delivery; Channels' task per member and ``as_completed`` over them took about
        a sixth of the web node's profile samples with 2,000 screens connected (bench/realtime,
        py-spy)."""
        assert isinstance(message, dict), "Message is not a dict"
        self.require_valid_group_name(group)
        self._clean_expired()
        for channel in list(self.groups.get(group, ())):
            with contextlib.suppress(ChannelFull):
                await self.send(channel, message)
