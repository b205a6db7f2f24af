"""At most one resend of a packet, to each hall.

aiortc resends a packet every time the receiver's NACK names it, without limit. On a weak link
with a long queue the browser names the same packets again and again before the first resends
arrive, and the resends crowd out the new packets: measured by bench/weaklink on a 150 kbit/s
link, 723 of the 890 kbit/s sent to a hall were resends, and its sound broke up. One resend
per packet recovers a random loss (at 5% loss, 95% of the lost packets) and drops the storm;
resending again every second still offered the weak link 95 kbit/s of resends on top of the
stream, over what it carries.

This replaces a private method of aiortc's RTCRtpSender (``_retransmit``); aiortc is pinned
exactly and tests/media/test_units.py covers it.
"""

import time

from aiortc import RTCRtpSender

# Once per packet in practice: a packet resent this long ago is too old to be played anyway.
RESEND_INTERVAL_SECONDS = 10.0
REMEMBERED = 2048  # sequence numbers; older ones are forgotten


def limit_retransmissions(sender: RTCRtpSender) -> None:
    resend = sender._retransmit
    last_sent: dict[int, float] = {}

    async def retransmit(sequence_number: int) -> None:
        now = time.monotonic()
        if now - last_sent.get(sequence_number, float("-inf")) < RESEND_INTERVAL_SECONDS:
            return
        last_sent[sequence_number] = now
        if len(last_sent) > REMEMBERED:
            for old in [
                seq for seq, at in last_sent.items() if now - at >= RESEND_INTERVAL_SECONDS
            ]:
                del last_sent[old]
            while len(last_sent) > REMEMBERED:  # a burst within 10 s: forget the oldest
                del last_sent[next(iter(last_sent))]
        await resend(sequence_number)

    sender._retransmit = retransmit
