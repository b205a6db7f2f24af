"""Peers of the media benchmark in their own process: the studio (sending the stamped card and
a tone) or a batch of halls (receiving). Prints one JSON line of results and exits."""

import argparse
import asyncio
import json
import statistics
import time

from bench.media.common import (
    StampedCard,
    Tone,
    ask,
    light_receivers,
    now_ms,
    read_stamp,
    setup_django,
)


async def connect(
    port: int, peer: str, role: str, *, send: bool, on_track=None, conference: int = 0, hall=None
):
    from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription

    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    if on_track is not None:
        pc.on("track", on_track)
    if send:
        pc.addTransceiver(StampedCard(), direction="sendrecv")
        pc.addTransceiver(Tone(), direction="sendrecv")
    else:
        pc.addTransceiver("video", direction="recvonly")
        pc.addTransceiver("audio", direction="recvonly")
    await pc.setLocalDescription(await pc.createOffer())
    request = {"peer": peer, "role": role, "sdp": pc.localDescription.sdp}
    answer = await ask(port, {**request, "conference": conference, "hall": hall})
    await pc.setRemoteDescription(RTCSessionDescription(sdp=answer["sdp"], type="answer"))
    return pc


def hall_of(name: str) -> tuple[int, int]:
    """(conference, hall id) of a hall named ``c<conference>h<hall>``."""
    conference, _h, hall = name.removeprefix("c").partition("h")
    return int(conference), int(hall)


async def halls(port: int, names: list[str], decode: bool, start_at: float, seconds: float) -> dict:
    from aiortc.mediastreams import MediaStreamError

    if not decode:
        light_receivers()
    import aiortc.rtcrtpreceiver as receiver

    latencies: list[int] = []
    decoded = 0

    def reader(track):
        async def read():
            nonlocal decoded
            try:
                while True:
                    frame = await track.recv()
                    if track.kind != "video":
                        continue
                    if start_at <= time.monotonic() < start_at + seconds:
                        decoded += 1
                        sent = read_stamp(frame.to_ndarray(format="rgb24"))
                        latencies.append((now_ms() - sent) % (1 << 32))
            except MediaStreamError:
                return

        readers.append(asyncio.ensure_future(read()))

    readers: list[asyncio.Task] = []
    pcs = []
    for name in names:
        conference, hall = hall_of(name)
        pcs.append(
            await connect(
                port, name, "hall", send=False, on_track=reader, conference=conference, hall=hall
            )
        )
    await asyncio.sleep(max(0, start_at - time.monotonic()))
    counted_before = getattr(receiver, "COUNTED", 0)
    await asyncio.sleep(seconds)
    counted = getattr(receiver, "COUNTED", 0) - counted_before
    for pc in pcs:
        await pc.close()
    frames = decoded if decode else counted
    plausible = [value for value in latencies if value < 10_000]
    return {
        "halls": len(names),
        "frames_per_hall_per_second": frames / len(names) / seconds,
        "latencies_ms": plausible,
        "latency_p50": statistics.median(plausible) if plausible else None,
    }


async def studio(port: int, seconds: float, conferences: int = 1) -> dict:
    """The studio of each of ``conferences`` conferences."""
    pcs = [
        await connect(port, f"studio{n}", "studio", send=True, conference=n)
        for n in range(conferences)
    ]
    await asyncio.sleep(seconds)
    for pc in pcs:
        await pc.close()
    return {"studios": conferences}


async def direct(seconds: float) -> dict:
    """No hub: the studio's card straight to one decoding receiver, in this process. The
    difference with the hub's figures is the latency the hub adds."""
    from aiortc import RTCConfiguration, RTCPeerConnection
    from aiortc.mediastreams import MediaStreamError

    sender = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    receiver = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    sender.addTrack(StampedCard())
    latencies: list[int] = []

    @receiver.on("track")
    def on_track(track):
        async def read():
            try:
                while True:
                    frame = await track.recv()
                    latencies.append(
                        (now_ms() - read_stamp(frame.to_ndarray(format="rgb24"))) % (1 << 32)
                    )
            except MediaStreamError:
                return

        readers.append(asyncio.ensure_future(read()))

    readers: list[asyncio.Task] = []
    await sender.setLocalDescription(await sender.createOffer())
    await receiver.setRemoteDescription(sender.localDescription)
    await receiver.setLocalDescription(await receiver.createAnswer())
    await sender.setRemoteDescription(receiver.localDescription)
    await asyncio.sleep(seconds)
    await sender.close()
    await receiver.close()
    plausible = [value for value in latencies[25:] if value < 10_000]  # after the first second
    return {"latencies_ms": plausible}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("role", choices=["studio", "halls", "direct"])
    parser.add_argument("port", type=int, nargs="?", default=0)
    parser.add_argument("--names", default="")
    parser.add_argument("--decode", action="store_true")
    parser.add_argument("--start-at", type=float, default=0)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--conferences", type=int, default=1)
    args = parser.parse_args()
    setup_django()
    from meetings.rooms.media.ice import use_host_addresses

    use_host_addresses(["127.0.0.1"])
    if args.role == "studio":
        result = asyncio.run(studio(args.port, args.seconds, args.conferences))
    elif args.role == "direct":
        result = asyncio.run(direct(args.seconds))
    else:
        names = [name for name in args.names.split(",") if name]
        result = asyncio.run(halls(args.port, names, args.decode, args.start_at, args.seconds))
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
