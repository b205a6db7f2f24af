"""The hub's parts on their own: mixing, composing, adapting, keyframes."""

import av
import numpy as np
import pytest

from meetings.rooms.media.adaptation import (
    DOWN_AFTER,
    SETTLE_AFTER_DOWN,
    UP_AFTER,
    LinkQuality,
)
from meetings.rooms.media.compositor import INSET_HEIGHT, INSET_WIDTH, Layout, compose
from meetings.rooms.media.encoders import VideoEncoder
from meetings.rooms.media.mixer import AudioInput, mix
from meetings.rooms.media.recorder import cut_clip
from meetings.rooms.media.tiers import PROGRAMME, TIERS, Tier, frames_on_tier


def solid(rgb, width=640, height=360) -> av.VideoFrame:
    image = np.zeros((height, width, 3), np.uint8)
    image[:, :] = rgb
    return av.VideoFrame.from_ndarray(image, format="rgb24")


def rgb_at(planes, x, y):
    return planes.frame().to_ndarray(format="rgb24")[y, x].astype(int)


def close(a, b, tolerance=25):
    return all(abs(int(p) - int(q)) <= tolerance for p, q in zip(a, b, strict=True))


def test_layouts_place_the_studio_and_the_hall():
    red, green = solid((220, 30, 30)), solid((30, 220, 30), 320, 240)
    inset = compose(Layout.INSET, red, green)
    assert close(rgb_at(inset, 100, 100), (220, 30, 30))
    # The hall top right (the halls' screens keep that corner free); the studio elsewhere.
    inset_x = PROGRAMME.width - INSET_WIDTH // 2 - 16
    inset_y = INSET_HEIGHT // 2 + 16
    assert close(rgb_at(inset, inset_x, inset_y), (30, 220, 30))
    assert close(rgb_at(inset, inset_x, PROGRAMME.height - inset_y), (220, 30, 30))
    assert close(rgb_at(compose(Layout.HALL, red, green), 320, 180), (30, 220, 30))
    side = compose(Layout.SIDE_BY_SIDE, red, green)
    assert close(rgb_at(side, 160, 180), (220, 30, 30)) and close(
        rgb_at(side, 480, 180), (30, 220, 30)
    )
    # Without a hall holding the floor every layout is the studio.
    for layout in Layout:
        assert close(rgb_at(compose(layout, red, None), 600, 340), (220, 30, 30))
    assert rgb_at(compose(Layout.STUDIO, None, None), 320, 180).max() < 30  # black


def test_mix_minus_leaves_out_each_sources_own_voice():
    a = np.full(960, 1000, np.int16)
    b = np.full(960, 300, np.int16)
    programme, minus = mix({"studio": a, "hall": b})
    assert programme[0] == 1300
    assert minus["hall"][0] == 1000 and minus["studio"][0] == 300


def test_one_voice_is_the_programme_and_its_own_mix_minus_is_silence():
    voice = np.full(960, 1000, np.int16)
    programme, minus = mix({"studio": voice})
    assert np.array_equal(programme, voice)
    assert set(minus) == {"studio"} and not minus["studio"].any()


def test_mix_clips_instead_of_wrapping_around():
    loud = np.full(960, 30000, np.int16)
    programme, _minus = mix({"a": loud, "b": loud})
    assert programme[0] == 32767


def test_audio_input_turns_browser_frames_into_20ms_mono_chunks():
    source = AudioInput()
    stereo = np.zeros((1, 1920), np.int16)
    stereo[0, ::2] = 1000  # left
    stereo[0, 1::2] = 1000  # right
    frame = av.AudioFrame.from_ndarray(stereo, format="s16", layout="stereo")
    frame.sample_rate = 48000
    for _ in range(3):
        source.push(frame)
    chunks = [source.take() for _ in range(3)]
    assert all(chunk is not None and len(chunk) == 960 for chunk in chunks)
    assert abs(int(chunks[-1][500]) - 1000) < 50
    assert source.take() is None  # nothing more: silent, not stale


