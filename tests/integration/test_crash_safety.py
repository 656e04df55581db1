"""A run killed at every stage boundary, then run again: the history and the publications stay consistent.

Each killed run is a real process killed with SIGKILL (no cleanup runs);
the rerun and the checks happen here. The good first run is made once and
copied for each case. Also: a run meeting a feedback import on the case
history, and two imports at once.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from hecha.audit.history import open_state, published_runs
from hecha.flows.cli import main
from hecha.flows.run import recover_out, start_run
from hecha.flows.stages import nightly_stages, run_stages
from hecha.storage.database import DatabaseBusy

ROOT = Path(__file__).resolve().parents[2]
SAMPLE_DROP = ROOT / "data" / "sample" / "drop"
STAGES = [stage.__name__ for stage, _ in nightly_stages()]
# After each stage but the last; inside publish: after recording, before the rename (the transaction is open),
# and after the rename, before the commit ("between publish and record").
BOUNDARIES = [f"after:{name}" for name in STAGES[:-1]] + ["publish:before_rename", "publish:before_commit"]

KILLER = """
import os, signal, sys
from pathlib import Path
import hecha.flows.run as run_module, hecha.flows.stages as stages_module, hecha.audit.history as history_module
from hecha.flows.run import start_run
from hecha.flows.stages import nightly_stages, run_stages

where, out = sys.argv[1], Path(sys.argv[2])
def die():
    os.kill(os.getpid(), signal.SIGKILL)

kind, name = where.split(":")
if kind == "after":
    original = getattr(stages_module, name)
    def stage_then_die(run, **kwargs):
        result = original(run, **kwargs)
        die()
        return result
    stage_then_die.__name__ = name
    setattr(stages_module, name, stage_then_die)
elif name == "before_rename":
    record = history_module.record_run_in
    def record_then_die(con, **kwargs):
        record(con, **kwargs)
        die()
    history_module.record_run_in = record_then_die
else:
    replace = os.replace
    def replace_then_die(source, target):
        replace(source, target)
        if Path(target).name.startswith("20"):  # the run folder's rename, not a run.json rewrite
            die()
    run_module.os.replace = replace_then_die
