"""Names and paths are data, never SQL: quoting in one helper, names and folders validated."""

from __future__ import annotations

import json
import os
from pathlib import Path

import duckdb
import pytest

from hecha.audit.history import diff_runs, open_state, record_run
from hecha.flows.run import DROP_ROOT_ENV, OUT_ROOT_ENV, campaign_out, confine
from hecha.storage.database import attach, sql_identifier, sql_literal

PAYLOAD = "q' as h0; copy (select 42 as pwned) to 'PWNED_campaign.csv'; --"


@pytest.mark.parametrize(
    ("text", "literal"),
    [("plain", "'plain'"), ("it's", "'it''s'"), ("''", "''''''"), ("路径/坝营乡", "'路径/坝营乡'")],
)
def test_sql_literal_doubles_quotes(text, literal):
    assert sql_literal(text) == literal


def test_sql_literal_refuses_nul():
    with pytest.raises(ValueError, match="NUL"):
        sql_literal("a\x00b")


@pytest.mark.parametrize("name", ["history; drop table x", "a b", "", "1x", 'x"'])
def test_sql_identifier_refuses_anything_but_a_plain_name(name):
    with pytest.raises(ValueError, match="identifier"):
        sql_identifier(name)


def test_attach_treats_a_hostile_path_as_a_path(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    folder = tmp_path / PAYLOAD.replace("/", "_")
    folder.mkdir()
    con = duckdb.connect()
    attach(con, folder / "x.duckdb", "x")
    con.execute("create table x.t as select 1 as one")
    con.close()
    assert (folder / "x.duckdb").exists()
    assert not list(tmp_path.rglob("PWNED*"))


def test_history_in_a_folder_named_with_an_apostrophe_works_twice(tmp_path, monkeypatch):
    """`it's` once broke a campaign's history for good; as a folder name it is now just a name."""
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "it's" / PAYLOAD.replace("/", "_")
    runs = []
    for number in (1, 2):
        run_dir = out / f"2026-10_{number}"
        run_dir.mkdir(parents=True)
        con = duckdb.connect(str(run_dir / "hecha.duckdb"))
        con.execute("create schema chk")
        con.execute("create table chk.finding as select 'deceased_paid' as check_code, 'P1' as person_id, "
                    "'x' as id_number, '某' as name, '坝营乡' as township, '村' as village, 'c1' as case_no, date '2026-01-01' as period_start, date '2026-03-01' as period_end, "
                    "12.0 as overpaid_amount, 0.0 as backpay_amount, 'e' as evidence, 'k1' as case_key")
        con.execute("create table chk.finding_status as select 'k1' as case_key, 'new' as status, 'h' as evidence_hash")
        con.close()
        record = {"run_id": run_dir.name, "status": "succeeded", "parameters": {"as_of": "2026-10"}, "findings": {"deceased_paid": 1}}
        (run_dir / "run.json").write_text(json.dumps(record), encoding="utf-8")
        record_run(out / "audit.duckdb", run_dir)
        runs.append(run_dir)
    with open_state(out / "audit.duckdb", read_only=True) as con:
        assert [r for (r,) in con.execute("select run_id from audit.run order by run_id").fetchall()] == ["2026-10_1", "2026-10_2"]
    assert diff_runs(*runs)["deceased_paid"]["unchanged"] == 1
    assert not list(tmp_path.rglob("PWNED*"))


@pytest.mark.parametrize("name", [PAYLOAD, "it's", "a b", "x" * 65, "../nightly", "a/b", ".work-x", "_x", "a\x00b", "a\nb"])
def test_campaign_names_outside_the_declared_shape_are_refused(tmp_path, name):
    with pytest.raises(ValueError, match="campaign name"):
        campaign_out(tmp_path, name)


@pytest.mark.parametrize("name", ["2026春季专项", "t1", "spring-2026.v2", "核查_二"])
def test_campaign_names_of_the_declared_shape_are_accepted(tmp_path, name):
    assert campaign_out(tmp_path, name) == tmp_path / "campaigns" / name


def test_served_folders_outside_the_configured_roots_are_refused(tmp_path, monkeypatch):
    root = tmp_path / "out"
    monkeypatch.setenv(OUT_ROOT_ENV, str(root))
    monkeypatch.setenv(DROP_ROOT_ENV, str(tmp_path / "drops"))
    assert confine(root / "campaigns" / "t1", OUT_ROOT_ENV) == root / "campaigns" / "t1"
    for outside in (tmp_path / "elsewhere", root / ".." / "elsewhere", Path("/etc")):
        with pytest.raises(ValueError, match="outside the configured folder"):
            confine(outside, OUT_ROOT_ENV)
    with pytest.raises(ValueError, match="outside the configured folder"):
        confine(tmp_path / "other-drop", DROP_ROOT_ENV)
    os.symlink(tmp_path / "elsewhere", root.parent / "link", target_is_directory=True)
    with pytest.raises(ValueError, match="outside the configured folder"):
        confine(root.parent / "link", OUT_ROOT_ENV)
