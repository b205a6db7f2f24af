"""Run by test_recording: a hub recording its programme until it is killed. Prints the
recording's media time every few frames, so the test knows how far it had got."""

import asyncio
import os
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "meetings.settings")
import django

django.setup()

from meetings.rooms.media.hub import HubSettings, MeetingHub, Role  # noqa: E402
from meetings.rooms.media.ice import use_host_addresses  # noqa: E402
from meetings.rooms.media.recorder import PartWriter  # noqa: E402
from meetings.rooms.media.tiers import Tier  # noqa: E402
from tests.media.peers import Browser, ColourTrack, ToneTrack  # noqa: E402


async def main(path: Path) -> None:
    use_host_addresses(["127.0.0.1"])

    async def reply(to, message):
        return None

    hub = MeetingHub(1, reply=reply, executor=ThreadPoolExecutor(2), settings=HubSettings())
    writer = PartWriter(path, audio_extradata=hub.audio_encoders[Tier.HIGH].context.extradata)
    hub.tap = lambda source, packet: (
        writer.write("video" if source == "video:high" else "audio", packet)
        if source in ("video:high", "audio:high")
        else None
    )
    hub.start()
    studio = Browser(ColourTrack((200, 40, 40)), ToneTrack(440))
    await studio.accept(
        await hub.offer(
            peer_id="studio", role=Role.STUDIO, hall_id=None, reply_to="", sdp=await studio.offer()
        )
    )
    while True:
        await asyncio.sleep(0.1)
        seconds = writer.media_seconds()
        if seconds is not None:
            print(f"{seconds:.3f}", flush=True)


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1])))
