"""Moving a hall between tiers by what its receiver reports say about its link.

aiortc honours no bandwidth feedback on pre-encoded packets (no REMB, no transport-cc), so the
hub watches the loss and round-trip time in the hall's RTCP receiver reports: sustained bad
figures move the hall down a tier at once-ish, and only a long run of good ones moves it back
up (hysteresis), so a hall does not flap between tiers on a shaky link.

Two rules come from bench/weaklink (150 kbit/s, 5% loss, 200 ms round trip; 2026-11-26). A hall
starts on the high tier and floods such a link, whose queue then holds seconds of those packets;
the reports after the move down still describe them (half the packets lost, 0.6 s round trip,
on a low tier the link carries well once the queue has drained), and used to push the hall
straight on to sound only. So reports are let pass for a while after a move down. And a hall on
sound only climbed back only after a run of reports each under the bar, which almost never
happened on a link whose random loss sits near the bar; so from sound only, the run's average
loss counts.
"""

from collections import deque
from dataclasses import dataclass, field

from meetings.rooms.media.tiers import Tier, higher, lower

DOWN_LOSS = 0.08  # fraction of packets lost
DOWN_RTT = 0.8  # seconds
UP_LOSS = 0.02
# From sound only back to the low tier, which is made for lossy links (small frames, FEC in the
# sound, resends): a link with a few percent of random loss carries it, so only a loss at which
# the hall would go down again keeps it on sound only.
UP_LOSS_FROM_AUDIO = 0.06
UP_RTT = 0.35
DOWN_AFTER = 2  # consecutive bad reports
UP_AFTER = 8  # consecutive good reports (reports come every ~2 s)
# After a move down, this many reports (about ten seconds) are let pass: they still describe
# what the higher tier left queued on the link.
SETTLE_AFTER_DOWN = 5


@dataclass
class LinkQuality:
    tier: Tier = Tier.HIGH
    pinned: Tier | None = None
    loss: float | None = None
    rtt: float | None = None
    bad: int = 0
    good: int = 0
    settling: int = 0  # reports still to let pass after a move down
    # The losses of the current run of good reports (the newest UP_AFTER), for climbing from
    # sound only.
    losses: deque = field(default_factory=lambda: deque(maxlen=UP_AFTER))
    history: list[Tier] = field(default_factory=list)

    def report(self, *, loss: float | None, rtt: float | None) -> Tier:
        """Take one report; returns the tier the hall should be on now."""
        self.loss, self.rtt = loss, rtt
        if self.pinned is not None:
            self._move(self.pinned)
            return self.tier
        if loss is None and rtt is None:
            return self.tier
        if self.settling:
            self.settling -= 1
            return self.tier
        bad = (loss or 0) > DOWN_LOSS or (rtt or 0) > DOWN_RTT
        if self.tier == Tier.AUDIO:
            # From sound only, any report neither bad nor slow continues the run; the run's
            # average loss decides the climb.
            good = not bad and (rtt or 0) < UP_RTT
        else:
            good = (loss or 0) < UP_LOSS and (rtt or 0) < UP_RTT
        self.bad = self.bad + 1 if bad else 0
        if good:
            self.good += 1
            self.losses.append(loss or 0)
        else:
            self.good = 0
            self.losses.clear()
        if self.bad >= DOWN_AFTER:
            self._move(lower(self.tier))
        elif self.good >= UP_AFTER and self._run_loss_fits():
            self._move(higher(self.tier))
        return self.tier

    def _run_loss_fits(self) -> bool:
        if self.tier != Tier.AUDIO:
            return True  # each report of the run was already under UP_LOSS
        return sum(self.losses) / len(self.losses) < UP_LOSS_FROM_AUDIO

    def pin(self, tier: Tier | None) -> Tier:
        if tier != self.pinned:
            # What was counted under the old pin (or before it) says nothing of the new one.
            self.settling = self.bad = self.good = 0
            self.losses.clear()
        self.pinned = tier
        if tier is not None:
            self._move(tier)
        return self.tier

    def _move(self, tier: Tier) -> None:
        if tier != self.tier:
            down = self.pinned is None and tier == lower(self.tier)
            self.tier = tier
            self.history.append(tier)
            self.settling = SETTLE_AFTER_DOWN if down else 0
        self.bad = self.good = 0
        self.losses.clear()
