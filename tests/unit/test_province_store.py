"""A county run's export to the shared store: what it holds, local and through fsspec, and never half of it."""

import json
import os
import secrets
import stat
import threading
from pathlib import Path

import duckdb
import fsspec
import pytest

import hecha.province.store as store_module
from hecha.flows.cli import main
from hecha.province.store import EXPORT_TABLES, ExportError, export_county, load_exports

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample" / "drop"
COUNTY = "130534"  # the sample's manifest


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("out")
    assert main(["run", "--drop", str(SAMPLE), "--out", str(out)]) == 0
    (folder,) = [path for path in out.iterdir() if (path / "run.json").is_file()]
    return folder


@pytest.fixture(scope="module")
def run_facts(run_dir):
    """What the run's own database says the export must hold, counted without the export's SQL."""
    con = duckdb.connect(str(run_dir / "hecha.duckdb"), read_only=True)
    try:
        return {
            "paid": con.execute("select count(*), sum(amount) from int.person_month_paid").fetchall()[0],
            "event": con.execute(
                "select (select count(*) from stg.household_register where person_status in ('dead', 'moved_out'))"
                " + (select count(*) from stg.cremation)").fetchall()[0][0],
            "register": con.execute(
                "select count(*) from (select distinct id_number, name, sex, birth_date, person_status "
                "from stg.household_register where id_number is not null)").fetchall()[0][0],
            "run_id": json.loads((run_dir / "run.json").read_text(encoding="utf-8"))["run_id"],
        }
    finally:
        con.close()


def read_back(store: str, wait: float = 0) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    load_exports(con, store, [COUNTY], wait)
    return con


def check_round_trip(store: str, export: dict, facts: dict) -> None:
    assert set(export) == {"county", "run_id", "as_of", "exported_at", "rows"}
    assert (export["county"], export["run_id"], export["as_of"]) == (COUNTY, facts["run_id"], "2026-10")
    paid_rows, paid_money = facts["paid"]
    assert export["rows"] == {"paid": paid_rows, "event": facts["event"], "register": facts["register"]}
    con = read_back(store)
    assert con.execute("select count(*), sum(amount) from province.paid").fetchall()[0] == (paid_rows, paid_money)
    assert con.execute("select count(*) from province.event").fetchall()[0][0] == facts["event"]
    assert con.execute("select count(*) from province.register").fetchall()[0][0] == facts["register"]
    # every number kept is a valid 18-character one, and every row names its county
    assert con.execute("""
        select count(*) from province.paid
        where county <> $county or (id_number is not null and not regexp_full_match(id_number, '[0-9]{17}[0-9X]'))
    """, {"county": COUNTY}).fetchall()[0][0] == 0
    assert con.execute("select count(*) from province.paid where pinyin is null and name is not null").fetchall()[0][0] == 0
    assert con.execute("select county, run_id, paid_rows from province.county_export").fetchall() == [
        (COUNTY, facts["run_id"], paid_rows)]


def test_export_round_trips_through_a_local_folder(run_dir, run_facts, tmp_path):
    store = tmp_path / "store"
    export = export_county(run_dir, str(store))
    check_round_trip(str(store), export, run_facts)
    folder = store / COUNTY
    assert sorted(path.name for path in folder.iterdir()) == ["event.parquet", "export.json", "paid.parquet", "register.parquet"]
    assert json.loads((folder / "export.json").read_text(encoding="utf-8")) == export
    # citizen numbers inside: owner-only, as a run's own folder
    assert stat.S_IMODE(os.stat(folder).st_mode) == 0o700
    assert all(stat.S_IMODE(os.stat(path).st_mode) == 0o600 for path in folder.iterdir())


def test_export_round_trips_through_an_fsspec_memory_store(run_dir, run_facts):
    store = f"memory://hecha-test-{secrets.token_hex(4)}/store"
    try:
        export = export_county(run_dir, store)
        check_round_trip(store, export, run_facts)
        fs, root = fsspec.core.url_to_fs(store)
        assert sorted(Path(path).name for path in fs.ls(f"{root}/{COUNTY}", detail=False)) == [
            "event.parquet", "export.json", "paid.parquet", "register.parquet"]
    finally:
        fs, root = fsspec.core.url_to_fs(store)
        if fs.exists(root):
            fs.rm(root, recursive=True)


