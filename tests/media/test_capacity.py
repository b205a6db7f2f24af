"""What a hub spends with nobody to spend it on (issue 14, a province's day of many conferences):
a tier nobody receives is not encoded and starts on a keyframe when a hall moves onto it; a
picture one source fills is passed through, not composed; the low tier runs at its lower frame
rate; silence is not encoded; and the recording stays whole while no hall watches the high tier.
Real aiortc peers over loopback, as in test_hub; every wait is on state."""

from itertools import pairwise

import av
import numpy as np
from aiortc.codecs.vpx import Vp8Encoder, VpxPayloadDescriptor, vp8_depayload

from meetings.rooms.media.compositor import Layout
from meetings.rooms.media.encoders import VIDEO_TIME_BASE, AudioEncoder, SilencePackets
from meetings.rooms.media.hub import HubSettings, Role
from meetings.rooms.media.recorder import PartWriter, cut_clip
from meetings.rooms.media.tiers import AUDIO_FRAME_SAMPLES, PROGRAMME, TIERS, Tier
from meetings.rooms.media.tracks import SenderPacker, StreamPacketizer
from tests.media.peers import ColourTrack, ToneTrack
from tests.media.test_hub import (
    HALL_RGB,
    MEASURED_FRAMES,
    STUDIO_HZ,
    STUDIO_RGB,
    Meeting,
    near,
    no_periodic_keyframes,  # noqa: F401 (a fixture)
    wait_for,
)

STUDIO_HALL = 10


class Tapped:
    """The first packet of each stream the hub fans out once tapped."""

    def __init__(self):
        self.first: dict[str, av.Packet] = {}

    def __call__(self, source: str, packet) -> None:
        self.first.setdefault(source, packet)


async def test_a_tier_nobody_receives_is_not_encoded_and_starts_on_a_keyframe(
    executor,
    no_periodic_keyframes,  # noqa: F811
):
    everyone_low = {STUDIO_HALL: Tier.LOW, 1: Tier.LOW}
    async with Meeting(executor, HubSettings(pinned=everyone_low)) as meeting:
        hub = meeting.hub
        await meeting.join("studio", Role.STUDIO, STUDIO_HALL, video=ColourTrack(STUDIO_RGB))
        hall = await meeting.join("hall1", Role.HALL, 1)
        await wait_for(lambda: len(hall.receiver.frames) > 5)
        frames = hub.frames_composed
        await wait_for(lambda: hub.frames_composed >= frames + MEASURED_FRAMES)
        # Nobody is on the high tier and nothing is recorded: its encoder never ran.
        assert hub.video_encoders[Tier.HIGH].calls == 0
        assert hub.encoding == {Tier.LOW}
        assert hall.receiver.frames[-1][1].shape[:2] == (180, 320)

        # The hall moves onto the high tier: the encoder starts, on a keyframe (periodic ones
        # are off: only a keyframe asked for can be the first).
        tapped = Tapped()
        hub.tap = tapped
        hub.apply(HubSettings(pinned={STUDIO_HALL: Tier.LOW, 1: Tier.HIGH}))
        await wait_for(lambda: "video:high" in tapped.first)
        assert tapped.first["video:high"].is_keyframe
        await wait_for(lambda: hall.receiver.frames[-1][1].shape[:2] == (360, 640))
        assert near(hall.receiver.colour_at(320, 180), STUDIO_RGB)
        hub.tap = None

        # And back: the high tier, received by nobody again, stops.
        hub.apply(HubSettings(pinned=everyone_low))
        await wait_for(lambda: hub.encoding == {Tier.LOW})
        calls = hub.video_encoders[Tier.HIGH].calls
        frames = hub.frames_composed
        await wait_for(lambda: hub.frames_composed >= frames + 10)
        assert hub.video_encoders[Tier.HIGH].calls <= calls + 1  # the one under way, if any


async def test_a_picture_one_source_fills_is_passed_through_not_composed(executor):
    async with Meeting(executor, HubSettings(layout=Layout.INSET)) as meeting:
        hub = meeting.hub
        await meeting.join("studio", Role.STUDIO, STUDIO_HALL, video=ColourTrack(STUDIO_RGB))
        hall = await meeting.join("hall2", Role.HALL, 2, video=ColourTrack(HALL_RGB[2]))
        watcher = await meeting.join("hall1", Role.HALL, 1)
        await wait_for(lambda: near(watcher.receiver.colour_at(320, 180), STUDIO_RGB))
        # (Before the studio's first picture came, the hub composed black.)
        composed, frames = hub.pictures_composed, hub.frames_composed
        await wait_for(lambda: hub.frames_composed >= frames + MEASURED_FRAMES)
        # Inset layout, nobody holds the floor: the studio fills the picture as it came.
        assert hub.pictures_composed == composed

        # Hall 2 takes the floor: its picture is inset, which is composing.
        hub.apply(HubSettings(floor_hall_id=2, layout=Layout.INSET))
        await wait_for(lambda: hub.pictures_composed > composed + 10)
        assert hall.receiver.frames  # the floor's holder receives the programme too

        # Hall 2 full screen: passed through again.
        hub.apply(HubSettings(floor_hall_id=2, layout=Layout.HALL))
        await wait_for(lambda: near(watcher.receiver.colour_at(320, 180), HALL_RGB[2]))
        composed, frames = hub.pictures_composed, hub.frames_composed
        await wait_for(lambda: hub.frames_composed >= frames + MEASURED_FRAMES)
        assert hub.pictures_composed <= composed + 1  # the one under way, if any


