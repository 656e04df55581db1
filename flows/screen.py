"""A payment batch screened before it is paid: `hecha screen --batch FILE`, and the `screen` flow.

A county prepares a 发放 batch (发放名册) every month and sends it to the
bank. A screen reads it against the folder's last published run (the night)
and gives every line a verdict — 拦截 (block), 暂缓 (hold) or 通过 (pass) — with
the reason and its evidence (screen/judge.py, sql/screen/), without touching
the night:

1. `start_screen` refuses what it can before anything is written: a missing
   or foreign file, no night to screen against, a night run by other rules;
2. `load_batch`: the file read, typed and quarantined by the nightly loader,
   into the screen's own database;
3. `judge`: each line linked and judged against the night, attached read only;
4. `write_outputs`: the verdicts, the cleaned batch, the 拦截清单 and the
   summary (screen/outputs.py);
5. `publish`: the work folder renamed into `<out>/screens/<screen_id>/`, in
   the transaction that records the screen in the folder's case history.

A screen works in `<out>/screens/.work-<screen_id>/`; `screen.json` is its
record, as `run.json` is a run's. The screen id is the batch month, then the
time it began: `2026-11_20261201T020000123456`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import resource
import time
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from hecha.audit.screens import SCREEN_DATABASE, SCREEN_RECORD, SCREENS_FOLDER
from hecha.extracts.errors import DropError
from hecha.extracts.read import SUFFIXES, Manifest
from hecha.flows.run import DATABASE as RUN_DATABASE, WorkFolder, apply_retention, running_now
from hecha.storage.files import make_private_dir, owner_only, restrict_tree

WORK_PREFIX = ".work-"


@dataclass
class Screen(WorkFolder):
    screen_id: str
    batch: Path
    out: Path
    night: Path
    manifest: Manifest
    policy: dict
    month: dt.date | None  # the batch month when given; else the latest month of its lines, once read
    record: dict = field(default_factory=dict)
    _con: duckdb.DuckDBPyConnection | None = None
    database_name = SCREEN_DATABASE
    record_name = SCREEN_RECORD

    @property
    def folder(self) -> Path:
        return self.out / SCREENS_FOLDER

    @property
    def work_dir(self) -> Path:
        return self.folder / f"{WORK_PREFIX}{self.screen_id}"

    @property
    def final_dir(self) -> Path:
        return self.folder / self.screen_id


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def start_screen(batch: Path, out: Path, as_of: str | None = None) -> Screen:
    """The screen's work folder and record, against the last run of `out`; refused before anything is written."""
    from hecha.config import parse_month
    from hecha.flows.event import night_of

    batch = Path(batch)
    if not batch.is_file():
        raise DropError(f"batch file not found: {batch}", file=str(batch))
    if batch.suffix.lower() not in SUFFIXES:
        raise DropError(f"{batch.name}: a batch is a .csv or .xlsx file", file=batch.name)
    month = None
    if as_of is not None:
        try:
            month = parse_month(as_of)
        except ValueError as error:
            raise DropError(f"--as-of {as_of}: {error}", file=batch.name) from None
    owner_only()
    out = Path(out)
    if not out.is_dir():
        raise DropError(f"{out}: no such output folder; run `hecha run` first, or give --drop", file=str(out))
    night, night_record, manifest = night_of(out, "batch")
    parameters = night_record["parameters"]
    stamp = f"{dt.datetime.now(dt.timezone.utc):%Y%m%dT%H%M%S%f}"
    screen_id = f"{month:%Y-%m}_{stamp}" if month else stamp  # named by its lines' month once read
    screen = Screen(screen_id=screen_id, batch=batch, out=out, night=night, manifest=manifest,
                    policy=night_record["policy"], month=month)
    make_private_dir(screen.folder)
    screen.work_dir.mkdir(mode=0o700)
    screen.record = {
        "screen_id": screen_id,
        "kind": "screen",
        **running_now(),
        "month": f"{month:%Y-%m}" if month else None,
        "night_run": night.name,
        "night_as_of": parameters["as_of"],
        "county": parameters.get("county"),
        "batch": {"file": str(batch.resolve()), "name": batch.name, "sha256": file_sha256(batch)},
        "policy": screen.policy,
    }
    screen.write_record()
    return screen


