"""`hecha diff`: runs named latest / previous / by a run id's start, the cases that moved, columns aligned by display width."""

import json
import unicodedata

import duckdb
import pytest

from hecha.audit.history import diff_cases, diff_runs, format_diff, resolve_run
from hecha.flows.cli import main

FINDING_COLUMNS = (
    "check_code varchar, person_id varchar, id_number varchar, name varchar, township varchar, village varchar, "
    "case_no varchar, period_start date, period_end date, overpaid_amount double, backpay_amount double, evidence varchar, case_key varchar"
)
NUMBERS = {"k1": "130534195001010011", "k2": "13053419620203002X", "k3": "130534197003030033", "k4": "130534198004040044"}


def finding(key, *, end="2026-08-01", overpaid=300.0, backpay=0.0, code="deceased_paid", name="王秀英", township="城关镇",
            village="东关村"):
    return (code, f"P{key}", NUMBERS[key], name, township, village, "TK1", "2026-06-01", end, overpaid, backpay, "证据", key)


def publish(out, run_id, findings, *, as_of="2026-10", finished="2026-11-01T02:00:00+00:00"):
    """A published run folder: run.json (succeeded, finished at `finished`) and its chk.finding."""
    run_dir = out / run_id
    run_dir.mkdir(parents=True)
    con = duckdb.connect(str(run_dir / "hecha.duckdb"))
    con.execute(f"create schema chk; create table chk.finding ({FINDING_COLUMNS})")
    if findings:
        con.executemany(f"insert into chk.finding values ({', '.join('?' * 13)})", findings)
    con.close()
    record = {"run_id": run_id, "status": "succeeded", "finished_at": finished, "parameters": {"as_of": as_of}}
    (run_dir / "run.json").write_text(json.dumps(record), encoding="utf-8")
    return run_dir


def display_width(text):
    return sum(2 if unicodedata.east_asian_width(character) in "WF" else 1 for character in text)


@pytest.fixture
def out(tmp_path):
    """Three nightly runs; run ids sort by as_of first, so publication order is not name order."""
    out = tmp_path / "out"
    publish(out, "2026-10_20261101T020000000000", [finding("k1"), finding("k2", name="欧阳娜娜", township="坝营乡")],
            finished="2026-11-01T02:05:00+00:00")
    publish(out, "2026-10_20261102T020000000000",
            [finding("k1", end="2026-09-01", overpaid=400.0), finding("k3", name="李四", township="Xiang", village="第一村"),
             finding("k4", code="missed_care_subsidy", overpaid=0.0, backpay=480.0, name="赵敏")],
            finished="2026-11-02T02:05:00+00:00")
    publish(out, "2026-09_20261103T020000000000", [finding("k1", end="2026-09-01", overpaid=400.0)], as_of="2026-09",
            finished="2026-11-03T02:05:00+00:00")
    (out / ".work-2026-10_20261104T020000000000").mkdir()  # a run under way is not a published run
    return out


def test_latest_and_previous_are_the_last_two_published(out):
    assert resolve_run(out, "latest").name == "2026-09_20261103T020000000000"
    assert resolve_run(out, "previous").name == "2026-10_20261102T020000000000"


@pytest.mark.parametrize("description, reference, expected", [
    ("a unique start of a run id", "2026-10_2026110", None),
    ("the start of one run id only", "2026-10_20261101", "2026-10_20261101T020000000000"),
    ("a whole run id", "2026-09_20261103T020000000000", "2026-09_20261103T020000000000"),
])
def test_run_id_prefixes_name_one_run(out, description, reference, expected):
    if expected is None:
        with pytest.raises(ValueError, match="2026-10_20261101T020000000000.*2026-10_20261102T020000000000"):
            resolve_run(out, reference)  # two runs start so: refused, naming both
    else:
        assert resolve_run(out, reference).name == expected, description


def test_a_folder_is_taken_as_it_is_and_unknown_names_are_refused(out):
    folder = out / "2026-10_20261101T020000000000"
    assert resolve_run(out, str(folder)) == folder
    with pytest.raises(FileNotFoundError, match="2027"):
        resolve_run(out, "2027")
    with pytest.raises(FileNotFoundError, match="previous"):
        resolve_run(out / "empty", "previous")


