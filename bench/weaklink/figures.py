"""Figures from the per-second samples of one run.

A sample is what bench.weaklink.browser.SAMPLE returned, plus ``t`` (seconds since the
kiosk's first programme media), ``iface`` (the hall side's interface counters) and
``shaper`` (the link's own counters). getStats counters start again at zero when the kiosk
rebuilds its connection; ``cumulative`` joins the connections' counts into one series.
"""

import itertools
import statistics

AUDIO_RATE = 48_000
# The kiosk rebuilds a connection that has decoded no new frame for this long
# (STALL_MS in frontend/js/media.js): a gap this long is a stall by the product's own measure.
STALL_SECONDS = 4.0


def cumulative(samples: list[dict], kind: str, name: str) -> list[float | None]:
    """``kind`` is ``audio``, ``video`` or ``pair``; one value per sample (None before the
    first report of that kind)."""
    series: list[float | None] = []
    base = 0.0
    last_pc, last_value = None, None
    for sample in samples:
        report = sample.get(kind) or {}
        value = report.get(name)
        pc = sample.get("pc")
        if pc is not None and pc != last_pc and last_pc is not None and last_value is not None:
            base += last_value  # a new connection: its counters start from zero
            last_value = None
        if pc is not None:
            last_pc = pc
        if value is None:
            series.append(None if last_value is None and base == 0 else base + (last_value or 0))
            continue
        last_value = value
        series.append(base + value)
    return series


def _delta(series: list[float | None], start: int, end: int) -> float | None:
    first = next((v for v in series[start : end + 1] if v is not None), None)
    last = next((v for v in reversed(series[start : end + 1]) if v is not None), None)
    if first is None or last is None:
        return None
    return last - first


def _kbps(byte_count: float | None, seconds: float) -> float | None:
    if byte_count is None or seconds <= 0:
        return None
    return round(byte_count * 8 / seconds / 1000, 1)


def _ratio(part: float | None, whole: float | None, digits: int = 4) -> float | None:
    if part is None or not whole:
        return None
    return round(part / whole, digits)


def _shaper(sample: dict, direction: str, name: str) -> float | None:
    return (sample.get("shaper") or {}).get(direction, {}).get(name)


