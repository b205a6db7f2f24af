"""docs/record.md is enough to check a record: its worked example recomputes, and the verifier
printed there, run as it is, checks a 5,000-entry conference's export and catches a record
truncated or rewritten under a checkpoint someone kept, which the chain alone cannot."""

import base64
import hashlib
import hmac
import importlib.util
import io
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from meetings.rooms.actors import Actor
from meetings.rooms.models import (
    GENESIS_HASH,
    Event,
    EventLogHead,
    Meeting,
    Programme,
    Role,
    RoleGrant,
)
from meetings.rooms.record import chain_digest, payload_digest
from meetings.rooms.services.events import record_write
from meetings.rooms.services.halls import hall_set_attendance, hall_update
from meetings.rooms.services.meetings import meeting_publish, meeting_transition
from tests.factories import make_conference, make_user

DOC = Path(__file__).resolve().parents[2] / "docs" / "record.md"
ENTRIES = 5000


def _doc() -> str:
    return DOC.read_text(encoding="utf-8")


def _verifier_source() -> str:
    """The program printed under the verifier's marker in docs/record.md."""
    match = re.search(r"<!-- verifier:[^>]*-->\n```python\n(.*?)```", _doc(), re.DOTALL)
    assert match, "docs/record.md no longer prints the verifier"
    return match.group(1)


def _canonical(value) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def test_the_worked_example_recomputes_from_the_page():
    section = _doc().split("### A worked example", 1)[1]
    blocks = re.findall(r"```(?:json)?\n(.*?)```", section, re.DOTALL)
    entry, (payload_line, commitment), (body_line, entry_hash) = (
        json.loads(blocks[0]),
        blocks[1].splitlines(),
        blocks[2].splitlines(),
    )
    assert _canonical(entry["payload"]).decode() == payload_line
    key = bytes.fromhex(entry["payload_salt"])
    assert hmac.new(key, payload_line.encode(), hashlib.sha256).hexdigest() == commitment
    assert entry["payload_commitment"] == commitment
    body = json.loads(body_line)
    assert body["payload_commitment"] == commitment and body["prev"] == entry["prev_hash"]
    assert _canonical(body).decode() == body_line
    assert hashlib.sha256(body_line.encode()).hexdigest() == entry_hash == entry["hash"]


@pytest.fixture(scope="module")
def verifier(tmp_path_factory):
    path = tmp_path_factory.mktemp("verifier") / "verify_record_json.py"
    path.write_text(_verifier_source(), encoding="utf-8")
    return path


