"""The stages of a run and the nightly flow that runs them all.

load → normalize → validate → link → checks → history → reports → publish →
record. Each task is one call into a stage; the flow holds no SQL and no
rules. The run's DuckDB connection travels inside the `Run`, so tasks run
in-process and are never cached. The campaign flow (flows/campaign.py) runs
the same stages with a narrower scope; `run_stages` is shared by both and
reports each stage's progress (a log line with its duration, a Prefect
progress artifact).
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from contextlib import suppress
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_progress_artifact, update_progress_artifact
from prefect.cache_policies import NO_CACHE

from checks.runner import keep_townships
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
        from reports.feedback import link_decisions  # inspectors' confirmed and rejected links, from earlier runs

        run.record["links"] = link_all(run.con, EXTRACTS, thresholds=link_thresholds(run.policy), decisions=link_decisions(run.state))


@stage_task
def run_checks(run: Run, codes: list[str] | None = None) -> None:
    with run.stage("checks"):
        steps: dict[str, float] = {}
        run.record["findings"] = run_check_sql(run.con, run.as_of, run.policy, codes, timings=steps)
        run.record["check_timings_seconds"] = {step: round(seconds, 3) for step, seconds in steps.items()}


@stage_task
def keep_campaign_townships(run: Run, townships: list[str]) -> None:
    with run.stage("scope"):
        kept = keep_townships(run.con, townships)
        run.record["findings"] = {code: kept.get(code, 0) for code in run.record["findings"]}


@stage_task
def apply_history(run: Run) -> None:
    from reports.history import apply_history as apply_case_history

    scope = run.record["parameters"]  # a campaign's checks and townships: cases outside them are not "resolved"
    with run.stage("history"):
        run.record["history"] = apply_case_history(
            run.con, state=run.state, run_id=run.run_id, checks=scope.get("checks"), townships=scope.get("townships")
        )


@stage_task
def write_reports(run: Run) -> None:
    from reports.history import run_history
    from reports.html_report import write_html_report
    from reports.workbooks import write_workbooks

    with run.stage("reports"):
        workbooks = write_workbooks(
            run.con,
            run.work_dir / "workbooks",
            run_id=run.run_id,
            as_of=f"{run.as_of:%Y-%m}",
            county=run.manifest.county,
            policy=run.policy,
        )
        run.record["workbooks"] = [str(path.relative_to(run.work_dir)) for path in workbooks]
        history = run_history(run.state, current=run.record)
        run.record["report"] = write_html_report(run.con, run.work_dir, record=run.record, history=history).name


@stage_task
def publish(run: Run) -> Path:
    with run.stage("publish"):
        run.record["exceptions_rows"] = write_exceptions(run.con, run.work_dir / "exceptions.csv")
    return publish_run(run)


@stage_task
def record_history(run: Run) -> Path:
    """After publication: the next run of this out folder compares with this one."""
    from reports.history import record_run

    with run.stage("record"):
        record_run(run.state, run.final_dir)
    run.write_record()  # the published record gains the timing of this stage
    return run.final_dir


Stage = tuple[Any, dict[str, Any]]  # a stage task and its arguments besides the run


def nightly_stages() -> list[Stage]:
    return [
        (load_extracts, {}),
        (normalize_identities, {}),
        (validate_extracts, {}),
        (link_people, {}),
        (run_checks, {}),
        (apply_history, {}),
        (write_reports, {}),
        (publish, {}),
        (record_history, {}),
    ]


def progress_key(flow_name: str, label: str | None = None) -> str:
    """A progress artifact key (lower-case letters, digits, dashes) per flow, and per campaign."""
    words = re.sub(r"[^a-z0-9]+", "-", f"{flow_name} {label or ''}".lower()).strip("-")
    return f"hecha-{words}-progress"


def run_stages(run: Run, stages: Sequence[Stage], progress: str) -> Path:
    """Run the stages in order, reporting each; on failure record which stage failed and why, and re-raise.

    The stages end with publication, whose folder is returned; a run failing before
    `publish` publishes nothing and the last good publication stays as it was (one
    failing in `record_history` is published, but marked failed and absent from the
    case history). Progress goes to the run's log (one line per stage with its
    duration) and to the progress artifact `progress`, so a long run can be
    followed from the Prefect UI.
    """
    logger = get_run_logger()
    artifact = create_progress_artifact(0.0, key=progress, description=f"run {run.run_id}: starting")
    result: Path = run.final_dir
    for number, (stage, arguments) in enumerate(stages, start=1):
        run.record["stage"] = stage.name
        started = time.perf_counter()
        try:
            result = stage(run, **arguments)
        except BaseException as error:
            fail_run(run, stage.name, error)
            logger.error("run %s: stage %s failed after %.1f s: %s", run.run_id, stage.name, time.perf_counter() - started, error)
            with suppress(Exception):  # the stage's error is the one to raise, not a failed progress update
                update_progress_artifact(
                    artifact, 100.0 * (number - 1) / len(stages), description=f"run {run.run_id}: stage {stage.name} failed: {error}"
                )
            raise
        seconds = time.perf_counter() - started
        logger.info("run %s: stage %s done in %.1f s (%d/%d)", run.run_id, stage.name, seconds, number, len(stages))
        update_progress_artifact(
            artifact, 100.0 * number / len(stages), description=f"run {run.run_id}: {stage.name} done ({number}/{len(stages)})"
        )
    return result


@flow(name="nightly", log_prints=True)
def nightly(drop: Path, as_of: str | None = None, out: Path = Path("out")) -> Path:
    """All checks, all townships, published under `out` and compared with its previous run."""
    run = start_run(drop, as_of, out)
    return run_stages(run, nightly_stages(), progress_key("nightly"))
