"""Write an extract file exactly as a county system would export it.

Used by the sample generator and by tests that build tiny drops: one way to
make test data. Frames carry stg column names and source-form values
(Chinese vocabulary, dates as text); headers come from the declaration.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from extracts.declarations import BY_STEM

ENCODINGS = ("utf-8", "utf-8-sig", "gb18030")


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
        # every cell as text: an 18-digit number stored as a number loses its last digits
        frame.write_excel(path, worksheet="Sheet1", autofit=False)
        return path
    if encoding not in ENCODINGS:
        raise ValueError(f"{stem}: unsupported encoding {encoding!r}")
    path = folder / f"{stem}.csv"
    text = frame.write_csv()
    path.write_bytes(text.encode(encoding))
    return path
