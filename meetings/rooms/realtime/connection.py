"""One screen's websocket as the stream sees it: who it is, how far it has been sent, and how
frames reach it. Plain data, with no socket of its own: the consumer makes one and hands it to
its web process's fan-out (fanout.py)."""

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum

from meetings.rooms.models import Audience
from meetings.rooms.realtime.wire import Frame, Outlet
from meetings.rooms.viewers import Viewer


class Delivery(Enum):
    WAITING = "waiting"  # admitted, no hello yet: nothing is sent until the client asks
    CATCHING_UP = "catching_up"  # behind: sent from the stream's copy (or the record) alone
    LIVE = "live"  # on the fast path: each new event is written as it comes
    CLOSED = "closed"


@dataclass(eq=False)
class Connection:
    viewer: Viewer
    outlet: Outlet
    channel_name: str
    # Asks the consumer to close the socket with this code (a refusal found later).
    close: Callable[[int], Awaitable[None]]
    link_token: str | None = None
    kiosk_token: str | None = None  # the kiosk session's token a screen connected with
    link_expires_at: datetime | None = None
    # An account's connection: the session that admitted it, and what of the account its
    # admission depended on (admission.account_stamp), compared every stream check.
    session_key: str | None = None
    account_stamp: tuple | None = None
    # Every event this viewer may see up to here has been sent (when LIVE or CATCHING_UP).
    cursor: int = 0
    delivery: Delivery = Delivery.WAITING
    # A replay asked with hello since: answered with "synced" once caught up.
    owes_synced: bool = False
    # Counts hellos: a catch-up started for an earlier one stops when it sees a newer one.
    generation: int = 0
    last_heard: float = field(default_factory=time.monotonic)

    @property
    def meeting_id(self) -> int:
        return self.viewer.meeting_id

    @property
    def audience(self) -> Audience:
        return self.viewer.audience

    @property
    def user_id(self) -> int | None:
        return None if self.viewer.link_id is not None else self.viewer.actor.user_id

    @property
    def is_kiosk(self) -> bool:
        """The hall's own screen: the one that holds its hall (kiosk session)."""
        return self.viewer.is_hall_screen

    def send_text(self, text: str) -> None:
        """A frame of its own (welcome, pong, a snapshot), after everything sent before it."""
        self.outlet.send(Frame(text))

    def heard(self) -> None:
        self.last_heard = time.monotonic()