def test_low_tier_runs_10_of_every_25_frames():
    assert sum(frames_on_tier(Tier.LOW, tick) for tick in range(1, 26)) == 10
    assert sum(frames_on_tier(Tier.HIGH, tick) for tick in range(1, 26)) == 25
    assert not any(frames_on_tier(Tier.AUDIO, tick) for tick in range(25))


def test_a_bad_link_moves_down_fast_and_up_slowly():
    link = LinkQuality()
    for _ in range(DOWN_AFTER):
        link.report(loss=0.2, rtt=0.1)
    assert link.tier == Tier.LOW
    for _ in range(SETTLE_AFTER_DOWN + DOWN_AFTER):
        link.report(loss=0.01, rtt=1.5)
    assert link.tier == Tier.AUDIO
    for _ in range(SETTLE_AFTER_DOWN + UP_AFTER - 1):
        link.report(loss=0.0, rtt=0.05)
    assert link.tier == Tier.AUDIO  # not yet: one good spell is not enough
    link.report(loss=0.0, rtt=0.05)
    assert link.tier == Tier.LOW
    # A single bad report in a good run does not move it.
    link.report(loss=0.3, rtt=0.05)
    link.report(loss=0.0, rtt=0.05)
    assert link.tier == Tier.LOW


def test_reports_just_after_a_move_down_describe_the_old_tier_and_are_let_pass():
    # The hub's figures in bench/weaklink (150 kbit/s, 5% loss): the high tier floods the link;
    # once on the low tier, the next reports still count what was queued before the move.
    link = LinkQuality()
    for loss in (0.664, 0.172):
        link.report(loss=loss, rtt=None)
    assert link.tier == Tier.LOW
    for loss, rtt in [(0.496, None), (0.535, None), (0.535, 0.635), (0.535, 0.357), (0.3, 0.6)]:
        link.report(loss=loss, rtt=rtt)
    assert link.tier == Tier.LOW
    for _ in range(UP_AFTER):
        link.report(loss=0.05, rtt=0.29)
    assert link.tier == Tier.LOW  # and no higher: HD needs a clean link
    # Bad figures after that are the low tier's own: down it goes.
    for _ in range(DOWN_AFTER):
        link.report(loss=0.3, rtt=0.29)
    assert link.tier == Tier.AUDIO


def test_from_sound_only_a_hall_climbs_on_the_average_loss_of_its_run():
    # Sound only on that link: random loss around 5%, a few reports above the 6% bar.
    run = [0.047, 0.027, 0.062, 0.078, 0.043, 0.051, 0.047, 0.062]
    link = LinkQuality(tier=Tier.AUDIO)
    for loss in run[:-1]:
        link.report(loss=loss, rtt=0.29)
    assert link.tier == Tier.AUDIO
    link.report(loss=run[-1], rtt=0.29)
    assert link.tier == Tier.LOW
    # Each report may be over the bar, the first one too: the run's average counts.
    link = LinkQuality(tier=Tier.AUDIO)
    for loss in [0.065] + [0.04] * (UP_AFTER - 1):
        link.report(loss=loss, rtt=0.29)
    assert link.tier == Tier.LOW
    # A bad or slow report in the run starts it again.
    for spoiler in ({"loss": 0.2, "rtt": 0.29}, {"loss": 0.04, "rtt": 0.5}):
        link = LinkQuality(tier=Tier.AUDIO)
        for index, loss in enumerate(run):
            link.report(**(spoiler if index == 3 else {"loss": loss, "rtt": 0.29}))
        assert link.tier == Tier.AUDIO


def test_a_pin_starts_the_count_afresh():
    link = LinkQuality()
    for _ in range(DOWN_AFTER):
        link.report(loss=0.3, rtt=0.1)
    assert (link.tier, link.settling) == (Tier.LOW, SETTLE_AFTER_DOWN)
    link.pin(Tier.LOW)
    link.pin(None)
    for _ in range(DOWN_AFTER):
        link.report(loss=0.3, rtt=0.1)  # not let pass: the pin ended the settling
    assert link.tier == Tier.AUDIO


