"""The hub under test, in its own process: ours (compose once, encode once per tier) or the
naive aiortc way (MediaRelay, one encoder per hall). Peers connect through a line-based
signalling port; the process reports its own CPU time."""

import argparse
import asyncio
import json
import sys
import time
from concurrent.futures import ThreadPoolExecutor

from bench.media.common import setup_django


class Ours:
    def __init__(self):
        from meetings.rooms.media.compositor import Layout
        from meetings.rooms.media.hub import HubSettings, MeetingHub

        async def reply(to, message):
            return None

        self.hub = MeetingHub(
            1,
            reply=reply,
            executor=ThreadPoolExecutor(max_workers=2),
            settings=HubSettings(layout=Layout.STUDIO),
        )
        self.hub.start()

    async def offer(self, request: dict) -> str:
        from meetings.rooms.media.hub import Role

        role = Role.STUDIO if request["role"] == "studio" else Role.HALL
        return await self.hub.offer(
            peer_id=request["peer"], role=role, hall_id=None, reply_to="", sdp=request["sdp"]
        )

    def frames(self) -> int:
        return self.hub.frames_composed


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


async def main(mode: str, port_file: str) -> None:
    from meetings.rooms.media.ice import use_host_addresses

    use_host_addresses(["127.0.0.1"])
    hub = Ours() if mode == "ours" else Naive()

    async def serve(reader, writer):
        request = json.loads(await reader.readline())
        if request.get("type") == "stats":
            reply = {"cpu": time.process_time(), "wall": time.monotonic(), "frames": hub.frames()}
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
    args = parser.parse_args()
    setup_django()
    try:
        asyncio.run(main(args.mode, args.port_file))
    except KeyboardInterrupt:
        sys.exit(0)
