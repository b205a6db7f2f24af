"""A round of conferences imported from a spreadsheet: every row checked before anything is
written, every error named by its sheet and row, and what is written goes through the
services, so each conference's record has its entries."""

import copy
from collections import Counter
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import translation

from meetings.rooms.models import BridgePoint, Candidate, Event, Meeting, Round
from meetings.rooms.record import verify_chain
from tests.factories import make_conference, make_user
from tests.rounds.spreadsheets import csv_file, lao_cai, sample, workbook

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "docs" / "samples" / "round.xlsx"


def run(tmp_path, name: str, data: bytes, language: str | None = "en"):
    """import_round on the file: (exit code, stdout, stderr); ``language``: None for the
    site's (Vietnamese)."""
    path = tmp_path / name
    path.write_bytes(data)
    out, err = _Buffer(), _Buffer()
    options = {"language": language} if language else {}
    try:
        call_command("import_round", str(path), stdout=out, stderr=err, **options)
    except CommandError as error:
        err.write(str(error))
        return 1, out.text, err.text
    return 0, out.text, err.text


class _Buffer:
    def __init__(self):
        self.text = ""

    def write(self, text):
        self.text += text

    def flush(self):
        pass


def written() -> tuple[int, int, int, int, int]:
    return (
        Round.objects.count(),
        Meeting.objects.count(),
        BridgePoint.objects.count(),
        Candidate.objects.count(),
        Event.objects.count(),
    )


def assert_lao_cai_landed_once(sheets):
    round = Round.objects.get(slug="lao-cai-2026")
    meetings = {m.slug: m for m in Meeting.objects.filter(round=round)}
    assert set(meetings) == {c["slug"] for c in sheets["conferences"]}
    assert len(meetings) == 14
    halls = Counter(
        BridgePoint.objects.filter(meeting__round=round).values_list(
            "meeting__slug", "name", "commune", "district", "address", "is_studio"
        )
    )
    expected = Counter(
        (h["conference"], h["name"], h["commune"], h["district"], h["address"], h["studio"] == "x")
        for h in sheets["halls"]
    )
    assert halls == expected and sum(halls.values()) == 150
    candidates = Counter(
        Candidate.objects.filter(meeting__round=round).values_list(
            "meeting__slug", "name", "current_position"
        )
    )
    assert candidates == Counter(
        (c["conference"], c["name"], c["current_position"]) for c in sheets["candidates"]
    )
    assert sum(candidates.values()) == 92
    for meeting in meetings.values():
        types = Counter(Event.objects.filter(meeting=meeting).values_list("type", flat=True))
        assert types["meeting.created"] == 1
        assert types["hall.added"] == meeting.bridge_points.count()
        assert types["candidate.added"] == meeting.candidates.count()
        assert meeting.bridge_points.filter(is_studio=True).count() == 1
        result = verify_chain(
            Event.objects.filter(meeting=meeting).order_by("seq"),
            meeting_slug=meeting.slug,
            head_seq=meeting.log_head.seq,
            head_hash=meeting.log_head.hash,
        )
        assert result.intact
    first = meetings["lao-cai-don-vi-1"]
    assert first.scheduled_start.isoformat() == "2026-05-04T01:00:00+00:00"  # 08:00 in Hà Nội


def test_a_round_of_14_conferences_from_xlsx(tmp_path):
    sheets = lao_cai()
    code, out, err = run(tmp_path, "round.xlsx", workbook(sheets))
    assert code == 0, err
    assert "14 conferences, 150 halls, 92 candidates" in out
    assert_lao_cai_landed_once(sheets)


def test_a_round_of_14_conferences_from_csv(tmp_path):
    sheets = lao_cai()
    code, _out, err = run(tmp_path, "round.csv", csv_file(sheets))
    assert code == 0, err
    assert_lao_cai_landed_once(sheets)


def test_a_csv_saved_with_semicolons(tmp_path):
    sheets = lao_cai(conferences=2, halls=4, candidates=2)
    data = csv_file(sheets, delimiter=";")
    code, out, err = run(tmp_path, "round.csv", data)
    assert code == 0, err
    assert "2 conferences, 4 halls, 2 candidates" in out


def test_the_same_round_is_imported_once(tmp_path):
    data = workbook(lao_cai())
    assert run(tmp_path, "round.xlsx", data)[0] == 0
    before = written()
    code, _out, err = run(tmp_path, "round.xlsx", data)
    assert code == 1
    assert "Sheet round, row 2: The round “lao-cai-2026” has already been imported." in err
    assert "Sheet conferences, row 15: A conference “lao-cai-don-vi-14” already exists." in err
    assert written() == before


def broken() -> dict:
    sheets = copy.deepcopy(lao_cai(conferences=3, halls=9, candidates=4))
    sheets["round"][0]["level"] = "galaxy"
    conferences = sheets["conferences"]
    conferences[0]["scheduled_start"] = "ngày mai"  # row 2: not a date
    conferences[1]["title"] = ""  # row 3: missing
    conferences.append(dict(conferences[2]))  # row 5: listed twice
    conferences[2]["electoral_unit"] = "x" * 201  # row 4: too long
    halls = sheets["halls"]
    halls[2]["studio"] = ""  # the third conference (row 4) loses its studio
    halls[3]["conference"] = "nowhere"  # row 5: unknown conference
    halls[4]["name"] = halls[7]["name"]  # rows 6 and 9: same name, same conference
    halls[5]["commune"] = ""  # row 7: missing commune
    sheets["candidates"][1]["conference"] = ""  # row 3
    return sheets


