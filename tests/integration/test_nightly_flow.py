"""The nightly flow end to end on the committed sample drop, checked against its ground truth."""

import csv
import json
import shutil
from pathlib import Path

import pytest

from bench.quality import read_exceptions, read_truth, score
from hecha.checks.catalogue import CATALOGUE
from hecha.extracts.declarations import EXTRACTS
from hecha.flows.cli import main
from hecha.flows.nightly import nightly
from hecha.reports.exceptions import EXCEPTION_COLUMNS

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample"
CHECKS = [check.code for check in CATALOGUE]


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    return nightly(drop=SAMPLE / "drop", out=tmp_path_factory.mktemp("out"))


@pytest.fixture(scope="module")
def scores(run_dir):
    planted, near = read_truth(SAMPLE / "truth")
    return score(read_exceptions(run_dir / "exceptions.csv"), planted, near, CHECKS)


def test_flow_publishes_exceptions_with_the_contract_columns(run_dir):
    assert run_dir.name.startswith("2026-10_")
    with (run_dir / "exceptions.csv").open(encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        rows = list(reader)
    assert tuple(reader.fieldnames) == EXCEPTION_COLUMNS
    assert (run_dir / "exceptions.csv").read_bytes().startswith(b"\xef\xbb\xbf")  # Excel on Chinese Windows reads UTF-8
    assert {row["status"] for row in rows} == {"new"}  # the folder's first run
    assert {row["check_code"] for row in rows} == set(CHECKS)
    assert all(row["evidence"] and row["case_key"] for row in rows)
    # an unrepairable number is reported as written; every other finding names a valid number
    assert all(len(row["id_number"]) == 18 for row in rows if row["check_code"] != "identity_anomaly")
    assert not list(run_dir.parent.glob(".work-*"))  # the work folder was renamed, not copied


def test_run_record_counts_add_up_for_every_file(run_dir):
    record = json.loads((run_dir / "run.json").read_text(encoding="utf-8"))
    assert record["status"] == "succeeded"
    assert {f["source"] for f in record["files"]} == {e.stem for e in EXTRACTS}
    for counts in record["files"]:
        assert counts["rows_read"] > 0
        assert counts["rows_read"] == counts["rows_staged"] + counts["rows_quarantined"], counts["file"]
    encodings = {f["source"]: f["encoding"] for f in record["files"]}
    assert encodings["cremation"] == "gb18030" and encodings["disability"] is None
    assert set(record["timings_seconds"]) == {"load", "normalize", "validate", "link", "checks", "history", "outcomes", "reports", "publish",
                                                 "record"}
    assert record["validation"]["files"].keys() == {e.stem for e in EXTRACTS}
    report = (run_dir / "report.html").read_text(encoding="utf-8")
    assert "成功" in report and "运行中" not in report  # the published report states the final status


@pytest.mark.parametrize("code", CHECKS)
def test_every_planted_finding_is_found_with_its_months_and_amounts(scores, code):
    result = scores[code]
    assert result.planted > 0
    assert result.missed == []
    assert result.wrong_amounts == []


def test_deaths_known_only_through_fuzzy_links_are_found(scores):
    result = scores["deceased_paid"]
    fuzzy = result.planted - result.planted_exact_links
    assert fuzzy > 0  # the sample plants deaths behind blank or mistyped numbers
    assert result.true_positive - result.true_positive_exact_links == fuzzy


@pytest.mark.parametrize("code", CHECKS)
def test_no_near_miss_is_raised_and_nothing_unplanted_is_raised(scores, code):
    assert scores[code].near_misses > 0
    assert scores[code].raised_near_misses == []
    assert scores[code].false_positives == []


def test_run_fails_cleanly_on_a_file_missing_a_required_column(tmp_path, capsys):
    drop = tmp_path / "drop"
    shutil.copytree(SAMPLE / "drop", drop)
    payments = drop / "payments.csv"
    text = payments.read_text(encoding="utf-8")
    payments.write_text(text.replace("金额", "金 额 合计", 1), encoding="utf-8")
    out = tmp_path / "out"
    assert main(["run", "--drop", str(drop), "--out", str(out)]) == 2
    error = capsys.readouterr().err
    assert "payments.csv" in error and "金额" in error
    assert "Traceback" not in error
    assert [p.name for p in out.iterdir() if not p.name.startswith(".")] == []  # nothing published
    (work,) = out.glob(".work-*")
    record = json.loads((work / "run.json").read_text(encoding="utf-8"))
    assert (record["status"], record["failed_stage"]) == ("failed", "load_extracts")
