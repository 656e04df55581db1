"""Read one extract file into a frame of text columns named by the declaration.

What belongs here: finding a drop's files, encoding detection, CSV and .xlsx
parsing, header → column mapping, and the errors for files that cannot be
read. Typing values is not done here (see `extracts.load`): every cell stays
text, exactly as exported, so nothing is lost before quarantine can see it.
A column of citizen numbers that a spreadsheet has stored as numbers is
refused here, before anything is loaded (the rules: `extracts.numeric_ids`).
"""

from __future__ import annotations

import codecs
import datetime as dt
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl
import yaml

from hecha.extracts.errors import DropError
from hecha.extracts.numeric_ids import NumericCell, find_damage, is_number
from hecha.extracts.schema import Extract
from hecha.extracts.xlsx import read_text_sheet

SUFFIXES = (".csv", ".xlsx")


@dataclass(frozen=True)
class Manifest:
    """What `manifest.yaml` says about a drop (every field optional)."""

    county: str | None = None
    as_of: str | None = None
    encodings: dict[str, str] = field(default_factory=dict)


@dataclass
class ExtractFile:
    """A file read as text, with how it was read."""

    extract: Extract
    path: Path
    encoding: str | None  # None for .xlsx
    frame: pl.DataFrame  # source_row + one text column per declared column present
    ignored_headers: list[str]
    absent_columns: list[str]  # optional columns the file does not have


def read_manifest(drop: Path) -> Manifest:
    path = drop / "manifest.yaml"
    if not path.exists():
        return Manifest()
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(error, "problem", None) or "cannot be parsed"
        raise DropError(f"{path.name}: not valid YAML{where} ({problem})", file=path.name, row=mark.line + 1 if mark else None) from None
    if not isinstance(data, dict):
        raise DropError(f"{path.name}: expected a mapping of settings", file=path.name)
    encodings = data.get("encoding") or data.get("encodings") or {}
    as_of = data.get("as_of")
    return Manifest(
        county=str(data["county"]) if data.get("county") is not None else None,
        as_of=str(as_of) if as_of is not None else None,
        encodings={str(k): str(v) for k, v in encodings.items()},
    )


def find_extract_file(drop: Path, extract: Extract) -> Path:
    """The one file of the drop holding `extract` (`<stem>.csv` or `<stem>.xlsx`)."""
    found = [drop / f"{extract.stem}{suffix}" for suffix in SUFFIXES if (drop / f"{extract.stem}{suffix}").exists()]
    if not found:
        raise DropError(f"{extract.stem}: no file {extract.stem}.csv or {extract.stem}.xlsx in {drop}", file=extract.stem)
    if len(found) > 1:
        raise DropError(f"{extract.stem}: both {found[0].name} and {found[1].name} are in the drop; keep one", file=found[0].name)
    return found[0]


UTF8_BOM = b"\xef\xbb\xbf"


def detect_encoding(data: bytes) -> str:
    """UTF-8 (with or without BOM), UTF-16 by BOM, else GB18030 (a superset of GBK)."""
    if data.startswith(UTF8_BOM):
        return "utf-8-sig"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    return "utf-8" if is_utf8(data) else "gb18030"


def is_utf8(data: bytes) -> bool:
    """Whether `data` is valid UTF-8, as Python's decoder judges it (checked in Rust: a tenth of the time)."""
    try:
        pl.Series([data], dtype=pl.Binary).cast(pl.String)
    except pl.exceptions.ComputeError:
        return False
    return True


def utf8_bytes(data: bytes, encoding: str, file: str) -> bytes:
    """The file's text as UTF-8 bytes for the CSV parser; text already in UTF-8 is not decoded at all."""
    codec = codecs.lookup(encoding).name
    if codec in ("utf-8", "utf-8-sig") and is_utf8(data):
        return data[len(UTF8_BOM):] if codec == "utf-8-sig" and data.startswith(UTF8_BOM) else data
    return decode(data, encoding, file).encode("utf-8")


def decode(data: bytes, encoding: str, file: str) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise DropError(
            f"{file}: line {line} is not valid {encoding} (byte {error.start}); "
            "set its encoding in manifest.yaml if the detection is wrong",
            file=file,
            row=line - 1,
        ) from error


