"""The nightly flow: every stage of flows/stages.py as a Prefect task, for `hecha serve`.

Each task is one call into a stage; the flow holds no SQL and no rules. The
run's DuckDB connection travels inside the `Run`, so tasks run in-process and
are never cached. Progress goes to the flow run's log (a line per stage with
its duration) and to a Prefect progress artifact, so a long run can be
followed from the Prefect UI. The `hecha` command runs the same stages
without Prefect (flows/stages.py `run_here`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from contextlib import suppress
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_progress_artifact, update_progress_artifact
from prefect.cache_policies import NO_CACHE

from hecha.flows.run import DROP_ROOT_ENV, OUT_ROOT_ENV, Run, confine, start_run
from hecha.flows.stages import Progress, Stage, nightly_stages, run_stages

_TASKS: dict[Callable[..., Any], Any] = {}


def as_task(stage: Callable[..., Any]):
    """The Prefect task of a stage function (made once per function)."""
    if stage not in _TASKS:
        _TASKS[stage] = task(stage, name=stage.__name__, cache_policy=NO_CACHE, persist_result=False)
    return _TASKS[stage]


def call_as_task(stage: Callable[..., Any], run: Run, arguments: dict[str, Any]) -> Any:
    return as_task(stage)(run, **arguments)


def progress_key(flow_name: str, label: str | None = None) -> str:
    """A progress artifact key (lower-case letters, digits, dashes) per flow, and per campaign."""
    words = re.sub(r"[^a-z0-9]+", "-", f"{flow_name} {label or ''}".lower()).strip("-")
    return f"hecha-{words}-progress"


class PrefectProgress(Progress):
    """Stage lines on the flow run's log, and a progress artifact."""

    def __init__(self, run: Run, key: str):
        super().__init__(get_run_logger())
        self.artifact = create_progress_artifact(0.0, key=key, description=f"run {run.run_id}: starting")

    def done(self, run: Run, name: str, seconds: float, number: int, total: int) -> None:
        super().done(run, name, seconds, number, total)
        update_progress_artifact(self.artifact, 100.0 * number / total, description=f"run {run.run_id}: {name} done ({number}/{total})")

    def failed(self, run: Run, name: str, seconds: float, number: int, total: int, error: BaseException) -> None:
        self.logger.error("run %s: stage %s failed after %.1f s: %s", run.run_id, name, seconds, error)
        with suppress(Exception):  # the stage's error is the one to raise, not a failed progress update
            update_progress_artifact(
                self.artifact, 100.0 * (number - 1) / total, description=f"run {run.run_id}: stage {name} failed: {error}"
            )


def run_stages_as_tasks(run: Run, stages: Sequence[Stage], key: str) -> Path:
    return run_stages(run, stages, PrefectProgress(run, key), call=call_as_task)


@flow(name="nightly", log_prints=True)
def nightly(drop: Path, as_of: str | None = None, out: Path = Path("out"), policy: Path | None = None,
            accept_unusable_ids: bool = False, full: bool = False) -> Path:
    """All checks, all townships, published under `out` and compared with its previous run.

    `policy`: the county's policy file, over the national defaults; `accept_unusable_ids`: run past
    the citizen-number quality gate (stated in the report and workbooks); `full`: check every
    person again, not only those changed since the last run (flows/incremental.py).
    """
    run = start_run(confine(drop, DROP_ROOT_ENV), as_of, confine(out, OUT_ROOT_ENV), policy_file=policy,
                    accept_unusable_ids=accept_unusable_ids, full=full)
    return run_stages_as_tasks(run, nightly_stages(), progress_key("nightly"))
