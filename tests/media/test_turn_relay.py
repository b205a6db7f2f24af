"""A hall whose network lets out nothing but TCP to the TURN server's TLS port still receives
the programme and sends its picture: a kiosk peer in a network namespace, a real coturn started
here with shared-secret auth and a throwaway certificate, and a real hub (tests/turn_network.py).

The kiosk here is an aiortc peer (tests/media/turn_kiosk.py) run with `ip netns exec`, so the
hub's side is seen alone: aiortc has no iceTransportPolicy, so the namespace's firewall is what
leaves it only the relay. tests/browser/test_turn_kiosk.py runs the kiosk page in Chromium."""

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from meetings.rooms.media.compositor import Layout
from meetings.rooms.media.hub import HubSettings, Role
from meetings.rooms.media.ice import browser_ice_servers, use_host_addresses
from tests.media.peers import ColourTrack, ToneTrack
from tests.media.test_hub import (
    HALL_HZ,
    HALL_RGB,
    INSET_X,
    INSET_Y,
    STUDIO_HZ,
    STUDIO_RGB,
    Meeting,
    near,
    wait_for,
)
from tests.turn_network import ROOT, SECRET, Network, allocated_over_tls, turn_site

HALL = 2


@pytest.fixture
def turn_network(tmp_path):
    with turn_site(tmp_path) as site:
        yield site


class Kiosk:
    """tests/media/turn_kiosk.py inside the hall's namespace."""

    def __init__(self, network: Network, servers: list[dict], cert: Path):
        env = {**os.environ, "SSL_CERT_FILE": str(cert), "PYTHONPATH": str(ROOT)}
        colour = ",".join(str(c) for c in HALL_RGB[HALL])
        self.process = subprocess.Popen(
            ["ip", "netns", "exec", network.name, sys.executable, "-m", "tests.media.turn_kiosk",
             json.dumps(servers), colour, str(HALL_HZ[HALL])],
            cwd=ROOT, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        self.latest: dict = {}

    async def read(self) -> dict:
        line = await asyncio.get_running_loop().run_in_executor(None, self.process.stdout.readline)
        assert line, "the kiosk stopped"
        return json.loads(line)

    async def follow(self) -> None:
        while True:
            self.latest = await self.read()

    def answer(self, sdp: str) -> None:
        self.process.stdin.write(json.dumps({"answer": sdp}) + "\n")
        self.process.stdin.flush()

    def stop(self) -> None:
        self.process.stdin.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()


async def test_a_hall_behind_a_firewall_reaches_the_hub_through_turn_over_tls(
    turn_network, executor, settings, monkeypatch
):
    network, cert, directory = turn_network.network, turn_network.cert, turn_network.directory
    settings.ICE_SERVERS = turn_network.ice_servers
    settings.TURN_SECRET = SECRET
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # the hub's TLS to coturn trusts the test's
    use_host_addresses([network.server])
    # The kiosk's credentials are minted as the web node mints a kiosk's (api/media.py).
    kiosk = Kiosk(network, browser_ice_servers(f"operator-{HALL}"), cert)
    following = None
    try:
        async with Meeting(executor, HubSettings(floor_hall_id=HALL, layout=Layout.INSET)) as m:
            studio = await m.join(
                "studio", Role.STUDIO, 10, video=ColourTrack(STUDIO_RGB), audio=ToneTrack(STUDIO_HZ)
            )
            offer = (await kiosk.read())["offer"]
            kiosk.answer(
                await m.hub.offer(
                    peer_id="hall", role=Role.HALL, hall_id=HALL, reply_to="hall", sdp=offer
                )
            )
            following = asyncio.ensure_future(kiosk.follow())

            def programme_seen() -> bool:
                return kiosk.latest.get("frames", 0) >= 25 and near(
                    kiosk.latest.get("centre"), STUDIO_RGB
                )

            await wait_for(programme_seen)
            # The hall's picture went through the relay into the programme the studio sees.
            await wait_for(
                lambda: near(studio.receiver.colour_at(INSET_X, INSET_Y), HALL_RGB[HALL])
            )
            assert kiosk.latest["local"] == "relay", kiosk.latest
            # The direct way was tried and dropped: nothing but the relay could carry it.
            assert network.udp_dropped() > 0
            # coturn accepted the credentials minted for the kiosk and for the hub, over TLS.
            log = directory / "turnserver.log"
            await wait_for(lambda: allocated_over_tls(log.read_text(), f"operator-{HALL}"))
            await wait_for(lambda: allocated_over_tls(log.read_text(), "hub"))
    finally:
        if following is not None:
            following.cancel()
        kiosk.stop()
        use_host_addresses(["127.0.0.1"])
