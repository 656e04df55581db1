"""A batch file cut into parts by its lines' verdicts, each part in the batch's own format.

What belongs here: splitting the file the screen read into files holding
chosen data lines (the lines that pass, those blocked, those held), each a
file the county's payment system or bank takes as it took the original.
What does not: which line goes where (screen/outputs.py reads the verdicts),
reading the batch for the screen (extracts/, through the nightly loader).

Every part is cut from the original, never written anew:

- a CSV part is the original's bytes: its header record exactly as written
  (a byte-order mark included), then the chosen records' bytes in file
  order, so encoding (UTF-8, GB18030, UTF-16 …), delimiter, quoting and
  line endings are what they were. Records are found as the loader's CSV
  parser finds them: a record ends at a line feed (with its carriage
  return) outside double quotes, so a quoted value holding a comma or a
  line break stays one record, and a blank line is a record of its own, as
  the loader numbers it. For an encoding whose bytes for `"`, `,`, CR and
  LF never occur inside a multi-byte character (UTF-8, GB18030, GBK) the
  bytes are scanned as they are; UTF-16 and UTF-32 are decoded, cut and
  encoded back in the byte order of their mark.
- an .xlsx part is the workbook with the other data rows of its first sheet
  taken out and the rows below moved up (cells, their formats and row
  heights move with them); the header is row 1 and a data line's row is its
  source_row + 1, as the loader reads it. Cells hold the values the loader
  read: a formula is replaced by its cached value, since moving rows would
  change what it refers to. Other sheets stay as they are.

The records found are checked against what the loader read (`read_rows`:
the raw cells of each source_row): the same number of lines, and each
line's cells of the declared columns the same. A file this module cannot
cut as the loader read it is refused (`BatchCutError`) rather than sending
a line to the bank that was judged as another.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path

from openpyxl import load_workbook

from hecha.extracts.read import cell_text, detect_encoding, map_headers
from hecha.extracts.schema import Extract

# Encodings whose code units are wider than a byte: a quote or line feed byte may sit inside a character.
WIDE_ENCODINGS = {"utf-16": (b"\xff\xfe", b"\xfe\xff"), "utf-32": (b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")}
QUOTE_OR_LINE_FEED = re.compile(rb'["\n]')
QUOTE_OR_LINE_FEED_TEXT = re.compile(r'["\n]')


class BatchCutError(ValueError):
    """A batch file that cannot be cut line for line as the loader read it; the message names the file and the line."""


def cut_batch(path: Path, parts: Mapping[Path, Collection[int]], *, extract: Extract,
              read_rows: Sequence[Mapping[str, str | None]] | None = None, encoding: str | None = None) -> dict[Path, int]:
    """Write each part (a path → the source_rows it holds) cut from the batch at `path`; the lines each got.

    Every data line of the file must go to exactly one part. `read_rows`:
    the loader's raw cells of every line in source_row order (column name →
    text), which the lines found must match; `encoding`: the one the loader
    used for a CSV (default: detected as the loader detects it).
    """
    path = Path(path)
    chosen = {destination: set(rows) for destination, rows in parts.items()}
    if path.suffix.lower() == ".xlsx":
        return _cut_xlsx(path, chosen, extract, read_rows)
    data = path.read_bytes()
    encoding = encoding or detect_encoding(data)
    header, records = csv_records(data, encoding, path.name)
    _check_parts(path.name, chosen, len(records))
    if read_rows is not None:
        _check_csv_records(path.name, header, records, encoding, extract, read_rows)
    written = {}
    for destination, rows in chosen.items():
        destination.parent.mkdir(parents=True, exist_ok=True)
        destination.write_bytes(header + b"".join(record for number, record in enumerate(records, start=1) if number in rows))
        written[destination] = len(rows)
    return written


def _check_parts(file: str, parts: dict[Path, set[int]], count: int) -> None:
    """Each of the file's lines 1..count in exactly one part, and no part naming a line the file does not have."""
    seen: dict[int, Path] = {}
    for destination, rows in parts.items():
        for row in rows:
            if row in seen:
                raise BatchCutError(f"{file}: line {row} is given to both {seen[row].parent.name}/ and {destination.parent.name}/")
            seen[row] = destination
    outside = sorted(row for row in seen if not 1 <= row <= count)
    if outside:
        raise BatchCutError(f"{file}: has {count} data lines, but a verdict names line {outside[0]}")
    missing = sorted(set(range(1, count + 1)) - set(seen))
    if missing:
        raise BatchCutError(f"{file}: line {missing[0]} ({len(missing)} line(s) in all) has no verdict; nothing was cut")