async def test_the_low_tier_runs_at_its_lower_frame_rate(executor):
    pinned = {STUDIO_HALL: Tier.HIGH, 1: Tier.LOW}
    async with Meeting(executor, HubSettings(pinned=pinned)) as meeting:
        hub = meeting.hub
        await meeting.join("studio", Role.STUDIO, STUDIO_HALL, video=ColourTrack(STUDIO_RGB))
        low = await meeting.join("hall1", Role.HALL, 1)
        await wait_for(lambda: len(low.receiver.frames) > 5)
        encoders = hub.video_encoders
        calls = {tier: encoder.calls for tier, encoder in encoders.items()}
        frames = hub.frames_composed
        await wait_for(lambda: hub.frames_composed >= frames + 2 * MEASURED_FRAMES)
        frames = hub.frames_composed - frames
        low_calls = encoders[Tier.LOW].calls - calls[Tier.LOW]
        high_calls = encoders[Tier.HIGH].calls - calls[Tier.HIGH]
        # 10 of every 25 programme frames on low, every one on high (give or take the frame
        # being encoded while the counters were read).
        share = TIERS[Tier.LOW].video.fps / TIERS[Tier.HIGH].video.fps
        assert share == 10 / 25
        assert abs(low_calls - frames * share) <= 2, (low_calls, frames)
        assert abs(high_calls - frames) <= 1, (high_calls, frames)


async def test_halls_off_the_floor_get_the_shared_sound_and_silence_is_not_encoded(executor):
    async with Meeting(executor) as meeting:
        hub = meeting.hub
        # The studio alone speaks: its mix-minus is silence.
        studio = await meeting.join(
            "studio", Role.STUDIO, STUDIO_HALL, video=ColourTrack(STUDIO_RGB), audio=ToneTrack(440)
        )
        halls = [await meeting.join(f"hall{n}", Role.HALL, n) for n in (1, 2, 3)]
        for hall in halls:
            await wait_for(lambda hall=hall: len(hall.receiver.audio) > 50)
            assert hall.receiver.tone_strength(STUDIO_HZ) > 0.05
        # No hall holds the floor: none is heard, so none has a mix-minus of its own.
        assert set(hub.minus_encoders) == {"studio"}
        assert {hub.peers[f"hall{n}"].audio_out.source for n in (1, 2, 3)} == {"audio:high"}
        # The studio hears the programme without itself (silence), sent without encoding.
        await wait_for(lambda: len(studio.receiver.audio) > 50)
        assert hub.minus_encoders["studio"].calls == 0
        assert np.abs(np.concatenate(studio.receiver.audio[-25:])).max() < 200


def test_silence_packets_decode_to_silence_and_carry_their_tick():
    silence = SilencePackets(TIERS[Tier.HIGH].audio_bitrate)
    decoder = av.CodecContext.create("libopus", "r")
    decoder.sample_rate, decoder.layout = 48_000, "mono"
    for tick in (7, 8, 9):
        (packet,) = silence.at(tick)
        assert packet.pts == tick * AUDIO_FRAME_SAMPLES
        for frame in decoder.decode(packet):
            assert np.abs(frame.to_ndarray()).max() < 50
    # The same size an encoder gives silence: it is what the encoder would have sent.
    encoder = AudioEncoder(TIERS[Tier.HIGH].audio_bitrate)
    zeros = np.zeros(AUDIO_FRAME_SAMPLES, np.int16)
    made = [p for tick in range(20) for p in encoder.encode(zeros, tick)]
    assert len(silence.payload) == made[-1].size


