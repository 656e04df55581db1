"""A run: its folder, database, record, and publication with its case history in one step.

A run works in `<out>/.work-<run_id>/`. Publication renames it to
`<out>/<run_id>/` inside the transaction that records it in the folder's case
history (`audit.duckdb`), so a reader finds a run published and recorded, or
neither: a kill before the rename rolls the transaction back; a kill after
the rename and before the commit leaves a complete published run that the
next writer of the history records first (audit/history.py
`record_unrecorded_runs`). A failed run leaves its record, marked failed with
the stage and the error, in the work folder; a run whose process died is
marked interrupted by the next run (`recover_out`). The run record
(`run.json`) keeps the parameters, per-file counts, the validation summary,
the findings per check and the time each stage took. A campaign is just
another out folder (`<out>/campaigns/<name>/`) sharing the deployment's
secret with its parent.

Everything a run writes is owner-only (storage/files.py); old run databases
and abandoned work folders are removed after the policy's `retention`.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import socket
import time
import traceback
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from hecha.checks.catalogue import BY_CODE
from hecha.config import load_policy, parse_month, policy_source, run_parameters
from hecha.extracts.errors import DropError
from hecha.extracts.read import Manifest, read_manifest
from hecha.storage.database import attached
from hecha.storage.files import make_private_dir, owner_only, restrict_tree, write_text_atomic
from hecha.storage.secret import install_keyed_hash, load_or_create_secret, secret_root

DATABASE = "hecha.duckdb"
AUDIT_DATABASE = "audit.duckdb"
WORK_PREFIX = ".work-"
# The served deployments take folders as parameters; where these are set (hecha serve sets them),
# a folder outside them is refused, so an API caller cannot make a run read or write elsewhere.
DROP_ROOT_ENV = "HECHA_DROP_ROOT"
OUT_ROOT_ENV = "HECHA_OUT_ROOT"
EVENTS_ROOT_ENV = "HECHA_EVENTS_ROOT"  # the watched folder event files are dropped into
BATCHES_ROOT_ENV = "HECHA_BATCHES_ROOT"  # the watched folder payment batches are dropped into


class WorkFolder:
    """What a run and a screen share: a work folder published by renaming it to `final_dir`, a database there
    keyed with the deployment's secret, a JSON record, timed stages. Subclasses give `out`, `record`, `_con`,
    `work_dir`, `final_dir` and the names below."""

    database_name = DATABASE
    record_name = "run.json"

    @property
    def con(self) -> duckdb.DuckDBPyConnection:
        if self._con is None:
            self._con = duckdb.connect(str(self.work_dir / self.database_name))
            # case keys and person ids are keyed with the deployment's secret (never stored in the database)
            install_keyed_hash(self._con, load_or_create_secret(secret_root(self.out)))
        return self._con

    def close(self) -> None:
        if self._con is not None:
            self._con.close()
            self._con = None

    @contextmanager
    def stage(self, name: str):
        """Time a stage and record its outcome in the record."""
        started = time.perf_counter()
        try:
            yield
        finally:
            self.record.setdefault("timings_seconds", {})[name] = round(time.perf_counter() - started, 3)

    def write_record(self) -> Path:
        # once published, the record lives in the final folder
        folder = self.work_dir if self.work_dir.exists() or not self.final_dir.exists() else self.final_dir
        path = folder / self.record_name
        write_text_atomic(path, json.dumps(self.record, ensure_ascii=False, indent=2, default=str))
        return path


@dataclass
class Run(WorkFolder):
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


def resolve_as_of(manifest: Manifest, as_of: str | None) -> dt.date:
    """The command line wins over manifest.yaml; one of them must say it."""
    text = as_of or manifest.as_of
    if not text:
        raise DropError("as_of is not known: give --as-of YYYY-MM or set as_of in manifest.yaml", file="manifest.yaml")
    try:
        return parse_month(text)
    except ValueError as error:
        raise DropError(f"as_of: {error}", file="manifest.yaml" if not as_of else None) from error


def confine(path: Path, root_env: str) -> Path:
    """`path`, refused unless it lies inside the folder `$root_env` names (when set)."""
    path = Path(path)
    root = os.environ.get(root_env)
    if root and not path.resolve().is_relative_to(Path(root).resolve()):
        raise ValueError(f"{path}: outside the configured folder {root} ({root_env}); refused")
    return path


def running_now() -> dict:
    """A record's first state: running, since now, in this process on this host (`recover_out` reads the last two)."""
    return {"status": "running", "started_at": dt.datetime.now(dt.timezone.utc).isoformat(),
            "process": {"pid": os.getpid(), "host": socket.gethostname()}}


