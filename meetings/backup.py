"""Backups of the whole installation or of one conference, and their restore (docs/storage.md,
"Backup and restore"; `make backup`, `manage.py backup`, `manage.py restore`).

A backup is a directory:

- the whole installation: ``database.dump`` (PostgreSQL, ``pg_dump --format=custom``) or
  ``database.sqlite3`` (SQLite's online backup API: a consistent copy while the platform
  runs), and ``media.tar``, every file under MEDIA_ROOT;
- one conference: ``conference.json``, its rows (Django's serialisation, primary keys kept)
  with the rows they point to (its round, the accounts of its chair and staff...), and
  ``media.tar``, its files (``meetings/<slug>/`` under MEDIA_ROOT);
- ``manifest.json``: what it is, when, and each file's SHA-256.

The record's entries point at rows by id (questions, halls, clips), so ids are kept. Restoring
the whole installation needs an empty database. Restoring one conference into an installation
that already has rows with any of the same ids (ids are counted per installation, so any other
installation's first conference, its first account...) is refused and changes nothing: the
rows would be overwritten otherwise. It works into a fresh installation, or into the one it
came from once the conference is gone.

RECORD_SIGNING_KEY is not in any backup (docs/record.md): restore on an installation with the
same key, or verify with ``verify_record --public-key``.
"""

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
from collections import deque
from datetime import UTC, datetime, time
from pathlib import Path

from django.conf import settings
from django.core import serializers
from django.core.management import call_command
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection

from meetings.rooms.models import Meeting

# Rows every installation makes for itself (migrate): never part of a conference's backup.
INSTALLATION_MODELS = {"contenttypes.contenttype", "auth.permission", "auth.group"}


class ExactJSONEncoder(DjangoJSONEncoder):
    """Django's JSON, but times keep their microseconds (Django's own encoder drops all but
    the milliseconds): a signed checkpoint's time is part of what its signature covers."""

    def default(self, o):
        if isinstance(o, datetime | time):
            return o.isoformat()
        return super().default(o)


class BackupRefused(Exception):
    """Nothing was written or restored; the message says why."""


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _label(obj) -> str:
    return obj._meta.label_lower


def conference_rows(meeting: Meeting) -> list:
    """The conference's rows (every row that points to it, or to such a row, and so on) and
    the rows these point to (followed the same way, but not their other referrers)."""
    rows: dict[tuple[str, object], object] = {}
    owned = deque([meeting])
    rows[(_label(meeting), meeting.pk)] = meeting
    while owned:
        obj = owned.popleft()
        for relation in obj._meta.related_objects:
            if relation.many_to_many:
                continue
            for other in relation.related_model._base_manager.filter(**{relation.field.name: obj}):
                key = (_label(other), other.pk)
                if key not in rows and _label(other) not in INSTALLATION_MODELS:
                    rows[key] = other
                    owned.append(other)
    pointed = deque(rows.values())
    while pointed:
        obj = pointed.popleft()
        targets = []
        for field in obj._meta.concrete_fields:
            if field.is_relation and getattr(obj, field.attname) is not None:
                targets.append(getattr(obj, field.name))
        for field in obj._meta.many_to_many:
            targets.extend(getattr(obj, field.name).all())
        for target in targets:
            key = (_label(target), target.pk)
            if key not in rows and _label(target) not in INSTALLATION_MODELS:
                rows[key] = target
                pointed.append(target)
    return list(rows.values())


def _tar(target: Path, root: Path, inside: str = ".") -> None:
    with tarfile.open(target, "w") as archive:
        source = root / inside
        if source.exists():
            archive.add(source, arcname=inside)


def _database_settings() -> dict:
    return connection.settings_dict


def _libpq(database: dict) -> tuple[list[str], dict[str, str]]:
    arguments = ["--dbname", database["NAME"]]
    if database.get("HOST"):
        arguments += ["--host", str(database["HOST"])]
    if database.get("PORT"):
        arguments += ["--port", str(database["PORT"])]
    if database.get("USER"):
        arguments += ["--username", database["USER"]]
    environment = dict(os.environ)
    if database.get("PASSWORD"):
        environment["PGPASSWORD"] = database["PASSWORD"]
    return arguments, environment


