"""`hecha serve --batches`: the scheduler makes the watched folder's runs, and a batch dropped there is screened.

Slow (the Prefect server schedules interval deployments about once a minute):
`pytest -m slow tests/integration/test_serve_schedule.py`. It guards what no
on-demand test sees: a Prefect server whose scheduler cannot write its runs
(SQLAlchemy 2.1 under Prefect 3.8) serves every deployment and never runs a
scheduled one.
"""

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from data.sample.batch import make_batch

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample"
NEVER_SOON = "0 2 29 2 *"  # the nightly schedule must not fire during the test


@pytest.mark.slow
def test_a_batch_dropped_into_the_watched_folder_is_screened(tmp_path):
    shutil.copytree(SAMPLE / "drop", tmp_path / "county" / "drop")
    shutil.copytree(SAMPLE / "truth", tmp_path / "county" / "truth")
    make_batch(tmp_path / "county")
    drop, out, inbox = tmp_path / "county" / "batch" / "drop", tmp_path / "out", tmp_path / "batches"
    inbox.mkdir()
    night = subprocess.run([sys.executable, "-m", "hecha.flows.cli", "run", "--drop", str(drop), "--out", str(out)],
                           capture_output=True, text=True)
    assert night.returncode == 0, night.stderr
    # `hecha serve` as an operator starts it: its own Prefect server, scheduler on (the tests' server runs none)
    env = {name: value for name, value in os.environ.items() if not name.startswith("PREFECT_")}
    env |= {"PREFECT_HOME": str(tmp_path / "prefect"), "PREFECT_RUNNER_POLL_FREQUENCY": "1",
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
    command = [sys.executable, "-m", "hecha.flows.cli", "serve", "--drop", str(drop), "--out", str(out), "--cron", NEVER_SOON,
               "--batches", str(inbox), "--port", "0"]
    log = (tmp_path / "serve.log").open("w")
    process = subprocess.Popen(command, cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 90
        while "being served" not in (tmp_path / "serve.log").read_text() and time.monotonic() < deadline:
            assert process.poll() is None, (tmp_path / "serve.log").read_text()
            time.sleep(1)
        (batch,) = (tmp_path / "county" / "batch").glob("发放名册_*.csv")
        shutil.copyfile(batch, inbox / batch.name)
        deadline = time.monotonic() + 240
        while not list((inbox / "done").glob("*")) and time.monotonic() < deadline:
            assert process.poll() is None, (tmp_path / "serve.log").read_text()
            time.sleep(2)
        assert [path.name.endswith(batch.name) for path in (inbox / "done").iterdir()] == [True], (tmp_path / "serve.log").read_text()
        screens = [path for path in (out / "screens").iterdir() if not path.name.startswith(".")]
        assert len(screens) == 1 and (screens[0] / "cleaned" / batch.name).is_file()
    finally:
        process.send_signal(signal.SIGTERM)  # serve stops what runs and its server within STOP_SECONDS
        process.wait(timeout=60)
