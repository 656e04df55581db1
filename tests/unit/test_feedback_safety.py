"""Feedback import refuses what it cannot trust: conflicting rows, another township's cases, formulas, oversized files."""

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import duckdb
import openpyxl
import pytest

import hecha.audit.feedback as feedback_module
from hecha.audit.feedback import FeedbackError, import_feedback
from hecha.audit.history import STATE, STATE_DDL

ROOT = Path(__file__).resolve().parents[2]
RUN_ID = "2026-10_r1"
CHECK_SHEET = "死亡人员仍领取"
CONFIRM_SHEET = "待确认"
CHECK_HEADER = ("姓名", "核查结论", "核查说明", "案件编号")  # B, C, D
CONFIRM_HEADER = ("类型", "核查结论", "身份确认", "核查说明", "案件编号", "关联编号")


def citizen_number(key):
    return f"13053419500101{key:0>4}"


class Folder:
    """An output folder holding one published run and its history, written directly (no pipeline)."""

    def __init__(self, path):
        self.path = path
        self.state = path / STATE

    def run(self, cases, links=()):
        """Publish RUN_ID with `cases` {case_key: township} and `links` (source, source_row, person_id, signature) to confirm."""
        run_dir = self.path / RUN_ID
        run_dir.mkdir(parents=True)
        con = duckdb.connect(str(run_dir / "hecha.duckdb"))
        con.execute("create schema chk; create table chk.finding (case_key varchar, township varchar)")
        con.executemany("insert into chk.finding values (?, ?)", list(cases.items()))
        con.execute("create schema link; create table link.review (source varchar, source_row integer, role varchar, "
                    "person_id varchar, record_signature varchar)")
        for link in links:
            con.execute("insert into link.review values (?, ?, 'subject', ?, ?)", list(link))
        con.close()
        (run_dir / "run.json").write_text(json.dumps({"run_id": RUN_ID, "status": "succeeded",
                                                      "parameters": {"as_of": "2026-10", "county": "130534"}}), encoding="utf-8")
        con = duckdb.connect()
        con.execute(f"attach '{self.state}' as history")  # a catalog named audit would clash with the schema
        con.execute("use history")
        for ddl in STATE_DDL:
            con.execute(ddl)
        con.execute("insert into audit.run (run_id, as_of, run_dir, published_at) values (?, '2026-10', ?, now())",
                    [RUN_ID, str(run_dir)])
        for key, township in cases.items():
            con.execute("insert into audit.case (case_key, check_code, id_number, name, township, evidence_hash) "
                        "values (?, 'deceased_paid', ?, ?, ?, 'h')", [key, citizen_number(key), f"人{key}", township])
            con.execute("insert into audit.case_run (run_id, case_key, status, evidence_hash) values (?, ?, 'new', 'h')",
                        [RUN_ID, key])
        con.close()
        return run_dir


@pytest.fixture
def folder(tmp_path):
    return Folder(tmp_path / "out")


def write_book(folder, run_dir, sheets, *, township="城关镇", name="book.xlsx"):
    """A returned workbook: `sheets` maps title → (header, rows); `_meta` laid out as the writer lays it out (A1:B4)."""
    book = openpyxl.Workbook()
    book.remove(book.active)
    for title, (header, rows) in sheets.items():
        sheet = book.create_sheet(title)
        sheet.append(list(header))
        for row in rows:
            sheet.append(list(row))
    meta = book.create_sheet("_meta")
    for label, value in (("county", "130534"), ("run_id", run_dir.name), ("as_of", "2026-10"), ("township", township)):
        meta.append([label, value])
    path = folder.path / name
    book.save(path)
    return path


def recorded(folder):
    con = duckdb.connect()
    con.execute(f"attach '{folder.state}' as history (read_only)")
    try:
        return con.execute("select case_key, conclusion, note, source_sheet, source_row from history.audit.disposition order by 1").fetchall()
    finally:
        con.close()


