"""A hall's kiosk for tests/media/test_turn_relay.py, run inside a network namespace
(`ip netns exec`): an aiortc peer that sends its hall's picture and sound and receives the
programme, with only the TURN servers it is given.

    python -m tests.media.turn_kiosk '<ice servers JSON>' '<r,g,b>' <hz>

Lines of JSON on stdout: {"offer": sdp} first; then, after {"answer": sdp} is read from stdin,
{"frames": n, "centre": [r, g, b], "local": candidate type, "remote": candidate type} as frames
arrive. It stops when stdin closes."""

import asyncio
import json
import sys

from aiortc import RTCIceServer

from tests.media.peers import Browser, ColourTrack, ToneTrack


def say(message: dict) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def nominated(browser: Browser) -> tuple[str | None, str | None]:
    """The candidate types of the pair ICE chose (aiortc keeps them in aioice's Connection)."""
    for transceiver in browser.pc.getTransceivers():
        connection = transceiver.sender.transport.transport._connection
        for pair in connection._nominated.values():
            return pair.local_candidate.type, pair.remote_candidate.type
    return None, None


async def main(servers: list[dict], rgb: tuple[int, int, int], hz: float) -> None:
    ice_servers = [
        RTCIceServer(urls=s["urls"], username=s.get("username"), credential=s.get("credential"))
        for s in servers
    ]
    browser = Browser(ColourTrack(rgb), ToneTrack(hz), ice_servers=ice_servers)
    say({"offer": await browser.offer()})
    loop = asyncio.get_running_loop()
    line = await loop.run_in_executor(None, sys.stdin.readline)
    await browser.accept(json.loads(line)["answer"])
    stdin_closed = loop.run_in_executor(None, sys.stdin.readline)
    reported = -1
    while not stdin_closed.done():
        frames = len(browser.receiver.frames)
        if frames != reported:
            reported = frames
            centre = browser.receiver.colour_at(320, 180)
            local, remote = nominated(browser)
            say(
                {
                    "frames": frames,
                    "centre": None if centre is None else [int(c) for c in centre],
                    "local": local,
                    "remote": remote,
                }
            )
        await asyncio.sleep(0.1)
    await browser.close()


if __name__ == "__main__":
    rgb = tuple(int(c) for c in sys.argv[2].split(","))
    asyncio.run(main(json.loads(sys.argv[1]), rgb, float(sys.argv[3])))
