"""Round spreadsheets for the tests, and the sample in docs/samples/round.xlsx:

.venv/bin/python -m tests.rounds.spreadsheets docs/samples/round.xlsx
"""

import csv
import io
import sys
from pathlib import Path

from openpyxl import Workbook

from meetings.rooms.round_import import COLUMNS, KINDS, SHEETS

Sheets = dict[str, list[dict[str, object]]]


def lao_cai(conferences: int = 14, halls: int = 150, candidates: int = 92) -> Sheets:
    """A round like Lào Cai's: ``conferences`` at once, ``halls`` halls (each conference's
    studio among them) and ``candidates`` candidates spread over them."""
    sheets: Sheets = {
        "round": [
            {
                "slug": "lao-cai-2026",
                "title": "Tiếp xúc cử tri trước bầu cử, tỉnh Lào Cai",
                "election": "Bầu cử đại biểu HĐND tỉnh khóa XVII",
                "level": "province",
                "starts_on": "2026-05-04",
                "ends_on": "2026-05-08",
            }
        ],
        "conferences": [],
        "halls": [],
        "candidates": [],
    }
    for n in range(conferences):
        sheets["conferences"].append(
            {
                "slug": f"lao-cai-don-vi-{n + 1}",
                "title": f"Hội nghị tiếp xúc cử tri đơn vị bầu cử số {n + 1}",
                "electoral_unit": f"Đơn vị bầu cử số {n + 1}",
                "scheduled_start": f"2026-05-0{4 + n % 5} 08:00",
            }
        )
    for n in range(halls):
        conference = n % conferences
        sheets["halls"].append(
            {
                "conference": f"lao-cai-don-vi-{conference + 1}",
                "name": f"Nhà văn hóa thôn {n + 1}" if n >= conferences else "Hội trường UBND",
                "commune": f"Xã {n // 3 + 1}",
                "district": f"Huyện {conference + 1}",
                "address": f"Thôn {n + 1}",
                "studio": "x" if n < conferences else "",
            }
        )
    for n in range(candidates):
        sheets["candidates"].append(
            {
                "conference": f"lao-cai-don-vi-{n % conferences + 1}",
                "name": f"Nguyễn Văn {n + 1}",
                "current_position": "Phó Chủ tịch UBND xã",
            }
        )
    return sheets


def workbook(sheets: Sheets) -> bytes:
    book = Workbook()
    book.remove(book.active)
    for sheet in SHEETS:
        if sheet not in sheets:
            continue
        page = book.create_sheet(sheet)
        columns = [name for name, _required, _longest in COLUMNS[sheet]]
        page.append(columns)
        for row in sheets[sheet]:
            page.append([row.get(column, "") for column in columns])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def csv_file(sheets: Sheets, delimiter: str = ",") -> bytes:
    kind_of = {sheet: kind for kind, sheet in KINDS.items()}
    columns = ["kind"]
    for sheet in SHEETS:
        columns += [n for n, _r, _l in COLUMNS[sheet] if n not in columns]
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter)
    writer.writerow(columns)
    for sheet in SHEETS:
        for row in sheets.get(sheet, []):
            writer.writerow([kind_of[sheet], *(row.get(c, "") for c in columns[1:])])
    return out.getvalue().encode()


def sample() -> Sheets:
    """docs/samples/round.xlsx: two conferences, a few halls each."""
    return lao_cai(conferences=2, halls=6, candidates=4)


if __name__ == "__main__":
    Path(sys.argv[1]).write_bytes(workbook(sample()))