def start_run(drop: Path, as_of: str | None, out: Path, scope: dict[str, object] | None = None, *,
              policy_file: Path | None = None, accept_unusable_ids: bool = False, full: bool = False) -> Run:
    """Create the run's work folder and record.

    `scope` adds parameters (a campaign's checks, townships, name);
    `policy_file` is the county's policy, merged over the national defaults;
    `accept_unusable_ids` lets a drop past the citizen-number quality gate
    run (the report and workbooks then say so on their first line); `full`
    makes a night a full rebuild (flows/incremental.py says when it is one anyway).
    Everything that can be refused (folders, manifest, as_of, policy) is
    refused here, before anything is written.
    """
    drop = Path(drop)
    if not drop.is_dir():
        raise DropError(f"drop folder not found: {drop}", file=str(drop))
    manifest = read_manifest(drop)
    month = resolve_as_of(manifest, as_of)
    policy = load_policy(Path(policy_file)) if policy_file else load_policy()
    owner_only()
    out = make_private_dir(Path(out))
    recover_out(out)
    run_id = f"{month:%Y-%m}_{dt.datetime.now(dt.timezone.utc):%Y%m%dT%H%M%S%f}"
    from hecha.checks.slice import rules_fingerprint
    from hecha.flows.incremental import night_mode

    rules = rules_fingerprint()
    mode = {"kind": "full", "since": None, "reason": "a campaign"} if scope else night_mode(out, month, policy, rules, full=full)
    run = Run(run_id=run_id, drop=drop, as_of=month, out=out, manifest=manifest, policy=policy)
    run.work_dir.mkdir(mode=0o700)
    run.record = {
        "run_id": run_id,
        "mode": mode,
        "rules_sha256": rules,
        **running_now(),
        "parameters": {
            "drop": str(drop.resolve()), "as_of": f"{month:%Y-%m}", "out": str(out.resolve()), "county": manifest.county,
            "accept_unusable_ids": bool(accept_unusable_ids),
        } | (scope or {}),
        "policy_source": policy_source(Path(policy_file) if policy_file else None),
        "policy": run.policy,
    }
    run.write_record()
    return run


CAMPAIGNS = "campaigns"
# One folder name, readable in any file manager and safe in any shell: letters (CJK included),
# digits, and . _ - inside; no quotes, spaces, slashes or control characters.
CAMPAIGN_NAME = re.compile(r"[^\W_][\w.\-]{0,63}")


def campaign_out(out: Path, campaign: str) -> Path:
    """`<out>/campaigns/<campaign>/`; the name must be usable as one folder name."""
    if not isinstance(campaign, str) or not CAMPAIGN_NAME.fullmatch(campaign) or ".." in campaign:
        raise ValueError(
            f"campaign name {campaign!r}: expected a folder name of at most 64 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit (no spaces, quotes or slashes)"
        )
    return Path(out) / CAMPAIGNS / campaign


def check_codes(checks: list[str] | None) -> list[str] | None:
    """The campaign's checks, refused before any loading when a code is unknown; none given means all."""
    unknown = [code for code in checks or [] if code not in BY_CODE]
    if unknown:
        raise ValueError(f"unknown check code(s): {', '.join(unknown)}; known: {', '.join(BY_CODE)}")
    return list(checks) if checks else None


def start_campaign(drop: Path, campaign: str, checks: list[str] | None, townships: list[str] | None, as_of: str | None,
                   out: Path, **options):
    """The campaign's run, started; and its stages. `options` as start_run's."""
    codes = check_codes(checks)
    folder = campaign_out(out, campaign)
    scope = {"campaign": campaign, "checks": codes, "townships": list(townships) if townships else None}
    run = start_run(drop, as_of, folder, scope=scope, **options)
    from hecha.flows.stages import campaign_stages

    return run, campaign_stages(codes, scope["townships"])


def fail_run(run: Run, stage: str, error: BaseException) -> None:
    """Record the failure (with its traceback, for whoever investigates; run.json is owner-only) in the work folder."""
    run.close()
    stopped = isinstance(error, KeyboardInterrupt) or any(kind.__name__ == "TerminationSignal" for kind in type(error).__mro__)
    run.record |= {
        "status": "cancelled" if stopped else "failed", "failed_stage": stage, "error": str(error) or type(error).__name__,
        "traceback": "".join(traceback.format_exception(error)) if not isinstance(error, DropError) else None,
        "finished_at": dt.datetime.now(dt.timezone.utc).isoformat(),
    }
    run.write_record()


