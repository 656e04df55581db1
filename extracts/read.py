"""Read one extract file into a frame of text columns named by the declaration.

What belongs here: finding a drop's files, encoding detection, CSV and .xlsx
parsing, header → column mapping, and the errors for files that cannot be
read. Typing values is not done here (see `extracts.load`): every cell stays
text, exactly as exported, so nothing is lost before quarantine can see it.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl
import yaml

from extracts.errors import DropError
from extracts.schema import Extract

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
        raise DropError(f"{path.name}: not valid YAML ({error})", file=path.name) from error
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


def detect_encoding(data: bytes) -> str:
    """UTF-8 (with or without BOM), UTF-16 by BOM, else GB18030 (a superset of GBK)."""
    if data.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    try:
        data.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        return "gb18030"


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


def map_headers(extract: Extract, headers: list[str], file: str) -> tuple[dict[str, str], list[str], list[str]]:
    """File header → column name; the headers ignored; the optional columns absent."""
    accepted = {clean_header(h): column.name for column in extract.columns for h in column.headers}
    mapping: dict[str, str] = {}
    ignored: list[str] = []
    for header in headers:
        name = accepted.get(clean_header(header))
        if name is None:
            ignored.append(header)
        elif name in mapping.values():
            other = next(h for h, n in mapping.items() if n == name)
            raise DropError(f"{file}: columns {other!r} and {header!r} both mean {name}; keep one", file=file, column=header)
        else:
            mapping[header] = name
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


def read_csv_text(text: str, file: str) -> pl.DataFrame:
    try:
        return pl.read_csv(text.encode("utf-8"), infer_schema=False)
    except pl.exceptions.PolarsError as error:
        raise ragged_line_error(text, file) or DropError(f"{file}: cannot be parsed as CSV ({error})", file=file) from error


def ragged_line_error(text: str, file: str) -> DropError | None:
    """The first data row with more fields than the header (an unquoted comma in free text, typically)."""
    rows = csv.reader(io.StringIO(text))
    header = next(rows, [])
    for row_number, row in enumerate(rows, start=1):
        if len(row) > len(header):
            return DropError(
                f"{file}: row {row_number} has {len(row)} fields but the header has {len(header)} "
                "(a comma inside a value must be quoted)",
                file=file,
                row=row_number,
            )
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
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises several unrelated types for damaged files
        raise DropError(f"{path.name}: cannot be opened as .xlsx ({error})", file=path.name) from error
    try:
        rows = workbook.worksheets[0].iter_rows(values_only=True)
        header = next(rows, None)
        if header is None:
            raise DropError(f"{path.name}: the first sheet is empty", file=path.name)
        headers = [cell_text(h) or f"column_{i + 1}" for i, h in enumerate(header)]
        data = [[cell_text(v) for v in row[: len(headers)]] for row in rows]
    finally:
        workbook.close()
    while data and all(v is None for v in data[-1]):
        data.pop()  # trailing formatted-but-empty rows are not data
    width = len(headers)
    columns = {h: [row[i] if i < len(row) else None for row in data] for i, h in enumerate(headers)}
    return pl.DataFrame(columns, schema={h: pl.String for h in headers}) if width else pl.DataFrame()


def read_extract_file(drop: Path, extract: Extract, manifest: Manifest) -> ExtractFile:
    """Read the drop's file for `extract` as text with `source_row` (1-based data row)."""
    path = find_extract_file(drop, extract)
    encoding = None
    if path.suffix == ".xlsx":
        frame = read_xlsx(path)
    else:
        data = path.read_bytes()
        encoding = manifest.encodings.get(extract.stem) or manifest.encodings.get(path.name) or detect_encoding(data)
        frame = read_csv_text(decode(data, encoding, path.name), path.name)
    mapping, ignored, absent = map_headers(extract, frame.columns, path.name)
    frame = frame.select(
        pl.int_range(1, frame.height + 1, dtype=pl.Int64).alias("source_row"),
        *[pl.col(header).alias(name) for header, name in mapping.items()],
        *[pl.lit(None, dtype=pl.String).alias(name) for name in absent],
    )
    return ExtractFile(extract, path, encoding, frame, ignored, absent)
