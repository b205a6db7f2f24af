"""compose.yaml against the README's `.env` list (.ci/compose_check.py, which CI also runs
alone): the real files agree, and each kind of disagreement the check exists for is caught."""

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("compose_check", ROOT / ".ci/compose_check.py")
compose_check = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(compose_check)

COMPOSE = (ROOT / "compose.yaml").read_text()
README = (ROOT / "README.md").read_text()


def test_compose_and_the_readme_agree():
    assert compose_check.problems(COMPOSE, README) == []
    listed = compose_check.readme_list(README)
    assert listed["MEDIA_PUBLIC_ADDRESS"] is True and listed["MEDIA_WORKERS"] is False


def _replaced(text: str, old: str, new: str) -> str:
    assert old in text
    return text.replace(old, new)


def test_a_shell_s_own_variable_escaped_with_two_dollars_is_not_compose_s():
    assert "$${TURN_EXTERNAL_IP:+" in COMPOSE  # coturn's command line
    assert compose_check.references({"x": "echo $${HOME:+x} ${A:-1}"}) == {"A": {":-"}}


@pytest.mark.parametrize(
    ("compose", "readme", "expected"),
    [
        (
            COMPOSE,
            _replaced(README, "MEDIA_PUBLIC_ADDRESS=203.0.113.10", "#"),
            "reads ${MEDIA_PUBLIC_ADDRESS}, missing from README",
        ),
        (
            COMPOSE,
            _replaced(README, "# HEALTH_MIN_FREE_MB=2048", "# HEALTH_MIN_FREE_MB=2048\n# UNUSED=1"),
            "names UNUSED, which compose.yaml never reads",
        ),
        (
            _replaced(COMPOSE, '      MEDIA_WORKERS: "${MEDIA_WORKERS:-1}"\n', ""),
            README,
            "service media does not get MEDIA_WORKERS",
        ),
        (
            _replaced(COMPOSE, "${ALLOWED_HOSTS:?set ALLOWED_HOSTS}", "${ALLOWED_HOSTS:-}"),
            README,
            "ALLOWED_HOSTS is required (README) but read as [':-', ':?']",
        ),
        (
            _replaced(
                COMPOSE,
                'test: ["CMD", "python", "manage.py", "media_health"]',
                "disable: true",
            ),
            README,
            "service media keeps running without a health check",
        ),
        (
            _replaced(
                COMPOSE, "condition: service_completed_successfully", "condition: service_started"
            ),
            README,
            "waits for one-shot migrate without its completion",
        ),
        (
            _replaced(
                COMPOSE,
                '\n    LOG_LEVEL: "${LOG_LEVEL:-INFO}"\n',
                '\n    LOG_LEVEL: "${LOG_LEVEL:-INFO}"\n    TIME_ZONE: "UTC"\n',
            ),
            README,
            "the key 'TIME_ZONE' twice in one mapping",
        ),
    ],
)
def test_each_disagreement_is_caught(compose, readme, expected):
    assert any(expected in problem for problem in compose_check.problems(compose, readme)), (
        compose_check.problems(compose, readme)
    )
