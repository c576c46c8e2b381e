"""Loading the built-in member directory from a folder of CSV files.

Six files, each with a header row, UTF-8 (a BOM is fine), comma-separated:

| file | columns (* = required) |
|---|---|
| employers.csv | id*, name* |
| representatives.csv | id*, employer_id*, name*, role, email, phone |
| members.csv | id*, member_number*, first_name*, last_name*, joined_on, employer_id |
| courses.csv | id*, title*, starts_on, place |
| enrolments.csv | member_id*, course_id*, status* |
| invoices.csv | number*, member_id*, period*, amount*, due_on*, paid_on |

Dates are ``YYYY-MM-DD``, periods ``YYYY-MM``, amounts in kroner with two
decimals at most (``512.50`` or ``512,50``), statuses ``enrolled``,
``waitlisted``, ``completed`` or ``cancelled``. ``members.csv``'s ``id`` is
the subject (``sub``) of the member portal's login tokens.

Every row of every file is checked first; a single problem anywhere means
nothing is imported, and every problem is reported with its file and line.
A good import replaces the whole directory in one transaction.
"""

from __future__ import annotations

import csv
import io
import logging
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from sqlalchemy import delete, insert
from sqlalchemy.orm import Session, sessionmaker

from veiviser.members.errors import MemberImportError, MemberImportProblem
from veiviser.members.records import ENROLMENT_STATUSES
from veiviser.store.models_members import (
    Member,
    MemberCourse,
    MemberEmployer,
    MemberEnrolment,
    MemberInvoice,
    MemberRepresentative,
)

log = logging.getLogger(__name__)