def test_diff_lists_the_cases_that_appeared_went_and_changed(out):
    first, second = out / "2026-10_20261101T020000000000", out / "2026-10_20261102T020000000000"
    cases = {case["case_key"]: case for case in diff_cases(first, second)}
    assert {key: case["change"] for key, case in cases.items()} == {"k1": "changed", "k2": "gone", "k3": "added", "k4": "added"}
    assert cases["k1"]["period_before"] == "2026-06 至 2026-08" and cases["k1"]["period_after"] == "2026-06 至 2026-09"
    assert (cases["k1"]["amount_before"], cases["k1"]["amount_after"]) == (300.0, 400.0)
    assert cases["k4"]["amount_after"] == 480.0  # money at stake: backpay for a missed subsidy
    text = format_diff(first, second, diff_runs(first, second), cases.values())
    lines = text.splitlines()
    k1 = next(line for line in lines if "k1" in line)
    assert all(part in k1 for part in ("变化", "死亡人员仍领取", "城关镇", "东关村", "130534********0011", "王秀英",
                                      "2026-06 至 2026-08", "2026-06 至 2026-09", "300.00", "400.00"))
    k2 = next(line for line in lines if "k2" in line)
    assert "消失" in k2 and "130534********002X" in k2 and "欧阳娜娜" in k2
    assert "新增" in next(line for line in lines if "k4" in line) and "重度残疾人护理补贴漏发" in text
    assert not any(number in text for number in NUMBERS.values())


def test_diff_keeps_the_counts_per_check(out):
    first, second = out / "2026-10_20261101T020000000000", out / "2026-10_20261102T020000000000"
    lines = format_diff(first, second, diff_runs(first, second), diff_cases(first, second)).splitlines()
    counts = next(line for line in lines if line.startswith("deceased_paid"))
    assert counts.split()[2:6] == ["1", "1", "1", "0"]  # added k3, gone k2, changed k1, none the same


def test_diff_columns_line_up_by_display_width(out):
    first, second = out / "2026-10_20261101T020000000000", out / "2026-10_20261102T020000000000"
    lines = format_diff(first, second, diff_runs(first, second), diff_cases(first, second)).splitlines()
    header = next(line for line in lines if line.startswith("变化"))
    rows = [line for line in lines[lines.index(header) + 1:] if line.strip()]
    assert len(rows) == 4
    columns = ("案件编号", "乡镇", "村", "身份证号", "姓名")
    values = {
        "k1": {"案件编号": "k1", "乡镇": "城关镇", "村": "东关村", "身份证号": "130534********0011", "姓名": "王秀英"},
        "k2": {"案件编号": "k2", "乡镇": "坝营乡", "村": "东关村", "身份证号": "130534********002X", "姓名": "欧阳娜娜"},
        "k3": {"案件编号": "k3", "乡镇": "Xiang", "村": "第一村", "身份证号": "130534********0033", "姓名": "李四"},
        "k4": {"案件编号": "k4", "乡镇": "城关镇", "村": "东关村", "身份证号": "130534********0044", "姓名": "赵敏"},
    }
    for row in rows:
        key = next(key for key in values if f" {key} " in row)
        for column in columns:
            start = row.index(values[key][column], row.index(f" {key} ") if column != "案件编号" else 0)
            assert display_width(row[:start]) == display_width(header[:header.index(column)]), (column, row)
    assert len({display_width(row) for row in rows + [header]}) == 1, "money is right-aligned to one edge"
    counts = [line for line in lines if line.startswith(("check ", "deceased_paid", "missed_care_subsidy"))]
    assert len({display_width(line) for line in counts}) == 1


def test_diff_warns_first_when_the_later_run_is_older(out):
    newer, older = out / "2026-10_20261102T020000000000", out / "2026-09_20261103T020000000000"
    text = format_diff(newer, older, diff_runs(newer, older), diff_cases(newer, older))
    assert text.splitlines()[0].startswith("warning:") and "2026-09" in text.splitlines()[0]
    forward = format_diff(older, newer, diff_runs(older, newer), diff_cases(older, newer))
    assert "warning" not in forward


def test_diff_command_resolves_names_against_out(out, capsys):
    assert main(["diff", "2026-10_20261101", "previous", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "2026-10_20261101T020000000000 → 2026-10_20261102T020000000000" in printed and "130534********0011" in printed
    assert main(["diff", "previous", "latest", "--out", str(out)]) == 0
    assert capsys.readouterr().out.startswith("warning:")
    assert main(["diff", "2026-10_2026110", "latest", "--out", str(out)]) == 2
    assert "2026-10_2026110" in capsys.readouterr().err
