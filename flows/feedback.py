"""The feedback_import flow: record a filled-in workbook in an output folder's case history.

A thin wrapper so imports appear in Prefect's run history beside the runs
they feed (who imported what, when, and what was recorded); the work is
`audit.feedback.import_feedback`.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

from prefect import flow, get_run_logger

from hecha.audit.feedback import import_feedback


@flow(name="feedback_import", log_prints=True)
def feedback_import(workbook: Path, out: Path = Path("out"), inspector: str | None = None) -> dict:
    result = import_feedback(Path(workbook), Path(out), inspector=inspector)
    get_run_logger().info(
        "%s: recorded %s, identity links %s, %d already recorded",
        result.file, result.dispositions, result.link_decisions, result.unchanged,
    )
    return asdict(result)
