"""A screen's 拦截清单 goes out and comes back: the officer's 核查结论 recorded like any workbook's.

The screen's folder is written directly (no night, no screen run): the batch
loaded by the loader into `<out>/screens/<screen_id>/hecha.duckdb`, screen.line
filled with chosen verdicts (tests/unit/test_screen_outputs.py), screen.json,
and the outputs written by `write_screen_outputs`. An officer then fills in
核查结论 with openpyxl and saves the book, as Excel or WPS would leave it.
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import openpyxl
import pytest

from hecha.audit.feedback import FeedbackError, import_feedback
from hecha.audit.history import STATE
from hecha.config import load_policy
from hecha.flows.cli import EXIT_INPUT_ERROR, main
from hecha.screen.outputs import BOOKS_FOLDER, write_screen_outputs
from tests.unit.test_screen_outputs import SCREEN_ID, case_key, csv_batch, load_batch, record_of, screen_lines


@pytest.fixture
def screen(tmp_path):
    """An out folder holding one published screen of a CSV batch; its folder."""
    batch = tmp_path / "十一月发放.csv"
    csv_batch(batch, encoding="gb18030", bom=False, ending="\r\n")
    folder = tmp_path / "out" / "screens" / SCREEN_ID
    folder.mkdir(parents=True)
    con = duckdb.connect(str(folder / "hecha.duckdb"))
    try:
        load_batch(con, batch)
        screen_lines(con)
        record = record_of(batch)
        write_screen_outputs(con, folder, record=record, batch_path=batch, policy=load_policy())
    finally:
        con.close()
    (folder / "screen.json").write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")
    return folder


def answer(book_path: Path, answers: dict[int, tuple], *, key_override: dict[int, str] | None = None) -> Path:
    """Fill 核查结论 / 核查说明 on the lines of the given batch rows (批次行号), wherever they are listed; save the book."""
    book = openpyxl.load_workbook(book_path)
    for sheet in book.worksheets:
        if sheet.title in ("汇总", "_meta"):
            continue
        header = {cell.value: cell.column for cell in sheet[1]}
        for row in range(2, sheet.max_row + 1):
            batch_row = sheet.cell(row, header["批次行号"]).value
            if batch_row in answers:
                conclusion, note = answers[batch_row]
                sheet.cell(row, header["核查结论"], conclusion)
                sheet.cell(row, header["核查说明"], note)
            if key_override and batch_row in key_override:
                sheet.cell(row, header["案件编号"], key_override[batch_row])
    book.properties.lastModifiedBy = "城关镇民政办"
    book.save(book_path)
    return book_path


def dispositions(out: Path) -> list[tuple]:
    if not (out / STATE).exists():
        return []
    con = duckdb.connect()
    try:
        con.execute(f"attach '{out / STATE}' as history (read_only)")
        return con.execute("select case_key, conclusion, note, inspector, run_id, source_sheet, evidence_hash is not null "
                           "from history.audit.disposition order by case_key").fetchall()
    finally:
        con.close()


def test_township_book_verdicts_are_recorded_by_case_key(screen):
    out = screen.parent.parent
    book = answer(screen / BOOKS_FOLDER / "城关镇.xlsx", {7: ("属实", "残疾人证已注销"), 3: ("不属实", "本人在册，可发放")})
    result = import_feedback(book, out)
    assert result.run_id == SCREEN_ID and result.township == "城关镇"
    assert result.dispositions == {"属实": 1, "不属实": 1}
    assert dispositions(out) == sorted([
        (case_key(7), "属实", "残疾人证已注销", "城关镇民政办", SCREEN_ID, "拦截", True),
        (case_key(3), "不属实", "本人在册，可发放", "城关镇民政办", SCREEN_ID, "暂缓", True),
    ])
    again = import_feedback(book, out)  # the same book twice: nothing new
    assert again.dispositions == {} and again.unchanged == 2
    assert len(dispositions(out)) == 2


def test_county_book_decides_every_township(screen, capsys):
    out = screen.parent.parent
    book = answer(screen / BOOKS_FOLDER / "全县.xlsx", {1: ("属实", ""), 3: ("已整改", "已更正证号")})
    assert main(["feedback", "import", str(book), "--out", str(out)]) == 0
    assert f"(run {SCREEN_ID}, 全县): recorded 属实 1, 已整改 1" in capsys.readouterr().out
    assert [(key, conclusion) for key, conclusion, *_ in dispositions(out)] == sorted([(case_key(1), "属实"), (case_key(3), "已整改")])


@pytest.mark.parametrize(("answers", "overrides", "expected"), [
    ({7: ("是", "")}, {}, "城关镇.xlsx sheet 拦截 row 2: 核查结论 '是' is not one of 属实/不属实/已整改"),
    ({7: ("属实", "")}, {7: "0123456789abcdef"},
     f"城关镇.xlsx sheet 拦截 row 2: 案件编号 '0123456789abcdef' is not a finding of a line screen {SCREEN_ID} blocked or held"),
    ({7: ("属实", "")}, {7: case_key(1)},  # a 城东街道 line's key typed into 城关镇's book
     f"城关镇.xlsx sheet 拦截 row 2: 案件编号 '{case_key(1)}' is a case of 城东街道, not of 城关镇"),
])
def test_wrong_answer_or_tampered_key_is_refused_naming_the_place(screen, capsys, answers, overrides, expected):
    out = screen.parent.parent
    book = answer(screen / BOOKS_FOLDER / "城关镇.xlsx", answers, key_override=overrides)
    with pytest.raises(FeedbackError) as refused:
        import_feedback(book, out)
    (line,) = str(refused.value).splitlines()  # one problem, one line
    assert line.startswith(expected)
    assert main(["feedback", "import", str(book), "--out", str(out)]) == EXIT_INPUT_ERROR
    assert expected in capsys.readouterr().err
    assert dispositions(out) == []  # nothing recorded


def test_book_of_a_screen_not_published_there_is_refused(screen, tmp_path):
    book = screen / BOOKS_FOLDER / "城关镇.xlsx"
    other = tmp_path / "elsewhere"
    other.mkdir()
    with pytest.raises(FeedbackError, match=f"names screen '{SCREEN_ID}', which .* has not published"):
        import_feedback(book, other)
