"""Served flows: a campaign started through Prefect with parameters, and what a failed run leaves behind.

`serve_flows` runs in a subprocess against the session's Prefect server, as
`hecha serve` would, from another working directory; the campaign is started
with `run_deployment`, as from the Prefect UI or CLI, and runs in the
runner's own subprocess.
"""

import csv
import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId
from prefect.deployments import run_deployment
from prefect.exceptions import ObjectNotFound
from prefect.settings import get_current_settings

from hecha.flows.campaign import campaign, campaign_out
from hecha.flows.serve import CAMPAIGN_DEPLOYMENT, NIGHTLY_DEPLOYMENT

SAMPLE_DROP = Path(__file__).resolve().parents[2] / "data" / "sample" / "drop"
TOWNSHIP = "坝营乡"  # a township of the sample with deceased_paid findings
NEVER_SOON = "0 2 29 2 *"  # the nightly schedule must not fire during the test


def published_runs(folder: Path) -> list[Path]:
    return sorted(path for path in folder.iterdir() if path.is_dir() and not path.name.startswith(".") and path.name != "campaigns")


def read_rows(path: Path) -> list[dict]:
    with path.open(encoding="utf-8-sig") as handle:
        return list(csv.DictReader(handle))


def fingerprint(folder: Path) -> dict[str, str]:
    """Every file of an out folder but work folders, by content."""
    files = (path for path in sorted(folder.rglob("*")) if path.is_file() and not path.relative_to(folder).parts[0].startswith(".work-"))
    return {str(path.relative_to(folder)): hashlib.md5(path.read_bytes()).hexdigest() for path in files}


def wait_for_log(client, flow_run_id, text: str, timeout: float = 20) -> list[str]:
    """The flow run's log messages once one contains `text`: the run's process sends its logs in batches."""
    deadline = time.monotonic() + timeout
    while True:
        logs = client.read_logs(log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=[flow_run_id])), limit=200, offset=0)
        messages = [log.message for log in logs]
        if any(text in message for message in messages) or time.monotonic() > deadline:
            return messages
        time.sleep(0.5)