# ---------------------------------------------------------------------------------------------- CSV


def csv_records(data: bytes, encoding: str, file: str = "") -> tuple[bytes, list[bytes]]:
    """The header record's bytes (byte-order mark included) and each data record's bytes, line ending included.

    A record ends at a line feed outside double quotes (a doubled quote
    inside a quoted value opens and closes again, so counting quotes is
    enough); the bytes after the last line feed are a record when there are
    any. Concatenated, header and records are `data`.
    """
    family = codecs.lookup(encoding).name.replace("-le", "").replace("-be", "")
    if family in WIDE_ENCODINGS:
        return _wide_records(data, encoding, WIDE_ENCODINGS[family], file)
    pieces = _split_records(data, QUOTE_OR_LINE_FEED, b'"')
    if not pieces:
        return b"", []
    return pieces[0], pieces[1:]


def _split_records(data, pattern: re.Pattern, quote) -> list:
    pieces, start, quoted = [], 0, False
    for match in pattern.finditer(data):
        if match.group() == quote:
            quoted = not quoted
        elif not quoted:
            pieces.append(data[start:match.end()])
            start = match.end()
    if start < len(data):
        pieces.append(data[start:])
    return pieces


def _wide_records(data: bytes, encoding: str, marks: tuple[bytes, bytes], file: str) -> tuple[bytes, list[bytes]]:
    """UTF-16/32: cut the decoded text, each record encoded back in the byte order the file's mark gives."""
    little, big = marks
    mark = little if data.startswith(little) else big if data.startswith(big) else b""
    family = "utf-16" if len(little) == 2 else "utf-32"
    codec = f"{family}-be" if mark == big else f"{family}-le" if mark else encoding
    text = data[len(mark):].decode(codec)
    pieces = [piece.encode(codec) for piece in _split_records(text, QUOTE_OR_LINE_FEED_TEXT, '"')]
    if mark + b"".join(pieces) != data:
        raise BatchCutError(f"{file}: {encoding} text that does not encode back to the same bytes; cannot cut it line for line")
    if not pieces:
        return mark, []
    return mark + pieces[0], pieces[1:]


def _record_cells(record: bytes, encoding: str) -> list[str]:
    text = record.decode(encoding)
    if text.startswith("\ufeff"):
        text = text[1:]
    return next(csv.reader(io.StringIO(text, newline="")), [])


def _check_csv_records(file: str, header: bytes, records: list[bytes], encoding: str, extract: Extract,
                       read_rows: Sequence[Mapping[str, str | None]]) -> None:
    """The records found are the lines the loader read: as many, and each with the same cells."""
    if len(records) != len(read_rows):
        raise BatchCutError(f"{file}: {len(records)} lines found in the file, but the loader read {len(read_rows)}; "
                            "cannot cut it line for line")
    mapping, _, _ = map_headers(extract, _record_cells(header, encoding), file)
    for number, (record, read) in enumerate(zip(records, read_rows), start=1):
        cells = _record_cells(record, encoding)
        for position, name in mapping.items():
            found = cells[position] if position < len(cells) else None
            if (found or None) != (read.get(name) or None):
                raise BatchCutError(f"{file}: line {number} column {extract.column(name).header} reads otherwise here "
                                    "than in the loader; cannot cut the file line for line")


