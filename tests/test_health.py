"""/healthz names each dependency it checked and fails (503) on any; /livez depends on none."""

import json
import time

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError

from meetings.rooms.media.health import write_health

pytestmark = pytest.mark.django_db


def test_healthz_reports_database_redis_and_free_space(client):
    answer = client.get("/healthz")
    lines = answer.content.decode().splitlines()
    assert answer.status_code == 200, lines
    assert lines[0] == "database: ok"
    assert lines[1] == ("redis: ok" if settings.REDIS_URL else "redis: not configured")
    assert lines[2].startswith("media_root: ") and lines[2].endswith(" MB free")


def test_healthz_fails_when_media_root_is_short_of_space(client, settings):
    settings.HEALTH_MIN_FREE_MB = 1 << 40  # a million terabytes
    answer = client.get("/healthz")
    assert answer.status_code == 503
    assert "media_root: FAILED" in answer.content.decode()
    assert "database: ok" in answer.content.decode()


def test_livez_touches_nothing(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        answer = client.get("/livez")
    assert (answer.status_code, answer.content) == (200, b"ok\n")


class _Hub:
    def __init__(self, peers):
        self.peers = dict.fromkeys(range(peers))


def test_media_health_reads_the_workers_hubs(settings, tmp_path, capsys):
    settings.MEDIA_HEALTH_FILE = tmp_path / "media-{index}.json"
    with pytest.raises(CommandError, match="no health file"):
        call_command("media_health", "--index", "1")
    write_health(1, channel="media.1", hubs={7: _Hub(3), 9: _Hub(0)})
    call_command("media_health", "--index", "1")
    assert "media.1: 2 hubs, 3 peers" in capsys.readouterr().out
    state = json.loads((tmp_path / "media-1.json").read_text())
    state["written_at"] = time.time() - 120  # a worker whose loop stopped
    (tmp_path / "media-1.json").write_text(json.dumps(state))
    with pytest.raises(CommandError, match="written 120 s ago"):
        call_command("media_health", "--index", "1")