run = start_run(Path(sys.argv[3]), None, out)
run_stages(run, nightly_stages())
"""


def published(out: Path) -> list[Path]:
    return published_runs(out)


def history(out: Path) -> tuple[list[str], dict[str, dict[str, str]]]:
    with open_state(out / "audit.duckdb", read_only=True) as con:
        runs = [run_id for (run_id,) in con.execute("select run_id from audit.run order by published_at, run_id").fetchall()]
        statuses: dict[str, dict[str, str]] = {}
        for run_id, case_key, status in con.execute("select run_id, case_key, status from audit.case_run").fetchall():
            statuses.setdefault(run_id, {})[case_key] = status
    return runs, statuses


@pytest.fixture(scope="module")
def first_out(tmp_path_factory):
    out = tmp_path_factory.mktemp("good") / "out"
    run = start_run(SAMPLE_DROP, None, out)
    run_stages(run, nightly_stages())
    return out


@pytest.mark.parametrize("where", BOUNDARIES)
def test_kill_at_stage_boundary_then_rerun_keeps_history_consistent(first_out, tmp_path, where):
    out = tmp_path / "out"
    shutil.copytree(first_out, out)
    (first,) = published(out)
    killed = subprocess.run([sys.executable, "-c", KILLER, where, str(out), str(SAMPLE_DROP)], cwd=ROOT,
                            capture_output=True, text=True, timeout=300)
    assert killed.returncode == -9, killed.stderr[-2000:]

    after_kill = published(out)
    reaches_folder = where == "publish:before_commit"
    assert len(after_kill) == (2 if reaches_folder else 1)  # the rename is the only way to publish

    rerun = start_run(SAMPLE_DROP, None, out)  # recovers what the kill left, then runs
    run_stages(rerun, nightly_stages())

    runs, statuses = history(out)
    published_now = [path.name for path in published(out)]
    assert runs == published_now  # published and recorded, or neither
    assert runs[0] == first.name and runs[-1] == rerun.run_id
    last = statuses[rerun.run_id]
    # the same drop again: every finding is one the previous recorded run had, none "recurred"
    assert set(last.values()) == {"persisting"}, sorted(set(last.values()))
    assert set(last) == set(statuses[first.name])
    leftovers = [json.loads((work / "run.json").read_text(encoding="utf-8")) for work in out.glob(".work-*")]
    if reaches_folder:
        assert leftovers == []
    else:
        (record,) = leftovers
        assert record["status"] == "interrupted"
        assert record["failed_stage"] == (where.split(":")[1] if where.startswith("after:") else "publish")


def hold_history(state: Path, seconds: float) -> subprocess.Popen:
    """Another process holding the case history for writing, as a feedback import does while it records."""
    code = textwrap.dedent(f"""
        import sys, time, duckdb
        con = duckdb.connect({str(state)!r})
        print("holding", flush=True)
        time.sleep({seconds})
        con.close()
    """)
    process = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert process.stdout.readline().strip() == "holding"
    return process


def test_run_waits_for_a_feedback_import_then_publishes(first_out, tmp_path, monkeypatch):
    out = tmp_path / "out"
    shutil.copytree(first_out, out)
    monkeypatch.setenv("HECHA_LOCK_TIMEOUT", "60")
    holder = hold_history(out / "audit.duckdb", 3)
    started = time.monotonic()
    try:
        run = start_run(SAMPLE_DROP, None, out)
        run_dir = run_stages(run, nightly_stages())
    finally:
        holder.wait()
    assert time.monotonic() - started >= 2.5  # it waited rather than failing
    runs, _ = history(out)
    assert runs[-1] == run_dir.name and run_dir.exists()


def test_run_that_cannot_get_the_history_says_so_in_one_line_and_publishes_nothing(first_out, tmp_path, monkeypatch, capsys):
    out = tmp_path / "out"
    shutil.copytree(first_out, out)
    before = published(out)
    monkeypatch.setenv("HECHA_LOCK_TIMEOUT", "1")
    holder = hold_history(out / "audit.duckdb", 60)
    try:
        code = main(["run", "--drop", str(SAMPLE_DROP), "--out", str(out)])  # refused before it starts
        error = capsys.readouterr().err.strip().splitlines()
    finally:
        holder.kill()
        holder.wait()
    assert code == 3
    assert len(error) == 1 and error[0].startswith("hecha: ") and "audit.duckdb is in use by another process (PID" in error[0]
    assert published(out) == before and not list(out.glob(".work-*"))

    # taken while a run is under way: the run fails in the stage that needed it, recorded as such, nothing published
    run = start_run(SAMPLE_DROP, None, out)
    holder = hold_history(out / "audit.duckdb", 60)
    try:
        with pytest.raises(DatabaseBusy, match="in use by another process"):
            run_stages(run, nightly_stages())
    finally:
        holder.kill()
        holder.wait()
    assert published(out) == before
    record = json.loads((run.work_dir / "run.json").read_text(encoding="utf-8"))
    assert (record["status"], record["failed_stage"]) == ("failed", "link_people")


def test_recover_marks_a_dead_run_interrupted(tmp_path):
    out = tmp_path / "out"
    work = out / ".work-2026-10_x"
    work.mkdir(parents=True)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    record = {"run_id": "2026-10_x", "status": "running", "stage": "link_people",
              "process": {"pid": int(dead.stdout), "host": os.uname().nodename}}
    (work / "run.json").write_text(json.dumps(record), encoding="utf-8")
    alive = out / ".work-2026-10_y"
    alive.mkdir()
    (alive / "run.json").write_text(json.dumps(record | {"run_id": "2026-10_y", "process": {"pid": os.getpid(),
                                                                                         "host": os.uname().nodename}}))
    done = recover_out(out)
    assert done["interrupted"] == [".work-2026-10_x"]
    assert json.loads((work / "run.json").read_text())["failed_stage"] == "link_people"
    assert json.loads((alive / "run.json").read_text())["status"] == "running"


def fill_county_workbook(run_dir: Path, target: Path, conclusion: str) -> Path:
    """The county workbook with a 核查结论 on the first row of the first check sheet."""
    import openpyxl

    book = openpyxl.load_workbook(run_dir / "workbooks" / "全县.xlsx")
    for sheet in book.worksheets:
        header = [cell.value for cell in sheet[1]]
        if "案件编号" in header and "核查结论" in header and sheet.max_row > 1:
            sheet.cell(2, header.index("核查结论") + 1, conclusion)
            break
    book.save(target)
    return target


def test_two_feedback_imports_at_once_both_finish(first_out, tmp_path):
    out = tmp_path / "out"
    shutil.copytree(first_out, out)
    (run_dir,) = published(out)
    books = [fill_county_workbook(run_dir, tmp_path / f"book{number}.xlsx", "属实") for number in (1, 2)]
    # the first holds the history while it records; the second waits for it instead of failing
    holder = hold_history(out / "audit.duckdb", 2)
    imports = [
        subprocess.Popen([sys.executable, "-m", "hecha.flows.cli", "feedback", "import", str(book), "--out", str(out), "--inspector", "甲"],
                         cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for book in books
    ]
    results = [process.communicate(timeout=120) for process in imports]
    holder.wait()
    assert [process.returncode for process in imports] == [0, 0], [stderr for _, stderr in results]
    outputs = sorted(stdout for stdout, _ in results)
    assert "recorded 属实 1" in outputs[0] + outputs[1] and "1 already recorded" in outputs[0] + outputs[1]
    with open_state(out / "audit.duckdb", read_only=True) as con:
        assert con.execute("select count(*) from audit.disposition").fetchall()[0][0] == 1


def test_outputs_holding_personal_data_are_owner_only(first_out):
    modes = {path: path.stat().st_mode & 0o777 for path in [first_out, *first_out.rglob("*")]}
    assert modes[first_out / "audit.duckdb"] == 0o600
    assert modes[first_out / ".hecha" / "secret.key"] == 0o600
    (run_dir,) = published(first_out)
    assert {modes[run_dir / name] for name in ("hecha.duckdb", "exceptions.csv", "run.json", "report.html")} == {0o600}
    assert {mode for path, mode in modes.items() if path.is_dir()} == {0o700}
    assert {mode for path, mode in modes.items() if path.is_file()} == {0o600}


def test_retention_removes_old_run_databases_and_stale_work_folders(tmp_path):
    from hecha.flows.run import apply_retention

    out = tmp_path / "out"
    for number in range(1, 5):
        run_dir = out / f"2026-0{number}_x"
        run_dir.mkdir(parents=True)
        (run_dir / "hecha.duckdb").write_text("db")
        (run_dir / "exceptions.csv").write_text("rows")
    stale, running, fresh = (out / f".work-{name}" for name in ("stale", "running", "fresh"))
    stale_screen, running_screen = (out / "screens" / f".work-screen-{name}" for name in ("stale", "running"))
    for work, status in ((stale, "failed"), (running, "running"), (fresh, "interrupted"),
                         (stale_screen, "failed"), (running_screen, "running")):
        work.mkdir(parents=True)
        (work / ("screen.json" if work.parent.name == "screens" else "run.json")).write_text(json.dumps({"status": status}))
    for work in (stale, running, stale_screen, running_screen):
        os.utime(work, (time.time() - 30 * 86400,) * 2)
    removed = apply_retention(out, {"run_databases": 2, "work_days": 14})
    assert removed == {"databases": ["2026-02_x", "2026-01_x"], "work_folders": [".work-stale", ".work-screen-stale"]}
    assert running_screen.exists() and not stale_screen.exists()
    assert [p.parent.name for p in sorted(out.glob("*/hecha.duckdb"))] == ["2026-03_x", "2026-04_x"]
    assert len(list(out.glob("*/exceptions.csv"))) == 4  # findings stay
    assert running.exists() and fresh.exists() and not stale.exists()


def test_recover_records_and_names_a_run_killed_between_publishing_and_recording(first_out, tmp_path):
    out = tmp_path / "out"
    shutil.copytree(first_out, out)
    killed = subprocess.run([sys.executable, "-c", KILLER, "publish:before_commit", str(out), str(SAMPLE_DROP)], cwd=ROOT,
                            capture_output=True, text=True, timeout=300)
    assert killed.returncode == -9, killed.stderr[-2000:]
    unrecorded = [path.name for path in published(out) if path.name not in history(out)[0]]
    assert len(unrecorded) == 1
    assert recover_out(out)["recorded"] == unrecorded
    assert history(out)[0] == [path.name for path in published(out)]


def test_a_killed_run_not_yet_reaped_counts_as_dead(tmp_path):
    """A zombie (killed, its parent not done with it) is no run under way: recovery marks it interrupted."""
    from hecha.flows.run import process_alive

    zombie = subprocess.Popen([sys.executable, "-c", "pass"])
    deadline = time.monotonic() + 10
    while Path(f"/proc/{zombie.pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    try:
        assert not process_alive(zombie.pid)
        assert process_alive(os.getpid())
    finally:
        zombie.wait()


def test_a_killed_screen_is_marked_interrupted_with_its_stage(tmp_path):
    out = tmp_path / "out"
    work = out / "screens" / ".work-2026-11_x"
    work.mkdir(parents=True)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (work / "screen.json").write_text(json.dumps({"status": "running", "stage": "judge",
                                                  "process": {"pid": dead.pid, "host": socket.gethostname()}}))
    assert recover_out(out)["interrupted"] == [".work-2026-11_x"]
    record = json.loads((work / "screen.json").read_text())
    assert (record["status"], record["failed_stage"]) == ("interrupted", "judge")
