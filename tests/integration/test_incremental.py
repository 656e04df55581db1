"""An incremental night gives exactly the findings of a full rebuild on the same drop.

Two drops a night apart (data/sample/events.py `two_nights`): in every file
rows changed in place (a register death among them), rows added and rows
removed (near the end of the file, so that few rows move), and citizen
numbers mistyped the first night and corrected the next. The second night runs incrementally, then the same drop runs again as
a full rebuild in the same folder (same secret, so the same case keys);
their findings, every column, and the ledger shares the outcomes read, are
compared.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import duckdb

from bench.agree import disagreements
from data.sample.events import two_nights
from hecha.audit.history import published_runs
from hecha.config import load_policy
from hecha.flows.incremental import night_mode

SAMPLE_DROP = Path(__file__).resolve().parents[2] / "data" / "sample" / "drop"


def hecha(*args: str) -> subprocess.CompletedProcess:
    finished = subprocess.run([sys.executable, "-m", "hecha.flows.cli", *args], capture_output=True, text=True,
                              env={"PATH": "/usr/bin:/bin"})
    assert finished.returncode == 0, finished.stderr
    return finished


def test_incremental_night_gives_the_full_rebuilds_findings(tmp_path):
    night, after = two_nights(SAMPLE_DROP, tmp_path / "drops", share=0.01, seed=7, removals="end")
    out = tmp_path / "out"
    county = tmp_path / "county.yaml"  # a small county's slice is a larger share of it: check apart up to half
    county.write_text("incremental:\n  max_slice_share: 0.5\n", encoding="utf-8")
    hecha("run", "--drop", str(night), "--out", str(out), "--policy", str(county))
    said = hecha("run", "--drop", str(after), "--out", str(out), "--policy", str(county)).stdout
    hecha("run", "--drop", str(after), "--out", str(out), "--full", "--policy", str(county))
    first, incremental, full = published_runs(out)
    records = [json.loads((run / "run.json").read_text(encoding="utf-8")) for run in (first, incremental, full)]
    assert [record["mode"]["kind"] for record in records] == ["full", "incremental", "full"]
    assert records[1]["mode"]["since"] == first.name and records[1]["mode"]["changed_rows"] > 0
    assert records[1]["mode"]["screened"]["sliced"]
    assert f"incremental since {first.name}" in said
    assert records[1]["findings"] == records[2]["findings"]
    assert disagreements(incremental / "hecha.duckdb", full / "hecha.duckdb") == {
        "chk.finding": ([], []), "int.person_month_paid": ([], [])}
    con = duckdb.connect(str(incremental / "hecha.duckdb"), read_only=True)
    assert con.execute("select count(*) from chk.finding where check_code = 'deceased_paid'").fetchall()[0][0] > 0
    register = con.execute("select count(*) from link.person").fetchall()[0][0]
    slice_persons = records[1]["mode"]["screened"]["persons"]
    assert 0 < slice_persons < register / 2


def published(out: Path, name: str, **record) -> None:
    folder = out / name
    folder.mkdir(parents=True)
    (folder / "hecha.duckdb").touch()
    (folder / "run.json").write_text(json.dumps(record), encoding="utf-8")


def test_a_night_is_a_full_rebuild_when_anything_but_the_data_changed(tmp_path):
    policy, rules, as_of = load_policy(), "r1", dt.date(2026, 10, 1)
    now = dt.datetime(2026, 11, 20, 2, tzinfo=dt.timezone.utc)
    assert night_mode(tmp_path, as_of, policy, rules, now=now)["reason"] == "no earlier run with its database"
    base = {"parameters": {"as_of": "2026-10"}, "policy": policy, "rules_sha256": rules}
    published(tmp_path, "2026-10_a", **base, mode={"kind": "full"}, started_at="2026-11-15T02:00:00+00:00",
              finished_at="2026-11-15T02:10:00")
    published(tmp_path, "2026-10_b", **base, mode={"kind": "incremental"}, started_at="2026-11-19T02:00:00+00:00",
              finished_at="2026-11-19T02:10:00")
    assert night_mode(tmp_path, as_of, policy, rules, now=now) == {"kind": "incremental", "since": "2026-10_b",
                                                                    "reason": "since 2026-10_b"}
    assert night_mode(tmp_path, as_of, policy, rules, now=now, full=True)["kind"] == "full"
    assert night_mode(tmp_path, dt.date(2026, 11, 1), policy, rules, now=now)["reason"].startswith("the as_of month changed")
    assert night_mode(tmp_path, as_of, policy | {"window_months": 12}, rules, now=now)["reason"] == "the policy changed"
    assert night_mode(tmp_path, as_of, policy, "r2", now=now)["reason"] == "the rules changed (code or SQL)"
    a_week_on = now + dt.timedelta(days=2)  # the last full rebuild, on the 15th, is then 7 days old
    assert night_mode(tmp_path, as_of, policy, rules, now=a_week_on)["reason"].startswith("the last full rebuild is 7")