BROKEN_ERRORS = [
    "Sheet round, row 2: Unknown level “galaxy”: one of province, district, commune.",
    "Sheet conferences, row 2: “scheduled_start” is not a date and time (YYYY-MM-DD HH:MM).",
    "Sheet conferences, row 3: “title” is empty.",
    "Sheet conferences, row 4: “electoral_unit” is longer than 200 characters.",
    "Sheet conferences, row 4: The conference has no hall marked as its studio.",
    "Sheet conferences, row 5: The conference “lao-cai-don-vi-3” is listed twice.",
    "Sheet halls, row 5: No conference “nowhere” in the conferences sheet.",
    "Sheet halls, row 7: “commune” is empty.",
    "Sheet halls, row 9: Two halls of “lao-cai-don-vi-2” are named “Nhà văn hóa thôn 8”.",
    "Sheet candidates, row 3: “conference” is empty.",
]


@pytest.mark.parametrize(("name", "encode"), [("round.xlsx", workbook), ("round.csv", csv_file)])
def test_a_bad_file_gives_every_error_and_writes_nothing(tmp_path, name, encode):
    make_conference()
    before = written()
    code, out, err = run(tmp_path, name, encode(broken()))
    assert code == 1 and out == ""
    lines = err.strip().splitlines()
    if name.endswith(".csv"):
        # One file: the rows are numbered by its lines, each kind after the one before.
        assert [line.split(":", 1)[1] for line in lines[:-1]] == [
            e.split(":", 1)[1] for e in BROKEN_ERRORS
        ]
    else:
        assert lines[:-1] == BROKEN_ERRORS
    assert lines[-1] == f"Nothing was imported: {len(BROKEN_ERRORS)} errors."
    assert written() == before


def test_errors_are_in_vietnamese_by_default(tmp_path):
    code, _out, err = run(tmp_path, "round.xlsx", workbook(broken()), language=None)
    assert code == 1
    assert "Trang conferences, dòng 3: “title” để trống." in err
    assert "Không nhập gì cả: 10 lỗi." in err


def test_a_sheet_missing_and_a_file_that_is_not_a_workbook(tmp_path):
    sheets = lao_cai(conferences=2, halls=4, candidates=2)
    del sheets["candidates"]
    code, _out, err = run(tmp_path, "round.xlsx", workbook(sheets))
    assert code == 1 and "Sheet candidates: The workbook has no sheet named “candidates”." in err
    code, _out, err = run(tmp_path, "round.xlsx", b"not a zip")
    assert code == 1 and "The file is not an XLSX workbook." in err
    assert written() == (0, 0, 0, 0, 0)


def test_the_sample_in_the_docs_imports(tmp_path):
    code, _out, err = run(tmp_path, "round.xlsx", SAMPLE.read_bytes())
    assert code == 0, err
    expected = sample()
    round = Round.objects.get(slug=expected["round"][0]["slug"])
    assert round.meetings.count() == len(expected["conferences"])
    assert BridgePoint.objects.filter(meeting__round=round).count() == len(expected["halls"])
    assert Candidate.objects.filter(meeting__round=round).count() == len(expected["candidates"])


@pytest.fixture
def admin_client():
    client = Client()
    client.force_login(make_user("root", is_staff=True, is_superuser=True))
    return client


def test_the_admin_imports_the_same_file(admin_client):
    with translation.override("en"):
        page = admin_client.get("/admin/rooms/round/")
    assert "/admin/rooms/round/import/" in page.content.decode()
    upload = _upload("round.xlsx", workbook(lao_cai()))
    response = admin_client.post("/admin/rooms/round/import/", {"file": upload})
    assert response.status_code == 302
    assert_lao_cai_landed_once(lao_cai())
    root = Meeting.objects.get(slug="lao-cai-don-vi-1").events.first()
    assert root.actor_label == "root"


def test_the_admin_shows_every_row_error(admin_client):
    make_conference()
    before = written()
    response = admin_client.post(
        "/admin/rooms/round/import/", {"file": _upload("round.xlsx", workbook(broken()))}
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "Không nhập gì cả: 10 lỗi." in page
    assert "Trang halls, dòng 9:" in page and "Trang round, dòng 2:" in page
    assert written() == before


def _upload(name, data):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, data)


def test_empty_rows_are_skipped_and_a_large_file_is_not_read(tmp_path, admin_client):
    sheets = lao_cai(conferences=2, halls=4, candidates=2)
    sheets["halls"].insert(2, {})  # an empty row in the middle of a sheet
    code, out, err = run(tmp_path, "round.xlsx", workbook(sheets))
    assert code == 0, err
    assert "2 conferences, 4 halls, 2 candidates" in out
    big = _upload("round.xlsx", b"\0" * (5 * 1024 * 1024 + 1))
    page = admin_client.post("/admin/rooms/round/import/", {"file": big}).content.decode()
    assert "Tệp lớn hơn 5 MB." in page