def window(samples: list[dict], start_t: float) -> dict:
    """The figures from the first sample at or after ``start_t`` to the last sample."""
    start = next((i for i, s in enumerate(samples) if s["t"] >= start_t), None)
    if start is None or start >= len(samples) - 1:
        return {"seconds": 0}
    end = len(samples) - 1
    seconds = samples[end]["t"] - samples[start]["t"]

    def delta(kind, name):
        return _delta(cumulative(samples, kind, name), start, end)

    received = delta("audio", "totalSamplesReceived")
    concealed = delta("audio", "concealedSamples")
    silent = delta("audio", "silentConcealedSamples")
    emitted = delta("audio", "jitterBufferEmittedCount")
    buffer_delay = delta("audio", "jitterBufferDelay")
    audio_packets = delta("audio", "packetsReceived")
    audio_lost = delta("audio", "packetsLost")
    concealed_series = cumulative(samples, "audio", "concealedSamples")
    received_series = cumulative(samples, "audio", "totalSamplesReceived")
    worst_second = 0.0
    for i in range(start + 1, end + 1):
        got = (received_series[i] or 0) - (received_series[i - 1] or 0)
        hidden = (concealed_series[i] or 0) - (concealed_series[i - 1] or 0)
        if got > 0:
            worst_second = max(worst_second, hidden / got)
    audio = {
        "samples_received": received,
        "playout_seconds": round(received / AUDIO_RATE, 1) if received else 0,
        "concealed_samples": concealed,
        "silent_concealed_samples": silent,
        "concealed_ratio": _ratio(concealed, received),
        "audible_concealed_ratio": _ratio(
            None if concealed is None else concealed - (silent or 0), received
        ),
        "worst_second_concealed_ratio": round(worst_second, 3),
        "concealment_events": delta("audio", "concealmentEvents"),
        "concealment_events_per_minute": round(
            (delta("audio", "concealmentEvents") or 0) / seconds * 60, 1
        ),
        "inserted_samples_for_deceleration": delta("audio", "insertedSamplesForDeceleration"),
        "removed_samples_for_acceleration": delta("audio", "removedSamplesForAcceleration"),
        "packets_received": audio_packets,
        "packets_lost": audio_lost,
        # 50 a second if the hub sends every 20 ms tick: fewer means it skipped ticks.
        "packets_per_second": round(((audio_packets or 0) + (audio_lost or 0)) / seconds, 1),
        "packet_loss_ratio": _ratio(audio_lost, (audio_packets or 0) + (audio_lost or 0)),
        "fec_packets_received": delta("audio", "fecPacketsReceived"),
        "jitter_ms_last": _last_ms(samples, "audio", "jitter"),
        "jitter_ms_max": _max_ms(samples[start:], "audio", "jitter"),
        "jitter_buffer_ms_mean": round(1000 * buffer_delay / emitted, 1) if emitted else None,
        "kbps_rtp": _kbps(
            _sum(delta("audio", "bytesReceived"), delta("audio", "headerBytesReceived")), seconds
        ),
        # Mean square level of what the browser played (0: it played silence, or nothing).
        "played_energy_per_s": _ratio(delta("audio", "totalAudioEnergy"), seconds, 6),
        "element_playing_ratio": _playing(samples[start : end + 1]),
    }

    decoded = cumulative(samples, "video", "framesDecoded")
    longest_gap, gap_start = 0.0, None
    for i in range(start, end + 1):
        grew = i > start and decoded[i] is not None and decoded[i] > (decoded[i - 1] or 0)
        if grew or gap_start is None:
            gap_start = samples[i]["t"]
        longest_gap = max(longest_gap, samples[i]["t"] - gap_start)
    sizes = sorted(
        {
            f"{s['video']['frameWidth']}x{s['video']['frameHeight']}"
            for s in samples[start:]
            if s.get("video") and s["video"].get("frameWidth")
        }
    )
    frames = _delta(decoded, start, end)
    video = {
        "frames_decoded": frames,
        "fps": round(frames / seconds, 1) if frames is not None else None,
        "frame_sizes": sizes,
        "frame_size_last": sizes and _last_size(samples),
        "longest_gap_without_a_new_frame_s": round(longest_gap, 1),
        "freeze_count": delta("video", "freezeCount"),
        "freezes_seconds": _round(delta("video", "totalFreezesDuration")),
        "pause_count": delta("video", "pauseCount"),
        "keyframes_decoded": delta("video", "keyFramesDecoded"),
        "frames_dropped": delta("video", "framesDropped"),
        "packets_received": delta("video", "packetsReceived"),
        "packets_lost": delta("video", "packetsLost"),
        "nack_count": delta("video", "nackCount"),
        "pli_count": delta("video", "pliCount"),
        "kbps_rtp": _kbps(
            _sum(delta("video", "bytesReceived"), delta("video", "headerBytesReceived")), seconds
        ),
    }

    tiers: dict[str, float] = {}
    for previous, sample in zip(samples[start:end], samples[start + 1 : end + 1], strict=True):
        tier = (previous.get("figures") or {}).get("tier") or "unknown"
        tiers[tier] = round(tiers.get(tier, 0) + sample["t"] - previous["t"], 1)
    first, last = samples[start], samples[end]
    iface = {"rx": None, "tx": None}
    if "iface" in last:
        for direction in iface:
            key = f"{direction}_bytes"
            iface[direction] = _kbps(last["iface"][key] - first["iface"][key], seconds)
    udp_kbps = None
    if _shaper(last, "down", "delivered_udp_bytes") is not None:
        # Over the emulator's own clock: its counters are written once a second.
        udp = (_shaper(last, "down", "delivered_udp_bytes") or 0) - (
            _shaper(first, "down", "delivered_udp_bytes") or 0
        )
        udp_kbps = _kbps(udp, last["shaper"]["t"] - first["shaper"]["t"])
    bytes_ = {
        "rtp_kbps": _kbps(
            _sum(
                delta("audio", "bytesReceived"),
                delta("audio", "headerBytesReceived"),
                delta("video", "bytesReceived"),
                delta("video", "headerBytesReceived"),
            ),
            seconds,
        ),
        "ice_kbps": _kbps(delta("pair", "bytesReceived"), seconds),
        "ip_udp_kbps": udp_kbps,
        "interface_rx_kbps": iface["rx"],
        "interface_tx_kbps": iface["tx"],
    }
    rtts = [
        (s.get("figures") or {}).get("rtt")
        for s in samples[start:]
        if (s.get("figures") or {}).get("rtt") is not None
    ]
    losses = [
        (s.get("figures") or {}).get("loss")
        for s in samples[start:]
        if (s.get("figures") or {}).get("loss") is not None
    ]
    return {
        "from_s": round(first["t"], 1),
        "seconds": round(seconds, 1),
        "audio": audio,
        "video": video,
        "received": bytes_,
        "tier_seconds": tiers,
        "hub_saw": {
            "rtt_ms_median": round(1000 * statistics.median(rtts)) if rtts else None,
            "loss_median": round(statistics.median(losses), 3) if losses else None,
        },
        "connections": len({s.get("pc") for s in samples[start:] if s.get("pc")}),
    }


def link_summary(log: list[dict], direction: str) -> dict | None:
    """What the link did to one direction's packets over a case (the emulator's log)."""
    if not log:
        return None
    seconds = [entry[direction] for entry in log]

    def total(name):
        return sum(second.get(name, 0) for second in seconds)

    offered = total("offered_packets")
    means = [s["queue_ms_mean"] for s in seconds if s.get("queue_ms_mean") is not None]
    return {
        "offered_packets": offered,
        "lost_random": total("lost_packets"),
        "dropped_queue_full": total("overflow_packets"),
        "drop_ratio": _ratio(total("lost_packets") + total("overflow_packets"), offered),
        "queue_ms_median_of_seconds": round(statistics.median(means), 1) if means else None,
        "queue_ms_max": max((s.get("queue_ms_max") or 0) for s in seconds),
        "offered_kbps_mean": round(total("offered_bytes") * 8 / len(seconds) / 1000, 1),
    }


