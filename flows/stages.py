"""The stages of a run, as plain functions, and the loop that runs them in order.

load → normalize → validate → link → checks → history → reports → publish.
Each stage is one call into extracts/, matching/, checks/ or reports/; none
holds SQL or rules. The same functions run two ways:

- in this process, by the `hecha` command (`run_here`): no Prefect server is
  started, so nothing outlives a killed command;
- as Prefect tasks, by the served flows (flows/nightly.py, flows/campaign.py),
  which pass a runner that calls each stage as a task.

`publish` makes the run visible and records it in the folder's case history
in one step (flows/run.py `publish_run`): a run is published and recorded, or
neither.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from hecha.checks.runner import keep_townships
from hecha.checks.runner import run_checks as run_check_sql
from hecha.extracts.declarations import EXTRACTS
from hecha.extracts.load import load_drop
from hecha.extracts.validate import validate_stg
from hecha.flows.pipeline import link_thresholds
from hecha.flows.run import Run, fail_run, publish_run
from hecha.matching.link import link_people as link_all
from hecha.matching.normalize import normalize_identities as normalize_stg
from hecha.reports.exceptions import write_exceptions

LOG = logging.getLogger("hecha")


def load_extracts(run: Run) -> None:
    with run.stage("load"):
        run.record["files"] = load_drop(run.con, run.drop, run.manifest, EXTRACTS, policy=run.policy)


def normalize_identities(run: Run) -> None:
    with run.stage("normalize"):
        run.record["id_number_status"] = normalize_stg(run.con, EXTRACTS)


def validate_extracts(run: Run) -> None:
    with run.stage("validate"):
        from hecha.extracts.guards import check_inputs  # an as_of outside the ledger's months, and the like: refused

        accept = bool(run.record["parameters"].get("accept_unusable_ids"))
        run.record["inputs"] = check_inputs(run.con, run.as_of, run.policy, accept_unusable_ids=accept)
        run.record["validation"] = validate_stg(run.con, EXTRACTS, run.as_of)


def link_people(run: Run, changed: list[str] | None = None) -> None:
    """`changed`: the run's catalog is a copy of a run on the same rows but for these tables (matching/link.py)."""
    from hecha.audit.feedback import link_decisions  # inspectors' confirmed and rejected links, from earlier runs

    with run.stage("link"):
        run.record["links"] = link_all(run.con, EXTRACTS, thresholds=link_thresholds(run.policy),
                                       decisions=link_decisions(run.state), changed=changed)


def run_checks(run: Run, codes: list[str] | None = None) -> None:
    """All checks; on an incremental night, only for the persons changed since the last run (flows/incremental.py)."""
    with run.stage("checks"):
        steps: dict[str, float] = {}
        mode = run.record.get("mode") or {}
        if mode.get("kind") == "incremental" and not codes:
            findings = check_changes_since(run, mode["since"], steps)
            if isinstance(findings, dict):
                run.record["findings"] = findings
                run.record["check_timings_seconds"] = {step: round(seconds, 3) for step, seconds in steps.items()}
                return
            run.record["mode"] = {"kind": "full", "since": None, "reason": findings}
        run.record["findings"] = run_check_sql(run.con, run.as_of, run.policy, codes, timings=steps)
        run.record["check_timings_seconds"] = {step: round(seconds, 3) for step, seconds in steps.items()}


def check_changes_since(run: Run, since: str, steps: dict[str, float]) -> dict[str, int] | str:
    """The last run's findings carried, the changed persons' checked again: findings per check; or why the
    night must be a full one after all (the drop's columns changed; so many rows changed or moved that checking
    everyone costs less)."""
    from hecha.checks.slice import MOST_CHANGED, carry_night, changed_source_rows, screen_slice
    from hecha.flows.run import DATABASE
    from hecha.storage.database import attached

    with attached(run.con, run.out / since / DATABASE, "night", read_only=True):
        started = time.perf_counter()
        changed = changed_source_rows(run.con, "night")
        steps["changed_rows"] = time.perf_counter() - started
        if changed is None:
            return "the drop's columns changed"
        rows = sum(counts["rows_read"] for counts in run.record["files"])
        if changed > MOST_CHANGED * rows:
            return (f"{changed:,} of {rows:,} rows changed or moved (a row removed moves every row after it): "
                    f"more than {MOST_CHANGED:.0%}, so every person is checked")
        carry_night(run.con, "night")
        figures = screen_slice(run.con, "night", "select source, source_row from changed_row", run.as_of, run.policy,
                               timings=steps)
    run.record["mode"]["changed_rows"] = changed
    run.record["mode"]["screened"] = {key: value for key, value in figures.items() if key != "findings_by_check"}
    return figures["findings_by_check"]


def check_campaign_townships(run: Run, townships: list[str]) -> None:
    """A campaign's townships must be the register's: a typo (坝营 for 坝营乡) would read as a clean bill of health."""
    from hecha.checks.runner import known_townships
    from hecha.extracts.errors import DropError

    with run.stage("scope_check"):
        known = known_townships(run.con)
        unknown = [name for name in townships if name not in known]
        if unknown:
            raise DropError(f"campaign townships {', '.join(unknown)}: not in the household register; known: {', '.join(known)}",
                            file="household_register", column="township")


def keep_campaign_townships(run: Run, townships: list[str]) -> None:
    with run.stage("scope"):
        kept = keep_townships(run.con, townships)
        run.record["findings"] = {code: kept.get(code, 0) for code in run.record["findings"]}