def load_batch(screen: Screen) -> None:
    from hecha.config import add_months
    from hecha.screen.judge import load_batch as load

    with screen.stage("load_batch"):
        counts = load(screen.con, screen.batch, screen.manifest, screen.policy)
        screen.record["batch"] |= {"rows": counts["rows_read"], "rows_staged": counts["rows_staged"],
                                   "rows_quarantined": counts["rows_quarantined"], "encoding": counts.get("encoding")}
        if screen.month is None:
            latest = screen.con.execute("select max(paid_month) from stg.payments").fetchall()[0][0]
            # a batch of no line is for the month after the night's
            screen.month = latest or add_months(dt.date.fromisoformat(f"{screen.record['night_as_of']}-01"), 1)
            screen.record["month"] = f"{screen.month:%Y-%m}"


def judge(screen: Screen) -> None:
    from hecha.screen.judge import judge_lines

    with screen.stage("judge"):
        steps: dict[str, float] = {}
        judge_lines(screen.con, screen.night / RUN_DATABASE, screen.month, screen.policy, steps)
        screen.record["judge_timings_seconds"] = steps


def name_by_month(screen: Screen) -> None:
    """A screen begun without --as-of takes its lines' month into its id, before anything names the id."""
    if screen.screen_id[:7] == f"{screen.month:%Y-%m}":
        return
    screen.close()
    renamed = f"{screen.month:%Y-%m}_{screen.screen_id}"
    os.replace(screen.work_dir, screen.folder / f"{WORK_PREFIX}{renamed}")
    screen.screen_id = screen.record["screen_id"] = renamed
    screen.write_record()


def write_outputs(screen: Screen) -> None:
    from hecha.screen.outputs import write_screen_outputs

    with screen.stage("write_outputs"):
        figures = write_screen_outputs(screen.con, screen.work_dir, record=screen.record, batch_path=screen.batch,
                                       policy=screen.policy)
        screen.record |= figures  # counts, amounts and by_reason, as summary.txt and the 拦截清单 give them


def publish(screen: Screen) -> Path:
    """The work folder renamed into place, in the transaction that records the screen in the case history."""
    from hecha.audit.history import open_state, transaction
    from hecha.audit.screens import record_screen_in
    from hecha.flows.run import AUDIT_DATABASE

    screen.close()
    screen.record["status"] = "succeeded"
    screen.record.pop("stage", None)
    screen.record["finished_at"] = dt.datetime.now(dt.timezone.utc).isoformat()
    screen.write_record()
    restrict_tree(screen.work_dir)
    with open_state(screen.out / AUDIT_DATABASE) as con, transaction(con):
        record_screen_in(con, record=screen.record, screen_dir=screen.final_dir, database=screen.work_dir / SCREEN_DATABASE)
        os.replace(screen.work_dir, screen.final_dir)
    apply_retention(screen.out, screen.policy["retention"])
    return screen.final_dir


def fail_screen(screen: Screen, error: BaseException) -> None:
    screen.close()
    screen.record |= {"status": "failed", "failed_stage": screen.record.get("stage"), "error": str(error) or type(error).__name__,
                      "finished_at": dt.datetime.now(dt.timezone.utc).isoformat()}
    screen.write_record()


def screen_stages():
    return [load_batch, judge, name_by_month, write_outputs]


def run_screen(screen: Screen) -> Path:
    """Every stage in turn, then publication; a failure is recorded in the work folder and raised."""
    started = time.perf_counter()
    try:
        for stage in screen_stages():
            screen.record["stage"] = stage.__name__  # a failure, or a kill (recover_out reads the file), names it
            screen.write_record()
            stage(screen)
        screen.record["timings_seconds"]["screen"] = round(time.perf_counter() - started, 3)
        screen.record["peak_bytes"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux: kilobytes
        return publish(screen)
    except BaseException as error:
        if screen.work_dir.exists():
            fail_screen(screen, error)
        raise