def test_export_replaces_the_previous_one_and_a_reader_never_sees_half(run_dir, tmp_path, monkeypatch):
    store = str(tmp_path / "store")
    old = export_county(run_dir, store)
    seen = []
    real_move = store_module.move

    def move_then_read(fs, source, target):
        # after each step of the new export's swap, a reader with no patience reads the store
        real_move(fs, source, target)
        try:
            con = read_back(store)
        except ExportError as error:
            seen.append(("refused", str(error)))
            return
        ids = {table.name: con.execute(f"select distinct export_id from province.{table.name}").fetchall()
               for table in EXPORT_TABLES}
        seen.append(("read", ids))

    monkeypatch.setattr(store_module, "move", move_then_read)
    new = export_county(run_dir, store)
    old_id, new_id = (f"{e['run_id']}/{e['exported_at']}" for e in (old, new))
    assert old_id != new_id
    assert len(seen) == len(EXPORT_TABLES) + 1  # each table, then export.json
    for outcome, detail in seen[:-1]:
        assert outcome == "refused" and "being replaced" in detail and COUNTY in detail
    outcome, ids = seen[-1]
    assert outcome == "read" and all(rows == [(new_id,)] for rows in ids.values())
    assert not [path for path in (tmp_path / "store" / COUNTY).iterdir() if path.name.startswith(".incoming-")]


def test_a_reader_waits_for_an_export_being_replaced(run_dir, tmp_path, monkeypatch):
    store = str(tmp_path / "store")
    export_county(run_dir, store)
    halfway, resume = threading.Event(), threading.Event()
    real_move = store_module.move
    moves = []

    def paused_move(fs, source, target):
        real_move(fs, source, target)
        moves.append(target)
        if len(moves) == 1:  # one table of the new export in place, the rest not yet
            halfway.set()
            assert resume.wait(30)

    monkeypatch.setattr(store_module, "move", paused_move)
    writer = threading.Thread(target=lambda: results.append(export_county(run_dir, store)))
    results = []
    writer.start()
    assert halfway.wait(30)
    threading.Timer(0.5, resume.set).start()
    con = read_back(store, wait=30)  # finds the export torn, waits until it is whole
    writer.join(30)
    (new,) = results
    new_id = f"{new['run_id']}/{new['exported_at']}"
    for table in EXPORT_TABLES:
        assert con.execute(f"select distinct export_id from province.{table.name}").fetchall() == [(new_id,)]


def test_export_refuses_a_run_that_did_not_succeed(run_dir, tmp_path):
    failed = tmp_path / "failed"
    failed.mkdir()
    record = json.loads((run_dir / "run.json").read_text(encoding="utf-8")) | {"status": "failed"}
    (failed / "run.json").write_text(json.dumps(record), encoding="utf-8")
    with pytest.raises(ExportError, match=r"run\.json: status 'failed'; only a succeeded run is exported") as caught:
        export_county(failed, str(tmp_path / "store"))
    assert "\n" not in str(caught.value)
    assert not (tmp_path / "store").exists()


def test_reading_a_county_never_exported_names_it(tmp_path):
    with pytest.raises(ExportError, match=r"130599/export\.json: no export of county 130599"):
        load_exports(duckdb.connect(), str(tmp_path / "store"), ["130599"], 0)


def test_a_stage_reading_an_export_replaced_under_it_is_refused(run_dir, tmp_path):
    store = str(tmp_path / "store")
    export_county(run_dir, store)
    con = duckdb.connect()
    records = load_exports(con, store, [COUNTY], 0)  # a local store: views over the files
    store_module.verify_exports(con, store, records)  # nothing changed: accepted
    export_county(run_dir, store)  # the county publishes again while the stage runs
    with pytest.raises(ExportError, match=rf"{COUNTY}: the export changed while the cross-county stage read it"):
        store_module.verify_exports(con, store, records)