MAX_FILE_BYTES = 100_000_000
MAX_PROBLEMS = 100
_ID = re.compile(r"^[^\s,;\"'<>\\]{1,64}$")
_MEMBER_ID = re.compile(r"^[^\s,;\"'<>\\]{1,128}$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_PERIOD = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
_AMOUNT = re.compile(r"^\d{1,9}([.,]\d{1,2})?$")
_EMAIL = re.compile(r"^[^@\s<>()\[\],;]+@[^@\s<>()\[\],;]+\.[A-Za-z]{2,}$")
_PHONE = re.compile(r"^\+?[0-9 ()-]{3,40}$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class _Bad(ValueError):
    """A cell's problem, reported with its file, line and column."""


def _text(limit: int) -> Callable[[str], str]:
    def parse(value: str) -> str:
        if len(value) > limit:
            raise _Bad(f"has {len(value)} characters; at most {limit}")
        return value

    return parse


def _pattern(regex: re.Pattern[str], expected: str) -> Callable[[str], str]:
    def parse(value: str) -> str:
        if not regex.match(value):
            raise _Bad(f"{value[:60]!r} is not {expected}")
        return value

    return parse


def _date(value: str) -> date:
    try:
        if not _DATE.match(value):
            raise ValueError
        return date.fromisoformat(value)
    except ValueError:
        raise _Bad(f"{value[:40]!r} is not a date like 2027-03-20") from None


def _amount(value: str) -> Decimal:
    if not _AMOUNT.match(value):
        raise _Bad(f"{value[:40]!r} is not an amount like 512.50")
    try:
        return Decimal(value.replace(",", "."))
    except InvalidOperation:  # pragma: no cover - the pattern rules it out
        raise _Bad(f"{value[:40]!r} is not an amount") from None


def _status(value: str) -> str:
    if value not in ENROLMENT_STATUSES:
        raise _Bad(f"{value[:40]!r} is not one of {', '.join(ENROLMENT_STATUSES)}")
    return value


@dataclass(frozen=True)
class _Column:
    name: str
    parse: Callable[[str], Any]
    required: bool = True


@dataclass(frozen=True)
class _FileSpec:
    name: str
    columns: tuple[_Column, ...]
    key: tuple[str, ...]
    # Further columns that no two rows may share (a member number is shown
    # to its member as theirs, so two members must not have the same one).
    unique: tuple[str, ...] = ()

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]


_ident = _pattern(_ID, "an id (no spaces, quotes or commas, at most 64)")
_member_ident = _pattern(_MEMBER_ID, "a member id (no spaces, at most 128)")

SPECS = (
    _FileSpec(
        "employers.csv",
        (_Column("id", _ident), _Column("name", _text(200))),
        ("id",),
    ),
    _FileSpec(
        "representatives.csv",
        (
            _Column("id", _ident),
            _Column("employer_id", _ident),
            _Column("name", _text(200)),
            _Column("role", _text(200), required=False),
            _Column("email", _pattern(_EMAIL, "an e-mail address"), required=False),
            _Column("phone", _pattern(_PHONE, "a phone number"), required=False),
        ),
        ("id",),
    ),
    _FileSpec(
        "members.csv",
        (
            _Column("id", _member_ident),
            _Column("member_number", _text(40)),
            _Column("first_name", _text(100)),
            _Column("last_name", _text(100)),
            _Column("joined_on", _date, required=False),
            _Column("employer_id", _ident, required=False),
        ),
        ("id",),
        unique=("member_number",),
    ),
    _FileSpec(
        "courses.csv",
        (
            _Column("id", _ident),
            _Column("title", _text(200)),
            _Column("starts_on", _date, required=False),
            _Column("place", _text(200), required=False),
        ),
        ("id",),
    ),
    _FileSpec(
        "enrolments.csv",
        (
            _Column("member_id", _member_ident),
            _Column("course_id", _ident),
            _Column("status", _status),
        ),
        ("member_id", "course_id"),
    ),
    _FileSpec(
        "invoices.csv",
        (
            _Column("number", _ident),
            _Column("member_id", _member_ident),
            _Column("period", _pattern(_PERIOD, "a period like 2027-03")),
            _Column("amount", _amount),
            _Column("due_on", _date),
            _Column("paid_on", _date, required=False),
        ),
        ("number",),
    ),
)

# Which column must name a row of which file (file, column, target file).
REFERENCES = (
    ("representatives.csv", "employer_id", "employers.csv"),
    ("members.csv", "employer_id", "employers.csv"),
    ("enrolments.csv", "member_id", "members.csv"),
    ("enrolments.csv", "course_id", "courses.csv"),
    ("invoices.csv", "member_id", "members.csv"),
)


@dataclass
class _Rows:
    """The parsed rows of one file, with the line each came from."""

    spec: _FileSpec
    rows: list[dict[str, Any]] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class ImportSummary:
    """How many rows of each kind a successful import stored."""

    counts: dict[str, int]

    def __str__(self) -> str:
        return ", ".join(f"{name}: {count}" for name, count in self.counts.items())


class _Problems:
    def __init__(self) -> None:
        self.found: list[MemberImportProblem] = []
        self.more = 0

    def add(self, file: str, line: int | None, problem: str) -> None:
        if len(self.found) < MAX_PROBLEMS:
            self.found.append(MemberImportProblem(file, line, problem))
        else:
            self.more += 1

    def raise_if_any(self) -> None:
        if not self.found:
            return
        if self.more:
            self.found.append(
                MemberImportProblem("", None, f"... and {self.more} more problems")
            )
        raise MemberImportError(self.found)


def read_member_folder(folder: str | Path) -> dict[str, _Rows]:
    """Parse and check every member file in a folder.

    Raises:
        MemberImportError: listing every problem found, by file and line.
    """
    folder = Path(folder)
    problems = _Problems()
    if not folder.is_dir():
        problems.add(str(folder), None, "is not a folder")
        problems.raise_if_any()
    parsed = {
        spec.name: _read_file(folder / spec.name, spec, problems) for spec in SPECS
    }
    _check_keys(parsed, problems)
    _check_references(parsed, problems)
    problems.raise_if_any()
    return parsed


def import_members(
    sessions: sessionmaker[Session], folder: str | Path
) -> ImportSummary:
    """Replace the built-in member directory with the CSV files in ``folder``.

    Raises:
        MemberImportError: any problem in any row; nothing is changed.
    """
    parsed = read_member_folder(folder)
    with sessions.begin() as session:
        replace_directory(session, parsed)
    summary = ImportSummary(
        {name.removesuffix(".csv"): len(rows.rows) for name, rows in parsed.items()}
    )
    log.info("member directory imported: %s", summary)
    return summary


_TABLES = {
    "employers.csv": MemberEmployer,
    "representatives.csv": MemberRepresentative,
    "members.csv": Member,
    "courses.csv": MemberCourse,
    "enrolments.csv": MemberEnrolment,
    "invoices.csv": MemberInvoice,
}


def replace_directory(session: Session, parsed: dict[str, _Rows]) -> None:
    """Delete every directory row and insert the parsed ones (caller commits)."""
    for name in reversed(list(_TABLES)):
        session.execute(delete(_TABLES[name]))
    for name, table in _TABLES.items():
        rows = parsed[name].rows
        if rows:
            session.execute(insert(table), rows)


def _read_file(path: Path, spec: _FileSpec, problems: _Problems) -> _Rows:
    result = _Rows(spec)
    text = _decoded(path, spec.name, problems)
    if text is None:
        return result
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader, None)
        if header is None:
            problems.add(spec.name, None, "is empty; it needs a header row")
            return result
        if not _header_fits(header, spec, problems):
            return result
        for cells in reader:
            _read_row(cells, header, reader.line_num, spec, result, problems)
    except csv.Error as error:
        problems.add(spec.name, reader.line_num, f"is not valid CSV: {error}")
    return result


