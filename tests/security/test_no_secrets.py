"""No secret in the repository (issue 6), checked with detect-secrets (Yelp's scanner: keys of
the common services, private keys, passwords in URLs and assignments, high-entropy strings).

Every file of the project is scanned. What it finds must already be in `.secrets.baseline`,
each entry audited as not a secret: the SHA-256 hashes in the docs' examples, a TURN secret and
passwords made up for tests, the word "secretary". A new finding fails the test; if it is not a
secret either, audit it into the baseline:

    .venv/bin/detect-secrets scan --baseline .secrets.baseline $(git ls-files)
    .venv/bin/detect-secrets audit .secrets.baseline
"""

import json
import os
import subprocess
from pathlib import Path

import pytest
from detect_secrets import SecretsCollection
from detect_secrets.settings import transient_settings

REPO = Path(__file__).resolve().parents[2]
BASELINE = REPO / ".secrets.baseline"
# Without git (an exported tree), what the .gitignore files keep out, and git's own directory.
NOT_IN_THE_REPOSITORY = {
    ".git",
    ".venv",
    "var",
    "__pycache__",
    ".pytest_cache",
    ".ruff_cache",
    ".hypothesis",
    "test-artifacts",
    "build",
    "dist",
}


def project_files() -> list[str]:
    """Every file of the project, relative to its root: what git tracks or would track."""
    if (REPO / ".git").exists():
        listed = subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=REPO,
            capture_output=True,
            check=True,
        ).stdout.decode()
        found = [name for name in listed.split("\0") if name and (REPO / name).is_file()]
    else:
        found = []
        for directory, subdirectories, files in os.walk(REPO):
            here = Path(directory).relative_to(REPO)
            subdirectories[:] = [
                name
                for name in subdirectories
                if name not in NOT_IN_THE_REPOSITORY
                and not name.endswith(".egg-info")
                and (here / name).as_posix() != "bench/results"
            ]
            found += [(here / name).as_posix() for name in files]
    # The baseline holds the findings' hashes, which look like secrets themselves.
    return sorted(path for path in found if path != BASELINE.name)


@pytest.fixture
def baseline() -> dict:
    return json.loads(BASELINE.read_text())


def scan(paths: list[str], baseline: dict) -> SecretsCollection:
    # One file at a time, in this process: `scan_files` forks a multiprocessing pool, and a fork
    # of a test process that holds other threads (database pools, executors) can inherit a held
    # lock and hang for ever; that is how CI once timed out here.
    with transient_settings(baseline):
        found = SecretsCollection()
        for path in paths:
            found.scan_file(path)
    return found


def test_the_repository_holds_no_secret(baseline, monkeypatch):
    monkeypatch.chdir(REPO)  # the baseline names files relative to the root
    paths = project_files()
    assert "meetings/settings.py" in paths and ".ci/run" in paths
    with transient_settings(baseline):
        known = SecretsCollection.load_from_baseline(baseline)
    new = scan(paths, baseline) - known
    findings = [f"{name}:{secret.line_number} {secret.type}" for name, secret in new]
    assert findings == [], "possible secrets not in .secrets.baseline:\n" + "\n".join(findings)
    # Nobody let a real one in by adding it to the baseline.
    assert all(secret.is_secret is False for _, secret in known)


def test_the_scan_finds_a_key_left_in_a_file(baseline, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    # Split, so that this file itself holds no key.
    Path("settings_local.py").write_text(
        'AWS_ACCESS_KEY_ID = "AKIA' + 'Z7QJ4W2NXV3KPL5M"\n'
        "TURN_KEY = '''-----BEGIN " + "RSA PRIVATE KEY-----'''\n"
    )
    found = {secret.type for _, secret in scan(["settings_local.py"], baseline)}
    assert {"AWS Access Key", "Private Key"} <= found
