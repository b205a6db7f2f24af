import copy
import inspect
import os
import uuid

import pytest

# The Redis/PostgreSQL tier runs when both services are configured. CI sets REQUIRE_SERVICES=1
# so that a missing service fails the run instead of quietly skipping the tier.
SERVICES_CONFIGURED = bool(os.environ.get("REDIS_URL") and os.environ.get("DATABASE_URL"))
SERVICES_REQUIRED = os.environ.get("REQUIRE_SERVICES") == "1"


def pytest_configure(config):
    if SERVICES_REQUIRED and not SERVICES_CONFIGURED:
        raise pytest.UsageError("REQUIRE_SERVICES=1 but REDIS_URL or DATABASE_URL is not set")


def pytest_collection_modifyitems(config, items):
    if SERVICES_CONFIGURED:
        return
    for item in items:
        if "services" in item.keywords:
            item.add_marker(pytest.mark.skip(reason="needs REDIS_URL and DATABASE_URL"))


@pytest.fixture(autouse=True)
def _fanout_stops_with_the_loop(request):
    if inspect.iscoroutinefunction(getattr(request.node, "function", None)):
        request.getfixturevalue("_stop_fanout")


@pytest.fixture
async def _stop_fanout():
    """The stream's fan-out lives as long as its event loop: stop it before the test's loop
    closes. asyncio would otherwise cancel its blocking read on Redis, and redis-py can
    swallow the cancellation of a read in progress: the loop would wait for it forever. For
    the same reason the layer's Redis connections are closed here, while the loop still runs:
    a consumer's read of its own channel, cancelled just then, ends with the connection."""
    yield
    from channels.layers import channel_layers

    from meetings.rooms.realtime.fanout import close_fanout
    from tests.realtime import finish_open_sockets

    await finish_open_sockets()
    await close_fanout()
    layer = channel_layers.backends.get("default")
    if hasattr(layer, "close_pools"):
        await layer.close_pools()


@pytest.fixture(autouse=True)
def _english_outside_requests():
    """Services called directly speak the default language (Vietnamese); tests match their
    English messages. Requests still choose their language through the middleware."""
    from django.utils import translation

    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def _fresh_channel_layer():
    """Each test gets its own channel layer: pytest-asyncio gives every test a new event loop,
    and channels-redis keeps a receive lock bound to the loop that first received."""
    from channels.layers import channel_layers

    yield
    channel_layers.backends.clear()


@pytest.fixture(autouse=True)
def _isolated_settings(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]
    # Rate-limit counters live in the cache: each test counts from zero (without flushing a
    # Redis that other runs may share).
    caches = copy.deepcopy(settings.CACHES)
    caches["default"]["KEY_PREFIX"] = f"test-{uuid.uuid4().hex[:12]}"
    settings.CACHES = caches
    # Password hashing is deliberately slow; tests make many accounts.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def database_queries():
    """Every SQL statement run from now on, in any thread (the consumers' database thread
    too): a list the test may clear and inspect."""
    from django.db.backends.utils import CursorWrapper

    statements: list[str] = []
    execute, executemany = CursorWrapper.execute, CursorWrapper.executemany

    def watched_execute(self, sql, params=None):
        statements.append(sql)
        return execute(self, sql, params)

    def watched_executemany(self, sql, param_list):
        statements.append(sql)
        return executemany(self, sql, param_list)

    CursorWrapper.execute, CursorWrapper.executemany = watched_execute, watched_executemany
    try:
        yield statements
    finally:
        CursorWrapper.execute, CursorWrapper.executemany = execute, executemany
