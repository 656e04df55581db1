"""The campaign flow: chosen checks in chosen townships, kept apart from the nightly runs.

A campaign team re-runs some checks after a fresh extract and wants to know
what changed since its own last run. A campaign is just another out folder,
`<out>/campaigns/<campaign>/`, with its own runs and its own case history, so
it is compared with that campaign's previous run and never with the nightly
one. The stages are the nightly flow's (flows/stages.py); only the checks
run and the townships kept differ (flows/run.py `start_campaign`).
"""

from __future__ import annotations

from pathlib import Path

from prefect import flow

from hecha.flows.nightly import progress_key, run_stages_as_tasks
from hecha.flows.run import DROP_ROOT_ENV, OUT_ROOT_ENV, campaign_out, confine, start_campaign

__all__ = ["campaign", "campaign_out"]


@flow(name="campaign", flow_run_name="{campaign}", log_prints=True)
def campaign(
    drop: Path,
    campaign: str,
    checks: list[str] | None = None,
    townships: list[str] | None = None,
    as_of: str | None = None,
    out: Path = Path("out"),
    policy: Path | None = None,
    accept_unusable_ids: bool = False,
) -> Path:
    """Run `checks` (all when none) on `drop`, keep the findings of `townships` (all when none).

    Publishes under `<out>/campaigns/<campaign>/`, compared with that campaign's previous run.
    """
    run, stages = start_campaign(confine(drop, DROP_ROOT_ENV), campaign, checks, townships, as_of, confine(out, OUT_ROOT_ENV),
                                 policy_file=policy, accept_unusable_ids=accept_unusable_ids)
    return run_stages_as_tasks(run, stages, progress_key("campaign", campaign))
