"""An event run: a death file dropped between nights, screened in seconds, published as a run.

`hecha event FILE` (and the `event` flow, and the `watch_events` deployment
that picks files up from a watched folder) takes one cremation export or a
file of household-register rows and:

1. copies the database of the folder's last published run (the night);
2. applies the file's rows to it as the next drop would carry them
   (extracts/event.py);
3. links every row again with the night's linker (matching/link.py), so each
   row is linked as a full run would link it (what reads none of the tables
   the file changed is kept: after a cremation file, the register's own);
4. re-runs the checks for the persons whose rows or links changed, with
   their households and cases, and keeps the night's findings for everyone
   else (checks/slice.py);
5. publishes like any run: case history, outcomes, workbooks, report.

Its findings are a full run's on the night's drop with the file applied:
an event run is a complete run, so the next night compares with it as with
any other. The night's own run is left as published.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
from pathlib import Path

from hecha.extracts.errors import DropError
from hecha.extracts.read import Manifest, read_manifest
from hecha.flows.run import DATABASE, Run, recover_out, resolve_as_of, running_now
from hecha.flows.stages import (
    Stage,
    apply_history,
    link_people,
    publish,
    track_outcomes,
    write_reports,
)
from hecha.storage.files import make_private_dir, owner_only

NIGHT_CATALOG = "night"
# The night's record carried into the event run: what its drop held and how it validated.
CARRIED = ("files", "inputs", "validation", "id_number_status")


def last_run(out: Path) -> Path:
    """The folder's last published run that still has its database: the night an event applies to."""
    from hecha.audit.history import published_runs

    runs = [run for run in published_runs(out) if (run / DATABASE).exists()]
    if not runs:
        raise DropError(f"{out}: no published run with its database to apply an event to; run `hecha run` first", file=str(out))
    return runs[-1]


def night_of(out: Path, what: str) -> tuple[Path, dict, Manifest]:
    """The night `what` (an event, a batch) is screened against: the folder's last run, its record and its drop's
    manifest; refused in one line when it was run by other rules (after an upgrade, the night is run again first)."""
    from hecha.checks.slice import rules_fingerprint

    recover_out(out)
    night = last_run(out)
    record = json.loads((night / "run.json").read_text(encoding="utf-8"))
    if record.get("rules_sha256") != rules_fingerprint():
        raise DropError(f"{night.name}: run by another version of hecha's rules; run `hecha run` once, then screen the {what}",
                        file=str(night / "run.json"))
    parameters = record["parameters"]
    drop = Path(parameters["drop"])
    manifest = read_manifest(drop) if (drop / "manifest.yaml").is_file() else Manifest(
        county=parameters.get("county"), as_of=parameters["as_of"])
    return night, record, manifest


def start_event(event_file: Path, out: Path) -> Run:
    """The event run's work folder and record, on the last run of `out`; refused before anything is written.

    The event runs under the last run's policy and must run the same rules:
    after an upgrade, the night is run again first (`hecha run`).
    """
    from hecha.checks.slice import rules_fingerprint
    from hecha.extracts.event import event_extract

    event_file = Path(event_file)
    if not event_file.is_file():
        raise DropError(f"event file not found: {event_file}", file=str(event_file))
    owner_only()
    out = make_private_dir(Path(out))
    night, night_record, manifest = night_of(out, "event")
    parameters = night_record["parameters"]
    drop = Path(parameters["drop"])
    month = resolve_as_of(manifest, parameters["as_of"])
    source = event_extract(event_file, manifest).stem  # a file of neither kind is refused here, before a run is begun
    rules = rules_fingerprint()
    policy = night_record["policy"]
    run_id = f"{month:%Y-%m}_{dt.datetime.now(dt.timezone.utc):%Y%m%dT%H%M%S%f}"
    run = Run(run_id=run_id, drop=drop, as_of=month, out=out, manifest=manifest, policy=policy)
    run.work_dir.mkdir(mode=0o700)
    run.record = {
        "run_id": run_id,
        "kind": "event",
        **running_now(),
        "parameters": {key: parameters.get(key) for key in ("drop", "as_of", "county", "accept_unusable_ids")}
        | {"out": str(out.resolve()), "event_file": str(event_file.resolve()), "night_run": night.name},
        "mode": {"kind": "event", "since": night.name, "reason": "a death file between nights"},
        "event": {"source": source},
        "rules_sha256": rules,
        "policy_source": night_record.get("policy_source"),
        "policy": policy,
    } | {key: night_record[key] for key in CARRIED if key in night_record}
    run.write_record()
    return run


def copy_night(run: Run) -> None:
    """The night's database, copied into the run's folder: the event changes the copy, never the night."""
    with run.stage("copy_night"):
        night = run.out / run.record["parameters"]["night_run"]
        run.close()
        shutil.copyfile(night / DATABASE, run.work_dir / DATABASE)
        os.chmod(run.work_dir / DATABASE, 0o600)


def load_event(run: Run) -> None:
    """The event file read, typed and quarantined as a drop's file, and applied to the night's rows."""
    from dataclasses import asdict

    from hecha.extracts.declarations import BY_STEM
    from hecha.extracts.event import apply_event_rows, load_event_file

    with run.stage("load_event"):
        path = Path(run.record["parameters"]["event_file"])
        extract = BY_STEM[run.record["event"]["source"]]  # told by its headers when the run began
        counts = load_event_file(run.con, path, extract, run.manifest, run.policy)
        applied = apply_event_rows(run.con, extract, counts)
        run.record["event"] |= {key: value for key, value in asdict(applied).items() if key != "extract"}


def link_event(run: Run) -> None:
    """Every row linked again; what reads none of the tables the file changed is the night's (after a cremation
    file, what is built from the register alone)."""
    from hecha.extracts.event import tables_changed

    link_people(run, changed=tables_changed(run.record["event"]["source"]))


def screen_changes(run: Run) -> None:
    """The checks again for the persons the event touches; the night's findings for the others."""
    from hecha.checks.slice import screen_slice
    from hecha.storage.database import attached

    with run.stage("screen"):
        night = run.out / run.record["parameters"]["night_run"] / DATABASE
        steps: dict[str, float] = {}
        with attached(run.con, night, NIGHT_CATALOG, read_only=True):
            figures = screen_slice(run.con, NIGHT_CATALOG, "select source, source_row from changed_row", run.as_of,
                                   run.policy, timings=steps)
        run.record["findings"] = figures.pop("findings_by_check")
        run.record["event"]["screened"] = figures
        run.record["check_timings_seconds"] = {step: round(seconds, 3) for step, seconds in steps.items()}


def event_stages() -> list[Stage]:
    return [
        (copy_night, {}),
        (load_event, {}),
        (link_event, {}),
        (screen_changes, {}),
        (apply_history, {}),
        (track_outcomes, {}),
        (write_reports, {}),
        (publish, {}),
    ]
