"""One meeting's media hub.

Inputs: the studio (always), the hall holding the floor, a remote candidate and a moderator's
microphone. Every 40 ms the compositor makes one programme picture (or passes through the one
source that fills it) and each tier some peer receives encodes it once (the high tier also
while the programme is recorded); every 20 ms the mixer makes the programme sound, encoded
once per tier and once per mix-minus (silence: never, it is one packet made once). The
packets are cut into RTP payloads once per stream and go to every subscriber of their stream
without being encoded again (tracks.PacketTrack).

The hub holds nothing that matters beyond its connections: the floor, the layout and the
pinned tiers are read from the database (``HubSettings``) when it starts and whenever they
change, so a restarted hub or a reconnected hall finds the meeting as it was.
"""

import asyncio
import dataclasses
import logging
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import Executor
from dataclasses import dataclass, field
from enum import StrEnum

from aiortc import RTCPeerConnection, RTCSessionDescription
from aiortc.sdp import candidate_from_sdp

from meetings.rooms.media.adaptation import LinkQuality
from meetings.rooms.media.compositor import Layout, fills_picture, needs_scaling, programme_frame
from meetings.rooms.media.cpu import HubCpu, decoder_threads
from meetings.rooms.media.encoders import AudioEncoder, SilencePackets, VideoEncoder
from meetings.rooms.media.ice import hub_configuration
from meetings.rooms.media.mixer import mix
from meetings.rooms.media.retransmit import limit_retransmissions
from meetings.rooms.media.tiers import (
    AUDIO_FRAME_SECONDS,
    FRAME_SECONDS,
    TIERS,
    Tier,
    frames_on_tier,
)
from meetings.rooms.media.tracks import InputReader, PacketTrack, SenderPacker, StreamPacketizer

logger = logging.getLogger(__name__)

STATS_EVERY_SECONDS = 2.0

Reply = Callable[[str, dict], Awaitable[None]]


class Role(StrEnum):
    STUDIO = "studio"  # the studio's kiosk: always seen and heard
    HALL = "hall"  # a hall's kiosk: seen and heard while it holds the floor
    CANDIDATE = "candidate"  # a candidate away from the studio: heard; seen if no studio
    MODERATOR = "moderator"  # a moderator's console: heard when it sends a microphone
    MONITOR = "monitor"  # receives the programme only


HEARD_ALWAYS = (Role.STUDIO, Role.CANDIDATE, Role.MODERATOR)
# Roles that stand for a hall: the hub keeps one peer per hall of these, the newest.
HALL_ROLES = (Role.STUDIO, Role.HALL)


@dataclass(frozen=True)
class HubSettings:
    """What the hub takes from the database."""

    floor_hall_id: int | None = None
    floor_until: float | None = None  # time.time() when the floor's time limit ends
    layout: Layout = Layout.INSET
    pinned: dict[int, Tier] = field(default_factory=dict)  # hall id -> tier
    recording: bool = False  # the meeting is live: its programme is recorded


@dataclass
class Peer:
    peer_id: str
    role: Role
    hall_id: int | None
    reply_to: str
    pc: RTCPeerConnection
    link: LinkQuality
    video_out: PacketTrack
    audio_out: PacketTrack
    inputs: dict[str, InputReader] = field(default_factory=dict)
    joined_at: float = field(default_factory=time.monotonic)
    last_stats: dict = field(default_factory=dict)

    @property
    def tier(self) -> Tier:
        return self.link.tier

    def receives(self, kind: str) -> bool:
        """Whether the peer's connection carries our ``kind`` track (its offer had one)."""
        return (self.video_out if kind == "video" else self.audio_out).sent


