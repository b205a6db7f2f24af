from concurrent.futures import ThreadPoolExecutor

import pytest

from meetings.rooms.media.ice import use_host_addresses


@pytest.fixture(autouse=True)
def loopback_ice():
    """This machine's only interface may be loopback, which aioice leaves out: offer it."""
    use_host_addresses(["127.0.0.1"])
    yield
    use_host_addresses([])


@pytest.fixture
def executor():
    pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="test-encode")
    yield pool
    pool.shutdown(wait=False)