def publish_run(run: Run) -> Path:
    """Publish the run and record it in the case history, as one step; remove what retention no longer keeps.

    The history is opened for writing first (waiting while a feedback import
    holds it), then, in one transaction: the run's cases are recorded, the
    work folder is renamed into place, the transaction commits.
    """
    from hecha.audit.history import open_state, record_run_in, transaction

    run.close()
    restrict_tree(run.work_dir)
    started = time.perf_counter()
    with open_state(run.state) as con:
        run.record["status"] = "succeeded"
        run.record.setdefault("finished_at", dt.datetime.now(dt.timezone.utc).isoformat())
        run.record.pop("stage", None)
        run.write_record()
        with attached(con, run.work_dir / DATABASE, "published", read_only=True), transaction(con):
            record_run_in(con, record=run.record, run_dir=run.final_dir)
            os.replace(run.work_dir, run.final_dir)
    run.record.setdefault("timings_seconds", {})["record"] = round(time.perf_counter() - started, 3)
    run.write_record()
    apply_retention(run.out, run.policy["retention"])
    return run.final_dir


def process_alive(pid: int) -> bool:
    """Whether `pid` is a running process: a killed one its parent has not yet reaped (a zombie) is not."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, another user's
        return True
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):  # no /proc (not Linux): kill(0) is all there is to go on
        return True


def recover_out(out: Path, status: str = "interrupted") -> dict[str, list[str]]:
    """Put right what a killed run left in `out`; return what was done.

    - a published run missing from the case history is recorded (as any
      opening of the history for writing does, see audit/history.py);
    - a work folder still `running` whose process is gone — a run's, or a
      screen's under `screens/` — is marked `interrupted` (or `status`:
      `hecha serve` stopping says `cancelled`), naming the stage it was in.
    """
    from hecha.audit.history import open_state, record_unrecorded_runs

    out = Path(out)
    done: dict[str, list[str]] = {"recorded": [], "interrupted": []}
    if not out.is_dir():
        return done
    if (out / AUDIT_DATABASE).exists() or any(out.glob(f"[!.]*/{DATABASE}")):
        with open_state(out / AUDIT_DATABASE, repair=False) as con:
            done["recorded"] = record_unrecorded_runs(con, out)
    host = socket.gethostname()
    records = [*out.glob(f"{WORK_PREFIX}*/run.json"), *out.glob(f"screens/{WORK_PREFIX}*/screen.json")]  # runs, screens
    for run_json in sorted(records):
        try:
            record = json.loads(run_json.read_text(encoding="utf-8"))
        except ValueError:
            continue
        process = record.get("process") or {}
        # "succeeded" in a work folder: killed while publishing, before the rename (nothing was published)
        if record.get("status") not in ("running", "succeeded") or process.get("host") != host or process_alive(int(process.get("pid", 0)) or -1):
            continue
        record |= {
            "status": status,
            "failed_stage": record.get("stage") or "publish",  # a succeeded record has left its last stage
            "error": "the run's process stopped (killed or crashed) before it finished; nothing of it was published",
            "finished_at": dt.datetime.now(dt.timezone.utc).isoformat(),
        }
        write_text_atomic(run_json, json.dumps(record, ensure_ascii=False, indent=2, default=str))
        done["interrupted"].append(run_json.parent.name)
    return done


def apply_retention(out: Path, retention: dict) -> dict[str, list[str]]:
    """Remove run databases beyond the newest `run_databases` runs, and failed work folders (runs' and screens')
    older than `work_days`.

    A run database holds every raw extract with full citizen numbers; the
    published findings, workbooks and report stay. A work folder of a run
    still going (status running) is never removed.
    """
    removed: dict[str, list[str]] = {"databases": [], "work_folders": []}
    runs = sorted((p.parent for p in Path(out).glob(f"[!.]*/{DATABASE}")), key=lambda folder: folder.name, reverse=True)
    for folder in runs[int(retention["run_databases"]):]:
        (folder / DATABASE).unlink(missing_ok=True)
        removed["databases"].append(folder.name)
    cutoff = time.time() - float(retention["work_days"]) * 86400
    works = [(work, "run.json") for work in Path(out).glob(f"{WORK_PREFIX}*")]
    works += [(work, "screen.json") for work in Path(out).glob(f"screens/{WORK_PREFIX}*")]  # a failed screen's too
    for work, record in works:
        try:
            status = json.loads((work / record).read_text(encoding="utf-8")).get("status")
        except (OSError, ValueError):
            status = None
        if status != "running" and work.stat().st_mtime < cutoff:
            shutil.rmtree(work, ignore_errors=True)
            removed["work_folders"].append(work.name)
    return removed