def test_feedback_refuses_one_case_decided_two_ways(folder):
    run_dir = folder.run({"k1": "城关镇", "k2": "城关镇"})
    book = write_book(folder, run_dir, {
        CHECK_SHEET: (CHECK_HEADER, [("某人", "属实", None, "k2"), ("某人", "不属实", "同名不同人", "k1")]),
        CONFIRM_SHEET: (CONFIRM_HEADER, [("待确认发现", "属实", None, None, "k1", None)]),
    })
    with pytest.raises(FeedbackError) as error:
        import_feedback(book, folder.path)
    message = str(error.value)
    assert f"sheet {CHECK_SHEET} row 3" in message and f"sheet {CONFIRM_SHEET} row 2" in message
    assert "案件编号 'k1'" in message and "k2" not in message
    assert recorded(folder) == []  # k2 was fine, but nothing is recorded unless all is well


def test_feedback_records_a_case_repeated_alike_once(folder):
    run_dir = folder.run({"k1": "城关镇"})
    book = write_book(folder, run_dir, {
        CHECK_SHEET: (CHECK_HEADER, [("某人", "不属实", "同名不同人", "k1"), ("某人", "不属实", "同名不同人", "k1")]),
    })
    result = import_feedback(book, folder.path, inspector="张科员")
    assert result.dispositions == {"不属实": 1} and result.unchanged == 0
    assert recorded(folder) == [("k1", "不属实", "同名不同人", CHECK_SHEET, 2)]


def test_feedback_refuses_one_case_with_two_different_notes(folder):
    run_dir = folder.run({"k1": "城关镇"})
    book = write_book(folder, run_dir, {
        CHECK_SHEET: (CHECK_HEADER, [("某人", "不属实", "同名不同人", "k1"), ("某人", "不属实", "已死亡", "k1")]),
    })
    with pytest.raises(FeedbackError, match=f"sheet {CHECK_SHEET} row 2 and sheet {CHECK_SHEET} row 3"):
        import_feedback(book, folder.path)


def test_feedback_refuses_one_link_decided_two_ways(folder):
    run_dir = folder.run({"k1": "城关镇"}, links=[("cremation", 7, "Pabc", "sig7")])
    book = write_book(folder, run_dir, {
        CONFIRM_SHEET: (CONFIRM_HEADER, [("待确认身份关联", None, "不是同一人", "年龄不符", None, "cremation:7:Pabc"),
                                         ("待确认身份关联", None, "是同一人", None, None, "cremation:7:Pabc")]),
    })
    with pytest.raises(FeedbackError) as error:
        import_feedback(book, folder.path)
    message = str(error.value)
    assert f"sheet {CONFIRM_SHEET} row 2 and sheet {CONFIRM_SHEET} row 3" in message
    assert "关联编号 'cremation:7:Pabc'" in message


def test_township_workbook_cannot_decide_another_townships_case(folder):
    run_dir = folder.run({"k1": "城关镇", "k2": "坝营乡"})
    rows = [("某人", "属实", None, "k1"), ("某人", "不属实", "同名不同人", "k2")]
    book = write_book(folder, run_dir, {CHECK_SHEET: (CHECK_HEADER, rows)}, township="城关镇")
    with pytest.raises(FeedbackError) as error:
        import_feedback(book, folder.path)
    message = str(error.value)
    assert f"sheet {CHECK_SHEET} row 3" in message and "坝营乡" in message
    assert "row 2" not in message  # k1 is 城关镇's own case
    assert "人k2" not in message and citizen_number("k2") not in message  # no name, no citizen number
    assert recorded(folder) == []

    county_book = write_book(folder, run_dir, {CHECK_SHEET: (CHECK_HEADER, rows)}, township="全县", name="全县.xlsx")
    assert import_feedback(county_book, folder.path).dispositions == {"属实": 1, "不属实": 1}


def test_formula_verdict_or_note_is_refused_naming_the_cell(folder):
    run_dir = folder.run({"k1": "城关镇", "k2": "城关镇"})
    book = write_book(folder, run_dir, {
        CHECK_SHEET: (CHECK_HEADER, [("某人", '=IF(1,"不属实")', None, "k1"),
                                     ("某人", "属实", '=CONCATENATE("同名","不同人")', "k2")]),
    })
    with pytest.raises(FeedbackError) as error:
        import_feedback(book, folder.path)
    message = str(error.value)
    assert f"book.xlsx sheet {CHECK_SHEET} cell B2: 核查结论 is a formula; type the value" in message
    assert f"book.xlsx sheet {CHECK_SHEET} cell C3: 核查说明 is a formula; type the value" in message
    assert recorded(folder) == []


