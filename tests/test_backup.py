"""Backup and restore (meetings/backup.py), run as an operator runs them: manage.py in separate
processes, on SQLite in the embedded tier and on PostgreSQL (pg_dump, pg_restore) in the
services tier. A restored conference's record verifies (manage.py verify_record)."""

import base64
import os
import secrets
from pathlib import Path

import pytest

from tests.faults.servers import PostgresDatabase, ServerFailed, base_environment, manage

RECORDING = "meetings/demo/recording/part-0001.webm"
KEY = base64.b64encode(os.urandom(32)).decode()  # the same on every installation here


@pytest.fixture
def installation(tmp_path):
    """A factory of new, empty installations: (environment, its MEDIA_ROOT)."""
    databases = []

    def make(name: str) -> tuple[dict[str, str], Path]:
        env = base_environment(
            VAR_DIR=str(tmp_path / name),
            SECRET_KEY=secrets.token_urlsafe(40),
            RECORD_SIGNING_KEY=KEY,
        )
        if os.environ.get("DATABASE_URL"):
            database = PostgresDatabase(
                os.environ["DATABASE_URL"], f"meetings_backup_{secrets.token_hex(5)}"
            )
            database.create()
            databases.append(database)
            env["DATABASE_URL"] = database.url
        return env, tmp_path / name / "media"

    yield make
    for database in databases:
        database.drop()


def _with_demo(installation) -> tuple[dict[str, str], bytes]:
    env, media = installation("a")
    manage(env, "migrate", "--no-input")
    manage(env, "seed_demo")
    (media / RECORDING).parent.mkdir(parents=True)
    recording = os.urandom(4096)
    (media / RECORDING).write_bytes(recording)
    return env, recording


def _verified(env) -> str:
    output = manage(env, "verify_record", "demo")
    assert "record of demo is intact" in output and "it extends the stored checkpoint" in output
    return output


def test_the_whole_installation_restored_into_an_empty_database(installation, tmp_path):
    source, recording = _with_demo(installation)
    before = _verified(source)
    made = Path(manage(source, "backup", "--out", str(tmp_path / "backups")).strip())
    expected = "database.dump" if "DATABASE_URL" in source else "database.sqlite3"
    assert sorted(p.name for p in made.iterdir()) == sorted(
        [expected, "media.tar", "manifest.json"]
    )

    empty, media = installation("b")
    assert "installation restored" in manage(empty, "restore", str(made))
    assert _verified(empty) == before
    assert (media / RECORDING).read_bytes() == recording

    with pytest.raises(ServerFailed, match="the database is not empty"):
        manage(source, "restore", str(made))


def test_one_conference_into_a_fresh_installation_and_not_over_others(installation, tmp_path):
    source, recording = _with_demo(installation)
    before = _verified(source)
    made = Path(
        manage(source, "backup", "--out", str(tmp_path / "b"), "--conference", "demo").strip()
    )

    fresh, media = installation("c")
    manage(fresh, "migrate", "--no-input")
    assert "conference demo restored" in manage(fresh, "restore", str(made))
    assert _verified(fresh) == before  # same entries, same final hash, its checkpoint signed
    assert (media / RECORDING).read_bytes() == recording
    # A new row after the restored ones gets a new id (PostgreSQL's sequences were moved on
    # past the restored ids: an account, as the restored chair's is id 1).
    manage(
        {**fresh, "DJANGO_SUPERUSER_PASSWORD": secrets.token_urlsafe(12)},
        "createsuperuser", "--no-input", "--username", "admin2", "--email", "a@x.vn",
    )  # fmt: skip

    # An installation that already has conferences: the ids are taken, so it is refused and
    # nothing changes (the rows would be overwritten otherwise).
    with pytest.raises(ServerFailed, match=r"ids of demo's rows are already taken here"):
        manage(source, "restore", str(made))
    assert _verified(source) == before
