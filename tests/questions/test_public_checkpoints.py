"""The public page shows the record's end checkpoint (the record as the conference left it),
the head now and its checkpoint, the site's public key, and explains every entry appended
after the end (docs/record.md, "Signed checkpoints")."""

import base64
import html
import re

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from django.test import Client
from django.utils import translation

from meetings.questions.services import followups
from meetings.rooms.checkpoints import (
    checkpoint_at,
    checkpoint_note,
    end_checkpoint,
    public_key_for_client,
)
from meetings.rooms.event_types import describe
from meetings.rooms.models import Event, EventLogHead, MeetingStatus
from meetings.rooms.services.meetings import meeting_publish, meeting_transition
from tests.questions.meeting_script import run_meeting

pytestmark = pytest.mark.django_db
PAGE = "/archive/hn-minutes/"


@pytest.fixture
def answered_after_the_end():
    """Ended, then a referral's written answer attached and the conference published: entries
    after the end checkpoint, one of them about a question."""
    conference, asked = run_meeting()
    actor = conference.actor
    meeting_transition(meeting=conference.meeting, to_status=MeetingStatus.ENDED, actor=actor)
    followups.answer_attach_written(
        question=asked[2], text="Sở đã trả lời bằng văn bản số 12.", actor=actor
    )
    meeting_publish(meeting=conference.meeting, actor=actor)
    return conference.meeting, asked


def element(page: str, testid: str) -> str:
    """The markup of the element with this test id, up to its closing tag."""
    match = re.search(rf'<(\w+)[^>]*data-testid="{testid}"[^>]*>(.*?)</\1>', page, re.S)
    assert match, f"no {testid} on the page"
    return match.group(2)


def english(path: str) -> str:
    return Client().get(path, headers={"Cookie": "django_language=en"}).content.decode()


def test_the_page_shows_the_end_checkpoint_the_head_and_every_entry_after_the_end(
    answered_after_the_end,
):
    meeting, asked = answered_after_the_end
    end = end_checkpoint(meeting)
    head = EventLogHead.objects.get(meeting=meeting)
    assert end.seq < head.seq
    page = english(PAGE)

    shown = element(page, "end-checkpoint")
    for value in (str(end.seq), end.hash, end.signature, end.key_id, "At the end"):
        assert value in shown
    now = element(page, "current-head")
    assert str(head.seq) in now and head.hash in now
    signed_head = element(page, "head-checkpoint")  # publication signed the head
    assert checkpoint_at(meeting, head.seq).signature in signed_head

    later = element(page, "after-end")
    items = re.findall(r'<li data-seq="(\d+)">(.*?)</li>', later, re.S)
    entries = Event.objects.filter(meeting=meeting, seq__gt=end.seq).order_by("seq")
    assert [int(seq) for seq, _text in items] == [e.seq for e in entries]
    with translation.override("en"):
        for (_seq, text), entry in zip(items, entries, strict=True):
            assert html.escape(describe(entry.type), quote=True) in text
    types = [entry.type for entry in entries]
    assert "public.followed_up" in types and types[-1] == "meeting.published"
    followed_up = dict(zip(types, (text for _seq, text in items), strict=False))
    assert f'href="{PAGE}#question-{asked[2].pk}"' in followed_up["public.followed_up"]
    assert f'id="question-{asked[2].pk}"' in page
    # No staff payload reaches the page: a staff entry is told by its type alone.
    assert "question.followed_up" in types

    key = public_key_for_client()
    assert key["key_id"] in element(page, "public-key")
    assert key["public_key"] in element(page, "public-key")
    assert f'href="{PAGE}checkpoints.json"' in page
    assert Client().get(f"{PAGE}checkpoints.json").status_code == 200


def test_the_statement_shown_verifies_with_the_key_shown(answered_after_the_end):
    meeting, _asked = answered_after_the_end
    end = end_checkpoint(meeting)
    page = english(PAGE)
    notes = [
        html.unescape(note) for note in re.findall(r'<pre class="mono">(.*?)</pre>', page, re.S)
    ]
    assert notes[0] == checkpoint_note(end, meeting.slug)
    shown = re.search(r'data-field="public-key">([^<]+)<', page).group(1)
    key = base64.b64decode(html.unescape(shown))
    for note in notes:
        statement, _, signature_line = note.rstrip("\n").rpartition("\n")
        Ed25519PublicKey.from_public_bytes(key).verify(
            base64.b64decode(signature_line.split(" ")[2]), (statement + "\n").encode()
        )


def test_the_page_explains_in_vietnamese(answered_after_the_end):
    page = Client().get(PAGE).content.decode()
    assert "Điểm mốc của biên bản hội nghị" in page and "Các mục sau khi kết thúc" in page
    with translation.override("vi"):
        assert html.escape(describe("meeting.published"), quote=True) in element(page, "after-end")


def test_a_conference_not_ended_has_no_end_checkpoint_yet():
    conference, _asked = run_meeting()
    meeting_publish(meeting=conference.meeting, actor=conference.actor)
    page = english(PAGE)
    assert "no end checkpoint is signed yet" in element(page, "end-checkpoint")
    assert 'data-testid="after-end"' not in page
    head = EventLogHead.objects.get(meeting=conference.meeting)
    assert head.hash in element(page, "current-head")
