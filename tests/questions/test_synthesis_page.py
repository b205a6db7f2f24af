"""The organiser's synthesis page and its downloads: who may see them, and the links confirmed,
dismissed and taken back from it; the command's errors; the services' rules for a concern."""

import io

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from docx import Document

from meetings.questions.models import Concern, ConcernMember, DismissedSuggestion
from meetings.questions.services import moderation
from meetings.questions.services.concerns import concern_link, concern_unlink
from meetings.rooms.errors import Conflict, Forbidden, Invalid
from meetings.rooms.models import Event
from meetings.rooms.services.meetings import meeting_transition
from meetings.rooms.services.rounds import round_organiser_grant
from meetings.spreadsheets import read_workbook
from tests.factories import make_round, make_user
from tests.questions.helpers import ask, open_conference

pytestmark = pytest.mark.django_db

ROAD = "Đường liên xã từ bản Phìn Ngan đi bản Tòng Sành xuống cấp nghiêm trọng, đề nghị sửa."


@pytest.fixture
def two():
    """A round of two conferences, each with the same road raised and approved; a third
    conference of another round."""
    round = make_round("dot-syn")
    first = open_conference("syn-a", round=round)
    second = open_conference("syn-b", round=round)
    other = open_conference("syn-x", round=make_round("dot-other"))
    organiser = make_user("syn_organiser")
    round_organiser_grant(round=round, user=organiser, actor=first.actor)
    questions = {}
    for name, conference in (("a", first), ("b", second), ("x", other)):
        q = ask(conference, ROAD, hall=conference.halls[1], topic_code="infrastructure")
        questions[name] = moderation.question_approve(question=q, actor=conference.actor)
        questions[name + "_late"] = ask(conference, "Câu hỏi chưa được duyệt", device=2)
    return round, first, second, other, organiser, questions


def _client(user=None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def test_only_the_rounds_organisers_and_superusers_see_the_page_and_its_files(two):
    round, first, _second, other, organiser, _questions = two
    admin = make_user("syn_admin", is_superuser=True, is_staff=True)
    other_organiser = make_user("syn_other_organiser")
    round_organiser_grant(round=other.meeting.round, user=other_organiser, actor=other.actor)
    stranger = make_user("syn_stranger")
    urls = [
        f"/rounds/{round.slug}/synthesis/",
        f"/rounds/{round.slug}/synthesis.docx",
        f"/rounds/{round.slug}/synthesis.xlsx",
    ]
    for url in urls:
        anonymous = _client().get(url)
        assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]
        # The chair and the observer of a conference of the round are not its organisers.
        for user in (first.chair, first.observer, other_organiser, stranger):
            assert _client(user).get(url).status_code == 403, (url, user)
        for user in (organiser, admin):
            assert _client(user).get(url).status_code == 200, (url, user)
    assert _client(organiser).get(f"/rounds/{round.slug}/synthesis.pdf").status_code == 404
    assert _client(organiser).get("/rounds/nowhere/synthesis/").status_code == 404
    # Nobody but an organiser acts from the page.
    response = _client(first.chair).post(
        f"/rounds/{round.slug}/synthesis/", {"action": "link", "question": ["1", "2"]}
    )
    assert response.status_code == 403 and not Concern.objects.exists()