def by_kind(samples: list[dict], rtpmap: dict[str, str]) -> dict | None:
    """What was offered to the link towards the hall, and what it delivered, in kbit/s by
    what the packets carried (RTP by codec, ``rtx`` being retransmissions), over a case."""
    kinds = [(s.get("shaper") or {}).get("down_kinds") for s in samples]
    if not kinds or kinds[0] is None or kinds[-1] is None:
        return None
    first, last = kinds[0], kinds[-1]
    seconds = samples[-1]["shaper"]["t"] - samples[0]["shaper"]["t"]
    out: dict[str, dict] = {}
    for key in sorted(set(last)):
        if not key.endswith("_bytes"):
            continue
        stage, kind = key.removesuffix("_bytes").split("_", 1)
        if kind.startswith("rtp") and kind[3:] in rtpmap:
            kind = rtpmap[kind[3:]].lower()
        entry = out.setdefault(kind, {"offered_kbps": 0.0, "delivered_kbps": 0.0})
        entry[f"{stage}_kbps"] = round(
            entry[f"{stage}_kbps"] + (_kbps(last[key] - first.get(key, 0), seconds) or 0), 1
        )
    return out


def hub_view(timeline: list[dict], settle: float, end: float) -> dict | None:
    """The hub's own figures for the hall (``media.halls`` to staff, every ~2 s): ``timeline``
    holds ``{t, tier, loss, rtt, state}``, ``t`` in seconds from the first programme media;
    ``end`` is when the case's measuring ended."""
    if not timeline:
        return None
    changes, current = [], None
    for entry in timeline:
        if entry["tier"] != current:
            changes.append({"t": round(entry["t"], 1), "tier": entry["tier"]})
            current = entry["tier"]

    def seconds_on_tiers(start: float) -> dict[str, float]:
        spent: dict[str, float] = {}
        for entry, following in itertools.pairwise([*timeline, {"t": end}]):
            begin, finish = max(entry["t"], start), min(following["t"], end)
            if finish > begin:
                spent[entry["tier"]] = round(spent.get(entry["tier"], 0) + finish - begin, 1)
        return spent

    steady = [e for e in timeline if e["t"] >= settle]
    rtts = [e["rtt"] for e in steady if e.get("rtt") is not None]
    losses = [e["loss"] for e in steady if e.get("loss") is not None]
    return {
        "tier_changes": changes,
        "final_tier": timeline[-1]["tier"],
        "tier_seconds": {"whole": seconds_on_tiers(0), "steady": seconds_on_tiers(settle)},
        "reports": len(timeline),
        "reports_without_rtt": sum(1 for e in timeline if e.get("rtt") is None),
        "steady_rtt_ms_median": round(1000 * statistics.median(rtts)) if rtts else None,
        "steady_loss_median": round(statistics.median(losses), 3) if losses else None,
    }


def tier_changes(samples: list[dict]) -> list[dict]:
    """When the hub's reported tier changed, with the kiosk's connection at the time (each
    connection's first report counts as a change)."""
    changes, current, last_pc = [], None, None
    for sample in samples:
        if not sample.get("figures_fresh"):
            continue  # figures from the connection before, until the hub reports on this one
        tier = (sample.get("figures") or {}).get("tier")
        if tier and (tier != current or sample.get("pc") != last_pc):
            changes.append({"t": round(sample["t"], 1), "tier": tier, "pc": sample.get("pc")})
            current, last_pc = tier, sample.get("pc")
    return changes


def _playing(samples: list[dict]) -> float | None:
    """The share of seconds in which the clock of the element playing the programme's sound
    moved on: its own <audio> element (media.js), or the <video> on pages from before it."""
    times = [(s.get("sound") or s.get("element") or {}).get("current_time") for s in samples]
    pairs = [(a, b) for a, b in itertools.pairwise(times) if a is not None and b is not None]
    if not pairs:
        return None
    return round(sum(1 for a, b in pairs if b > a) / len(pairs), 2)


def _sum(*values):
    present = [v for v in values if v is not None]
    return sum(present) if present else None


def _round(value, digits=1):
    return None if value is None else round(value, digits)


def _last_ms(samples, kind, name):
    for sample in reversed(samples):
        value = (sample.get(kind) or {}).get(name)
        if value is not None:
            return round(value * 1000, 1)
    return None


def _max_ms(samples, kind, name):
    values = [(s.get(kind) or {}).get(name) for s in samples]
    values = [v for v in values if v is not None]
    return round(max(values) * 1000, 1) if values else None


def _last_size(samples):
    for sample in reversed(samples):
        video = sample.get("video") or {}
        if video.get("frameWidth"):
            return f"{video['frameWidth']}x{video['frameHeight']}"
    return None
