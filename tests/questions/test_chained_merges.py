"""Merges at any depth: #16 (hall Tà Xùa) merged into #10 (hall Hòa Bình), then #10 into #1.
#1 carries both halls everywhere (what the screens receive, snapshot and patches alike, the
public page, the minutes), and the Tà Xùa voter's phone follows #1 to its answer."""

import csv
import io

import pytest
from django.test import Client
from django.utils import timezone

from meetings.questions.minutes.export import export_minutes
from meetings.questions.services import air, merge, moderation
from meetings.questions.services.record import fresh
from meetings.questions.state import question_public_view
from meetings.rooms.models import Audience, BridgePoint, Event, Meeting
from meetings.rooms.patch import apply_patch
from meetings.rooms.state import meeting_snapshot
from tests.questions.helpers import ask, open_conference, phone_client, signed_in
from tests.questions.test_minutes import docx_text, pdf_text

pytestmark = pytest.mark.django_db


def named_halls(conference):
    names = ("Bản Công", "Hòa Bình", "Tà Xùa")
    for hall, name in zip(conference.halls, names, strict=True):
        BridgePoint.objects.filter(pk=hall.pk).update(name=name)
        hall.name = name
    return conference.halls


def chained(conference):
    """#1 at Bản Công, #10 at Hòa Bình, #16 at Tà Xùa (its phone: device 16): #16 into #10,
    then #10 into #1. Returns the three questions as they are now."""
    ban_cong, hoa_binh, ta_xua = named_halls(conference)
    actor = conference.actor
    first = moderation.question_approve(
        question=ask(conference, "Khi nào sửa đường liên thôn?", hall=ban_cong, device=1),
        actor=actor,
    )
    tenth = moderation.question_approve(
        question=ask(conference, "Đường liên thôn hỏng nặng", hall=hoa_binh, device=10),
        actor=actor,
    )
    sixteenth = ask(conference, "Bao giờ làm đường liên thôn?", hall=ta_xua, device=16)
    merge.question_merge(question=sixteenth, into=tenth, actor=actor)
    merge.question_merge(question=tenth, into=first, actor=actor)
    return fresh(first), fresh(tenth), fresh(sixteenth)


def mine(conference, hall_index, device):
    response = phone_client(conference, hall=hall_index, device=device).get(
        "/api/meetings/hn-test/questions/mine"
    )
    assert response.status_code == 200
    return response.json()


def public_state(conference):
    return meeting_snapshot(conference.meeting, Audience.PUBLIC)[1]


def test_the_canonical_question_carries_the_halls_of_every_merge_at_any_depth():
    conference = open_conference()
    _ban_cong, hoa_binh, ta_xua = conference.halls
    first, tenth, sixteenth = chained(conference)
    both = sorted([hoa_binh.pk, ta_xua.pk])
    # The service's view of #1, and the snapshot every screen (kiosk, phone, public) starts from.
    assert question_public_view(first)["also_from_halls"] == both
    snapshot = public_state(conference)
    assert snapshot["questions"][str(first.pk)]["also_from_halls"] == both
    # The patch the screens received with the second merge says the same.
    entry = Event.objects.filter(meeting=conference.meeting, type="public.merged").latest("seq")
    (value,) = [p["value"] for p in entry.payload["patch"] if p["path"][-1] == str(first.pk)]
    assert value["also_from_halls"] == both
    # The question that went on with it names the one merged into it before.
    assert entry.payload["question"] == tenth.pk and entry.payload["merged_in"] == [sixteenth.pk]
    # The API's list of questions, as any admitted screen reads it.
    listed = phone_client(conference).get("/api/meetings/hn-test/questions").json()["questions"]
    assert [q["also_from_halls"] for q in listed if q["id"] == first.pk] == [both]