def test_the_organiser_confirms_a_suggestion_dismisses_another_and_unlinks(two):
    round, first, second, _other, organiser, questions = two
    client = _client(organiser)
    page = client.get(f"/rounds/{round.slug}/synthesis/")
    body = page.content.decode()
    assert page.status_code == 200 and body.count('data-testid="suggestion"') == 1
    assert ROAD in body and "syn-x" not in body
    ids = [str(questions["a"].pk), str(questions["b"].pk)]
    response = client.post(f"/rounds/{round.slug}/synthesis/", {"action": "link", "question": ids})
    assert response.status_code == 302
    concern = Concern.objects.get()
    assert concern.confirmed_by == organiser and concern.members.count() == 2
    body = client.get(f"/rounds/{round.slug}/synthesis/").content.decode()
    assert 'data-testid="no-suggestions"' in body and body.count('data-testid="concern"') == 1
    # The report lists the road once, raised at two conferences.
    docx = client.get(f"/rounds/{round.slug}/synthesis.docx")
    assert docx["Content-Disposition"].endswith('.docx"')
    texts = [p.text for p in Document(io.BytesIO(docx.content)).paragraphs]
    assert sum(t.endswith(ROAD) for t in texts) == 1
    assert any("2 hội nghị" in t for t in texts)
    # An English page gives an English report.
    client.cookies["django_language"] = "en"
    english = client.get(f"/rounds/{round.slug}/synthesis.xlsx")
    assert "All questions" in read_workbook(english.content)
    client.cookies["django_language"] = "vi"
    # Unlinking one of two dissolves the concern: both conferences' records say so.
    response = client.post(
        f"/rounds/{round.slug}/synthesis/", {"action": "unlink", "question": ids[0]}
    )
    assert response.status_code == 302 and not Concern.objects.exists()
    for conference in (first, second):
        entry = Event.objects.get(meeting=conference.meeting, type="concern.unlinked")
        assert entry.payload["dissolved"] is True
    # Dismissed: not suggested again.
    client.post(f"/rounds/{round.slug}/synthesis/", {"action": "dismiss", "question": ids})
    assert DismissedSuggestion.objects.count() == 1
    body = client.get(f"/rounds/{round.slug}/synthesis/").content.decode()
    assert 'data-testid="no-suggestions"' in body
    # A refused link says why, and changes nothing.
    refused = client.post(
        f"/rounds/{round.slug}/synthesis/",
        {"action": "link", "question": [ids[0], str(questions["x"].pk)]},
    )
    assert refused.status_code == 400 and "thuộc đợt này" in refused.content.decode()
    assert not Concern.objects.exists()


def test_a_concern_takes_only_questions_taken_up_in_the_rounds_conferences(two):
    round, first, second, _other, organiser, questions = two
    a, b, x = questions["a"], questions["b"], questions["x"]
    with pytest.raises(Forbidden):
        concern_link(round=round, question_ids=[a.pk, b.pk], user=first.chair)
    with pytest.raises(Invalid):
        concern_link(round=round, question_ids=[a.pk], user=organiser)
    with pytest.raises(Invalid):
        concern_link(round=round, question_ids=[a.pk, x.pk], user=organiser)
    with pytest.raises(Invalid):  # not moderated
        concern_link(round=round, question_ids=[a.pk, questions["b_late"].pk], user=organiser)
    assert (
        not ConcernMember.objects.exists()
        and not Event.objects.filter(type="concern.linked").exists()
    )
    # Two concerns cannot be joined by a third link; a question is in one concern at most.
    c = ask(second, "Trường mầm non thiếu giáo viên", device=3)
    c = moderation.question_approve(question=c, actor=second.actor)
    d = ask(first, "Trường mầm non thiếu giáo viên", device=4)
    d = moderation.question_approve(question=d, actor=first.actor)
    concern_link(round=round, question_ids=[a.pk, b.pk], user=organiser)
    concern_link(round=round, question_ids=[c.pk, d.pk], user=organiser)
    with pytest.raises(Conflict):
        concern_link(round=round, question_ids=[a.pk, c.pk], user=organiser)
    with pytest.raises(Conflict):
        concern_link(round=round, question_ids=[a.pk, b.pk], user=organiser)
    # After the end the link is still made, and on the record (an after-the-end type).
    for conference in (first, second):
        air_and_end(conference)
    concern_unlink(question=c, user=organiser)
    assert not Concern.objects.filter(members__question=d).exists()
    concern_link(round=round, question_ids=[c.pk, d.pk], user=organiser)
    assert Event.objects.filter(meeting=first.meeting, type="concern.linked").count() == 3


def air_and_end(conference) -> None:
    meeting_transition(meeting=conference.meeting, to_status="ended", actor=conference.actor)


def test_the_command_refuses_an_unknown_round_or_format(two, tmp_path):
    round = two[0]
    with pytest.raises(CommandError, match="no round with the identifier 'nowhere'"):
        call_command("export_synthesis", "nowhere", format="docx", output=str(tmp_path / "a"))
    with pytest.raises(CommandError, match="unknown format 'pdf'"):
        call_command("export_synthesis", round.slug, format="pdf", output=str(tmp_path / "a"))
    assert not (tmp_path / "a").exists()
    call_command(
        "export_synthesis", round.slug, format="docx", language="en", output=str(tmp_path / "b")
    )
    texts = [p.text for p in Document(str(tmp_path / "b")).paragraphs]
    assert "REPORT" in texts
