"""The round's synthesis end to end: a round of 14 conferences imported from its spreadsheet,
run with every conference live at once (tests/questions/synthesis_script.py), the planted
cross-conference concerns suggested and confirmed, and the DOCX and XLSX read back."""

import io
from itertools import combinations

import pytest
from django.core.management import call_command
from django.utils import translation
from docx import Document

from meetings.questions.models import Question, QuestionStatus
from meetings.questions.services.concerns import concern_link, suggestion_dismiss
from meetings.questions.synthesis.data import agency_key
from meetings.questions.synthesis.similar import suggestions
from meetings.rooms.models import Event
from meetings.spreadsheets import read_workbook
from tests.questions.synthesis_script import BRIDGE, HEALTH, run_round

pytestmark = pytest.mark.django_db


@pytest.fixture
def ran():
    return run_round(fillers=4)


def _pairs(clusters) -> set[frozenset[int]]:
    return {frozenset(pair[:2]) for cluster in clusters for pair in cluster.pairs}


def _docx_paragraphs(data: bytes) -> list[str]:
    document = Document(io.BytesIO(data))
    texts = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            texts.append(" | ".join(cell.text for cell in row.cells))
    return texts


def test_the_synthesis_of_a_scripted_round(ran, tmp_path):
    round = ran.round
    everything = list(Question.objects.filter(meeting__round=round))
    assert len(ran.conferences) == 14
    assert {c.meeting.status for c in ran.conferences} == {"ended"}

    # The planted concerns are suggested, each as one cluster, pair by pair.
    clusters = suggestions(round)
    found = _pairs(clusters)
    for ids in ran.planted.values():
        assert {frozenset(pair) for pair in combinations(ids, 2)} <= found
        assert any(set(ids) <= set(cluster.ids) for cluster in clusters)
    bridge_cluster = next(c for c in clusters if ran.planted["bridge"][0] in c.ids)
    assert not set(ran.planted["health"]) & set(bridge_cluster.ids)

    # Confirmed: the bridge at once; the health stations three, then the fourth joins.
    bridge = concern_link(round=round, question_ids=ran.planted["bridge"], user=ran.organiser)
    health = concern_link(round=round, question_ids=ran.planted["health"][:3], user=ran.organiser)
    again = concern_link(round=round, question_ids=ran.planted["health"][2:], user=ran.organiser)
    assert again.pk == health.pk and health.members.count() == 4
    # Every other suggestion dismissed: none is left.
    for cluster in suggestions(round):
        suggestion_dismiss(round=round, question_ids=cluster.ids, user=ran.organiser)
    assert suggestions(round) == []

    # Each link is on the record of each conference concerned (after the end).
    for question in Question.objects.filter(pk__in=ran.planted["bridge"]):
        entry = Event.objects.get(meeting_id=question.meeting_id, type="concern.linked")
        assert entry.payload["questions"] == [question.pk]
        assert entry.payload["concern"] == bridge.pk
        assert len(entry.payload["conferences"]) == 3
    assert Event.objects.filter(type="concern.linked").count() == 3 + 3 + 1

    # The XLSX: every question of every conference exactly once, with its status.
    xlsx_path, docx_path = tmp_path / "s.xlsx", tmp_path / "s.docx"
    call_command("export_synthesis", round.slug, format="xlsx", output=str(xlsx_path))
    sheets = read_workbook(xlsx_path.read_bytes())
    assert list(sheets) == [
        "Tất cả câu hỏi",
        "Theo lĩnh vực",
        "Theo cơ quan",
        "Theo địa bàn",
        "Nhóm ý kiến trùng",
    ]
    header, *rows = sheets["Tất cả câu hỏi"]
    col = {name: n for n, name in enumerate(header)}
    ids = [row[0] for row in rows]
    assert sorted(ids) == sorted(q.pk for q in everything) and len(ids) == len(set(ids))
    by_id = {row[0]: row for row in rows}
    with translation.override("vi"):
        statuses = {q.pk: str(q.get_status_display()) for q in everything}
    assert {pk: row[col["Trạng thái"]] for pk, row in by_id.items()} == statuses
    for pk in ran.planted["bridge"]:
        assert by_id[pk][col["Nhóm ý kiến"]] == bridge.pk
    for pk in ran.planted["health"]:
        assert by_id[pk][col["Nhóm ý kiến"]] == health.pk
    for duplicate, primary in ran.merged.items():
        assert by_id[duplicate][col["Gộp vào"]] == primary
        # A merged question is counted under its primary: the same place in the report.
        assert (
            by_id[duplicate][col["Mục trong báo cáo"]] == by_id[primary][col["Mục trong báo cáo"]]
        )
    counts = {status: sum(q.status == status for q in everything) for status in QuestionStatus}
    assert counts[QuestionStatus.REJECTED] == counts[QuestionStatus.WITHDRAWN] == 14
    assert counts[QuestionStatus.SUBMITTED] == counts[QuestionStatus.MERGED] == 14
    # The concerns' sheet: the confirmed links, one row per question.
    _header, *concern_rows = sheets["Nhóm ý kiến trùng"]
    assert sorted((r[0], r[2]) for r in concern_rows) == sorted(
        [(bridge.pk, pk) for pk in ran.planted["bridge"]]
        + [(health.pk, pk) for pk in ran.planted["health"]]
    )
    # By agency: the three spellings of the transport department are one agency.
    _header, *agencies = sheets["Theo cơ quan"]
    transport = [a for a in agencies if agency_key(a[0]) == "so giao thong van tai"]
    assert len(transport) == 1 and transport[0][1:3] == (1, 3)
    # By locality: every question taken up or merged into one, in its hall's commune.
    _header, *places = sheets["Theo địa bàn"]
    taken_up = sum(q.status in ("approved", "on_air", "answered", "merged") for q in everything)
    assert sum(p[2] for p in places) == taken_up

    # The DOCX: each recommendation once, under its field, with the conferences that raised it.
    call_command("export_synthesis", round.slug, format="docx", output=str(docx_path))
    paragraphs = _docx_paragraphs(docx_path.read_bytes())
    text = "\n".join(paragraphs)
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in text and "BÁO CÁO" in text
    assert "Nơi nhận:" in text
    accepted = [q for q in everything if q.status in ("approved", "on_air", "answered")]
    in_concern = set(ran.planted["bridge"] + ran.planted["health"])
    for q in accepted:
        printed = [p for p in paragraphs if p.endswith(q.text) and p[:1].isupper()]
        if q.pk in in_concern and q.text not in (BRIDGE[0], HEALTH[0]):
            assert printed == [], q.text  # reported once, under its concern's first question
        else:
            assert len(printed) == 1, q.text
    # Each question taken up has exactly one answer line, under its recommendation.
    answer_lines = [p for p in paragraphs if p.startswith("– ")]
    assert len(answer_lines) == len(accepted)
    assert sum(p.startswith(f"– {ran.conferences[0].meeting.title};") for p in answer_lines) == sum(
        q.meeting_id == ran.conferences[0].meeting.pk for q in accepted
    )
    headings = [
        p
        for p in paragraphs
        if p[:3] in ("I. ", "II.", "III", "IV.", "V. ", "VI.", "VII", "VII", "IX.")
    ]
    infrastructure = next(n for n, p in enumerate(paragraphs) if p.endswith("HẠ TẦNG, GIAO THÔNG"))
    health_heading = next(n for n, p in enumerate(paragraphs) if p.endswith(". Y TẾ"))
    bridge_at = next(n for n, p in enumerate(paragraphs) if p.endswith(BRIDGE[0]))
    health_at = next(n for n, p in enumerate(paragraphs) if p.endswith(HEALTH[0]))
    assert infrastructure < bridge_at and health_heading < health_at
    assert len(headings) >= 5
    assert "3 hội nghị" in paragraphs[bridge_at + 1] and "4 hội nghị" in paragraphs[health_at + 1]
    assert "Sở Giao thông vận tải" in paragraphs[bridge_at + 3]
    # The summary counts the questions not reported.
    assert "Không được chấp nhận: 14" in text and "Cử tri đã rút lại: 14" in text
