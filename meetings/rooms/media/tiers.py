"""Quality tiers: every hall on a tier receives the same encoded packets."""

from dataclasses import dataclass
from enum import StrEnum


class Tier(StrEnum):
    HIGH = "high"
    LOW = "low"
    AUDIO = "audio"  # sound only, for the weakest links


@dataclass(frozen=True)
class VideoSpec:
    width: int
    height: int
    fps: int
    bitrate: int


@dataclass(frozen=True)
class TierSpec:
    video: VideoSpec | None
    audio_bitrate: int  # Opus, mono, with in-band FEC


# The programme is composed at the high tier's size and clock; the low tier is a scaled copy
# at a lower frame rate. Audio bitrates leave room for FEC on lossy links.
#
# The low tier is for links of about 150 kbit/s, so the whole tier, not its video alone, must fit
# one: video, sound, packet headers and resends. bench/weaklink on a 150 kbit/s link with 5% loss
# (2026-11-26, `--cases low --try-low-video-kbps K`): with 150 kbit/s of video the link's queue
# overflowed, the kiosk showed 2.8 frames/s with gaps of 12 s and concealed 8% of the sound;
# with 110 it showed 12.1 frames/s, no gap over 3 s, 0.9% concealed; with 90, 13.6 frames/s and
# 0.8%. 100 keeps headroom for a link a little worse than that one.
#
# The low tier runs at 10 frames/s (15 until issue 14): on such a link the kiosk showed 12-14
# frames/s of the 15 sent anyway, the same 100 kbit/s spent on fewer pictures gives each more
# bits, and a province's day of many conferences spends a third less of the low tier's encoding.
TIERS: dict[Tier, TierSpec] = {
    Tier.HIGH: TierSpec(VideoSpec(640, 360, 25, 600_000), audio_bitrate=32_000),
    Tier.LOW: TierSpec(VideoSpec(320, 180, 10, 100_000), audio_bitrate=24_000),
    Tier.AUDIO: TierSpec(None, audio_bitrate=16_000),
}

PROGRAMME = TIERS[Tier.HIGH].video
FRAME_SECONDS = 1 / PROGRAMME.fps
AUDIO_RATE = 48_000
AUDIO_FRAME_SAMPLES = 960  # 20 ms
AUDIO_FRAME_SECONDS = AUDIO_FRAME_SAMPLES / AUDIO_RATE
# A keyframe at least this often on every tier, so a hall that lost one recovers on its own.
KEYFRAME_EVERY_SECONDS = 4
# A receiver asking for keyframes (PLI/FIR) gets at most one per tier this often.
KEYFRAME_MIN_INTERVAL = 0.5


def lower(tier: Tier) -> Tier:
    return {Tier.HIGH: Tier.LOW, Tier.LOW: Tier.AUDIO, Tier.AUDIO: Tier.AUDIO}[tier]


def higher(tier: Tier) -> Tier:
    return {Tier.AUDIO: Tier.LOW, Tier.LOW: Tier.HIGH, Tier.HIGH: Tier.HIGH}[tier]


def frames_on_tier(tier: Tier, tick: int) -> bool:
    """Whether the programme frame of ``tick`` is encoded on ``tier`` (10 of every 25 on low)."""
    spec = TIERS[tier].video
    if spec is None:
        return False
    return (tick * spec.fps) // PROGRAMME.fps != ((tick - 1) * spec.fps) // PROGRAMME.fps