def backup(out: Path, *, slug: str | None = None) -> Path:
    """Write a backup under ``out`` (a new directory, returned)."""
    when = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    target = out / (f"{when}-{slug}" if slug else f"{when}-all")
    target.mkdir(parents=True)
    media_root = Path(settings.MEDIA_ROOT)
    if slug:
        meeting = Meeting.objects.filter(slug=slug).first()
        if meeting is None:
            raise BackupRefused(f"no conference with the identifier {slug!r}")
        rows = conference_rows(meeting)
        (target / "conference.json").write_text(
            json.dumps(serializers.serialize("python", rows), cls=ExactJSONEncoder, indent=1),
            encoding="utf-8",
        )
        _tar(target / "media.tar", media_root, f"meetings/{slug}")
    else:
        database = _database_settings()
        if connection.vendor == "postgresql":
            arguments, environment = _libpq(database)
            subprocess.run(
                ["pg_dump", "--format=custom", "--no-owner", "--no-privileges",
                 "--file", str(target / "database.dump"), *arguments],
                check=True, env=environment,
            )  # fmt: skip
        else:
            source = sqlite3.connect(database["NAME"])
            copy = sqlite3.connect(target / "database.sqlite3")
            with copy:
                source.backup(copy)
            copy.close()
            source.close()
        _tar(target / "media.tar", media_root)
    manifest = {
        "kind": "conference" if slug else "installation",
        "conference": slug,
        "database": connection.vendor,
        "made_at": when,
        "files": {p.name: _sha256(p) for p in sorted(target.iterdir())},
    }
    (target / "manifest.json").write_text(json.dumps(manifest, indent=1))
    return target


def _checked(source: Path) -> dict:
    manifest = json.loads((source / "manifest.json").read_text())
    for name, digest in manifest["files"].items():
        if _sha256(source / name) != digest:
            raise BackupRefused(f"{name} does not match its SHA-256 in manifest.json")
    return manifest


def _untar(archive: Path, media_root: Path) -> None:
    media_root.mkdir(parents=True, exist_ok=True)
    with tarfile.open(archive) as files:
        files.extractall(media_root, filter="data")


def restore(source: Path) -> str:
    """Restore the backup in ``source``; a line saying what was restored."""
    manifest = _checked(source)
    media_root = Path(settings.MEDIA_ROOT)
    if manifest["kind"] == "conference":
        return _restore_conference(source, manifest["conference"], media_root)
    if manifest["database"] != connection.vendor:
        raise BackupRefused(
            f"a {manifest['database']} backup cannot be restored into {connection.vendor}"
        )
    tables = connection.introspection.table_names()
    if tables:
        raise BackupRefused(
            f"the database is not empty ({len(tables)} tables): restore the whole "
            "installation into a new, empty database only"
        )
    database = _database_settings()
    if connection.vendor == "postgresql":
        arguments, environment = _libpq(database)
        connection.close()
        subprocess.run(
            ["pg_restore", "--no-owner", "--no-privileges", "--exit-on-error",
             *arguments, str(source / "database.dump")],
            check=True, env=environment,
        )  # fmt: skip
    else:
        connection.close()
        backup_copy = sqlite3.connect(source / "database.sqlite3")
        target = sqlite3.connect(database["NAME"])
        with target:
            backup_copy.backup(target)
        target.close()
        backup_copy.close()
    _untar(source / "media.tar", media_root)
    return f"installation restored from {source.name}"


def _restore_conference(source: Path, slug: str, media_root: Path) -> str:
    fixture = source / "conference.json"
    taken: dict[str, int] = {}
    for item in serializers.deserialize("json", fixture.read_text(encoding="utf-8")):
        # (Django's JSON deserialiser reads the exact times ExactJSONEncoder wrote.)
        obj = item.object
        if type(obj)._base_manager.filter(pk=obj.pk).exists():
            taken[obj._meta.label] = taken.get(obj._meta.label, 0) + 1
    if Meeting.objects.filter(slug=slug).exists():
        taken.setdefault("rooms.Meeting (identifier)", 1)
    if taken:
        listed = ", ".join(f"{label} ×{count}" for label, count in sorted(taken.items()))
        raise BackupRefused(
            f"ids of {slug}'s rows are already taken here ({listed}): restoring would "
            "overwrite them. Restore one conference into a fresh installation (or this one "
            "after the conference was deleted); nothing was changed"
        )
    if (media_root / "meetings" / slug).exists():
        raise BackupRefused(f"{media_root / 'meetings' / slug} exists already; nothing changed")
    call_command("loaddata", str(fixture), verbosity=0)  # one transaction; sequences reset
    try:
        _untar(source / "media.tar", media_root)
    except Exception:
        shutil.rmtree(media_root / "meetings" / slug, ignore_errors=True)
        raise
    return f"conference {slug} restored from {source.name}"
