"""Why a target was missed: notes drawn from a run's own figures, for the results' ``notes``.

Each note is written only when the figures show what it says, so a later run on another
machine (or with a fix in place) says only what it saw.
"""

from meetings.rooms.media.tiers import TIERS, Tier

NAMES = {"adaptive": "placed by the hub", "low": "pinned low", "audio": "pinned audio-only"}


def notes(cases: dict[str, dict], *, rate_kbit: float) -> list[str]:
    found = []
    for case, run in cases.items():
        if "error" in run:
            continue
        name = NAMES.get(case, case)
        steady = run["steady"]
        audio = steady["audio"]
        if audio["samples_received"] and not audio["element_playing_ratio"]:
            found.append(
                f"{name}: audio packets arrived but the kiosk's programme element never started "
                f"playing (readyState {(run.get('sound') or {}).get('ready_state')}, its clock "
                "stood still, no sound energy): Chromium starts a <video> whose stream holds a "
                "video track on that track's first frame, and this hall got no video frame, so "
                "it heard nothing. frontend/js/media.js puts the programme's audio and video "
                "tracks in one MediaStream on the <video>."
            )
        kinds = run.get("downlink_by_kind") or {}
        resent = kinds.get("rtx", {}).get("offered_kbps") or 0
        video = kinds.get("vp8", {}).get("offered_kbps") or 0
        if resent > max(video, 10):
            total = round(sum(kind["offered_kbps"] for kind in kinds.values()), 1)
            found.append(
                f"{name}: retransmissions were {resent} of the {total} kbit/s sent towards the "
                f"hall, {resent / max(video, 1):.0f}x the video they repair: aiortc resends a "
                "packet every time the receiver NACKs it, without limit "
                "(RTCRtpSender._retransmit), and on a queue seconds long the receiver NACKs "
                "the same packets again before the resends arrive."
            )
        if case == "adaptive":
            starts = _starts_on_high(run)
            if starts:
                found.append(
                    f"{name}: the hub put it on the high tier at "
                    f"{', '.join(f'{t:g} s' for t in starts)} "
                    f"({TIERS[Tier.HIGH].video.bitrate // 1000} kbit/s of video on a {rate_kbit:g} "
                    "kbit/s link): a hall's first connection starts there; the hub learns "
                    "its link from the receiver reports and moves it down, and a reconnecting "
                    "hall starts on the tier it had."
                )
        if run["rebuilds"]:
            found.append(
                f"{name}: the kiosk rebuilt its connection {run['rebuilds']} time(s) "
                f"(last: {run['last_retry_reason']}; media.js gives up after 12 s without a "
                "first frame, or 4 s without a new one)."
            )
        queue = (run.get("link_downlink") or {}).get("queue_ms_median_of_seconds") or 0
        hub = run.get("hub") or {}
        if (
            hub.get("reports")
            and hub["reports_without_rtt"] / hub["reports"] > 0.5
            and queue > 1000
        ):
            found.append(
                f"{name}: the hub had no round-trip time in {hub['reports_without_rtt']} of its "
                f"{hub['reports']} reports on the hall, while the link's queue held about "
                f"{queue / 1000:.1f} s (median over the seconds): aiortc computes it only from a "
                "report on its latest sender report, and with a queue longer than the report "
                "interval none is; the hub then judged by loss alone."
            )
        studio = run.get("studio_reference") or {}
        if (studio.get("packets_per_second") or 50) < 48:
            found.append(
                f"{name}: meanwhile the studio, on no weak link, received "
                f"{studio['packets_per_second']} of 50 audio packets/s and concealed "
                f"{studio['concealed_ratio']:.1%}: the hub's 20 ms audio clock skips a step it "
                "is more than a step late for (MeetingHub._clock), so its load reaches every hall."
            )
    return found


def _starts_on_high(run: dict) -> list[float]:
    """When the hub had the hall on the high tier: its first report, and every return."""
    starts, previous = [], None
    for change in run["tier_changes"]:
        if change["tier"] == "high" and previous != "high":
            starts.append(change["t"])
        previous = change["tier"]
    return starts