@pytest.fixture
def served(tmp_path):
    """`serve_flows` in its own process, pointed at the session's Prefect server; stopped with Ctrl-C."""
    out = tmp_path / "out"
    workdir = tmp_path / "elsewhere"  # the runs import the flows by module path, not from the working directory
    workdir.mkdir()
    env = os.environ | get_current_settings().to_environment_variables(exclude_unset=True)
    # poll for new runs every second; log at INFO even after `hecha run` (quiet_prefect) lowered it in this process
    env |= {"PREFECT_RUNNER_POLL_FREQUENCY": "1", "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "PREFECT_LOGGING_LEVEL": "INFO"}
    code = f"from hecha.flows.serve import serve_flows; serve_flows(drop={str(SAMPLE_DROP)!r}, out={str(out)!r}, cron={NEVER_SOON!r})"
    log = (tmp_path / "serve.log").open("w")
    process = subprocess.Popen([sys.executable, "-c", code], cwd=workdir, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        with get_client(sync_client=True) as client:
            deadline = time.monotonic() + 45
            while True:
                if process.poll() is not None:
                    pytest.fail(f"serve exited with {process.returncode}:\n{(tmp_path / 'serve.log').read_text()}")
                try:
                    client.read_deployment_by_name(CAMPAIGN_DEPLOYMENT)
                    break
                except ObjectNotFound:
                    if time.monotonic() > deadline:
                        pytest.fail(f"the campaign deployment was not served:\n{(tmp_path / 'serve.log').read_text()}")
                    time.sleep(0.5)
        yield out
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            pytest.fail("serve did not stop on Ctrl-C")
        log.close()
    assert process.returncode == 0, (tmp_path / "serve.log").read_text()


def test_served_campaign_runs_with_its_parameters_and_publishes_under_its_folder(served):
    parameters = {"drop": str(SAMPLE_DROP), "campaign": "t1", "checks": ["deceased_paid"], "townships": [TOWNSHIP]}
    flow_run = run_deployment(name=CAMPAIGN_DEPLOYMENT, parameters=parameters, timeout=90, poll_interval=1)

    assert flow_run.state is not None and flow_run.state.is_completed(), flow_run.state
    assert flow_run.name == "t1"
    assert flow_run.parameters == parameters | {"out": str(served)}  # out: the served default
    (run_dir,) = published_runs(served / "campaigns" / "t1")
    rows = read_rows(run_dir / "exceptions.csv")
    assert rows and {(row["check_code"], row["township"]) for row in rows} == {("deceased_paid", TOWNSHIP)}
    record = json.loads((run_dir / "run.json").read_text(encoding="utf-8"))
    assert record["status"] == "succeeded"
    assert {key: record["parameters"][key] for key in ("campaign", "checks", "townships")} == {
        "campaign": "t1", "checks": ["deceased_paid"], "townships": [TOWNSHIP],
    }
    assert record["findings"] == {"deceased_paid": len(rows)}
    assert {"load", "checks", "scope", "history", "reports", "publish", "record"} <= record["timings_seconds"].keys()
    assert (served / "campaigns" / "t1" / "audit.duckdb").exists()  # the campaign's own history
    assert not published_runs(served)  # nothing published in the nightly folder

    with get_client(sync_client=True) as client:
        nightly = client.read_deployment_by_name(NIGHTLY_DEPLOYMENT)
        assert [schedule.schedule.cron for schedule in nightly.schedules] == [NEVER_SOON]
        # read_artifacts sends null filters this server refuses (422): ask the API directly
        artifacts = client.request(
            "POST", "/artifacts/filter", json={"artifacts": {"flow_run_id": {"any_": [str(flow_run.id)]}}, "limit": 10, "offset": 0}
        ).json()
        assert [(a["type"], a["key"], a["data"]) for a in artifacts] == [("progress", "hecha-campaign-t1-progress", 100)]
        messages = wait_for_log(client, flow_run.id, "stage publish done in")
    assert sum(" done in " in message for message in messages) == 11  # a line per stage, with its duration

    # through the API, parameters outside the declared shape are refused before anything is written
    elsewhere = served.parent / "elsewhere-out"
    hostile = [
        {"drop": str(SAMPLE_DROP), "campaign": "t9", "out": str(elsewhere)},
        {"drop": str(served.parent), "campaign": "t9"},
        {"drop": str(SAMPLE_DROP), "campaign": "q' as h0; copy (select 42) to 'PWNED_campaign.csv'; --"},
        {"drop": str(SAMPLE_DROP), "campaign": "t9", "checks": "deceased_paid"},  # not a list
    ]
    for parameters in hostile:
        try:
            refused = run_deployment(name=CAMPAIGN_DEPLOYMENT, parameters=parameters, timeout=60, poll_interval=1)
        except Exception as error:  # refused by the parameter schema when the run is created
            assert "validation" in str(error).lower() or "parameter" in str(error).lower(), error
            continue
        assert refused.state is not None and not refused.state.is_completed(), parameters
    assert not elsewhere.exists()
    assert not (served / "campaigns" / "t9").exists()
    assert not list(served.parent.rglob("PWNED*"))


def test_failed_stage_leaves_the_last_publication_as_it_was(tmp_path, monkeypatch):
    out = tmp_path / "out"
    scope = {"drop": SAMPLE_DROP, "campaign": "t2", "checks": ["deceased_paid"], "townships": [TOWNSHIP], "out": out}
    good = campaign(**scope)
    folder = campaign_out(out, "t2")
    before = fingerprint(folder)

    import hecha.reports.workbooks as workbooks_module

    def broken_workbooks(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(workbooks_module, "write_workbooks", broken_workbooks)
    with pytest.raises(OSError, match="disk full"):
        campaign(**scope)

    assert published_runs(folder) == [good]
    assert fingerprint(folder) == before  # the published run's files and the case history, untouched
    (work,) = folder.glob(".work-*")
    record = json.loads((work / "run.json").read_text(encoding="utf-8"))
    assert (record["status"], record["failed_stage"], record["error"]) == ("failed", "write_reports", "disk full")


@pytest.mark.parametrize("name", ["", "../nightly", "a/b", ".work-x", " t1"])
def test_campaign_name_must_be_one_folder_name(tmp_path, name):
    with pytest.raises(ValueError, match="campaign name"):
        campaign_out(tmp_path, name)


def test_campaign_refuses_unknown_check_codes_before_loading(tmp_path):
    with pytest.raises(ValueError, match="unknown check code.*no_such_check"):
        campaign(drop=SAMPLE_DROP, campaign="t3", checks=["no_such_check"], out=tmp_path)
    assert not (tmp_path / "campaigns").exists()
