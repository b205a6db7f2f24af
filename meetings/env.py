"""Typed readers for environment variables that fail loudly on bad values.

Settings read everything through these so that a typo in a deployment (``DEBUG=ture``,
``ICE_SERVERS`` that is not JSON) stops the process at start-up with a clear message instead
of silently running with a default.
"""

import base64
import binascii
import json
import os
from pathlib import Path
from typing import Any

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def base64_bytes(text: str, length: int, where: str, how_to_make: str) -> bytes:
    """``text`` as the standard base64 of exactly ``length`` bytes, or a message saying what
    ``where`` must hold and how to make one."""
    try:
        value = base64.b64decode(text.strip(), validate=True)
    except binascii.Error:
        value = b""
    if len(value) != length:
        raise ImproperlyConfigured(
            f"{where} must be the base64 of {length} bytes, for instance: {how_to_make}"
        )
    return value


def env_base64_bytes(name: str, length: int, how_to_make: str) -> bytes | None:
    """A key given in the environment as base64, or None when unset or empty."""
    raw = os.environ.get(name, "")
    return base64_bytes(raw, length, name, how_to_make) if raw.strip() else None


def env_choice(name: str, default: str, choices: tuple[str, ...]) -> str:
    """One of ``choices``, whatever its case (``LOG_LEVEL=info``); the value as spelt in
    ``choices``."""
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    by_case = {choice.casefold(): choice for choice in choices}
    value = by_case.get(raw.strip().casefold())
    if value is None:
        raise ImproperlyConfigured(f"{name} must be one of {', '.join(choices)}, not {raw!r}")
    return value


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false), not {raw!r}")


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, not {raw!r}") from None
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, not {value}")
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    """A comma-separated list; surrounding spaces and empty items are ignored."""
    raw = os.environ.get(name)
    if raw is None:
        return list(default)
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_json(name: str, default: Any) -> Any:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return json.loads(raw)
    except json.JSONDecodeError as error:
        raise ImproperlyConfigured(f"{name} is not valid JSON: {error}") from None


def env_path(name: str, default: Path) -> Path:
    raw = os.environ.get(name)
    return Path(raw).expanduser().resolve() if raw else default
