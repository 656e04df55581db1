"""`hecha screen` as an officer runs it: on the sample county's next-month batch, against the night's run.

The batch and its truth come from the generator (data/sample/batch.py) on a
copy of the committed sample; the night is `hecha run` on the batch's drop.
"""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from bench.screen_quality import score
from data.sample.batch import make_batch

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample"


def hecha(*arguments: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "hecha.flows.cli", *arguments], capture_output=True, text=True, cwd=cwd)


@pytest.fixture(scope="module")
def county(tmp_path_factory) -> Path:
    """A copy of the sample with its batch, and the night run on the batch's drop in `out/`."""
    folder = tmp_path_factory.mktemp("county")
    shutil.copytree(SAMPLE / "drop", folder / "drop")
    shutil.copytree(SAMPLE / "truth", folder / "truth")
    make_batch(folder)
    finished = hecha("run", "--drop", str(folder / "batch" / "drop"), "--out", str(folder / "out"), cwd=folder)
    assert finished.returncode == 0, finished.stderr
    return folder


def batch_file(county: Path) -> Path:
    (path,) = (county / "batch").glob("发放名册_*.csv")
    return path


@pytest.fixture(scope="module")
def screened(county) -> tuple[Path, subprocess.CompletedProcess]:
    finished = hecha("screen", "--batch", str(batch_file(county)), "--out", str(county / "out"), cwd=county)
    assert finished.returncode == 0, finished.stderr
    (screen_dir,) = [path for path in (county / "out" / "screens").iterdir() if not path.name.startswith(".")]
    return screen_dir, finished


def records(path: Path) -> list[bytes]:
    """A CSV's data records as bytes (the sample's fields hold no line breaks)."""
    return path.read_bytes().splitlines(keepends=True)[1:]


def test_the_screen_says_what_it_stopped_and_where_the_files_are(screened):
    screen_dir, finished = screened
    record = json.loads((screen_dir / "screen.json").read_text(encoding="utf-8"))
    assert record["status"] == "succeeded" and screen_dir.name.startswith(record["month"])
    assert finished.stdout == (screen_dir / "summary.txt").read_text(encoding="utf-8")
    assert f"{record['counts']['block']}" in finished.stdout and "cleaned" in finished.stdout
    assert record["counts"]["lines"] == record["counts"]["block"] + record["counts"]["hold"] + record["counts"]["pass"]


def test_cleaned_blocked_and_held_lines_are_the_batch_nothing_lost_nothing_added(county, screened):
    screen_dir, _ = screened
    name = batch_file(county).name
    parts = {folder: records(screen_dir / folder / name) for folder in ("cleaned", "拦截", "暂缓")}
    assert sorted(line for lines in parts.values() for line in lines) == sorted(records(batch_file(county)))
    header = batch_file(county).read_bytes().splitlines(keepends=True)[0]
    assert all((screen_dir / folder / name).read_bytes().startswith(header) for folder in parts)
    record = json.loads((screen_dir / "screen.json").read_text(encoding="utf-8"))
    assert [len(parts[folder]) for folder in ("cleaned", "拦截", "暂缓")] == [
        record["counts"]["pass"], record["counts"]["block"], record["counts"]["hold"]]


def test_the_verdicts_match_the_generators_truth(county, screened):
    screen_dir, _ = screened
    result = score(screen_dir, county / "batch" / "truth.csv")
    blocked = result["blocked"]
    assert blocked["precision"] >= 0.99 and blocked["recall"] >= 0.99
    assert result["near_misses"]["blocked"] == 0


def test_the_screen_enters_the_case_history(county, screened):
    screen_dir, _ = screened
    with duckdb.connect() as con:  # a file named audit.duckdb would be a catalog clashing with the schema
        con.execute(f"attach '{county / 'out' / 'audit.duckdb'}' as history (read_only)")
        (lines,) = con.execute("select lines from history.audit.screen where screen_id = ?", [screen_dir.name]).fetchall()[0]
        stopped = con.execute("select count(*) from history.audit.screen_line where screen_id = ?",
                              [screen_dir.name]).fetchall()[0][0]
    record = json.loads((screen_dir / "screen.json").read_text(encoding="utf-8"))
    assert lines == record["counts"]["lines"] and stopped == record["counts"]["block"] + record["counts"]["hold"]


def test_the_same_batch_screened_again_gives_the_same_verdicts(county, screened):
    screen_dir, _ = screened
    finished = hecha("screen", "--batch", str(batch_file(county)), "--out", str(county / "out"), "--as-of", "2026-11", cwd=county)
    assert finished.returncode == 0, finished.stderr
    again = max(path for path in (county / "out" / "screens").iterdir() if not path.name.startswith(".") and path != screen_dir)
    assert (again / "verdicts.csv").read_bytes() == (screen_dir / "verdicts.csv").read_bytes()


def test_the_officers_books_mask_every_citizen_number(screened):
    screen_dir, _ = screened
    import zipfile

    from hecha.storage.masking import holds_citizen_number

    books = sorted((screen_dir / "拦截清单").glob("*.xlsx"))
    assert books
    for book in books:
        with zipfile.ZipFile(book) as archive:
            for name in archive.namelist():
                assert not holds_citizen_number(archive.read(name).decode("utf-8", "replace")), (book.name, name)


@pytest.mark.parametrize("problem", ["missing", "columns", "no night"])
def test_bad_input_is_one_line_and_exit_2(county, tmp_path, problem):
    out = county / "out"
    if problem == "missing":
        arguments = ["--batch", str(tmp_path / "nothing.csv"), "--out", str(out)]
    elif problem == "columns":
        bad = tmp_path / "发放名册.csv"
        with bad.open("w", encoding="utf-8", newline="") as handle:
            csv.writer(handle).writerows([["发放年月", "项目", "姓名"], ["2026-11", "低保金", "张三"]])
        arguments = ["--batch", str(bad), "--out", str(out)]
    else:
        arguments = ["--batch", str(batch_file(county)), "--out", str(tmp_path / "empty-out")]
        (tmp_path / "empty-out").mkdir()
    finished = hecha("screen", *arguments, cwd=tmp_path)
    assert finished.returncode == 2
    assert len(finished.stderr.strip().splitlines()) == 1 and finished.stderr.startswith("hecha: input error:")
    if problem == "columns":
        assert "发放名册.csv" in finished.stderr and "证号" in finished.stderr


def test_serve_watches_the_batches_folder(tmp_path):
    from hecha.flows.serve import EVENT_SECONDS, build_deployments

    watched = build_deployments(drop=tmp_path, out=tmp_path / "out", batches=tmp_path / "batches")
    watch = watched[-1]
    assert watch.flow_name == "watch_batches" and watch.parameters["inbox"] == str((tmp_path / "batches").resolve())
    assert watch.schedules[0].schedule.interval.total_seconds() == EVENT_SECONDS
