"""MEDIA_UDP_PORTS: the hub's ICE host candidates are bound within the range, so a firewall
can open exactly that range."""

import aioice
import pytest

from meetings.rooms.media.ice import parse_port_range, use_host_addresses, use_port_range


def test_parse_port_range():
    assert parse_port_range("") is None
    assert parse_port_range("40000-40999") == range(40000, 41000)
    for bad in ("40000-", "x-y", "40999-40000", "80-90", "65000-70000"):
        with pytest.raises(ValueError):
            parse_port_range(bad)


async def test_candidates_are_bound_within_the_range():
    ports = range(47310, 47314)
    use_host_addresses(["127.0.0.1"])
    use_port_range(ports)
    connections = []
    try:
        for _ in range(len(ports)):
            connection = aioice.Connection(ice_controlling=True)
            await connection.gather_candidates()
            connections.append(connection)
        bound = sorted(c.local_candidates[0].port for c in connections)
        assert bound == list(ports)  # each a different port of the range, none outside
        # The range is used up: the next agent gathers no host candidate at all.
        full = aioice.Connection(ice_controlling=True)
        await full.gather_candidates()
        connections.append(full)
        assert full.local_candidates == []
    finally:
        use_port_range(None)
        use_host_addresses([])
        for connection in connections:
            await connection.close()