async def test_the_recording_is_whole_while_no_hall_is_on_the_high_tier(executor, tmp_path):
    everyone_low = {STUDIO_HALL: Tier.LOW, 1: Tier.LOW}
    async with Meeting(executor, HubSettings(pinned=everyone_low)) as meeting:
        hub = meeting.hub
        await meeting.join(
            "studio",
            Role.STUDIO,
            STUDIO_HALL,
            video=ColourTrack(STUDIO_RGB),
            audio=ToneTrack(STUDIO_HZ),
        )
        hall = await meeting.join("hall1", Role.HALL, 1)
        await wait_for(lambda: len(hall.receiver.frames) > 5)
        assert hub.video_encoders[Tier.HIGH].calls == 0
        # Recording, as RecordingSession does it: the high tier's packets, remuxed.
        extradata = hub.audio_encoders[Tier.HIGH].context.extradata
        writer = PartWriter(tmp_path / "part.webm", audio_extradata=extradata)

        def tap(source, packet):
            if source in ("video:high", "audio:high"):
                writer.write(source.partition(":")[0], packet)

        hub.tap = tap
        hub.request_keyframes()
        await wait_for(lambda: (writer.media_seconds() or 0) >= 3.0)
        start_calls, start_frames = hub.video_encoders[Tier.HIGH].calls, hub.frames_composed
        await wait_for(lambda: hub.frames_composed >= start_frames + MEASURED_FRAMES)
        # Every programme frame is on the high tier, for the recording alone.
        high_calls = hub.video_encoders[Tier.HIGH].calls - start_calls
        assert abs(high_calls - (hub.frames_composed - start_frames)) <= 1
        assert hub.encoding == {Tier.HIGH, Tier.LOW}
        hub.tap = None
        seconds = writer.close()
        assert hall.receiver.frames[-1][1].shape[:2] == (180, 320)  # the hall stayed low

    path = tmp_path / "part.webm"
    with av.open(str(path)) as container:
        video = container.streams.video[0]
        assert (video.codec_context.width, video.codec_context.height) == (640, 360)
        packets = [p for p in container.demux(video) if p.size]
    assert packets[0].is_keyframe
    # A picture for (nearly) every programme frame, in order: the encoder's rate control may
    # drop the odd frame, never a run of them.
    frame = 1 / PROGRAMME.fps
    at = [float(p.pts * p.time_base) / frame for p in packets]  # in programme frames
    steps = [round(b - a) for a, b in pairwise(at)]
    assert min(steps) == 1 and max(steps) <= 2, steps
    assert len(packets) >= 0.9 * (round(at[-1] - at[0]) + 1)
    with av.open(str(path)) as container:
        decoded = list(container.decode(video=0))
    with av.open(str(path)) as container:
        audio = sum(1 for p in container.demux(audio=0) if p.size)
    assert len(decoded) == len(packets)
    assert near(decoded[-1].to_ndarray(format="rgb24")[180, 320], STUDIO_RGB)
    assert audio > 0
    # A clip cut from it starts on a keyframe: from its start, which is one (asserted above);
    # the encoder's next keyframe may come after any later moment this short recording has.
    clip = cut_clip(path, tmp_path / "clip.webm", start=0.0, end=min(seconds, 2.5))
    assert clip.starts_on_keyframe and clip.seconds > 0


def vp8_packet(tick: int, size: int = 3000) -> av.Packet:
    packet = av.Packet(bytes(range(256)) * (size // 256))
    packet.pts = packet.dts = tick
    packet.time_base = VIDEO_TIME_BASE
    return packet


def picture_ids(payloads: list[bytes]) -> set[int]:
    return {VpxPayloadDescriptor.parse(p)[0].picture_id for p in payloads}


def test_a_stream_is_packetized_once_and_a_peer_moving_streams_keeps_counting_pictures():
    high, low = StreamPacketizer("video:high", "video"), StreamPacketizer("video:low", "video")
    low.picture_id = 5000  # the streams' counts differ
    stays, moves = SenderPacker(), SenderPacker()
    for tick in range(3):
        packed = high.pack(vp8_packet(tick))
        # aiortc's own packetizing of the same packet, for its sizes and payloads.
        assert [len(p) for p in packed.payloads] == [
            len(p) for p in Vp8Encoder._packetize(bytes(vp8_packet(tick)), 0)
        ]
        assert packed.timestamp == tick * 90_000 // PROGRAMME.fps
        # A peer that stays on its stream sends the shared payloads themselves: no copy.
        assert stays.pack(packed)[0] is packed.payloads
        payloads, _timestamp = moves.pack(packed)
        assert picture_ids(payloads) == {tick}
    for tick in range(3, 6):
        payloads, timestamp = moves.pack(low.pack(vp8_packet(tick)))
        assert picture_ids(payloads) == {tick}  # 3, 4, 5: on from where it was
        assert timestamp == tick * 90_000 // PROGRAMME.fps  # one timeline for every tier
        assert b"".join(vp8_depayload(p) for p in payloads) == bytes(vp8_packet(tick))