def test_a_screens_copy_kept_by_patches_equals_the_snapshot_through_the_chain_and_its_undoing():
    conference = open_conference()
    named_halls(conference)
    seq, copy = meeting_snapshot(conference.meeting, Audience.PUBLIC)

    def catch_up(seq):
        for entry in Event.objects.filter(
            meeting=conference.meeting, seq__gt=seq, audience=Audience.PUBLIC
        ).order_by("seq"):
            apply_patch(copy, entry.payload.get("patch", []))
            seq = entry.seq
        assert copy == public_state(conference)
        return seq

    first, tenth, _sixteenth = chained(conference)
    air.question_put_on_air(question=first, actor=conference.actor)
    air.question_answer(question=first, kind="live", summary="Sẽ làm", actor=conference.actor)
    seq = catch_up(seq)
    both = sorted(hall.pk for hall in conference.halls[1:])
    assert copy["questions"][str(first.pk)]["also_from_halls"] == both
    merge.question_unmerge(question=tenth, actor=conference.actor)
    catch_up(seq)
    assert copy["questions"][str(first.pk)]["also_from_halls"] == []
    assert copy["questions"][str(tenth.pk)]["also_from_halls"] == [conference.halls[2].pk]


def test_the_merged_askers_phone_follows_the_end_of_the_chain_to_its_answer():
    conference = open_conference()
    first, tenth, sixteenth = chained(conference)
    (own,) = mine(conference, 2, 16)
    assert own["id"] == sixteenth.pk and own["status"] == "merged"
    assert (own["merged_into"], own["merged_into_status"]) == (first.pk, "approved")
    air.question_put_on_air(question=first, actor=conference.actor)
    air.question_answer(question=first, kind="live", summary="Sẽ làm", actor=conference.actor)
    (own,) = mine(conference, 2, 16)
    assert (own["merged_into"], own["merged_into_status"]) == (first.pk, "answered")
    # The answer's public entry names every question merged into #1, so their phones ask.
    answered = Event.objects.get(meeting=conference.meeting, type="public.answered")
    assert answered.payload["merged_in"] == sorted([tenth.pk, sixteenth.pk])
    # Undoing the outer merge: #16 follows #10 again.
    merge.question_unmerge(question=tenth, actor=conference.actor)
    (own,) = mine(conference, 2, 16)
    assert (own["merged_into"], own["merged_into_status"]) == (tenth.pk, "approved")


def test_the_public_page_and_the_minutes_list_every_hall_of_the_chain():
    conference = open_conference()
    first, _tenth, _sixteenth = chained(conference)
    air.question_put_on_air(question=first, actor=conference.actor)
    air.question_answer(question=first, kind="live", summary="Sẽ làm", actor=conference.actor)
    Meeting.objects.filter(pk=conference.meeting.pk).update(published_at=timezone.now())
    page = Client().get("/archive/hn-test/").content.decode()
    assert "also asked at Hòa Bình, Tà Xùa" in page or "cũng được hỏi tại Hòa Bình, Tà Xùa" in page
    # Filtered by the hall at the end of the chain, #1 is found.
    by_hall = Client().get(f"/archive/hn-test/?hall={conference.halls[2].pk}").content.decode()
    assert f'data-question="{first.pk}"' in by_hall
    meeting = conference.meeting
    for text in (
        docx_text(export_minutes(meeting, "docx", "en")),
        " ".join(pdf_text(export_minutes(meeting, "pdf", "en")).split()),
    ):
        assert "Also raised at: Hòa Bình, Tà Xùa" in text
    rows = list(csv.reader(io.StringIO(export_minutes(meeting, "csv", "en").decode("utf-8-sig"))))
    also = rows[0].index("Also raised at")
    assert [row[also] for row in rows[1:]] == ["Hòa Bình, Tà Xùa"]


def test_the_staff_state_keeps_the_direct_merges_for_undoing():
    conference = open_conference()
    first, tenth, sixteenth = chained(conference)
    staff = meeting_snapshot(conference.meeting, Audience.STAFF)[1]["moderation"]
    assert staff[str(first.pk)]["merged_from"] == [tenth.pk]
    assert staff[str(tenth.pk)]["merged_from"] == [sixteenth.pk]
    chair = signed_in(conference.chair)
    listed = chair.get("/api/meetings/hn-test/questions").json()["questions"]
    assert [q["merged_from"] for q in listed if q["id"] == first.pk] == [[tenth.pk]]
