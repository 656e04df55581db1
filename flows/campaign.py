"""The campaign flow: chosen checks in chosen townships, kept apart from the nightly runs.

A campaign team re-runs some checks after a fresh extract and wants to know
what changed since its own last run. A campaign is just another out folder,
`<out>/campaigns/<campaign>/`, with its own runs and its own case history, so
it is compared with that campaign's previous run and never with the nightly
one. The stages are the nightly flow's (flows/nightly.py); only the checks
run and the townships kept differ.
"""

from __future__ import annotations

from pathlib import Path

from prefect import flow

from checks.catalogue import BY_CODE
from flows.nightly import (
    Stage,
    apply_history,
    keep_campaign_townships,
    link_people,
    load_extracts,
    normalize_identities,
    progress_key,
    publish,
    record_history,
    run_checks,
    run_stages,
    validate_extracts,
    write_reports,
)
from flows.run import start_run

CAMPAIGNS = "campaigns"


def campaign_out(out: Path, campaign: str) -> Path:
    """`<out>/campaigns/<campaign>/`; the name must be usable as one folder name."""
    name = campaign.strip() if isinstance(campaign, str) else ""
    if not name or name != campaign or name.startswith(".") or any(sep in name for sep in ("/", "\\")):
        raise ValueError(f"campaign name {campaign!r}: expected a folder name (no slashes, no leading dot, no surrounding spaces)")
    return Path(out) / CAMPAIGNS / name


def check_codes(checks: list[str] | None) -> list[str] | None:
    """The campaign's checks, refused before any loading when a code is unknown; none given means all."""
    unknown = [code for code in checks or [] if code not in BY_CODE]
    if unknown:
        raise ValueError(f"unknown check code(s): {', '.join(unknown)}; known: {', '.join(BY_CODE)}")
    return list(checks) if checks else None


def campaign_stages(checks: list[str] | None, townships: list[str] | None) -> list[Stage]:
    scope: list[Stage] = [(keep_campaign_townships, {"townships": list(townships)})] if townships else []
    return [
        (load_extracts, {}),
        (normalize_identities, {}),
        (validate_extracts, {}),
        (link_people, {}),
        (run_checks, {"codes": checks}),
        *scope,
        (apply_history, {}),
        (write_reports, {}),
        (publish, {}),
        (record_history, {}),
    ]


@flow(name="campaign", flow_run_name="{campaign}", log_prints=True)
def campaign(
    drop: Path,
    campaign: str,
    checks: list[str] | None = None,
    townships: list[str] | None = None,
    as_of: str | None = None,
    out: Path = Path("out"),
) -> Path:
    """Run `checks` (all when none) on `drop`, keep the findings of `townships` (all when none).

    Publishes under `<out>/campaigns/<campaign>/`, compared with that campaign's previous run.
    """
    codes = check_codes(checks)
    scope = {"campaign": campaign, "checks": codes, "townships": list(townships) if townships else None}
    run = start_run(drop, as_of, campaign_out(out, campaign), scope=scope)
    return run_stages(run, campaign_stages(codes, scope["townships"]), progress_key("campaign", campaign))
