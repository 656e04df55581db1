"""The nightly flow: load → normalize → validate → link → checks → publish.

Each task is one call into a stage; the flow holds no SQL and no rules. The
run's DuckDB connection travels inside the `Run`, so tasks run in-process and
are never cached.
"""

from __future__ import annotations

from pathlib import Path

from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from checks.runner import run_checks as run_check_sql
from extracts.declarations import EXTRACTS
from extracts.load import load_drop
from extracts.validate import validate_stg
from flows.pipeline import link_thresholds
from flows.run import Run, fail_run, publish_run, start_run
from matching.link import link_people as link_all
from matching.normalize import normalize_identities as normalize_stg
from reports.exceptions import write_exceptions

stage_task = task(cache_policy=NO_CACHE, persist_result=False)


@stage_task
def load_extracts(run: Run) -> None:
    with run.stage("load"):
        run.record["files"] = load_drop(run.con, run.drop, run.manifest, EXTRACTS)


@stage_task
def normalize_identities(run: Run) -> None:
    with run.stage("normalize"):
        run.record["id_number_status"] = normalize_stg(run.con, EXTRACTS)


@stage_task
def validate_extracts(run: Run) -> None:
    with run.stage("validate"):
        run.record["validation"] = validate_stg(run.con, EXTRACTS, run.as_of)


@stage_task
def link_people(run: Run) -> None:
    with run.stage("link"):
        run.record["links"] = link_all(run.con, EXTRACTS, thresholds=link_thresholds(run.policy))


@stage_task
def run_checks(run: Run, codes: list[str] | None = None) -> None:
    with run.stage("checks"):
        steps: dict[str, float] = {}
        run.record["findings"] = run_check_sql(run.con, run.as_of, run.policy, codes, timings=steps)
        run.record["check_timings_seconds"] = {step: round(seconds, 3) for step, seconds in steps.items()}


@stage_task
def publish(run: Run) -> Path:
    with run.stage("publish"):
        run.record["exceptions_rows"] = write_exceptions(run.con, run.work_dir / "exceptions.csv")
    return publish_run(run)


STAGES = (load_extracts, normalize_identities, validate_extracts, link_people, run_checks)


def run_stages(run: Run) -> Path:
    """Run every stage; on failure record which stage failed and why, publish nothing, re-raise."""
    for stage in STAGES:
        run.record["stage"] = stage.name
        try:
            stage(run)
        except BaseException as error:
            fail_run(run, stage.name, error)
            raise
    return publish(run)


@flow(name="nightly", log_prints=True)
def nightly(drop: Path, as_of: str | None = None, out: Path = Path("out")) -> Path:
    run = start_run(drop, as_of, out)
    return run_stages(run)