# ---------------------------------------------------------------------------------------------- xlsx


def _open_xlsx(path: Path):
    # data_only: the values the loader read; a formula could not follow its rows anyway
    return load_workbook(path, data_only=True)


def _last_data_row(sheet) -> int:
    """The last row of the sheet holding a value (1 when only the header does), as the loader counts rows."""
    last = 1
    for (row, _), cell in sheet._cells.items():
        if row > last and cell.value is not None:
            last = row
    return last


def _cut_xlsx(path: Path, parts: dict[Path, set[int]], extract: Extract,
              read_rows: Sequence[Mapping[str, str | None]] | None) -> dict[Path, int]:
    """Each part: the workbook with only the header and the data rows of its source_rows on the first sheet, moved up.

    The workbook is read once; for each part the first sheet's cells are
    placed anew from the rows as read, and the workbook saved.
    """
    book = _open_xlsx(path)
    try:
        sheet = book.worksheets[0]
        last = _last_data_row(sheet)
        _check_parts(path.name, parts, last - 1)
        if read_rows is not None:
            _check_xlsx_rows(path.name, sheet, last, extract, read_rows)
        for merged in [str(merged) for merged in sheet.merged_cells.ranges if merged.max_row > 1]:
            sheet.unmerge_cells(merged)  # a range merged across data rows would cover other lines once they move
        cells, heights = dict(sheet._cells), dict(sheet.row_dimensions)
        for destination, rows in parts.items():
            # sheet row → row in the part: the header stays, the chosen lines close up below it, the rest go
            moved = {1: 1, **{source_row + 1: index for index, source_row in enumerate(sorted(rows), start=2)}}
            _place_rows(sheet, cells, heights, moved)
            destination.parent.mkdir(parents=True, exist_ok=True)
            book.save(destination)
    finally:
        book.close()
    return {destination: len(rows) for destination, rows in parts.items()}


def _place_rows(sheet, cells: dict, heights: dict, moved: dict[int, int]) -> None:
    """The sheet holding the cells and row heights of the rows in `moved` (original row → row), the others left out.

    openpyxl keeps a sheet's cells in `_cells` by (row, column); its own
    move_range re-keys them the same way, but one range at a time, which
    would take a pass over the sheet for every line removed.
    """
    placed = {}
    for (row, column), cell in cells.items():
        if row in moved:
            cell.row = moved[row]
            placed[(moved[row], column)] = cell
    sheet._cells = placed
    sheet.row_dimensions.clear()
    for row, dimension in heights.items():
        if row in moved:
            dimension.index = moved[row]
            sheet.row_dimensions[moved[row]] = dimension


def _check_xlsx_rows(file: str, sheet, last: int, extract: Extract, read_rows: Sequence[Mapping[str, str | None]]) -> None:
    if last - 1 != len(read_rows):
        raise BatchCutError(f"{file}: {last - 1} data rows found on the first sheet, but the loader read {len(read_rows)}; "
                            "cannot cut it row for row")
    width = sheet.max_column
    header = [sheet._cells.get((1, column)) for column in range(1, width + 1)]  # not sheet.cell, which adds missing cells
    headers = [(cell_text(cell.value) if cell is not None else None) or f"column_{column}"
               for column, cell in enumerate(header, start=1)]
    mapping, _, _ = map_headers(extract, headers, file)
    for number, read in enumerate(read_rows, start=1):
        for position, name in mapping.items():
            cell = sheet._cells.get((number + 1, position + 1))
            found = cell_text(cell.value) if cell is not None else None
            if (found or None) != (read.get(name) or None):
                raise BatchCutError(f"{file}: row {number + 1} column {extract.column(name).header} reads otherwise here "
                                    "than in the loader; cannot cut the workbook row for row")