def _decoded(path: Path, name: str, problems: _Problems) -> str | None:
    if not path.is_file():
        problems.add(name, None, "is missing (it may hold only the header row)")
        return None
    if path.stat().st_size > MAX_FILE_BYTES:
        problems.add(name, None, f"is larger than {MAX_FILE_BYTES} bytes")
        return None
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        problems.add(name, line, "is not UTF-8 text")
        return None


def _header_fits(header: list[str], spec: _FileSpec, problems: _Problems) -> bool:
    names = [cell.strip() for cell in header]
    unknown = [n for n in names if n not in spec.column_names]
    missing = [c.name for c in spec.columns if c.required and c.name not in names]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if unknown:
        problems.add(
            spec.name,
            1,
            f"unknown columns {unknown}; expected {spec.column_names}",
        )
    if missing:
        problems.add(spec.name, 1, f"missing columns {missing}")
    if repeated:
        problems.add(spec.name, 1, f"columns named twice {repeated}")
    header[:] = names
    return not (unknown or missing or repeated)


def _read_row(
    cells: list[str],
    header: list[str],
    line: int,
    spec: _FileSpec,
    result: _Rows,
    problems: _Problems,
) -> None:
    if not any(cell.strip() for cell in cells):
        return  # blank lines are allowed
    if len(cells) != len(header):
        problems.add(
            spec.name, line, f"has {len(cells)} cells; the header has {len(header)}"
        )
        return
    values = dict(zip(header, (cell.strip() for cell in cells), strict=True))
    row: dict[str, Any] = {}
    ok = True
    for column in spec.columns:
        try:
            row[column.name] = _cell(values.get(column.name, ""), column)
        except _Bad as bad:
            problems.add(spec.name, line, f"column {column.name}: {bad}")
            ok = False
    if ok:
        result.rows.append(row)
        result.lines.append(line)


def _cell(value: str, column: _Column) -> Any:
    if _CONTROL.search(value):
        raise _Bad("holds control characters")
    if not value:
        if column.required:
            raise _Bad("is empty")
        return None
    return column.parse(value)


def _check_keys(parsed: dict[str, _Rows], problems: _Problems) -> None:
    for rows in parsed.values():
        for columns in (rows.spec.key, *((c,) for c in rows.spec.unique)):
            _check_unique(rows, columns, problems)


def _check_unique(rows: _Rows, columns: tuple[str, ...], problems: _Problems) -> None:
    seen: dict[tuple[Any, ...], int] = {}
    for row, line in _with_lines(rows):
        key = tuple(row[name] for name in columns)
        if key in seen:
            problems.add(
                rows.spec.name,
                line,
                f"{'/'.join(columns)} {'/'.join(map(str, key))!r} is "
                f"already on line {seen[key]}",
            )
        else:
            seen[key] = line


def _check_references(parsed: dict[str, _Rows], problems: _Problems) -> None:
    for file, column, target in REFERENCES:
        target_key = parsed[target].spec.key[0]
        known = {row[target_key] for row in parsed[target].rows}
        rows = parsed[file]
        for row, line in _with_lines(rows):
            value = row[column]
            if value is not None and value not in known:
                problems.add(
                    file, line, f"column {column}: {value!r} is not in {target}"
                )


def _with_lines(rows: _Rows) -> Iterable[tuple[dict[str, Any], int]]:
    return zip(rows.rows, rows.lines, strict=True)