def clean_header(header: str) -> str:
    """Headers as typed by people: full-width brackets, stray spaces, BOMs."""
    return unicodedata.normalize("NFKC", str(header)).replace("\ufeff", "").replace(" ", "").strip()


def column_letter(position: int) -> str:
    """0 → A, 25 → Z, 26 → AA: the column as a spreadsheet shows it."""
    letters = ""
    position += 1
    while position:
        position, rest = divmod(position - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def describe_column(position: int) -> str:
    """`H (8)`: the spreadsheet letter and the 1-based number, for people with either view of the file."""
    return f"{column_letter(position)} ({position + 1})"


def refuse_repeated_headers(headers: list[str], file: str) -> None:
    """Two columns headed alike: a reader keyed by header keeps one and silently loses the other.

    Blank headers (trailing commas, empty cells) are not compared: they are ignored anyway.
    """
    first: dict[str, int] = {}
    for position, header in enumerate(headers):
        cleaned = clean_header(header)
        if not cleaned:
            continue
        if cleaned in first:
            raise DropError(
                f"{file}: columns {describe_column(first[cleaned])} and {describe_column(position)} are both headed "
                f"{header!r}; expected each header once (keep one of the two columns)",
                file=file,
                column=header,
            )
        first[cleaned] = position


def map_headers(extract: Extract, headers: list[str], file: str) -> tuple[dict[int, str], list[str], list[str]]:
    """File column position → column name; the headers ignored; the optional columns absent.

    A header given twice, or two headers meaning the same column (an alias
    beside the exported header), is refused rather than one silently winning.
    """
    refuse_repeated_headers(headers, file)
    accepted = {clean_header(h): column for column in extract.columns for h in column.headers}
    mapping: dict[int, str] = {}
    ignored: list[str] = []
    for position, header in enumerate(headers):
        column = accepted.get(clean_header(header))
        if column is None:
            ignored.append(header)
        elif column.name in mapping.values():
            other = next(p for p, n in mapping.items() if n == column.name)
            raise DropError(
                f"{file}: columns {describe_column(other)} {headers[other]!r} and {describe_column(position)} {header!r} "
                f"both mean {column.header}; expected one of them (keep one column)",
                file=file,
                column=header,
            )
        else:
            mapping[position] = column.name
    present = set(mapping.values())
    for column in extract.required_columns:
        if column.name not in present:
            raise DropError(
                f"{file}: required column {column.header!r} is missing "
                f"(accepted headers: {', '.join(column.headers)})",
                file=file,
                column=column.header,
            )
    absent = [c.name for c in extract.columns if c.name not in present]
    return mapping, ignored, absent


def read_csv_text(data: bytes, file: str) -> tuple[list[str], pl.DataFrame]:
    """The header and the data rows of a CSV text (UTF-8 bytes), columns named by position (`column_1`…).

    The header is read as a row, not as column names: names would have to be
    unique, and a repeated header must reach `map_headers` to be refused.
    """
    try:
        frame = pl.read_csv(data, has_header=False, infer_schema=False)
    except pl.exceptions.PolarsError as error:
        text = data.decode("utf-8")
        raise csv_layout_error(text, file) or DropError(f"{file}: cannot be parsed as CSV ({first_line(error)})", file=file) from None
    if frame.height == 0:
        raise DropError(f"{file}: the file is empty; expected a header row", file=file)
    headers = ["" if value is None else value for value in frame.row(0)]
    return headers, frame.slice(1)


def first_line(error: Exception, limit: int = 200) -> str:
    """A parser's message as one short line: some quote whole stretches of the file."""
    line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return line if len(line) <= limit else line[:limit] + "…"


QUOTED_VALUE = re.compile(r'"[^"]*(?:""[^"]*)*"')
UNQUOTED_VALUE = re.compile(r'[^,"\r\n]*')


def csv_layout_error(text: str, file: str) -> DropError | None:
    """The first place the text breaks CSV quoting, or a data row with more fields than the header.

    Names the line (1-based, header included), the data row and the column,
    and says what was expected there. Values are matched one at a time, so
    this runs only after the fast parser has failed.
    """
    headers: list[str] = []
    position, line, row, fields = 0, 1, 0, []

    def error(problem: str, at_line: int) -> DropError:
        index = len(fields)
        column = headers[index] if row and index < len(headers) else None
        where = f"line {at_line}" + (f" (row {row})" if row else " (the header)") + f", column {describe_column(index)}"
        where += f" {column!r}" if column else ""
        return DropError(f"{file}: {where}: {problem}", file=file, row=row or None, column=column)

    while position < len(text):
        start_line = line
        if text[position] == '"':
            match = QUOTED_VALUE.match(text, position)
            if match is None:
                return error("a quote opens this value and is never closed; expected a closing quote at the end of the value", start_line)
            line += text.count("\n", position, match.end())
            position = match.end()
            if position < len(text) and text[position] not in ",\r\n":
                return error(
                    f"the quoted value opened here ends on line {line} followed by {text[position]!r}; "
                    "expected a comma or the line end after a closing quote (a stray quote?)",
                    start_line,
                )
            value = match.group()[1:-1].replace('""', '"')
        else:
            match = UNQUOTED_VALUE.match(text, position)
            position = match.end()
            if position < len(text) and text[position] == '"':
                return error(
                    "a quote inside a value that does not start with one; expected the whole value in quotes "
                    'with the inner quote doubled ("")',
                    start_line,
                )
            value = match.group()
        fields.append(value)
        if position < len(text) and text[position] == ",":
            position += 1
            continue
        # the end of a record: a line break or the end of the text
        position += 2 if text.startswith("\r\n", position) else 1
        line += 1
        if row == 0:
            headers = fields
        elif len(fields) > len(headers):
            return DropError(
                f"{file}: row {row} has {len(fields)} fields but the header has {len(headers)} "
                "(a comma inside a value must be quoted)",
                file=file,
                row=row,
            )
        row, fields = row + 1, []
    return None


def cell_text(value: object) -> str | None:
    """An .xlsx cell as the text an export would have written."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def read_xlsx(path: Path) -> pl.DataFrame:
    """The first sheet as text columns named by the header (which must not repeat)."""
    headers, frame, _ = read_xlsx_sheet(path)
    refuse_repeated_headers(headers, path.name)
    return frame.rename(dict(zip(frame.columns, headers)))


def read_xlsx_sheet(path: Path) -> tuple[list[str], pl.DataFrame, dict[int, NumericCell]]:
    """The header and the data rows of the first sheet, columns named by position (`column_1`…),
    and the first numeric cell of each column that has one (by position)."""
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises several unrelated types for damaged files
        raise DropError(f"{path.name}: cannot be opened as .xlsx ({error})", file=path.name) from error
    try:
        sheet = workbook.worksheets[0]
        text = read_text_sheet(sheet)  # a sheet of text cells only, parsed fast; else cell by cell below
        if text is not None:
            header, frame = text
            return [cell_text(h) or f"column_{i + 1}" for i, h in enumerate(header)], frame, {}
        rows = sheet.iter_rows(values_only=True)
        header = next(rows, None)
        if header is None:
            raise DropError(f"{path.name}: the first sheet is empty", file=path.name)
        headers = [cell_text(h) or f"column_{i + 1}" for i, h in enumerate(header)]
        data, numbers = [], {}
        for row_number, row in enumerate(rows, start=1):
            cells = row[: len(headers)]
            for position, value in enumerate(cells):
                if position not in numbers and is_number(value):
                    numbers[position] = NumericCell(row_number, value)
            data.append([cell_text(v) for v in cells])
    finally:
        workbook.close()
    while data and all(v is None for v in data[-1]):
        data.pop()  # trailing formatted-but-empty rows are not data
    names = [f"column_{i + 1}" for i in range(len(headers))]
    columns = {name: [row[i] if i < len(row) else None for row in data] for i, name in enumerate(names)}
    return headers, pl.DataFrame(columns, schema={name: pl.String for name in names}), numbers


HEADER_BYTES = 1 << 16  # a header row is far shorter; more is read only when it is not


def read_header(drop: Path, extract: Extract, manifest: Manifest) -> list[str]:
    """The header row of the drop's file for `extract`, read without reading the rows.

    A missing file, an unreadable header or a missing or repeated column is
    refused here, in well under a second even for a county's millions of
    ledger lines, before any file is read whole.
    """
    path = find_extract_file(drop, extract)
    if path.suffix == ".xlsx":
        from openpyxl import load_workbook

        try:
            workbook = load_workbook(path, read_only=True, data_only=True)
        except Exception as error:  # openpyxl raises several unrelated types for damaged files
            raise DropError(f"{path.name}: cannot be opened as .xlsx ({error})", file=path.name) from error
        try:
            header = next(workbook.worksheets[0].iter_rows(max_row=1, values_only=True), None)
        finally:
            workbook.close()
        if header is None:
            raise DropError(f"{path.name}: the first sheet is empty", file=path.name)
        headers = [cell_text(h) or f"column_{i + 1}" for i, h in enumerate(header)]
    else:
        with path.open("rb") as handle:
            head = handle.read(HEADER_BYTES)
        if head.startswith((b"\xff\xfe", b"\xfe\xff")):
            return []  # UTF-16: its lines are not split on a plain newline byte; the full read checks it
        end = head.find(b"\n")
        if end < 0:
            return []  # a header longer than the bytes read: the full read checks it
        line = head[:end + 1]
        encoding = manifest.encodings.get(extract.stem) or manifest.encodings.get(path.name) or detect_encoding(line)
        headers, _ = read_csv_text(utf8_bytes(line, encoding, path.name), path.name)
    map_headers(extract, headers, path.name)
    return headers


def read_extract_file(drop: Path, extract: Extract, manifest: Manifest) -> ExtractFile:
    """Read the drop's file for `extract` as text with `source_row` (1-based data row)."""
    path = find_extract_file(drop, extract)
    encoding = None
    numbers: dict[int, NumericCell] = {}
    if path.suffix == ".xlsx":
        headers, frame, numbers = read_xlsx_sheet(path)
    else:
        data = path.read_bytes()
        encoding = manifest.encodings.get(extract.stem) or manifest.encodings.get(path.name) or detect_encoding(data)
        headers, frame = read_csv_text(utf8_bytes(data, encoding, path.name), path.name)
    mapping, ignored, absent = map_headers(extract, headers, path.name)
    refuse_numeric_id_numbers(extract, path, headers, mapping, frame, numbers)
    frame = frame.select(
        pl.int_range(1, frame.height + 1, dtype=pl.Int64).alias("source_row"),
        *[pl.col(frame.columns[position]).alias(name) for position, name in mapping.items()],
        *[pl.lit(None, dtype=pl.String).alias(name) for name in absent],
    )
    return ExtractFile(extract, path, encoding, frame, ignored, absent)


def refuse_numeric_id_numbers(extract: Extract, path: Path, headers: list[str], mapping: dict[int, str], frame: pl.DataFrame,
                              numbers: dict[int, NumericCell]) -> None:
    """A DropError for the first column of citizen numbers that Excel/WPS stored as numbers.

    Such a column cannot be repaired: a number keeps 15 significant digits, so
    the last digits of every citizen number are gone, and formatting the cells
    as text afterwards does not bring them back. Only a new export will do.
    """
    holding = {column.name for column in extract.id_number_columns}
    for position, name in mapping.items():
        if name not in holding:
            continue
        damage = find_damage(frame[frame.columns[position]], numbers.get(position))
        if damage is None:
            continue
        cell = f", cell {column_letter(position)}{damage.row + 1}" if path.suffix == ".xlsx" else ""
        raise DropError(
            f"{path.name}: column {describe_column(position)} {headers[position]} {damage.problem} "
            f"(row {damage.row}{cell}: {damage.shown}) — Excel/WPS has stored the citizen numbers as numbers, keeping "
            "15 digits, and formatting the cells as text now does not bring the lost ones back; "
            "re-export the column as text (设置单元格格式 → 文本) from the source system",
            file=path.name,
            row=damage.row,
            column=headers[position],
        )