def _load(path: Path):
    spec = importlib.util.spec_from_file_location("verify_record_json", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _run(verifier: Path, tmp_path: Path, record: dict, *args: str):
    exported = tmp_path / "record.json"
    exported.write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")
    return subprocess.run(
        [sys.executable, str(verifier), str(exported), *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


_EXPORTS: dict[str, tuple] = {}


@pytest.fixture
def published(db):
    """A conference of 5,000 entries, alternately a hall's attendance (public) and its
    operator's phone number (staff only), ended and published: its public export, the
    checkpoints an observer kept after the end, and the staff's export. Built once for the
    module (each test gets the same documents; the database rows go with the first test)."""
    if not _EXPORTS:
        _EXPORTS["five thousand"] = _five_thousand_entries()
    return _EXPORTS["five thousand"]


def _five_thousand_entries() -> tuple[dict, dict, dict]:
    conference = make_conference("hn-five-thousand")
    meeting, hall = conference.meeting, conference.halls[0]
    seq = Event.objects.filter(meeting=meeting).count()
    n = 0
    # One transaction for them all (each service joins it), so that PostgreSQL does not
    # flush thousands of commits to disk.
    with record_write(meeting=meeting):
        while seq < ENTRIES - 2:  # the end and the publication make the last two
            n += 1
            if n % 2:
                hall_set_attendance(hall=hall, count=n, actor=conference.actor)
            else:
                hall_update(hall=hall, operator_phone=f"09{n:08d}", actor=conference.actor)
            seq += 1
    meeting_transition(meeting=meeting, to_status="ended", actor=conference.actor)
    meeting_publish(meeting=meeting, actor=conference.actor)
    kept = Client().get("/archive/hn-five-thousand/checkpoints.json").json()
    record = json.loads(b"".join(Client().get("/archive/hn-five-thousand/record.json")))
    staff = Client()
    staff.force_login(conference.observer)
    staff_record = json.loads(b"".join(staff.get("/archive/hn-five-thousand/record.json")))
    return record, kept, staff_record


def test_the_docs_verifier_checks_a_five_thousand_entry_export(verifier, tmp_path, published):
    record, kept, _staff = published
    assert record["meeting"] == "hn-five-thousand" and record["format"] == "tiepxuc-record/2"
    assert len(record["entries"]) == record["head"]["seq"] == ENTRIES
    reasons = [c["reason"] for c in record["checkpoints"]]
    assert reasons[0] == "live" and reasons[-2:] == ["ended", "published"]
    (tmp_path / "kept.json").write_text(json.dumps(kept))
    result = _run(verifier, tmp_path, record, "--kept", str(tmp_path / "kept.json"))
    assert result.returncode == 0, result.stderr
    assert f"{ENTRIES} entries intact; final hash {record['head']['hash']}" in result.stdout
    assert "NOT checked" not in result.stderr  # the signatures were checked


def _truncated(record: dict, seq: int) -> dict:
    """The export a database owner would serve after cutting the record at ``seq`` and moving
    the head back: self-consistent, its later checkpoints dropped."""
    entries = record["entries"][:seq]
    return dict(
        record,
        entries=entries,
        head={"seq": seq, "hash": entries[-1]["hash"]},
        checkpoints=[c for c in record["checkpoints"] if c["seq"] <= seq],
    )


def _attendance_from(record: dict, seq: int) -> int:
    """The seq of the first public attendance entry at or after ``seq``."""
    return next(
        e["seq"] for e in record["entries"][seq - 1 :] if e["type"] == "hall.attendance_set"
    )


def _rewritten(verifier_module, record: dict, seq: int) -> dict:
    """The export after a database owner changed entry ``seq``'s attendance and recomputed its
    commitment, its hash and every hash after it."""
    entries = [dict(entry) for entry in record["entries"]]
    changed = entries[seq - 1]
    assert changed["type"] == "hall.attendance_set" and changed["payload"] is not None
    changed["payload"] = dict(changed["payload"], count=changed["payload"]["count"] + 1000)
    changed["payload_commitment"] = hmac.new(
        bytes.fromhex(changed["payload_salt"]), _canonical(changed["payload"]), hashlib.sha256
    ).hexdigest()
    prev = entries[seq - 2]["hash"]
    for entry in entries[seq - 1 :]:
        entry["prev_hash"] = prev
        entry["hash"] = prev = verifier_module.entry_hash(record["meeting"], entry)
    return dict(
        record,
        entries=entries,
        head={"seq": len(entries), "hash": prev},
        checkpoints=[c for c in record["checkpoints"] if c["seq"] < seq],
    )


def test_a_truncated_record_passes_alone_and_fails_against_a_kept_checkpoint(
    verifier, tmp_path, published
):
    record, kept, _staff = published
    truncated = _truncated(record, 4000)
    assert _run(verifier, tmp_path, truncated).returncode == 0  # why observers keep them
    (tmp_path / "kept.json").write_text(json.dumps(kept))
    result = _run(verifier, tmp_path, truncated, "--kept", str(tmp_path / "kept.json"))
    assert result.returncode == 1
    end = next(c for c in kept["checkpoints"] if c["reason"] == "ended")
    assert (
        f"BROKEN: the record ends at seq 4000, before the checkpoint at seq {end['seq']}: "
        "it was truncated"
    ) in result.stderr


def test_a_rewritten_record_passes_alone_and_fails_against_a_kept_checkpoint(
    verifier, tmp_path, published
):
    record, kept, _staff = published
    seq = _attendance_from(record, 2500)
    rewritten = _rewritten(_load(verifier), record, seq)
    assert _run(verifier, tmp_path, rewritten).returncode == 0
    (tmp_path / "kept.json").write_text(json.dumps(kept))
    result = _run(verifier, tmp_path, rewritten, "--kept", str(tmp_path / "kept.json"))
    assert result.returncode == 1
    first_after = min(c["seq"] for c in kept["checkpoints"] if c["seq"] >= seq)
    assert (
        f"BROKEN: the checkpoint at seq {first_after}: the record's entry {first_after} has "
        "another hash: it was rewritten"
    ) in result.stderr


def test_checkpoints_re_signed_with_another_key_fail_against_the_key_noted(
    verifier, tmp_path, published
):
    """The owner of the database without the signing key signs the rewritten record with a
    key of his own and publishes that key in the export: a verifier that noted the site's key
    refuses, and one that kept a checkpoint does too (it was not signed by the new key)."""
    record, kept, _staff = published
    module = _load(verifier)
    rewritten = _rewritten(module, record, _attendance_from(record, 2500))
    forger = Ed25519PrivateKey.generate()
    forged_key = base64.b64encode(
        forger.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    ).decode()
    head = rewritten["head"]
    last = {"seq": head["seq"], "hash": head["hash"], "reason": "published"}
    forged = []
    for checkpoint in [*rewritten["checkpoints"], last]:
        checkpoint = dict(checkpoint, signed=record["checkpoints"][-1]["signed"], key_id="forged")
        signature = forger.sign(module.statement(record["meeting"], checkpoint).encode())
        forged.append(dict(checkpoint, signature=base64.b64encode(signature).decode()))
    rewritten["checkpoints"] = forged
    rewritten["signing_key"] = dict(record["signing_key"], public_key=forged_key)
    assert _run(verifier, tmp_path, rewritten).returncode == 0  # self-consistent, forged key
    noted = _run(verifier, tmp_path, rewritten, "--key", record["signing_key"]["public_key"])
    assert noted.returncode == 1
    assert "BROKEN: the checkpoint at seq 1: its signature is not the key's" in noted.stderr
    (tmp_path / "kept.json").write_text(json.dumps(kept))
    kept_run = _run(verifier, tmp_path, rewritten, "--kept", str(tmp_path / "kept.json"))
    assert kept_run.returncode == 1 and "its signature is not the key's" in kept_run.stderr


def test_an_altered_payload_fails_at_its_entry(verifier, tmp_path, published):
    record, _kept, _staff = published
    entries = [dict(entry) for entry in record["entries"]]
    seq = _attendance_from(record, 100)
    entries[seq - 1]["payload"] = dict(entries[seq - 1]["payload"], count=7)
    result = _run(verifier, tmp_path, dict(record, entries=entries))
    assert result.returncode == 1
    assert f"BROKEN: seq {seq}: its payload does not match what its hash covers" in result.stderr


def test_the_public_export_does_not_let_a_private_field_be_confirmed_by_guessing(published):
    """The operator's phone numbers are staff-only. Even a guesser who knows an entry's whole
    payload exactly (the hall, the patch's shape, the number itself) finds nothing in the
    public export to test it against: no bare digest of it, and no salt; only a commitment
    keyed by a salt the export does not hold. The staff's export opens the same commitment."""
    record, _kept, staff_record = published
    public_text = json.dumps(record, ensure_ascii=False)
    hidden = [e for e in record["entries"] if e["type"] == "hall.contact_set"]
    assert len(hidden) > 2000
    by_seq = {e["seq"]: e for e in staff_record["entries"]}
    for entry in hidden[:200] + hidden[-200:]:
        assert entry["payload"] is None and entry["payload_salt"] is None
        assert entry["payload_sha256"] is None
        opened = by_seq[entry["seq"]]
        true_payload, salt = opened["payload"], opened["payload_salt"]
        phone = true_payload["patch"][0]["value"]["operator_phone"]
        assert phone not in public_text
        # The format-1 test that recovered askers' names: it has nothing to match now.
        assert hashlib.sha256(_canonical(true_payload)).hexdigest() not in public_text
        assert salt not in public_text
        commitment = entry["payload_commitment"]
        assert (
            hmac.new(bytes.fromhex(salt), _canonical(true_payload), hashlib.sha256).hexdigest()
            == commitment
        )
        wrong_salt = bytes(16)
        assert (
            hmac.new(wrong_salt, _canonical(true_payload), hashlib.sha256).hexdigest() != commitment
        )


# Entry 16 of a demo conference as the platform appended it before salts existed (format 1),
# from docs/record.md of that time: the bare digest of its payload, no "format" key.
FORMAT_1_ENTRY = {
    "seq": 16,
    "type": "meeting.status_changed",
    "audience": "public",
    "created": "2026-11-25T17:57:46.901235+00:00",
    "actor": "Lê Văn An",
    "actor_kind": "user",
    "actor_id": 1,
    "format": 1,
    "payload": {
        "from": "draft",
        "patch": [{"op": "merge", "path": ["meeting"], "value": {"status": "scheduled"}}],
        "to": "scheduled",
    },
    "payload_sha256": "97da75dfbfb44524e8d6bf7621bfabcdfbdb888e214aa45256dda1cd0f7b347b",
    "payload_commitment": None,
    "payload_salt": None,
    "prev_hash": "e246c4d84f9ede6349151ebdf0e94e7c10d24b29a93945174cdad76b57403459",
    "hash": "51fd5773eae134af769e46d0e11780c434f8325ff1f66e170dfa1c56cbc7d559",
}


def test_an_entry_appended_before_salts_still_verifies(verifier):
    module = _load(verifier)
    assert module.payload_opens(FORMAT_1_ENTRY)
    assert module.entry_hash("demo", FORMAT_1_ENTRY) == FORMAT_1_ENTRY["hash"]


@pytest.mark.django_db
def test_a_record_begun_in_format_1_and_continued_in_format_2_verifies(verifier, tmp_path):
    """A conference created before the upgrade: its first entries are format 1 (bare digests,
    no salt, as FORMAT_1_ENTRY shows the old code wrote them), the ones appended after it
    format 2. verify_record and the page's verifier both accept the record."""
    chair = make_user("hn_upgraded_chair", first_name="Lê Văn", last_name="An")
    meeting = Meeting.objects.create(
        slug="hn-upgraded",
        title="Hội nghị tiếp xúc cử tri",
        electoral_unit="Đơn vị bầu cử số 2",
        scheduled_start=timezone.now(),
    )
    RoleGrant.objects.create(meeting=meeting, user=chair, role=Role.CHAIR)
    Programme.objects.create(meeting=meeting)
    old = [
        ("meeting.created", {"patch": [{"op": "merge", "path": ["meeting"], "value": {}}]}),
        ("meeting.updated", {"fields": ["title"], "patch": []}),
    ]
    prev = GENESIS_HASH
    for seq, (type, payload) in enumerate(old, start=1):
        prev = _format_1_append(meeting, chair, seq, type, payload, timezone.now(), prev)
    EventLogHead.objects.create(meeting=meeting, seq=len(old), hash=prev, last_public=len(old))
    actor = Actor.for_user(chair)
    for status in ("scheduled", "live", "ended"):
        meeting_transition(meeting=meeting, to_status=status, actor=actor)
    meeting_publish(meeting=meeting, actor=actor)
    out = io.StringIO()
    call_command("verify_record", "hn-upgraded", stdout=out)
    assert "is intact" in out.getvalue()
    record = json.loads(b"".join(Client().get("/archive/hn-upgraded/record.json")))
    formats = [entry["format"] for entry in record["entries"]]
    assert formats == [1, 1] + [2] * (len(formats) - 2) and len(formats) > 4
    first = record["entries"][0]
    assert first["payload_sha256"] and first["payload_commitment"] is None
    result = _run(verifier, tmp_path, record)
    assert result.returncode == 0, result.stderr


def _format_1_append(meeting, user, seq, type, payload, created, prev) -> str:
    """Write one entry as the platform did before salts: its hash covers the bare digest."""
    digest = chain_digest(
        meeting_slug=meeting.slug,
        seq=seq,
        type=type,
        audience="public",
        actor_id=user.pk,
        actor_kind="user",
        actor_label="Lê Văn An",
        seal=payload_digest(payload),
        format=1,
        created_at=created,
        prev_hash=prev,
    )
    Event.objects.create(
        meeting=meeting,
        seq=seq,
        type=type,
        audience="public",
        actor=user,
        actor_kind="user",
        actor_label="Lê Văn An",
        payload=payload,
        payload_salt=None,
        created_at=created,
        prev_hash=prev,
        hash=digest,
    )
    return digest
