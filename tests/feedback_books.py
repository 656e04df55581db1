"""Workbooks as an inspector hands them back, for tests of the feedback import: built directly, no run needed."""

from __future__ import annotations

from pathlib import Path

import duckdb
import openpyxl


def review_one_cremation_row(run_dir: Path) -> None:
    """The run's link.review: cremation row 7 uncertain between nobody and person Pabc (signature sig7)."""
    con = duckdb.connect(str(run_dir / "hecha.duckdb"))
    try:
        con.execute("create schema link; create table link.review (source varchar, source_row integer, role varchar, "
                    "person_id varchar, record_signature varchar)")
        con.execute("insert into link.review values ('cremation', 7, 'subject', 'Pabc', 'sig7')")
    finally:
        con.close()


def link_workbook(path: Path, run_id: str, township: str, rows: list[list]) -> Path:
    """A 待确认 sheet with `rows` (姓名, 身份确认, 核查说明, 关联编号) and the _meta of `run_id`."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "待确认"
    sheet.append(["姓名", "身份确认", "核查说明", "关联编号"])
    for row in rows:
        sheet.append(row)
    meta = book.create_sheet("_meta")
    for label, value in (("county", "130534"), ("run_id", run_id), ("as_of", "2026-10"), ("township", township)):
        meta.append([label, value])
    book.save(path)
    return path