def write_bomb(book: Path, bomb: Path, unpacked_mb: int) -> None:
    """`book` with its first sheet followed by `unpacked_mb` MB of one-cell rows of zeros: well-formed, about 1000:1 packed."""
    with zipfile.ZipFile(book) as source, zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename != "xl/worksheets/sheet1.xml":
                target.writestr(info.filename, data)
                continue
            head, tail = data.split(b"</sheetData>")
            row = b"<row><c><v>0</v></c></row>"  # numbered by position: openpyxl makes a cell of each
            chunk = row * ((1 << 20) // len(row))
            with target.open(info.filename, "w", force_zip64=True) as member:  # streamed: the test holds one chunk
                member.write(head)
                for _ in range(unpacked_mb):
                    member.write(chunk)
                member.write(b"</sheetData>" + tail)


BOMB_IMPORT = """
import resource, sys, time
from pathlib import Path
from hecha.audit.feedback import FeedbackError, import_feedback
resource.setrlimit(resource.RLIMIT_AS, (3 << 30, 3 << 30))  # should the guard fail, fail here rather than starve the machine
start = time.perf_counter()
try:
    import_feedback(Path(sys.argv[1]), Path(sys.argv[2]))
    print("recorded")
except FeedbackError as error:
    print(error)
print(round(time.perf_counter() - start, 2))
# this process's peak, in MB: ru_maxrss would carry over the parent's peak across fork and exec
print(next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:")) // 1024)
"""


def test_zip_bomb_is_refused_before_parsing(folder):
    run_dir = folder.run({"k1": "城关镇"})
    book = write_book(folder, run_dir, {CHECK_SHEET: (CHECK_HEADER, [("某人", "属实", None, "k1")])})
    bomb = folder.path / "bomb.xlsx"
    write_bomb(book, bomb, unpacked_mb=300)
    assert bomb.stat().st_size < 2 << 20
    done = subprocess.run([sys.executable, "-c", BOMB_IMPORT, str(bomb), str(folder.path)],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    *message, seconds, peak_mb = done.stdout.strip().splitlines()
    assert "bomb.xlsx" in message[0] and "xl/worksheets/sheet1.xml" in "\n".join(message)
    assert float(seconds) < 2, seconds
    assert int(peak_mb) < 400, peak_mb  # the unguarded import took 2.45 GB on a 1.2 MB file
    assert recorded(folder) == []


@pytest.mark.parametrize(("limit", "value", "expected"), [
    ("MAX_FILE_BYTES", 1000, "larger than"),
    ("MAX_UNPACKED_BYTES", 1000, "unpacks to"),
    ("MAX_MEMBERS", 3, "parts"),
])
def test_workbook_past_a_limit_is_refused_before_parsing(folder, monkeypatch, limit, value, expected):
    run_dir = folder.run({"k1": "城关镇"})
    book = write_book(folder, run_dir, {CHECK_SHEET: (CHECK_HEADER, [("某人", "属实", None, "k1")])})
    monkeypatch.setattr(feedback_module, limit, value)
    monkeypatch.setattr(feedback_module.openpyxl, "load_workbook", lambda *args, **kwargs: pytest.fail("parsed"))
    with pytest.raises(FeedbackError, match=f"book.xlsx: .*{expected}"):
        import_feedback(book, folder.path)


def test_file_that_is_not_a_zip_is_refused(folder):
    path = folder.path / "book.xlsx"
    path.parent.mkdir(parents=True)
    path.write_bytes(b"\xd0\xcf\x11\xe0" + b"\0" * 600)  # an .xls or a password-protected workbook
    with pytest.raises(FeedbackError, match="book.xlsx: not an .xlsx workbook"):
        import_feedback(path, folder.path)


def test_sheet_past_the_row_limit_is_refused(folder, monkeypatch):
    run_dir = folder.run({"k1": "城关镇"})
    rows = [("某人", "属实", None, "k1")] + [("某人", None, None, None)] * 10
    book = write_book(folder, run_dir, {CHECK_SHEET: (CHECK_HEADER, rows)})
    monkeypatch.setattr(feedback_module, "MAX_ROWS_PER_SHEET", 5)
    with pytest.raises(FeedbackError, match=f"book.xlsx sheet {CHECK_SHEET}: more than 5 rows"):
        import_feedback(book, folder.path)
    assert recorded(folder) == []
