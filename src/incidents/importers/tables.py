"""Reading a register's table as it was published: CSV, .xlsx or .ods (one sheet), with banner
rows above the header and a header spanning several rows.

Every data row keeps the line it came from (the CSV file's line, the sheet's row), so that a
problem names the line a person opens the file at.
"""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, time, timedelta
from pathlib import PurePath

import msgspec

from incidents.errors import ValidationFailed

SPREADSHEETS = {".xlsx", ".xlsm", ".xls", ".ods"}
MAX_ROWS = 1_000_000
MAX_COLUMNS = 1_000


class TableError(ValidationFailed):
    """The file cannot be read as a table (the message says why; a 422 over HTTP)."""


class Layout(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    header_row: int = 1
    """The file line (or sheet row) of the first header row; the rows above are banners."""
    header_rows: int = 1
    """How many rows the header spans; their names are joined with " / "."""
    delimiter: str = ","
    encoding: str = "utf-8-sig"
    sheet: str | None = None


class Table(msgspec.Struct):
    columns: list[str]
    rows: list[tuple[int, list[str]]]
    """(file line, cells), cells as long as ``columns``."""
    head: list[list[str]]
    """The banner and header rows as they were (re-written above rejected rows)."""


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time() else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, timedelta):
        return str(value)
    return str(value).strip()


def _spreadsheet(data: bytes, sheet: str | None) -> list[tuple[int, list[str]]]:
    from python_calamine import CalamineWorkbook

    try:
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(data))
    except Exception as error:  # calamine raises its own error types for unreadable files
        raise TableError(f"Not a readable spreadsheet: {error}") from None
    names = list(workbook.sheet_names)
    if sheet is not None and sheet not in names:
        raise TableError(f"No sheet {sheet!r}; sheets: {', '.join(names)}")
    found = workbook.get_sheet_by_name(sheet) if sheet else workbook.get_sheet_by_index(0)
    # Keep leading empty rows so that positions are the sheet's row numbers.
    values = found.to_python(skip_empty_area=False)
    return [(number, [_cell(value) for value in row]) for number, row in enumerate(values, 1)]


def _delimited(data: bytes, layout: Layout) -> list[tuple[int, list[str]]]:
    try:
        text = data.decode(layout.encoding)
    except (UnicodeDecodeError, LookupError) as error:
        raise TableError(f"Not {layout.encoding} text: {error}; set encoding") from None
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=layout.delimiter)
    rows: list[tuple[int, list[str]]] = []
    line = 1
    try:
        for cells in reader:
            rows.append((line, cells))
            line = reader.line_num + 1
            if len(rows) > MAX_ROWS:
                raise TableError(f"At most {MAX_ROWS:,} rows per import")
    except csv.Error as error:
        raise TableError(f"Line {line}: {error}") from None
    return rows


def header_names(head: list[list[str]]) -> list[str]:
    """Header rows -> one name per column; a top cell spans the empty cells to its right."""
    width = max((len(row) for row in head), default=0)
    names: list[list[str]] = [[] for _ in range(width)]
    for row in head:
        carried = ""
        for position in range(width):
            cell = row[position].strip() if position < len(row) else ""
            if cell:
                carried = cell
            elif row is not head[-1]:
                cell = carried
            if cell and (not names[position] or names[position][-1] != cell):
                names[position].append(cell)
    return [" / ".join(parts) or f"column {position + 1}" for position, parts in enumerate(names)]


def read_rows(data: bytes, filename: str, layout: Layout) -> list[tuple[int, list[str]]]:
    """Every row of the file or sheet with its line, banners and headers included."""
    spreadsheet = PurePath(filename).suffix.casefold() in SPREADSHEETS
    return _spreadsheet(data, layout.sheet) if spreadsheet else _delimited(data, layout)


def read_table(data: bytes, filename: str, layout: Layout) -> Table:
    rows = read_rows(data, filename, layout)
    first = layout.header_row - 1
    head_rows = rows[first : first + layout.header_rows]
    if len(head_rows) < layout.header_rows:
        raise TableError(f"The file has no header at line {layout.header_row}")
    columns = header_names([cells for _, cells in head_rows])
    if len(columns) > MAX_COLUMNS:
        raise TableError(f"At most {MAX_COLUMNS:,} columns")
    body: list[tuple[int, list[str]]] = []
    for line, cells in rows[first + layout.header_rows :]:
        if not any(cell.strip() for cell in cells):
            continue
        padded = [cell.strip() for cell in cells[: len(columns)]]
        body.append((line, padded + [""] * (len(columns) - len(padded))))
    return Table(columns, body, [cells for _, cells in rows[: first + layout.header_rows]])
