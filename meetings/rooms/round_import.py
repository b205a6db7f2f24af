"""Importing a round of conferences from a spreadsheet (docs/rounds.md has the layout).

Every row is read and checked first; if any is wrong, every error is returned with its sheet
and row, and nothing is written. Otherwise the round, its conferences, their halls and
candidates are created through the services, in one transaction: each conference's record
has its entries, and a failure part way writes nothing. A round is imported once: a second
import of the same round (or of a conference that exists) is refused row by row.

XLSX: one workbook with the sheets ``round``, ``conferences``, ``halls`` and ``candidates``,
a header row, then one row per item. CSV: one file, its first column ``kind`` (``round``,
``conference``, ``hall``, ``candidate``) and the columns of all four, each row filling those
of its kind, separated by commas or semicolons; its errors name the sheet of the kind and the
file's line.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime

from django.core.exceptions import ValidationError
from django.core.validators import validate_slug
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from meetings.rooms.actors import Actor
from meetings.rooms.errors import DomainError
from meetings.rooms.models import BridgePoint, Candidate, Meeting, Round, RoundLevel
from meetings.rooms.services.candidates import candidate_add
from meetings.rooms.services.halls import hall_add
from meetings.rooms.services.meetings import meeting_create
from meetings.rooms.services.rounds import round_create
from meetings.spreadsheets import NotAWorkbook, read_csv_rows, read_workbook

# A spreadsheet larger than this is refused before it is opened (a round of 150 halls is a
# few tens of kilobytes).
MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_ROWS = 5_000

ROUND, CONFERENCES, HALLS, CANDIDATES = "round", "conferences", "halls", "candidates"
SHEETS = (ROUND, CONFERENCES, HALLS, CANDIDATES)
# The CSV's kind column, and the sheet each kind stands for.
KINDS = {"round": ROUND, "conference": CONFERENCES, "hall": HALLS, "candidate": CANDIDATES}

# Each sheet's columns: (name, required, longest text).
COLUMNS: dict[str, tuple[tuple[str, bool, int | None], ...]] = {
    ROUND: (
        ("slug", True, Round._meta.get_field("slug").max_length),
        ("title", True, Round._meta.get_field("title").max_length),
        ("election", True, Round._meta.get_field("election").max_length),
        ("level", True, None),
        ("starts_on", True, None),
        ("ends_on", True, None),
    ),
    CONFERENCES: (
        ("slug", True, Meeting._meta.get_field("slug").max_length),
        ("title", True, Meeting._meta.get_field("title").max_length),
        ("electoral_unit", True, Meeting._meta.get_field("electoral_unit").max_length),
        ("scheduled_start", True, None),
    ),
    HALLS: (
        ("conference", True, None),
        ("name", True, BridgePoint._meta.get_field("name").max_length),
        ("commune", True, BridgePoint._meta.get_field("commune").max_length),
        ("district", True, BridgePoint._meta.get_field("district").max_length),
        ("address", False, BridgePoint._meta.get_field("address").max_length),
        ("studio", False, None),
    ),
    CANDIDATES: (
        ("conference", True, None),
        ("name", True, Candidate._meta.get_field("name").max_length),
        ("current_position", False, Candidate._meta.get_field("current_position").max_length),
    ),
}

YES = frozenset({"x", "1", "yes", "true", "có", "co"})
NO = frozenset({"", "0", "no", "false", "không", "khong"})
DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y")
DATETIME_FORMATS = ("%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S", "%d/%m/%Y %H:%M", "%Y-%m-%dT%H:%M")


@dataclass(frozen=True)
class RowError:
    sheet: str
    row: int  # as the spreadsheet numbers it: the header is row 1
    message: str

    def __str__(self) -> str:
        if not self.row:
            return _("Sheet %(sheet)s: %(message)s") % {
                "sheet": self.sheet,
                "message": self.message,
            }
        return _("Sheet %(sheet)s, row %(row)d: %(message)s") % {
            "sheet": self.sheet,
            "row": self.row,
            "message": self.message,
        }


class ImportRefused(Exception):
    def __init__(self, errors: list[RowError]):
        super().__init__("\n".join(str(e) for e in errors))
        self.errors = errors


@dataclass
class Row:
    sheet: str
    number: int
    values: dict[str, str]


@dataclass
class Plan:
    """What the file asks for, checked."""

    round: dict = field(default_factory=dict)
    conferences: list[dict] = field(default_factory=list)
    halls: dict[str, list[dict]] = field(default_factory=lambda: defaultdict(list))
    candidates: dict[str, list[dict]] = field(default_factory=lambda: defaultdict(list))


@dataclass(frozen=True)
class Summary:
    round: Round
    conferences: int
    halls: int
    candidates: int


# Reading


def _cell(value) -> str | datetime | date:
    if value is None:
        return ""
    if isinstance(value, datetime | date):
        return value
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def read_xlsx(data: bytes) -> tuple[list[Row], list[RowError]]:
    try:
        workbook = read_workbook(data)
    except NotAWorkbook:
        return [], [RowError("-", 0, _("The file is not an XLSX workbook."))]
    rows: list[Row] = []
    errors: list[RowError] = []
    names = {name.strip().lower(): name for name in workbook}
    for sheet in SHEETS:
        if sheet not in names:
            errors.append(RowError(sheet, 0, _("The workbook has no sheet named “%s”.") % sheet))
            continue
        lines = iter(workbook[names[sheet]])
        header = [str(_cell(v)).lower() for v in next(lines, ())]
        missing = [name for name, required, _len in COLUMNS[sheet] if name not in header]
        if missing:
            errors.append(RowError(sheet, 1, _("Missing columns: %s") % ", ".join(missing)))
            continue
        for number, line in enumerate(lines, start=2):
            values = dict(zip(header, (_cell(v) for v in line), strict=False))
            if all(v == "" for v in values.values()):
                continue  # spreadsheets keep formatted empty rows
            if number > MAX_ROWS:
                errors.append(RowError(sheet, number, _("Too many rows.")))
                break
            rows.append(Row(sheet, number, values))
    return rows, errors


def read_csv(data: bytes) -> tuple[list[Row], list[RowError]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return [], [RowError("-", 0, _("The CSV file is not in UTF-8."))]
    first_line = text.split("\n", 1)[0]
    # Spreadsheets set to Vietnamese save CSV with semicolons.
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    lines = iter(read_csv_rows(text, delimiter))
    header = [name.strip().lower() for name in next(lines, [])]
    if "kind" not in header:
        return [], [RowError("csv", 1, _("Missing columns: %s") % "kind")]
    errors: list[RowError] = []
    columns = {name for sheet in SHEETS for name, _r, _l in COLUMNS[sheet]}
    missing = sorted(columns - set(header))
    if missing:
        return [], [RowError("csv", 1, _("Missing columns: %s") % ", ".join(missing))]
    rows: list[Row] = []
    for number, line in enumerate(lines, start=2):
        values = dict(zip(header, (v.strip() for v in line), strict=False))
        if not any(values.values()):
            continue
        if number > MAX_ROWS:
            errors.append(RowError("csv", number, _("Too many rows.")))
            break
        kind = values.get("kind", "").lower()
        if kind not in KINDS:
            errors.append(
                RowError(
                    "csv",
                    number,
                    _("Unknown kind “%(kind)s”: one of %(kinds)s.")
                    % {"kind": kind, "kinds": ", ".join(KINDS)},
                )
            )
            continue
        rows.append(Row(KINDS[kind], number, values))
    return rows, errors


def size_errors(size: int) -> list[RowError]:
    """The refusal of a file of ``size`` bytes, before it is read: none if it may be read."""
    if size > MAX_FILE_BYTES:
        return [RowError("-", 0, _("The file is larger than 5 MB."))]
    return []


def read_file(name: str, data: bytes) -> tuple[list[Row], list[RowError]]:
    if errors := size_errors(len(data)):
        return [], errors
    if name.lower().endswith(".csv"):
        return read_csv(data)
    if name.lower().endswith(".xlsx"):
        return read_xlsx(data)
    return [], [RowError("-", 0, _("Import an XLSX workbook or a CSV file."))]


# Checking


def _date(value) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    for pattern in DATE_FORMATS:
        try:
            return datetime.strptime(value, pattern).date()
        except ValueError:
            continue
    return None


def _datetime(value) -> datetime | None:
    if isinstance(value, datetime):
        moment = value
    else:
        moment = None
        for pattern in DATETIME_FORMATS:
            try:
                moment = datetime.strptime(str(value), pattern)
                break
            except ValueError:
                continue
        if moment is None:
            return None
    # A time written in the sheet is the conference's (the deployment's) time zone.
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment


def check(rows: list[Row]) -> tuple[Plan, list[RowError]]:
    plan = Plan()
    errors: list[RowError] = []

    def refuse(row: Row, message: str) -> None:
        errors.append(RowError(row.sheet, row.number, message))

    by_sheet: dict[str, list[Row]] = defaultdict(list)
    for row in rows:
        by_sheet[row.sheet].append(row)
    for row in rows:
        for name, required, longest in COLUMNS[row.sheet]:
            value = row.values.get(name, "")
            if required and value == "":
                refuse(row, _("“%s” is empty.") % name)
            elif longest is not None and len(str(value)) > longest:
                refuse(
                    row,
                    _("“%(column)s” is longer than %(max)d characters.")
                    % {"column": name, "max": longest},
                )

    # The round.
    round_rows = by_sheet[ROUND]
    if len(round_rows) != 1:
        errors.append(RowError(ROUND, 0, _("The round sheet has exactly one row.")))
    round_dates = None
    for row in round_rows[:1]:
        values = row.values
        slug = str(values.get("slug", ""))
        if slug and not _is_slug(slug):
            refuse(row, _("“slug” may have only letters, digits, hyphens and underscores."))
        elif slug and Round.objects.filter(slug=slug).exists():
            refuse(row, _("The round “%s” has already been imported.") % slug)
        level = str(values.get("level", "")).lower()
        if level and level not in RoundLevel.values:
            refuse(
                row,
                _("Unknown level “%(level)s”: one of %(levels)s.")
                % {"level": level, "levels": ", ".join(RoundLevel.values)},
            )
        starts_on, ends_on = _date(values.get("starts_on", "")), _date(values.get("ends_on", ""))
        for name, value in (("starts_on", starts_on), ("ends_on", ends_on)):
            if value is None and values.get(name, "") != "":
                refuse(row, _("“%s” is not a date (YYYY-MM-DD or DD/MM/YYYY).") % name)
        if starts_on and ends_on:
            if ends_on < starts_on:
                refuse(row, _("A round cannot end before it starts."))
            else:
                round_dates = (starts_on, ends_on)
        plan.round = {
            "slug": slug,
            "title": values.get("title", ""),
            "election": values.get("election", ""),
            "level": level,
            "starts_on": starts_on,
            "ends_on": ends_on,
        }

    # The conferences.
    slugs: set[str] = set()
    for row in by_sheet[CONFERENCES]:
        values = row.values
        slug = str(values.get("slug", ""))
        if slug:
            if not _is_slug(slug):
                refuse(row, _("“slug” may have only letters, digits, hyphens and underscores."))
            elif slug in slugs:
                refuse(row, _("The conference “%s” is listed twice.") % slug)
            elif Meeting.objects.filter(slug=slug).exists():
                refuse(row, _("A conference “%s” already exists.") % slug)
            slugs.add(slug)
        start = None
        if values.get("scheduled_start", "") != "":
            start = _datetime(values["scheduled_start"])
            if start is None:
                refuse(row, _("“scheduled_start” is not a date and time (YYYY-MM-DD HH:MM)."))
            elif round_dates and not (
                round_dates[0] <= timezone.localtime(start).date() <= round_dates[1]
            ):
                refuse(row, _("The conference starts outside the round's dates."))
        plan.conferences.append(
            {
                "slug": slug,
                "title": values.get("title", ""),
                "electoral_unit": values.get("electoral_unit", ""),
                "scheduled_start": start,
                "row": row,
            }
        )

    # Halls and candidates, each of a conference of the file.
    for sheet, target, noun in (
        (HALLS, plan.halls, "hall"),
        (CANDIDATES, plan.candidates, "candidate"),
    ):
        names: set[tuple[str, str]] = set()
        for row in by_sheet[sheet]:
            values = row.values
            conference = str(values.get("conference", ""))
            if conference and conference not in slugs:
                refuse(row, _("No conference “%s” in the conferences sheet.") % conference)
            name = str(values.get("name", ""))
            if name and (conference, name.casefold()) in names:
                if noun == "hall":
                    refuse(
                        row,
                        _("Two halls of “%(conference)s” are named “%(name)s”.")
                        % {"conference": conference, "name": name},
                    )
                else:
                    refuse(
                        row,
                        _("Two candidates of “%(conference)s” are named “%(name)s”.")
                        % {"conference": conference, "name": name},
                    )
            names.add((conference, name.casefold()))
            item = {k: str(values.get(k, "")) for k, _r, _l in COLUMNS[sheet]}
            if noun == "hall":
                studio = str(values.get("studio", "")).lower()
                if studio not in YES | NO:
                    refuse(row, _("“studio” is yes or no (x, 1, có), not “%s”.") % studio)
                item["studio"] = studio in YES
            item["row"] = row
            target[conference].append(item)

    checked: set[str] = set()
    for conference in plan.conferences:
        if not conference["slug"] or conference["slug"] in checked:
            continue
        checked.add(conference["slug"])
        studios = [hall for hall in plan.halls[conference["slug"]] if hall["studio"]]
        if not studios:
            refuse(conference["row"], _("The conference has no hall marked as its studio."))
        for extra in studios[1:]:
            refuse(extra["row"], _("A conference has exactly one central studio."))
    return plan, errors


def _is_slug(value: str) -> bool:
    try:
        validate_slug(value)
    except ValidationError:
        return False
    return True


# Writing


def round_import(*, name: str, data: bytes, actor: Actor) -> Summary:
    """Import the file; ImportRefused with every error if any row is wrong (nothing written)."""
    rows, errors = read_file(name, data)
    if errors:
        raise ImportRefused(errors)
    plan, errors = check(rows)
    if errors:
        raise ImportRefused(
            sorted(
                errors, key=lambda e: (SHEETS.index(e.sheet) if e.sheet in SHEETS else -1, e.row)
            )
        )
    halls = candidates = 0
    try:
        # One transaction over the conferences' writes: each takes its own (new) record's head
        # in turn, which no other writer can be waiting for yet.
        with transaction.atomic():
            round = round_create(**plan.round)
            for conference in plan.conferences:
                slug = conference["slug"]
                studio = next(hall for hall in plan.halls[slug] if hall["studio"])
                meeting = meeting_create(
                    slug=slug,
                    title=conference["title"],
                    electoral_unit=conference["electoral_unit"],
                    scheduled_start=conference["scheduled_start"],
                    studio_name=studio["name"],
                    studio_details=_hall_details(studio),
                    round=round,
                    actor=actor,
                )
                halls += 1
                for hall in plan.halls[slug]:
                    if hall is studio:
                        continue
                    hall_add(meeting=meeting, name=hall["name"], actor=actor, **_hall_details(hall))
                    halls += 1
                for candidate in plan.candidates[slug]:
                    candidate_add(
                        meeting=meeting,
                        name=candidate["name"],
                        current_position=candidate["current_position"],
                        actor=actor,
                    )
                    candidates += 1
    except DomainError as error:
        # The file was right when checked; something changed since (an identifier taken).
        raise ImportRefused([RowError("-", 0, error.message)]) from None
    return Summary(
        round=round, conferences=len(plan.conferences), halls=halls, candidates=candidates
    )


def _hall_details(hall: dict) -> dict[str, str]:
    return {"address": hall["address"], "commune": hall["commune"], "district": hall["district"]}
