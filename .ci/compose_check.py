#!/usr/bin/env python3
"""Check compose.yaml against the README's `.env` list (what `docker compose config` would catch,
and more), without Docker: CI's machine has no compose plugin. tests/test_compose.py runs the
same check under `make test`.

- every ${VAR} compose.yaml reads is in the README's list, and every name listed is read;
- the list's required names (uncommented lines) are read with `:?` (compose stops with a
  message when one is missing), the optional ones (commented lines) with a `:-` default;
- what both the web nodes and the media worker read reaches both (SHARED);
- every service that keeps running has a health check; a one-shot (restart "no") is waited
  for with service_completed_successfully by the services that depend on it.

With the compose plugin present, `docker compose config` also runs, given exactly the
list's names (placeholder values) and nothing else from the environment.

Usage: python3 .ci/compose_check.py   (exit 1 with the problems listed)
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
# Read by the web nodes and the media workers alike: settings that must agree.
SHARED = (
    "DATABASE_URL",
    "REDIS_URL",
    "SECRET_KEY",
    "RECORD_SIGNING_KEY",
    "ALLOWED_HOSTS",
    "MEDIA_ROOT",
    "MEDIA_WORKERS",
    "ICE_SERVERS",
    "TURN_SECRET",
    "TIME_ZONE",
)
REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(:?[-?])?[^}]*\}")
LISTED = re.compile(r"^(#\s*)?([A-Z][A-Z0-9_]*)=")
BLOCK_START = "<!-- compose-env -->"


def readme_list(readme: str) -> dict[str, bool]:
    """The `.env` list under the README's marker: name -> required (an uncommented line)."""
    after = readme.split(BLOCK_START, 1)[1]
    block = after.split("```sh\n", 1)[1].split("```", 1)[0]
    names = {}
    for line in block.splitlines():
        match = LISTED.match(line.strip())
        if match:
            names[match.group(2)] = match.group(1) is None
    return names


def _strings(node):
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _strings(key)
            yield from _strings(value)
    elif isinstance(node, list):
        for item in node:
            yield from _strings(item)
    elif isinstance(node, str):
        yield node


def references(compose: dict) -> dict[str, set[str]]:
    """Each variable compose reads -> the forms it is read with ('', '-', ':-', '?', ':?')."""
    used: dict[str, set[str]] = {}
    for text in _strings(compose):
        # "$$" is compose's escape for a literal "$" (a shell's own ${VAR} in a command).
        for match in REFERENCE.finditer(text.replace("$$", "")):
            used.setdefault(match.group(1), set()).add(match.group(2) or "")
    return used


class _UniqueKeyLoader(yaml.SafeLoader):
    """PyYAML keeps the last of two equal keys; compose refuses the file ("already defined")."""

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _value in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue  # "<<: *app" merges; compose.yaml's keys are plain scalars
            key = key_node.value
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"the key {key!r} twice in one mapping", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def problems(compose_text: str, readme_text: str) -> list[str]:
    try:  # resolves the << merges, as compose does
        compose = yaml.load(compose_text, Loader=_UniqueKeyLoader)  # a SafeLoader
    except yaml.YAMLError as error:
        return [f"compose.yaml does not load: {error}"]
    listed = readme_list(readme_text)
    used = references(compose)
    found = []
    for name in sorted(used.keys() - listed.keys()):
        found.append(f"compose.yaml reads ${{{name}}}, missing from README's .env list")
    for name in sorted(listed.keys() - used.keys()):
        found.append(f"README's .env list names {name}, which compose.yaml never reads")
    for name in sorted(used.keys() & listed.keys()):
        forms = used[name]
        if listed[name] and forms != {":?"}:
            found.append(f"{name} is required (README) but read as {sorted(forms)}, not only :?")
        if not listed[name] and forms != {":-"}:
            found.append(f"{name} is optional (README) but read as {sorted(forms)}, not :-")
    for text in _strings(compose):
        if re.search(r"\$(?![{$])", text.replace("$$", "")):
            found.append(f"a bare $ (not ${{...}} nor $$) in {text!r}")

    services = compose["services"]
    for name in ("web", "media"):
        environment = services[name].get("environment") or {}
        for variable in SHARED:
            if variable not in environment:
                found.append(f"service {name} does not get {variable}")
    for variable in SHARED:
        values = {
            frozenset(m.group(1) for m in REFERENCE.finditer(str(services[s]["environment"][v])))
            for s in ("web", "media")
            for v in [variable]
            if v in (services[s].get("environment") or {})
        }
        if variable not in ("DATABASE_URL", "REDIS_URL") and len(values) > 1:
            found.append(f"web and media read {variable} from different variables: {values}")
    for name, service in services.items():
        one_shot = str(service.get("restart", "")) == "no"
        check = service.get("healthcheck") or {}
        if not one_shot and (not check.get("test") or check.get("disable")):
            found.append(f"service {name} keeps running without a health check")
        if one_shot:
            for other, depending in services.items():
                condition = (depending.get("depends_on") or {}).get(name, {})
                if condition and condition.get("condition") != "service_completed_successfully":
                    found.append(f"{other} waits for one-shot {name} without its completion")
    return found


def docker_compose_config(listed: dict[str, bool]) -> str | None:
    """`docker compose config` with exactly the list's names set (None: no plugin here)."""
    docker = shutil.which("docker")
    if (
        docker is None
        or subprocess.run([docker, "compose", "version"], capture_output=True).returncode
    ):
        return None
    with tempfile.TemporaryDirectory() as tmp:
        env_file = Path(tmp, ".env")
        env_file.write_text("".join(f"{name}=placeholder1\n" for name in listed))
        environment = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME")}
        result = subprocess.run(
            [
                docker,
                "compose",
                "-f",
                str(ROOT / "compose.yaml"),
                "--env-file",
                str(env_file),
                "config",
                "--quiet",
            ],
            capture_output=True,
            text=True,
            env=environment,
        )
        return result.stderr if result.returncode else ""


def main() -> int:
    compose_text = (ROOT / "compose.yaml").read_text()
    readme_text = (ROOT / "README.md").read_text()
    found = problems(compose_text, readme_text)
    config = docker_compose_config(readme_list(readme_text))
    if config:
        found.append(f"docker compose config: {config.strip()}")
    for line in found:
        print(f"compose check: {line}", file=sys.stderr)
    listed = readme_list(readme_text)
    print(
        f"compose check: {len(listed)} variables listed ({sum(listed.values())} required), "
        f"{'docker compose config ran' if config is not None else 'no compose plugin here'}; "
        f"{len(found)} problems"
    )
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
