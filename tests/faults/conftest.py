"""Fault tests: real Daphne, Redis, PostgreSQL (and media worker) processes, broken on purpose.

``platform_factory(nodes=2, media_workers=0, host="127.0.0.1", env={})`` starts a deployment of
its own (servers.py): a private ``redis-server``, a fresh PostgreSQL database with the demo
conference, and the processes asked for. The database is copied from a template migrated once
per session. Everything is stopped and dropped when the test ends; on a failure the tail of
each process's log is attached to the report.

These tests need PostgreSQL (DATABASE_URL) and the ``redis-server`` binary: each module is
marked ``services``, so the embedded pass (``-m 'not services'``) leaves them out.
"""

import os
import secrets
from collections.abc import Callable, Iterator

import pytest

from tests.faults.servers import (
    HallNetwork,
    Platform,
    PostgresDatabase,
    base_environment,
    manage,
    start_platform,
)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.failed:
        for platform in getattr(item, "fault_platforms", []):
            report.sections.append(("server logs (tails)", platform.log_tails()))
    return report


@pytest.fixture(scope="session")
def postgres_url() -> str:
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        pytest.fail("the fault tests need DATABASE_URL to name a PostgreSQL server")
    return url


@pytest.fixture(scope="session")
def migrated_template(postgres_url, tmp_path_factory) -> Iterator[str]:
    """A database migrated once; each platform's database is a copy of it."""
    template = PostgresDatabase(postgres_url, f"meetings_faults_tpl_{secrets.token_hex(6)}")
    template.create()
    try:
        manage(
            base_environment(
                DATABASE_URL=template.url,
                VAR_DIR=str(tmp_path_factory.mktemp("faults-template")),
                SECRET_KEY=secrets.token_urlsafe(50),
            ),
            "migrate",
            "--no-input",
        )
        yield template.name
    finally:
        template.drop()


@pytest.fixture
def platform_factory(
    postgres_url, migrated_template, tmp_path, request
) -> Iterator[Callable[..., Platform]]:
    cleanups: list[Callable[[], None]] = []
    request.node.fault_platforms = []

    def start(
        *,
        nodes: int = 2,
        media_workers: int = 0,
        host: str = "127.0.0.1",
        env: dict[str, str] | None = None,
    ) -> Platform:
        index = len(request.node.fault_platforms)
        platform = start_platform(
            workdir=tmp_path / f"platform-{index}",
            postgres_url=postgres_url,
            template=migrated_template,
            nodes=nodes,
            media_workers=media_workers,
            host=host,
            env=env,
            cleanups=cleanups,
        )
        request.node.fault_platforms.append(platform)
        return platform

    yield start
    errors = []
    for cleanup in reversed(cleanups):
        try:
            cleanup()
        except Exception as error:  # keep cleaning up
            errors.append(f"{cleanup}: {error!r}")
    if errors:
        pytest.fail("cleaning up the platform failed:\n" + "\n".join(errors), pytrace=False)


@pytest.fixture
def hall_network() -> Iterator[HallNetwork]:
    """A hall behind a link of its own that the test can cut (needs root and ``ip``)."""
    network = HallNetwork()
    try:
        yield network.create()
    finally:
        network.delete()
