"""An event file screened between nights gives exactly the findings a full run on the changed drop gives.

The night is the sample drop. Each event (data/sample/events.py) is written
as a county system exports it; the full run is the sample drop with the
event applied to its file as the next drop would carry it (cremation rows
appended, register rows changed in place). Every finding is compared, every column: person, case,
months, amounts, link confidence, evidence and case key.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from bench.agree import rows_only_in
from data.sample.events import cremation_event, register_death_event
from hecha.checks.slice import screen_slice
from hecha.config import load_policy
from hecha.extracts.event import apply_event_rows, event_extract, load_event_file
from hecha.extracts.read import read_manifest
from hecha.flows.pipeline import analyse_drop, link_thresholds
from hecha.flows.run import resolve_as_of
from hecha.matching.link import link_people
from hecha.storage.secret import install_keyed_hash
from tests.county import TEST_SECRET

SAMPLE_DROP = Path(__file__).resolve().parents[2] / "data" / "sample" / "drop"


def analysed(path: Path, drop: Path) -> Path:
    con = duckdb.connect(str(path))
    try:
        analyse_drop(con, drop, secret=TEST_SECRET)
    finally:
        con.close()
    return path


@pytest.fixture(scope="module")
def night(tmp_path_factory) -> Path:
    return analysed(tmp_path_factory.mktemp("night") / "night.duckdb", SAMPLE_DROP)


def screened(night: Path, event: Path, work: Path, max_slice_share: float = 0.5) -> duckdb.DuckDBPyConnection:
    """The event applied, linked and screened on a copy of the night, as `hecha event` does."""
    shutil.copyfile(night, work / "event.duckdb")
    con = duckdb.connect(str(work / "event.duckdb"))
    install_keyed_hash(con, TEST_SECRET)
    manifest, policy = read_manifest(SAMPLE_DROP), load_policy()
    policy["incremental"]["max_slice_share"] = max_slice_share
    extract = event_extract(event, manifest)
    applied = apply_event_rows(con, extract, load_event_file(con, event, extract, manifest, policy))
    assert applied.rows_read > 0
    link_people(con, thresholds=link_thresholds(policy))
    con.execute(f"attach '{night}' as night (read_only)")
    figures = screen_slice(con, "night", "select source, source_row from changed_row", resolve_as_of(manifest, None), policy)
    assert 0 < figures["persons"] < 5000 and figures["sliced"] == (max_slice_share > 0.01)
    return con


def differences(con: duckdb.DuckDBPyConnection, full: Path) -> tuple[list, list]:
    con.execute(f"attach '{full}' as full_run (read_only)")
    home = con.execute("select current_database()").fetchall()[0][0]
    return rows_only_in(con, "chk.finding", home, "full_run"), rows_only_in(con, "chk.finding", "full_run", home)


def test_cremation_event_gives_the_full_runs_findings(night, tmp_path):
    event, full_drop = cremation_event(SAMPLE_DROP, tmp_path)
    full = analysed(tmp_path / "full.duckdb", full_drop)
    con = screened(night, event, tmp_path)
    assert differences(con, full) == ([], [])
    deaths = con.execute("select count(*) from chk.finding where check_code = 'deceased_paid' and evidence like '%EV2026%'").fetchall()[0][0]
    night_deaths = con.execute("select count(*) from night.chk.finding where check_code = 'deceased_paid'").fetchall()[0][0]
    now_deaths = con.execute("select count(*) from chk.finding where check_code = 'deceased_paid'").fetchall()[0][0]
    assert now_deaths > night_deaths + 10 or deaths > 10  # the event found deaths paid, not just the night's
    quarantined = con.execute("select count(*) from stg.quarantine where source = 'cremation' and source_file = '火化新增.csv'").fetchall()[0][0]
    assert quarantined == 1


def test_register_death_event_gives_the_full_runs_findings(night, tmp_path):
    event, full_drop = register_death_event(SAMPLE_DROP, tmp_path)
    full = analysed(tmp_path / "full.duckdb", full_drop)
    con = screened(night, event, tmp_path)
    assert differences(con, full) == ([], [])
    con.close()
    con = screened(night, event, tmp_path, max_slice_share=1e-9)  # touching "too many": the whole tables checked
    assert differences(con, full) == ([], [])
    assert con.execute("select count(*) from chk.finding where check_code = 'deceased_paid'").fetchall()[0][0] > \
        con.execute("select count(*) from night.chk.finding where check_code = 'deceased_paid'").fetchall()[0][0]


def hecha(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "hecha.flows.cli", *args], capture_output=True, text=True, env={"PATH": "/usr/bin:/bin"})


def test_event_command_publishes_a_run_the_history_continues(tmp_path):
    event, _ = cremation_event(SAMPLE_DROP, tmp_path)
    out = tmp_path / "out"
    refused = hecha("event", str(event), "--out", str(out))
    assert refused.returncode == 2 and "no published run" in refused.stderr and len(refused.stderr.strip().splitlines()) == 1
    assert hecha("run", "--drop", str(SAMPLE_DROP), "--out", str(out)).returncode == 0
    done = hecha("event", str(event), "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert "火化新增.csv (cremation): 24 rows read, 1 quarantined" in done.stdout
    from hecha.audit.history import published_runs, run_history

    night_run, event_run = published_runs(out)
    history = {run["run_id"]: run for run in run_history(out / "audit.duckdb")}
    assert event_run.name in history and (event_run / "workbooks").is_dir()
    counts = dict(duckdb.connect(str(event_run / "hecha.duckdb"), read_only=True).execute(
        "select status, count(*) from chk.finding_status group by 1").fetchall())
    assert counts["new"] > 10 and counts["persisting"] > 100  # the night's cases carry on; the deaths are new
    not_a_death_file = tmp_path / "payments.csv"
    shutil.copyfile(SAMPLE_DROP / "payments.csv", not_a_death_file)
    refused = hecha("event", str(not_a_death_file), "--out", str(out))
    assert refused.returncode == 2 and "neither a cremation export nor register rows" in refused.stderr
    inbox = tmp_path / "events"
    inbox.mkdir()
    shutil.copyfile(event, inbox / event.name)
    shutil.copyfile(not_a_death_file, inbox / "not_a_death_file.csv")
    from hecha.flows.watch import watch_events

    screened = watch_events(inbox=inbox, out=out)
    assert len(screened) == 1 and [run.name for run in published_runs(out)][-1] == screened[0]
    assert [path.name.split("_", 1)[1] for path in (inbox / "done").iterdir()] == [event.name]
    failed = sorted(path.name.split("_", 1)[1] for path in (inbox / "failed").iterdir())
    assert failed == ["not_a_death_file.csv", "not_a_death_file.csv.txt"] and not any(inbox.glob("*.csv"))


def test_serve_watches_the_events_folder_every_minute(tmp_path):
    from hecha.flows.serve import EVENT_SECONDS, build_deployments

    plain = build_deployments(drop=tmp_path, out=tmp_path / "out")
    watched = build_deployments(drop=tmp_path, out=tmp_path / "out", events=tmp_path / "events")
    assert [d.flow_name for d in plain] == ["nightly", "campaign"]
    watch = watched[-1]
    assert watch.flow_name == "watch_events" and watch.parameters["inbox"] == str((tmp_path / "events").resolve())
    assert watch.schedules[0].schedule.interval.total_seconds() == EVENT_SECONDS