class MeetingHub:
    def __init__(
        self,
        meeting_id: int,
        *,
        reply: Reply,
        executor: Executor,
        settings: HubSettings | None = None,
        on_floor_time_up: Callable[[int], Awaitable[None]] | None = None,
    ):
        self.meeting_id = meeting_id
        self.reply = reply
        self.executor = executor
        self.settings = settings or HubSettings()
        self.on_floor_time_up = on_floor_time_up
        self.peers: dict[str, Peer] = {}
        self.hall_tiers: dict[int, Tier] = {}  # each hall's last measured tier
        self.video_encoders = {
            tier: VideoEncoder(spec.video) for tier, spec in TIERS.items() if spec.video
        }
        self.audio_encoders = {
            tier: AudioEncoder(spec.audio_bitrate) for tier, spec in TIERS.items()
        }
        self.minus_encoders: dict[str, AudioEncoder] = {}
        self.packetizers: dict[str, StreamPacketizer] = {}  # per stream: packetized once
        # Silence is the same packet every time: encoded once per bitrate, never again (a
        # heard source that is the only one speaking hears silence, and so does everyone
        # while nobody speaks).
        self.silence = {
            bitrate: SilencePackets(bitrate)
            for bitrate in {spec.audio_bitrate for spec in TIERS.values()}
        }
        self.video_tick = 0
        self.audio_tick = 0
        self.frames_composed = 0  # programme frames made, composed or passed through
        self.pictures_composed = 0  # of those, the ones the compositor drew
        self.encoding: set[Tier] = set()  # the video tiers encoded at the last programme frame
        self.tap: Callable[[str, object], None] | None = None  # the recorder, later
        self.cpu = HubCpu()  # the CPU time this hub causes (cpu.py), at /metrics
        self._tasks: list[asyncio.Task] = []
        self._closed = False

    # --- life --------------------------------------------------------------------------------

    def start(self) -> None:
        self._tasks = [
            asyncio.ensure_future(self._clock(FRAME_SECONDS, self._video_step)),
            asyncio.ensure_future(self._clock(AUDIO_FRAME_SECONDS, self._audio_step)),
            asyncio.ensure_future(self._watch()),
        ]

    async def close(self) -> None:
        self._closed = True
        for task in self._tasks:
            task.cancel()
        for peer_id in list(self.peers):
            await self.leave(peer_id)

    # --- peers -------------------------------------------------------------------------------

    async def offer(
        self, *, peer_id: str, role: Role, hall_id: int | None, reply_to: str, sdp: str
    ) -> str:
        """Take a browser's offer; returns the answer. A peer that offers again (its connection
        failed and it built a new one) replaces its old connection.

        A hall (or the studio) has one peer: a new one for the same hall replaces the one there
        (the hall's screen reconnected over a new websocket; the web side lets only the screen
        that holds the hall offer for it). The old one leaves the mix in the same step as the
        new one enters it, so the hub never mixes two, and is told ``media.replaced``."""
        if peer_id in self.peers:
            await self.leave(peer_id)
        pc = RTCPeerConnection(hub_configuration())
        # A hall that reconnects starts on the tier its link had: a weak hall's kiosk rebuilds
        # its connection when the picture stalls, and starting again on HD would stall it again.
        link = LinkQuality(tier=self.hall_tiers.get(hall_id, Tier.HIGH))
        if hall_id is not None and hall_id in self.settings.pinned:
            link.pin(self.settings.pinned[hall_id])
        peer = Peer(
            peer_id=peer_id,
            role=role,
            hall_id=hall_id,
            reply_to=reply_to,
            pc=pc,
            link=link,
            video_out=PacketTrack("video", self._video_source(link.tier), self._resync),
            audio_out=PacketTrack("audio", "", self._resync),
        )
        peer.audio_out.source = self._audio_source(peer)

        @pc.on("track")
        def on_track(track):
            old = peer.inputs.get(track.kind)
            if old is not None:
                old.stop()
            peer.inputs[track.kind] = InputReader(track, self.cpu)

        @pc.on("connectionstatechange")
        async def on_state():
            if pc.connectionState in ("failed", "closed") and self.peers.get(peer_id) is peer:
                await self.leave(peer_id)

        await pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="offer"))
        offered = {transceiver.kind for transceiver in pc.getTransceivers()}
        for track in (peer.video_out, peer.audio_out):
            if track.kind not in offered:
                continue
            sender = pc.addTrack(track)
            track.sent = True
            SenderPacker.install(sender)
            limit_retransmissions(sender)
            if track.kind == "video":
                # PLI/FIR from the hall reach our shared encoder (on its own, aiortc would only
                # set a private flag that pre-encoded packets never read). A private API: aiortc
                # is pinned exactly, and tests/media cover it.
                sender._send_keyframe = lambda peer=peer: self._resync(peer.video_out.source)
        await pc.setLocalDescription(await pc.createAnswer())
        # No await from here to the insertion: whatever offers ran meanwhile, at most one peer
        # per hall is in self.peers, which is what the mixer and the compositor read.
        replaced = self._take_seat(peer) if role in HALL_ROLES and hall_id is not None else []
        self.peers[peer_id] = peer
        self._resync(peer.video_out.source)
        for old in replaced:
            logger.info(
                "media hub %s: hall %s's peer %s replaced by %s",
                self.meeting_id,
                hall_id,
                old.peer_id,
                peer_id,
            )
            await self._close_peer(old)
            await self.reply(old.reply_to, {"type": "media.replaced", "hall": hall_id})
        return pc.localDescription.sdp

    def _take_seat(self, peer: Peer) -> list[Peer]:
        """Take out of the mix every other peer standing for the same hall as ``peer``."""
        others = [
            other
            for other in self.peers.values()
            if other.peer_id != peer.peer_id
            and other.role in HALL_ROLES
            and other.hall_id == peer.hall_id
        ]
        for other in others:
            del self.peers[other.peer_id]
        return others

    async def add_candidate(self, peer_id: str, candidate: dict) -> None:
        peer = self.peers.get(peer_id)
        if peer is None or not candidate.get("candidate"):
            return
        ice = candidate_from_sdp(candidate["candidate"].removeprefix("candidate:"))
        ice.sdpMid = candidate.get("sdpMid")
        ice.sdpMLineIndex = candidate.get("sdpMLineIndex")
        await peer.pc.addIceCandidate(ice)

    async def leave(self, peer_id: str) -> None:
        peer = self.peers.pop(peer_id, None)
        if peer is None:
            return
        await self._close_peer(peer)

    async def _close_peer(self, peer: Peer) -> None:
        """Close a peer already taken out of ``self.peers``."""
        self._count_threads(leaving=peer)  # before its decoder threads end
        for reader in peer.inputs.values():
            reader.stop()
        peer.video_out.stop()
        peer.audio_out.stop()
        self.minus_encoders.pop(peer.peer_id, None)
        self.packetizers.pop(f"minus:{peer.peer_id}", None)
        await peer.pc.close()

    # --- what the moderators decide ----------------------------------------------------------

    def apply(self, settings: HubSettings) -> None:
        """New floor, layout or pins: re-route every peer's sound, move pinned halls."""
        floor_changed = settings.floor_hall_id != self.settings.floor_hall_id
        self.settings = settings
        for peer in self.peers.values():
            if peer.hall_id is not None:
                peer.link.pin(settings.pinned.get(peer.hall_id))
            self._route(peer)
        if floor_changed:
            self.request_keyframes()

    def request_keyframes(self) -> None:
        """A keyframe on every tier now: a question went on air, the floor changed."""
        for encoder in self.video_encoders.values():
            encoder.request_keyframe(force=True)

    # --- routing -----------------------------------------------------------------------------

    def _is_heard(self, peer: Peer) -> bool:
        if peer.role in HEARD_ALWAYS:
            return True
        floor = self.settings.floor_hall_id
        return peer.role == Role.HALL and floor is not None and peer.hall_id == floor

    @staticmethod
    def _video_source(tier: Tier) -> str:
        return f"video:{tier}" if TIERS[tier].video else "video:none"

    def _audio_source(self, peer: Peer) -> str:
        return f"minus:{peer.peer_id}" if self._is_heard(peer) else f"audio:{peer.tier}"

    def _route(self, peer: Peer) -> None:
        peer.video_out.follow(self._video_source(peer.tier))
        peer.audio_out.follow(self._audio_source(peer))

    def _resync(self, source: str) -> None:
        kind, _sep, name = source.partition(":")
        if kind == "video" and name in self.video_encoders:
            self.video_encoders[Tier(name)].request_keyframe()

    # --- the clock ---------------------------------------------------------------------------

    async def _clock(self, period: float, step: Callable[[], Awaitable[None]]) -> None:
        """Run ``step`` every ``period`` seconds on a steady schedule; if a step overruns,
        skip ahead rather than bunching steps up."""
        deadline = time.monotonic()
        while not self._closed:
            try:
                await step()
            except Exception:
                logger.exception("media hub %s: a step failed", self.meeting_id)
            deadline += period
            delay = deadline - time.monotonic()
            if delay < -period:
                deadline = time.monotonic()
                delay = 0
            await asyncio.sleep(max(delay, 0))

    def _sources(self) -> tuple[object | None, object | None]:
        studio = hall = None
        candidate = None
        for peer in self.peers.values():
            reader = peer.inputs.get("video")
            frame = reader.latest_frame if reader else None
            if frame is None:
                continue
            if peer.role == Role.STUDIO:
                studio = frame
            elif peer.role == Role.CANDIDATE:
                candidate = frame
            elif peer.role == Role.HALL and peer.hall_id == self.settings.floor_hall_id:
                hall = frame
        return studio or candidate, hall

    def _tiers_in_use(self, kind: str) -> set[Tier]:
        """The tiers some peer receives ``kind`` on (a peer that offered no video receives
        none), and the high tier while the programme is recorded: the recording is remuxed from
        its packets, so it is encoded at its full rate whether a hall watches it or not."""
        tiers = {peer.tier for peer in self.peers.values() if peer.receives(kind)}
        if self.tap is not None:
            tiers.add(Tier.HIGH)
        return tiers

    async def _video_step(self) -> None:
        # The CPU time of the synchronous parts, between the awaits (the executor's jobs are
        # counted in their threads).
        started = time.thread_time()
        tick = self.video_tick
        self.video_tick += 1
        in_use = {t for t in self._tiers_in_use("video") if t in self.video_encoders}
        for tier in in_use - self.encoding:
            # A tier nobody received was not encoded: everyone on it now is new and starts on
            # a keyframe, whatever the rate limit.
            self.video_encoders[tier].request_keyframe(force=True)
        self.encoding = in_use
        tiers = [t for t in in_use if frames_on_tier(t, tick)]
        if not tiers:
            self.cpu.add(started)
            return
        studio, hall = self._sources()
        layout = self.settings.layout
        full = fills_picture(layout, studio, hall)
        self.cpu.add(started)
        if full is not None and not needs_scaling(full):
            picture = full  # one source fills the picture as it came: nothing to compose
        else:
            loop = asyncio.get_running_loop()
            picture, composed = await loop.run_in_executor(
                self.executor, self.cpu.run, programme_frame, layout, studio, hall
            )
            self.pictures_composed += composed
        results = await self._encode(tiers, picture, tick)
        started = time.thread_time()
        self.frames_composed += 1
        for tier, packets in zip(tiers, results, strict=True):
            self._fan_out(f"video:{tier}", packets)
        self.cpu.add(started)

    async def _encode(self, tiers: list[Tier], picture, tick: int) -> list:
        loop = asyncio.get_running_loop()
        return await asyncio.gather(
            *(
                loop.run_in_executor(
                    self.executor, self.cpu.run, self._encode_tier, tier, picture, tick
                )
                for tier in tiers
            )
        )

    def _encode_tier(self, tier: Tier, picture, tick: int):
        spec = TIERS[tier].video
        if picture.width != spec.width:
            picture = picture.reformat(width=spec.width, height=spec.height)
        return self.video_encoders[tier].encode(picture, tick)

    async def _audio_step(self) -> None:
        started = time.thread_time()  # no await in the step: all of it is the hub's CPU
        try:
            self._mix_and_encode_sound()
        finally:
            self.cpu.add(started)

    def _mix_and_encode_sound(self) -> None:
        tick = self.audio_tick
        self.audio_tick += 1
        chunks = {}
        for peer in self.peers.values():
            reader = peer.inputs.get("audio")
            if reader is None or reader.audio is None:
                continue
            chunk = reader.audio.take()  # heard or not, keep every source's buffer moving
            if chunk is not None and self._is_heard(peer):
                chunks[peer.peer_id] = chunk
        programme, minus = mix(chunks)
        for tier in self._tiers_in_use("audio"):
            self._fan_out(
                f"audio:{tier}", self._encode_sound(self.audio_encoders[tier], programme, tick)
            )
        for peer in self.peers.values():
            if not self._is_heard(peer) or not peer.receives("audio"):
                continue
            encoder = self.minus_encoders.get(peer.peer_id)
            if encoder is None:
                encoder = self.minus_encoders[peer.peer_id] = AudioEncoder(
                    TIERS[peer.tier].audio_bitrate
                )
            # A heard peer that was silent this tick hears the whole programme.
            samples = minus.get(peer.peer_id, programme)
            self._fan_out(f"minus:{peer.peer_id}", self._encode_sound(encoder, samples, tick))

    def _encode_sound(self, encoder: AudioEncoder, samples, tick: int) -> list:
        if not samples.any():
            return self.silence[encoder.bitrate].at(tick)
        return encoder.encode(samples, tick)

    def _fan_out(self, source: str, packets) -> None:
        if not packets:
            return
        if self.tap is not None:
            for packet in packets:
                self.tap(source, packet)
        tracks = [
            track
            for peer in self.peers.values()
            for track in (peer.video_out, peer.audio_out)
            if track.source == source
        ]
        if not tracks:
            return
        packetizer = self.packetizers.get(source)
        if packetizer is None:
            kind = "video" if source.startswith("video:") else "audio"
            packetizer = self.packetizers[source] = StreamPacketizer(source, kind)
        for packet in packets:
            packed = packetizer.pack(packet)
            for track in tracks:
                track.offer(packed)

    # --- watching the links and the floor's time -----------------------------------------------

    async def _watch(self) -> None:
        while not self._closed:
            await asyncio.sleep(STATS_EVERY_SECONDS)
            try:
                self._count_threads()
                await self._check_links()
                await self._check_floor_time()
            except Exception:
                logger.exception("media hub %s: watching failed", self.meeting_id)

    def _count_threads(self, *, leaving: Peer | None = None) -> None:
        """Add what the threads working for the hub spent since the last count: libvpx's of
        its video encoders, aiortc's decoders of its peers (and of ``leaving``, a peer being
        closed)."""
        peers = [*self.peers.values(), *([leaving] if leaving is not None else [])]
        self.cpu.sample_threads(
            encoding=[i for encoder in self.video_encoders.values() for i in encoder.threads],
            decoding=[t.native_id for peer in peers for t in decoder_threads(peer.pc)],
        )

    async def _check_links(self) -> None:
        for peer in list(self.peers.values()):
            loss, rtt = await _link_figures(peer.pc)
            before = peer.tier
            tier = peer.link.report(loss=loss, rtt=rtt)
            if tier != before:
                self._route(peer)
            if peer.hall_id is not None and peer.link.pinned is None:
                self.hall_tiers[peer.hall_id] = tier
            peer.last_stats = {
                "tier": tier.value,
                "pinned": peer.link.pinned is not None,
                "loss": None if loss is None else round(loss, 3),
                "rtt": None if rtt is None else round(rtt, 3),
                "state": peer.pc.connectionState,
            }
            await self.reply(peer.reply_to, {"type": "media.status", **peer.last_stats})

    async def _check_floor_time(self) -> None:
        until = self.settings.floor_until
        holder = self.settings.floor_hall_id
        if (
            holder is not None
            and until is not None
            and time.time() >= until
            and self.on_floor_time_up
        ):
            # Once: the database's answer (floor.revoked) comes back as a reload.
            self.settings = dataclasses.replace(self.settings, floor_until=None)
            await self.on_floor_time_up(holder)

    def hall_figures(self) -> dict[str, dict]:
        """Link figures per hall, for the moderators' grid."""
        return {
            str(peer.hall_id): {**peer.last_stats, "role": peer.role.value}
            for peer in self.peers.values()
            if peer.hall_id is not None
        }


async def _link_figures(pc: RTCPeerConnection) -> tuple[float | None, float | None]:
    """Loss (0..1) and round-trip time (s) from the hall's receiver reports on what we send."""
    try:
        report = await pc.getStats()
    except Exception:
        return None, None
    losses, rtts = [], []
    for stats in report.values():
        if stats.type == "remote-inbound-rtp":
            losses.append(stats.fractionLost / 256)  # RTCP's 8-bit fixed point
            if stats.roundTripTime is not None:
                rtts.append(stats.roundTripTime)
    return (max(losses) if losses else None), (max(rtts) if rtts else None)
