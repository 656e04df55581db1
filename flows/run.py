"""A run: its folder, database, record, and atomic publication.

A run works in `<out>/.work-<run_id>/` and is renamed to `<out>/<run_id>/`
only when every stage has succeeded, so the final folder never holds a
half-written result and a failed run leaves the last good publication as it
was. The run record (`run.json`) keeps the parameters, per-file counts, the
validation summary, the findings per check and the time each stage took; a
failed run leaves its record, marked failed with the stage and the error, in
the work folder. The out folder's case history (`audit.duckdb`) sits beside
its runs; a campaign is just another out folder (`<out>/campaigns/<name>/`).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from config import load_policy, parse_month, run_parameters
from extracts.errors import DropError
from extracts.read import Manifest, read_manifest

DATABASE = "hecha.duckdb"
AUDIT_DATABASE = "audit.duckdb"


@dataclass
class Run:
    run_id: str
    drop: Path
    as_of: dt.date
    out: Path
    manifest: Manifest
    policy: dict
    record: dict = field(default_factory=dict)
    _con: duckdb.DuckDBPyConnection | None = None

    @property
    def work_dir(self) -> Path:
        return self.out / f".work-{self.run_id}"

    @property
    def final_dir(self) -> Path:
        return self.out / self.run_id

    @property
    def state(self) -> Path:
        """The out folder's case history, shared by its successive runs."""
        return self.out / AUDIT_DATABASE

    @property
    def parameters(self) -> dict[str, object]:
        return run_parameters(self.as_of, self.policy)

    @property
    def con(self) -> duckdb.DuckDBPyConnection:
        if self._con is None:
            self._con = duckdb.connect(str(self.work_dir / DATABASE))
        return self._con

    def close(self) -> None:
        if self._con is not None:
            self._con.close()
            self._con = None

    @contextmanager
    def stage(self, name: str):
        """Time a stage and record its outcome in the run record."""
        started = time.perf_counter()
        try:
            yield
        finally:
            self.record.setdefault("timings_seconds", {})[name] = round(time.perf_counter() - started, 3)

    def write_record(self) -> Path:
        # once published, the record lives in the final folder
        folder = self.work_dir if self.work_dir.exists() or not self.final_dir.exists() else self.final_dir
        path = folder / "run.json"
        path.write_text(json.dumps(self.record, ensure_ascii=False, indent=2, default=str), encoding="utf-8")
        return path


def resolve_as_of(manifest: Manifest, as_of: str | None) -> dt.date:
    """The command line wins over manifest.yaml; one of them must say it."""
    text = as_of or manifest.as_of
    if not text:
        raise DropError("as_of is not known: give --as-of YYYY-MM or set as_of in manifest.yaml", file="manifest.yaml")
    try:
        return parse_month(text)
    except ValueError as error:
        raise DropError(f"as_of: {error}", file="manifest.yaml" if not as_of else None) from error


def start_run(drop: Path, as_of: str | None, out: Path, scope: dict[str, object] | None = None) -> Run:
    """Create the run's work folder and record; `scope` adds parameters (a campaign's checks, townships, name)."""
    drop = Path(drop)
    if not drop.is_dir():
        raise DropError(f"drop folder not found: {drop}", file=str(drop))
    manifest = read_manifest(drop)
    month = resolve_as_of(manifest, as_of)
    run_id = f"{month:%Y-%m}_{dt.datetime.now(dt.timezone.utc):%Y%m%dT%H%M%S%f}"
    run = Run(run_id=run_id, drop=drop, as_of=month, out=Path(out), manifest=manifest, policy=load_policy())
    run.work_dir.mkdir(parents=True)
    run.record = {
        "run_id": run_id,
        "status": "running",
        "started_at": dt.datetime.now(dt.timezone.utc).isoformat(),
        "parameters": {
            "drop": str(drop.resolve()), "as_of": f"{month:%Y-%m}", "out": str(Path(out).resolve()), "county": manifest.county,
        } | (scope or {}),
        "policy": run.policy,
    }
    run.write_record()
    return run


def fail_run(run: Run, stage: str, error: BaseException) -> None:
    run.close()
    run.record |= {"status": "failed", "failed_stage": stage, "error": str(error), "finished_at": dt.datetime.now(dt.timezone.utc).isoformat()}
    run.write_record()


def publish_run(run: Run) -> Path:
    """Mark the run succeeded and move its folder into place in one rename."""
    run.close()
    run.record |= {"status": "succeeded", "finished_at": dt.datetime.now(dt.timezone.utc).isoformat()}
    run.write_record()
    os.replace(run.work_dir, run.final_dir)
    return run.final_dir
