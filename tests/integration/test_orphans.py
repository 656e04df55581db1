"""No process outlives a killed hecha: `hecha run` starts none, `hecha serve`'s Prefect server dies with it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from hecha.flows.server import descendants

ROOT = Path(__file__).resolve().parents[2]
SAMPLE_DROP = ROOT / "data" / "sample" / "drop"


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    state = Path(f"/proc/{pid}/stat")
    return state.exists() and state.read_text().rsplit(")", 1)[1].split()[0] != "Z"


def environment(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    return env | {"PREFECT_HOME": str(tmp_path / "prefect"), "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}


def test_killed_run_leaves_no_process_behind(tmp_path):
    out = tmp_path / "out"
    process = subprocess.Popen([sys.executable, "-m", "hecha.flows.cli", "run", "--drop", str(SAMPLE_DROP), "--out", str(out)],
                               cwd=ROOT, env=environment(tmp_path), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not list(out.glob(".work-*/hecha.duckdb")):
        assert process.poll() is None, process.stderr.read()
        assert time.monotonic() < deadline
        time.sleep(0.2)
    started = descendants(process.pid)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert started == set()  # nothing was started beside the run: no server to orphan
    assert not any(alive(pid) for pid in started)


def test_killed_serve_takes_its_prefect_server_with_it(tmp_path):
    code = (f"from hecha.flows.cli import main; main(['serve', '--drop', {str(SAMPLE_DROP)!r}, '--out', {str(tmp_path / 'out')!r}, "
            "'--cron', '0 0 1 1 *'])")
    process = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, env=environment(tmp_path),
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        line = process.stdout.readline()
        while line and "Prefect UI at http://127.0.0.1:" not in line:
            line = process.stdout.readline()
        assert line, "serve ended before its server answered"
        servers = descendants(process.pid)
        assert servers  # the server runs as serve's child
        process.send_signal(signal.SIGKILL)
        process.wait()
        deadline = time.monotonic() + 20
        while any(alive(pid) for pid in servers) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not any(alive(pid) for pid in servers)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_serve_shows_its_ui_runs_a_campaign_and_stops_on_sigterm_leaving_nothing_running(tmp_path):
    import json
    import urllib.request

    from prefect.deployments import run_deployment
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from hecha.flows.serve import CAMPAIGN_DEPLOYMENT

    out = tmp_path / "out"
    code = (f"from hecha.flows.cli import main; main(['serve', '--drop', {str(SAMPLE_DROP)!r}, '--out', {str(out)!r}, "
            "'--cron', '0 0 1 1 *'])")
    process = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, env=environment(tmp_path) | {"PREFECT_RUNNER_POLL_FREQUENCY": "1"},
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        line = process.stdout.readline()
        while line and "Prefect UI at " not in line:
            line = process.stdout.readline()
        ui = line.split("Prefect UI at ")[1].split()[0]
        with urllib.request.urlopen(ui, timeout=10) as page:
            assert page.status == 200 and b"<html" in page.read(2000).lower()
        with temporary_settings(updates={PREFECT_API_URL: f"{ui}/api"}):
            deadline = time.monotonic() + 60
            while True:  # the deployments appear once serve has registered them
                try:
                    run_deployment(name=CAMPAIGN_DEPLOYMENT, parameters={"drop": str(SAMPLE_DROP), "campaign": "t1"}, timeout=0)
                    break
                except Exception:
                    assert time.monotonic() < deadline
                    time.sleep(1)
        folder = out / "campaigns" / "t1"
        deadline = time.monotonic() + 90
        while not list(folder.glob(".work-*/hecha.duckdb")):
            assert time.monotonic() < deadline and process.poll() is None
            time.sleep(0.2)
        everyone = descendants(process.pid)
        started = time.monotonic()
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=15)
        assert time.monotonic() - started <= 10
        deadline = time.monotonic() + 5
        while any(alive(pid) for pid in everyone) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not any(alive(pid) for pid in everyone)
        records = [json.loads(path.read_text(encoding="utf-8")) for path in folder.glob(".work-*/run.json")]
        assert records and not list(folder.glob("[!.]*/run.json"))  # stopped mid-run: nothing published
        assert all(record["status"] == "cancelled" and record["failed_stage"] for record in records), records
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
