"""Daphne with a proposed product change applied in memory, to try a fix without editing the
product. Only ``run.py --try-*`` uses this; results made with it say so in
``product_overrides``, and run.py refuses to write them over bench/results/weaklink.json.

- ``WEAKLINK_LOW_VIDEO_KBPS`` / ``WEAKLINK_LOW_AUDIO_KBPS``: the low tier's bitrates. The hub
  builds its encoders from ``tiers.TIERS`` when it starts, so changing the dict first is enough.
- ``WEAKLINK_RETRANSMIT_INTERVAL_S``: aiortc resends an RTP packet every time a receiver
  NACKs it (RTCRtpSender._retransmit), with no limit; on a congested link the receiver NACKs
  the same packets again and again and the resends swamp the link. With this set, each
  packet is resent at most once per that many seconds.

    WEAKLINK_RETRANSMIT_INTERVAL_S=1 python -m bench.weaklink.daphne_overrides <daphne args>
"""

import math
import os
import sys
import time
from dataclasses import replace


def apply() -> dict:
    applied = {}
    video = os.environ.get("WEAKLINK_LOW_VIDEO_KBPS")
    audio = os.environ.get("WEAKLINK_LOW_AUDIO_KBPS")
    if video or audio:
        from meetings.rooms.media.tiers import TIERS, Tier

        low = TIERS[Tier.LOW]
        if video:
            low = replace(low, video=replace(low.video, bitrate=int(float(video) * 1000)))
        if audio:
            low = replace(low, audio_bitrate=int(float(audio) * 1000))
        TIERS[Tier.LOW] = low
        applied["low_tier"] = {"video": low.video.bitrate, "audio": low.audio_bitrate}
    interval = os.environ.get("WEAKLINK_RETRANSMIT_INTERVAL_S")
    if interval:
        limit_retransmissions(float(interval))
        applied["retransmit_interval_s"] = float(interval)
    return applied


def limit_retransmissions(interval: float) -> None:
    from aiortc.rtcrtpsender import RTCRtpSender

    original = RTCRtpSender._retransmit

    async def _retransmit(self, sequence_number: int) -> None:
        resent = self.__dict__.setdefault("_weaklink_resent", {})
        now = time.monotonic()
        if now - resent.get(sequence_number, -math.inf) < interval:
            return
        resent[sequence_number] = now
        if len(resent) > 4096:
            for number, at in list(resent.items()):
                if now - at >= interval:
                    del resent[number]
        await original(self, sequence_number)

    RTCRtpSender._retransmit = _retransmit


if __name__ == "__main__":
    print(f"weaklink: product overridden in memory: {apply()}", flush=True)
    from daphne.cli import CommandLineInterface

    sys.argv[0] = "daphne"
    CommandLineInterface.entrypoint()
