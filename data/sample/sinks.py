"""The drop's and the truth's files, written a shard at a time.

A large county is generated as a sequence of shards (`generate.py`), each
appended to one file per extract as soon as it is made: a CSV in the
exporting system's encoding (a byte-order mark only where the file starts),
the disability workbook through xlsxwriter's constant-memory mode, the truth's
CSV files line by line. The bytes are those `hecha.extracts.writer` gives for
all the rows at once (same headers, quoting, encodings, workbook properties),
so a drop of one shard is the drop the generator has always written. What a
row holds is decided in `rows.py` and `noise.py`, not here.
"""

from __future__ import annotations

import csv
from pathlib import Path

import polars as pl
import xlsxwriter

from data.sample.rows import Row
from hecha.extracts.declarations import BY_STEM
from hecha.extracts.writer import ENCODINGS, WORKBOOK_CREATED


class ExtractFile:
    """`<folder>/<stem>.<fmt>` with the declaration's Chinese headers, rows appended by `write`, finished by `close`."""

    def __init__(self, stem: str, folder: Path, fmt: str, encoding: str) -> None:
        if fmt == "csv" and encoding not in ENCODINGS:
            raise ValueError(f"{stem}: unsupported encoding {encoding!r}, expected one of {ENCODINGS}")
        self.columns = BY_STEM[stem].columns
        folder.mkdir(parents=True, exist_ok=True)
        for stale in folder.glob(f"{stem}.*"):
            stale.unlink()
        self.path = folder / f"{stem}.{fmt}"
        self._started = False
        if fmt == "xlsx":
            # one sheet, header in row 1, every cell text: an 18-digit number stored as a number loses its last digits
            self._workbook = xlsxwriter.Workbook(str(self.path), {"constant_memory": True})
            self._workbook.set_properties({"created": WORKBOOK_CREATED})
            self._sheet = self._workbook.add_worksheet("Sheet1")
            for col, column in enumerate(self.columns):
                self._sheet.write_string(0, col, column.header)
            self._next_row = 1
        else:
            self._workbook = None
            self._encoding = encoding
            self._handle = self.path.open("wb")

    def write(self, rows: list[Row]) -> None:
        if self._workbook is not None:
            for row in rows:
                for col, column in enumerate(self.columns):
                    value = row.values.get(column.name)
                    if value is not None:
                        self._sheet.write_string(self._next_row, col, value)
                self._next_row += 1
            return
        headers = [column.header for column in self.columns]
        frame = pl.DataFrame([[row.values.get(column.name) for row in rows] for column in self.columns],
                             schema={header: pl.String for header in headers}, orient="col")
        text = frame.write_csv(include_header=not self._started)
        # the byte-order mark opens the file, not each shard's rows
        encoding = self._encoding if not self._started else self._encoding.removesuffix("-sig")
        self._handle.write(text.encode(encoding))
        self._started = True

    def close(self) -> None:
        if self._workbook is not None:
            self._workbook.close()
        else:
            self._handle.close()


class TruthFile:
    """A truth CSV (UTF-8, no BOM, `\\n` line ends): the header, then rows appended by `write`."""

    def __init__(self, path: Path, header: tuple[str, ...]) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._handle = path.open("w", encoding="utf-8", newline="")
        self._writer = csv.writer(self._handle, lineterminator="\n")
        self._writer.writerow(header)

    def write(self, rows: list[tuple]) -> None:
        self._writer.writerows(rows)

    def close(self) -> None:
        self._handle.close()
