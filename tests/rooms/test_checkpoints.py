"""The record's signed checkpoints: when the platform signs, what it signs, with which key."""

import base64
import os

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.test import override_settings

from meetings.rooms import checkpoints
from meetings.rooms.models import EventLogHead, RecordCheckpoint
from meetings.rooms.services.halls import hall_set_attendance
from meetings.rooms.services.meetings import meeting_publish, meeting_transition
from tests.factories import make_conference

pytestmark = pytest.mark.django_db


@pytest.fixture
def fresh_key():
    """Forget the cached key before and after, so a test's settings decide it."""
    checkpoints.signing_key.cache_clear()
    yield
    checkpoints.signing_key.cache_clear()


def _reasons(meeting) -> list[tuple[int, str]]:
    return list(
        RecordCheckpoint.objects.filter(meeting=meeting)
        .order_by("seq", "pk")
        .values_list("seq", "reason")
    )


def test_signed_at_the_start_the_end_the_publication_and_after_the_end():
    conference = make_conference("hn-signed")
    meeting = conference.meeting
    hall_set_attendance(hall=conference.halls[0], count=10, actor=conference.actor)
    assert _reasons(meeting) == [(1, "live")]  # then not again within the interval
    meeting_transition(meeting=meeting, to_status="ended", actor=conference.actor)
    ended = EventLogHead.objects.get(meeting=meeting).seq
    meeting_publish(meeting=meeting, actor=conference.actor)
    meeting_transition(meeting=meeting, to_status="archived", actor=conference.actor)
    head = EventLogHead.objects.get(meeting=meeting)
    assert _reasons(meeting)[1:] == [
        (ended, "ended"),
        (ended + 1, "published"),
        (ended + 2, "after_end"),
    ]
    last = RecordCheckpoint.objects.filter(meeting=meeting).latest("seq")
    assert (last.seq, last.hash) == (head.seq, head.hash)


def test_a_live_record_is_signed_again_once_the_interval_has_passed():
    conference = make_conference("hn-interval")
    with override_settings(RECORD_CHECKPOINT_SECONDS=1):
        head = EventLogHead.objects.get(meeting=conference.meeting)
        # The interval is measured from the head's last signature, read under its lock: set
        # it back instead of waiting.
        moved_back = head.checkpointed_at.replace(year=head.checkpointed_at.year - 1)
        EventLogHead.objects.filter(pk=head.pk).update(checkpointed_at=moved_back)
        hall_set_attendance(hall=conference.halls[0], count=10, actor=conference.actor)
        hall_set_attendance(hall=conference.halls[0], count=11, actor=conference.actor)
    seqs = [seq for seq, reason in _reasons(conference.meeting) if reason == "live"]
    head = EventLogHead.objects.get(meeting=conference.meeting)
    assert seqs == [1, head.seq - 1]


def test_every_signature_verifies_with_the_published_key():
    conference = make_conference("hn-verify")
    meeting_transition(meeting=conference.meeting, to_status="ended", actor=conference.actor)
    public_key = base64.b64decode(checkpoints.public_key_for_client()["public_key"])
    stored = list(RecordCheckpoint.objects.filter(meeting=conference.meeting))
    assert len(stored) == 2
    for checkpoint in stored:
        assert checkpoint.key_id == checkpoints.key_id_of(public_key)
        assert checkpoints.signature_valid(checkpoint, "hn-verify", public_key)
        assert not checkpoints.signature_valid(checkpoint, "hn-other", public_key)
    other = (
        Ed25519PrivateKey.generate()
        .public_key()
        .public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    )
    assert not checkpoints.signature_valid(stored[0], "hn-verify", other)


def test_the_key_comes_from_the_environment_when_set(fresh_key):
    seed = os.urandom(32)
    with override_settings(RECORD_SIGNING_KEY=seed):
        expected = (
            Ed25519PrivateKey.from_private_bytes(seed)
            .public_key()
            .public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        )
        assert checkpoints.public_key_bytes() == expected


def test_a_single_machine_generates_its_key_once_readable_by_its_owner_only(tmp_path, fresh_key):
    with override_settings(RECORD_SIGNING_KEY=None, VAR_DIR=tmp_path):
        first = checkpoints.public_key_bytes()
        key_file = tmp_path / checkpoints.KEY_FILE_NAME
        assert key_file.stat().st_mode & 0o777 == 0o600
        checkpoints.signing_key.cache_clear()  # another process, later
        assert checkpoints.public_key_bytes() == first


def test_anyone_admitted_polls_the_checkpoints_while_the_conference_runs():
    from django.test import Client

    from meetings.rooms.models import JoinLinkKind

    conference = make_conference("hn-poll")
    voter = {"X-Join-Link": conference.token(conference.halls[0], JoinLinkKind.VOTER)}
    assert Client().get("/api/meetings/hn-poll/checkpoints").status_code == 401
    body = Client().get("/api/meetings/hn-poll/checkpoints", headers=voter).json()
    head = EventLogHead.objects.get(meeting=conference.meeting)
    assert body["meeting"] == "hn-poll" and body["head"] == {"seq": head.seq, "hash": head.hash}
    assert [c["seq"] for c in body["checkpoints"]] == [1]
    assert body["signing_key"] == checkpoints.public_key_for_client()
    meeting_transition(meeting=conference.meeting, to_status="ended", actor=conference.actor)
    later = Client().get("/api/meetings/hn-poll/checkpoints?since=1", headers=voter).json()
    assert [c["reason"] for c in later["checkpoints"]] == ["ended"]
    # Not published: the archive's copy is for the conference's staff only.
    assert Client().get("/archive/hn-poll/checkpoints.json").status_code == 404