def apply_history(run: Run) -> None:
    from hecha.audit.history import STATE
    from hecha.audit.history import apply_history as apply_case_history
    from hecha.storage.secret import secret_root

    scope = run.record["parameters"]  # a campaign's checks and townships: cases outside them are not "resolved"
    with run.stage("history"):
        run.record["history"] = apply_case_history(
            run.con, state=run.state, run_id=run.run_id, checks=scope.get("checks"), townships=scope.get("townships"),
            verdicts=secret_root(run.out) / STATE,  # inspectors' verdicts live in the root out folder, shared with campaigns
        )


def track_outcomes(run: Run) -> None:
    """What became of earlier findings: payments stopped, back-pay paid, recoveries, verdict rates per check."""
    from hecha.audit.outcomes import track_outcomes as track

    with run.stage("outcomes"):
        run.record["outcomes"] = track(run.con, state=run.state, run_id=run.run_id, as_of=run.as_of, policy=run.policy)


def write_reports(run: Run) -> None:
    from hecha.reports.workbooks import override_warnings, write_workbooks

    with run.stage("reports"):
        workbooks = write_workbooks(
            run.con,
            run.work_dir / "workbooks",
            run_id=run.run_id,
            as_of=f"{run.as_of:%Y-%m}",
            county=run.manifest.county,
            policy=run.policy,
            warnings=override_warnings(run.record),
        )
        run.record["workbooks"] = [str(path.relative_to(run.work_dir)) for path in workbooks]


def publish(run: Run) -> Path:
    """Write exceptions.csv and the report (which states the run's final status), then publish and record, as one step."""
    from hecha.audit.history import run_history
    from hecha.reports.html_report import write_html_report

    with run.stage("publish"):
        run.record["exceptions_rows"] = write_exceptions(run.con, run.work_dir / "exceptions.csv")
        run.record |= {"status": "succeeded", "finished_at": dt.datetime.now(dt.timezone.utc).isoformat()}
        history = run_history(run.state, current=run.record)
        run.record["report"] = write_html_report(run.con, run.work_dir, record=run.record, history=history).name
    return publish_run(run)


Stage = tuple[Callable[..., Any], dict[str, Any]]  # a stage function and its arguments besides the run
CallStage = Callable[[Callable[..., Any], Run, dict[str, Any]], Any]


def nightly_stages() -> list[Stage]:
    return [
        (load_extracts, {}),
        (normalize_identities, {}),
        (validate_extracts, {}),
        (link_people, {}),
        (run_checks, {}),
        (apply_history, {}),
        (track_outcomes, {}),
        (write_reports, {}),
        (publish, {}),
    ]


def campaign_stages(checks: list[str] | None, townships: list[str] | None) -> list[Stage]:
    scope: list[Stage] = [(keep_campaign_townships, {"townships": list(townships)})] if townships else []
    known: list[Stage] = [(check_campaign_townships, {"townships": list(townships)})] if townships else []
    return [
        (load_extracts, {}),
        *known,
        (normalize_identities, {}),
        (validate_extracts, {}),
        (link_people, {}),
        (run_checks, {"codes": checks}),
        *scope,
        (apply_history, {}),
        (track_outcomes, {}),
        (write_reports, {}),
        (publish, {}),
    ]


def stage_outcome(run: Run, name: str) -> str:
    """What a stage got through, in a few words for the progress line ("16,167 rows", "133 findings")."""
    record = run.record
    if name == "load_extracts":
        return f"{sum(f['rows_read'] for f in record.get('files', [])):,} rows"
    if name in ("link_people", "link_event"):
        links = record.get("links", {})
        return f"{links.get('records_linked', 0):,} of {links.get('records', 0):,} rows linked"
    if name in ("run_checks", "keep_campaign_townships"):
        return f"{sum(record.get('findings', {}).values()):,} findings"
    if name == "write_reports":
        return f"{len(record.get('workbooks', []))} workbooks"
    return ""


class Progress:
    """Where a run reports its stages: here, log lines on the `hecha` logger."""

    def __init__(self, logger: logging.Logger | logging.LoggerAdapter = LOG):
        self.logger = logger

    def started(self, run: Run, name: str, number: int, total: int) -> None:
        """A stage begins (a live display shows it; a log waits for its end)."""

    def done(self, run: Run, name: str, seconds: float, number: int, total: int) -> None:
        outcome = stage_outcome(run, name)
        self.logger.info("run %s: stage %s done in %.1f s (%d/%d)%s", run.run_id, name, seconds, number, total,
                         f": {outcome}" if outcome else "")

    def failed(self, run: Run, name: str, seconds: float, number: int, total: int, error: BaseException) -> None:
        """Said by whoever called the run (the command prints one line; a flow run's log shows the error)."""


def call_here(stage: Callable[..., Any], run: Run, arguments: dict[str, Any]) -> Any:
    return stage(run, **arguments)


def run_stages(run: Run, stages: Sequence[Stage], progress: Progress | None = None, call: CallStage = call_here) -> Path:
    """Run the stages in order, reporting each; on failure record which stage failed and why, and re-raise.

    A run failing before `publish` publishes nothing and the last good
    publication stays as it was; `publish` itself is all or nothing.
    """
    progress = progress or Progress()
    result: Path = run.final_dir
    for number, (stage, arguments) in enumerate(stages, start=1):
        name = stage.__name__
        run.record["stage"] = name
        run.write_record()  # a run killed now is found "interrupted in <stage>" by the next one
        progress.started(run, name, number, len(stages))
        started = time.perf_counter()
        try:
            result = call(stage, run, arguments)
        except BaseException as error:
            fail_run(run, name, error)
            progress.failed(run, name, time.perf_counter() - started, number, len(stages), error)
            raise
        progress.done(run, name, time.perf_counter() - started, number, len(stages))
    return result
