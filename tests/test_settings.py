"""Settings come from the environment; each case runs in a fresh process, as a deployment would."""

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PROBE = (
    "import json, django\n"
    "from django.conf import settings\n"
    "django.setup()\n"
    "print(json.dumps({\n"
    "  'engine': settings.DATABASES['default']['ENGINE'],\n"
    "  'layer': settings.CHANNEL_LAYERS['default']['BACKEND'],\n"
    "  'cache': settings.CACHES['default']['BACKEND'],\n"
    "  'debug': settings.DEBUG,\n"
    "  'ice': settings.ICE_SERVERS,\n"
    "  'hosts': settings.ALLOWED_HOSTS,\n"
    "  'media': str(settings.MEDIA_ROOT),\n"
    "  'counts_seconds': settings.COUNTS_PUBLISH_SECONDS,\n"
    "}))\n"
)
SERVICE_VARIABLES = ("DATABASE_URL", "REDIS_URL", "DEBUG", "ICE_SERVERS", "SECRET_KEY", "HTTPS")


def run(code_or_args, tmp_path, **env):
    clean = {k: v for k, v in os.environ.items() if k not in SERVICE_VARIABLES}
    clean.update(DJANGO_SETTINGS_MODULE="meetings.settings", VAR_DIR=str(tmp_path), **env)
    args = code_or_args if isinstance(code_or_args, list) else ["-c", code_or_args]
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=clean, capture_output=True, text=True, check=False
    )


def probe(tmp_path, **env) -> dict:
    result = run(PROBE, tmp_path, **env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_nothing_set_means_sqlite_and_the_in_memory_layer(tmp_path):
    found = probe(tmp_path)
    assert found["engine"] == "django.db.backends.sqlite3"
    assert found["layer"] == "meetings.rooms.realtime.memory_layer.InMemoryChannelLayer"
    assert found["debug"] is False
    assert found["ice"] == []  # no public STUN server unless configured
    assert (tmp_path / "secret-key").exists()  # generated once for this install


def test_database_url_and_redis_url_switch_to_the_services(tmp_path):
    found = probe(
        tmp_path,
        DATABASE_URL="postgres://user@db.example:5432/meetings",
        REDIS_URL="redis://cache.example:6379/0",
    )
    assert found["engine"] == "django.db.backends.postgresql"
    assert found["layer"] == "channels_redis.core.RedisChannelLayer"
    assert found["cache"] == "django.core.cache.backends.redis.RedisCache"


def test_other_variables_are_read(tmp_path):
    found = probe(
        tmp_path,
        DEBUG="true",
        ALLOWED_HOSTS="tiepxuc.example.vn, www.tiepxuc.example.vn",
        ICE_SERVERS='[{"urls": "turn:turn.example.vn:3478", "username": "u", "credential": "c"}]',
        MEDIA_ROOT=str(tmp_path / "recordings"),
    )
    assert found["debug"] is True
    assert found["hosts"] == ["tiepxuc.example.vn", "www.tiepxuc.example.vn"]
    assert found["ice"][0]["urls"] == "turn:turn.example.vn:3478"
    assert found["media"] == str(tmp_path / "recordings")


def test_counts_are_announced_every_second_unless_set_under_either_name(tmp_path):
    assert probe(tmp_path)["counts_seconds"] == 1
    assert probe(tmp_path, VOTE_PUBLISH_SECONDS="3")["counts_seconds"] == 3  # the former name
    both = probe(tmp_path, VOTE_PUBLISH_SECONDS="3", COUNTS_PUBLISH_SECONDS="2")
    assert both["counts_seconds"] == 2


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("DEBUG", "ture", "DEBUG must be a boolean"),
        ("ICE_SERVERS", "stun:x", "ICE_SERVERS is not valid JSON"),
        ("ICE_SERVERS", '{"urls": "stun:x"}', "ICE_SERVERS must be a JSON list"),
        ("HEARTBEAT_SECONDS", "soon", "HEARTBEAT_SECONDS must be an integer"),
        ("EVENT_REPLAY_LIMIT", "0", "EVENT_REPLAY_LIMIT must be at least 1"),
        ("COUNTS_PUBLISH_SECONDS", "0", "COUNTS_PUBLISH_SECONDS must be at least 1"),
        (
            "LOG_LEVEL",
            "inof",
            "LOG_LEVEL must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL, not 'inof'",
        ),
        ("MEDIA_WORKER", "threads", "MEDIA_WORKER must be one of thread, worker, not 'threads'"),
        ("RECORD_SIGNING_KEY", "c2hvcnQ=", "RECORD_SIGNING_KEY must be the base64 of 32 bytes"),
        ("RECORD_SIGNING_KEY", "not base64!", "RECORD_SIGNING_KEY must be the base64 of 32 bytes"),
    ],
)
def test_bad_values_stop_the_process_with_a_clear_message(tmp_path, variable, value, message):
    result = run(PROBE, tmp_path, **{variable: value})
    assert result.returncode != 0
    assert message in result.stderr
    # The message is the last line, not a ValueError from somewhere inside Django's set-up.
    assert message in result.stderr.strip().splitlines()[-1]
    assert "ValueError" not in result.stderr


def test_the_log_level_is_read_whatever_its_case(tmp_path):
    code = "import logging, django\ndjango.setup()\nprint(logging.getLogger().level)"
    for value, level in (
        ("warning", logging.WARNING),
        ("Debug", logging.DEBUG),
        ("", logging.INFO),
    ):
        result = run(code, tmp_path, LOG_LEVEL=value)
        assert result.returncode == 0, result.stderr
        assert int(result.stdout.strip()) == level


def test_check_deploy_is_clean_with_production_values(tmp_path):
    result = run(
        ["manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        tmp_path,
        DEBUG="0",
        HTTPS="1",
        SECRET_KEY="k" * 20 + "-production-secret-with-enough-entropy-9f8e7d6c5b4a",
        ALLOWED_HOSTS="tiepxuc.example.vn",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_check_deploy_flags_debug_in_production(tmp_path):
    result = run(
        ["manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        tmp_path,
        DEBUG="1",
        HTTPS="1",
        SECRET_KEY="k" * 20 + "-production-secret-with-enough-entropy-9f8e7d6c5b4a",
    )
    assert result.returncode != 0
    assert "DEBUG" in result.stdout + result.stderr
