"""Write an extract file exactly as a county system would export it.

Used by the sample generator and by tests that build tiny drops: one way to
make test data. Frames carry stg column names and source-form values
(Chinese vocabulary, dates as text); headers come from the declaration.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import xlsxwriter

from hecha.extracts.declarations import BY_STEM

ENCODINGS = ("utf-8", "utf-8-sig", "gb18030")
# Workbooks carry a creation time; a fixed one keeps generated drops byte-identical per seed.
WORKBOOK_CREATED = dt.datetime(2000, 1, 1)


def write_extract(stem: str, rows: pl.DataFrame, folder: Path, *, fmt: str = "csv", encoding: str = "utf-8") -> Path:
    """Write `rows` (stg column names, text values) as `<folder>/<stem>.<fmt>` with Chinese headers."""
    extract = BY_STEM[stem]
    present = [c for c in extract.columns if c.name in rows.columns]
    missing = [c.name for c in extract.required_columns if c.name not in rows.columns]
    if missing:
        raise ValueError(f"{stem}: rows lack required columns {missing}")
    frame = rows.select([pl.col(c.name).cast(pl.String).alias(c.header) for c in present])
    folder.mkdir(parents=True, exist_ok=True)
    if fmt == "xlsx":
        path = folder / f"{stem}.xlsx"
        write_text_workbook(frame, path)
        return path
    if encoding not in ENCODINGS:
        raise ValueError(f"{stem}: unsupported encoding {encoding!r}")
    path = folder / f"{stem}.csv"
    text = frame.write_csv()
    path.write_bytes(text.encode(encoding))
    return path


def write_text_workbook(frame: pl.DataFrame, path: Path) -> None:
    """One sheet, header in row 1, every cell text: an 18-digit number stored as a number loses its last digits."""
    workbook = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    workbook.set_properties({"created": WORKBOOK_CREATED})
    sheet = workbook.add_worksheet("Sheet1")
    for col, header in enumerate(frame.columns):
        sheet.write_string(0, col, header)
    for row, values in enumerate(frame.iter_rows(), start=1):
        for col, value in enumerate(values):
            if value is not None:
                sheet.write_string(row, col, value)
    workbook.close()
