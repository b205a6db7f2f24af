"""The hubs under test, in one process as a media worker holds them: ours (compose once, encode
once per tier) or the naive aiortc way (MediaRelay, one encoder per hall). A media worker runs
the hubs of every conference whose id modulo MEDIA_WORKERS is its index, on one asyncio loop,
with one pool of encoding threads for all of them (manager.HubManager, ENCODE_THREADS); so does
this process, for ``--conferences`` conferences. Peers connect through a line-based signalling
port and name their conference; the process reports its own CPU time.

With ``--metrics-port`` it serves the hubs' figures at ``/metrics`` as a media worker does
(meetings/metrics.py: ``watch_media`` + ``serve_media_metrics``; bench/metrics/dashboard.py
has Prometheus scrape it), and with ``--record DIR`` each hub writes its programme to a
recording part there, as a live meeting's RecordingSession does (without its database row)."""

import argparse
import asyncio
import json
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bench.media.common import setup_django

STUDIO_HALL = 0  # the studio's hall id; the halls are 1, 2, ...


class Ours:
    def __init__(self, conferences: int):
        from meetings.rooms.media.compositor import Layout
        from meetings.rooms.media.hub import HubSettings, MeetingHub
        from meetings.rooms.media.manager import ENCODE_THREADS

        async def reply(to, message):
            return None

        executor = ThreadPoolExecutor(max_workers=ENCODE_THREADS)
        # The platform's default layout; with nobody holding the floor it shows the studio.
        self.hubs = [
            MeetingHub(
                n + 1, reply=reply, executor=executor, settings=HubSettings(layout=Layout.INSET)
            )
            for n in range(conferences)
        ]
        for hub in self.hubs:
            hub.start()

    async def offer(self, request: dict) -> str:
        from meetings.rooms.media.hub import Role

        studio = request["role"] == "studio"
        return await self.hubs[request.get("conference", 0)].offer(
            peer_id=request["peer"],
            role=Role.STUDIO if studio else Role.HALL,
            hall_id=STUDIO_HALL if studio else request["hall"],
            reply_to="",
            sdp=request["sdp"],
        )

    def frames(self) -> int:
        return sum(hub.frames_composed for hub in self.hubs)

    def watched(self, record: str | None) -> None:
        """At /metrics as a HubManager's hubs are (the collector reads a manager's ``hubs``
        and ``sessions`` at each scrape)."""
        from meetings import metrics

        self.hubs_by_meeting = {hub.meeting_id: hub for hub in self.hubs}
        self.sessions = {}
        if record:
            for hub in self.hubs:
                self.sessions[hub.meeting_id] = Recording(hub, Path(record))
        self.watched_as = Watched(self.hubs_by_meeting, self.sessions)  # watch_media's is weak
        metrics.watch_media(self.watched_as)


class Watched:
    """What meetings.metrics.MediaCollector reads of a HubManager."""

    def __init__(self, hubs: dict, sessions: dict):
        self.hubs, self.sessions = hubs, sessions


class Recording:
    """The programme's high tier into a part, as RecordingSession.start taps it."""

    def __init__(self, hub, folder: Path):
        from meetings.rooms.media.recorder import PartWriter
        from meetings.rooms.media.tiers import Tier

        self.writer = PartWriter(
            folder / f"meeting-{hub.meeting_id}.webm",
            audio_extradata=hub.audio_encoders[Tier.HIGH].context.extradata,
        )

        def tap(source: str, packet) -> None:
            if source == "video:high":
                self.writer.write("video", packet)
            elif source == "audio:high":
                self.writer.write("audio", packet)

        hub.tap = tap
        hub.request_keyframes()


class NaiveWorker:
    """One relay per conference, in one process."""

    def __init__(self, conferences: int):
        self.relays = [Naive() for _ in range(conferences)]

    async def offer(self, request: dict) -> str:
        return await self.relays[request.get("conference", 0)].offer(request)

    def frames(self) -> int:
        return 0


class Naive:
    """The baseline aiortc offers: the studio's tracks relayed to one peer connection per hall;
    every sender encodes on its own."""

    def __init__(self):
        from aiortc.contrib.media import MediaRelay

        self.relay = MediaRelay()
        self.studio = {}
        self.pcs = []
        self.ready = asyncio.Event()

    async def offer(self, request: dict) -> str:
        from aiortc import RTCPeerConnection, RTCSessionDescription

        from meetings.rooms.media.ice import hub_configuration

        pc = RTCPeerConnection(hub_configuration())
        self.pcs.append(pc)
        if request["role"] == "studio":

            @pc.on("track")
            def on_track(track):
                self.studio[track.kind] = track
                if len(self.studio) == 2:
                    self.ready.set()

            await pc.setRemoteDescription(RTCSessionDescription(sdp=request["sdp"], type="offer"))
        else:
            await self.ready.wait()
            await pc.setRemoteDescription(RTCSessionDescription(sdp=request["sdp"], type="offer"))
            for kind in ("video", "audio"):
                pc.addTrack(self.relay.subscribe(self.studio[kind]))
        await pc.setLocalDescription(await pc.createAnswer())
        return pc.localDescription.sdp

    def frames(self) -> int:
        return 0


async def main(
    mode: str,
    port_file: str,
    conferences: int,
    metrics_port: int = 0,
    record: str | None = None,
) -> None:
    from meetings.rooms.media.ice import use_host_addresses

    use_host_addresses(["127.0.0.1"])
    hub = Ours(conferences) if mode == "ours" else NaiveWorker(conferences)
    if metrics_port and isinstance(hub, Ours):
        from meetings import metrics

        hub.watched(record)
        metrics.serve_media_metrics(metrics_port, "127.0.0.1")

    async def serve(reader, writer):
        request = json.loads(await reader.readline())
        if request.get("type") == "stats":
            reply = {
                "cpu": time.process_time(),
                "system": os.times().system,  # the kernel's share: sending, on loopback receiving
                "wall": time.monotonic(),
                "frames": hub.frames(),
            }
        else:
            reply = {"sdp": await hub.offer(request)}
        writer.write(json.dumps(reply).encode() + b"\n")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    with open(port_file, "w") as out:
        out.write(str(port))
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["ours", "naive"])
    parser.add_argument("port_file")
    parser.add_argument("--conferences", type=int, default=1)
    parser.add_argument("--metrics-port", type=int, default=0, help="serve /metrics (ours)")
    parser.add_argument("--record", help="with --metrics-port: record each programme here")
    args = parser.parse_args()
    setup_django()
    try:
        asyncio.run(
            main(args.mode, args.port_file, args.conferences, args.metrics_port, args.record)
        )
    except KeyboardInterrupt:
        sys.exit(0)