def test_a_pinned_hall_stays_whatever_its_link_says():
    link = LinkQuality()
    link.pin(Tier.LOW)
    for _ in range(20):
        link.report(loss=0.0, rtt=0.01)
    assert link.tier == Tier.LOW
    link.pin(None)
    for _ in range(UP_AFTER):
        link.report(loss=0.0, rtt=0.01)
    assert link.tier == Tier.HIGH


def test_keyframes_come_on_request_rate_limited_and_periodically():
    encoder = VideoEncoder(TIERS[Tier.HIGH].video)
    picture = solid((10, 200, 10)).reformat(format="yuv420p")
    first = encoder.encode(picture, 0)
    assert first[0].is_keyframe
    assert not encoder.encode(picture, 1)[0].is_keyframe
    assert encoder.request_keyframe() is False  # too soon after the last one
    assert encoder.request_keyframe(force=True) is True
    assert encoder.encode(picture, 2)[0].is_keyframe
    assert encoder.calls == 3


def test_a_hall_with_a_few_percent_of_loss_climbs_from_sound_only_to_the_low_tier_not_higher():
    link = LinkQuality(tier=Tier.AUDIO)
    for _ in range(UP_AFTER):
        link.report(loss=0.05, rtt=0.2)  # the weak link of bench/weaklink
    assert link.tier == Tier.LOW
    for _ in range(UP_AFTER * 3):
        link.report(loss=0.05, rtt=0.2)
    assert link.tier == Tier.LOW  # HD needs a clean link


async def test_a_packet_is_resent_once_however_often_it_is_asked_for():
    from aiortc import RTCRtpSender

    from meetings.rooms.media.retransmit import limit_retransmissions

    resent = []

    class Sender:  # stands in for RTCRtpSender: only its private hook is replaced
        async def _retransmit(self, sequence_number):
            resent.append(sequence_number)

    assert hasattr(RTCRtpSender, "_retransmit")  # the private API this relies on still exists
    sender = Sender()
    limit_retransmissions(sender)
    for _ in range(5):  # the browser names the same lost packets again and again
        for sequence_number in (7, 8):
            await sender._retransmit(sequence_number)
    assert resent == [7, 8]


def _recording_with_two_keyframes(path, seconds: int = 3) -> None:
    """A WebM like the programme's (VP8 and Opus) with keyframes at 0 and 2.5 s only."""
    with av.open(str(path), "w", format="webm") as container:
        video = container.add_stream("libvpx", rate=PROGRAMME.fps)
        video.width, video.height, video.pix_fmt = 64, 48, "yuv420p"
        video.codec_context.gop_size = 10_000
        audio = container.add_stream("libopus", rate=48_000)
        audio.layout = "mono"
        for n in range(seconds * PROGRAMME.fps):
            frame = av.VideoFrame.from_ndarray(np.full((48, 64, 3), n % 256, np.uint8), "rgb24")
            frame.pts = n
            if n == int(2.5 * PROGRAMME.fps):
                frame.pict_type = av.video.frame.PictureType.I
            container.mux(video.encode(frame))
        for n in range(seconds * 50):
            sound = av.AudioFrame.from_ndarray(np.zeros((1, 960), np.int16), "s16", "mono")
            sound.sample_rate, sound.pts = 48_000, n * 960
            container.mux(audio.encode(sound))
        container.mux(video.encode())
        container.mux(audio.encode())


def test_a_clip_with_no_keyframe_before_its_end_is_refused_with_why(tmp_path):
    source = tmp_path / "programme.webm"
    _recording_with_two_keyframes(source)
    whole = cut_clip(source, tmp_path / "whole.webm", start=0.0, end=2.0)
    assert whole.starts_on_keyframe and whole.seconds > 1
    # The next keyframe is at 2.5 s, after the clip's end: no clip, and the error says why.
    with pytest.raises(ValueError, match=r"no keyframe between 0\.50 and 2\.00 s"):
        cut_clip(source, tmp_path / "late.webm", start=0.5, end=2.0)
