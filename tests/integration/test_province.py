"""A province on Prefect workers: `hecha province` against its own Prefect server and two worker processes.

As an operator runs it: a Prefect server (its own PREFECT_HOME), two
`prefect worker start --pool hecha` processes and the `hecha province` command,
each in its own process, on a province of three counties and a fourth whose
payments file has a header given twice. The province is run once for the
module; the tests read what it left. Everything is stopped before the tests
look, so that no process may outlive it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from unittest import mock

import pytest

from bench.province_quality import score

from hecha.extracts.read import detect_encoding
from hecha.flows.cli import EXIT_INPUT_ERROR, EXIT_PARTIAL, main
from hecha.flows.server import descendants, start_server, stop_processes

ROOT = Path(__file__).resolve().parents[2]
SAMPLE_DROP = ROOT / "data" / "sample" / "drop"
BROKEN = "130599"  # the county whose payments file names 证号 twice
WORKERS = ("worker-a", "worker-b")
CITIZEN_NUMBER = re.compile(r"(?<![0-9])[0-9]{17}[0-9Xx](?![0-9])")
PROVINCE_SECONDS = 240
# Counties of a few hundred households: a handful of noisy numbers is more than 5% of a small roster
POLICY = "inputs:\n  max_unusable_id_share: 0.25\n"


def clean_environment(home: Path) -> dict[str, str]:
    """This process's environment without its Prefect settings (the session's test server), with its own home."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("PREFECT_")}
    return env | {"PREFECT_HOME": str(home), "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}


def alive(pid: int) -> bool:
    state = Path(f"/proc/{pid}/stat")
    try:
        return state.read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def make_province(root: Path) -> Path:
    """The province's drops root: the province generator's three counties, and a fourth county whose drop is broken."""
    subprocess.run([sys.executable, "-m", "data.sample.province", "--out", str(root), "--counties", "3",
                    "--households", "300", "--seed", "7"], cwd=ROOT, check=True, capture_output=True, timeout=300)
    first = sorted((root / "drops").iterdir())[0]
    assert not (root / "drops" / BROKEN).exists()
    copy_county(first, root / "drops" / BROKEN, BROKEN)
    name_a_header_twice(root / "drops" / BROKEN / "payments.csv")
    return root / "drops"


def copy_county(drop: Path, folder: Path, code: str) -> None:
    shutil.copytree(drop, folder)
    manifest = folder / "manifest.yaml"
    manifest.write_text(re.sub(r"(?m)^county:.*$", f'county: "{code}"', manifest.read_text(encoding="utf-8")), encoding="utf-8")


def name_a_header_twice(path: Path) -> None:
    """姓名 headed 证号: the file then has two 证号 columns, which the loader refuses."""
    data = path.read_bytes()
    encoding = detect_encoding(data)
    header, rest = data.decode(encoding).split("\n", 1)
    assert "姓名" in header and "证号" in header
    path.write_bytes((header.replace("姓名", "证号", 1) + "\n" + rest).encode(encoding))


@dataclass
class Province:
    root: Path
    out: Path
    result: subprocess.CompletedProcess
    seconds: float
    flow_runs: list
    left_running: set[int]
    started: set[int]


@pytest.fixture(scope="module")
def province(tmp_path_factory) -> Province:
    root = tmp_path_factory.mktemp("province")
    drops, out = make_province(root), root / "out"
    env = clean_environment(root / "prefect")
    with mock.patch.dict(os.environ, env, clear=True):
        server, url = start_server()
    env |= {"PREFECT_API_URL": url, "PREFECT_WORKER_QUERY_SECONDS": "1", "PREFECT_LOGGING_LEVEL": "INFO"}
    workers = [subprocess.Popen([sys.executable, "-m", "prefect", "worker", "start", "--pool", "hecha", "--limit", "1",
                                 "--name", name], cwd=root, env=env, stdout=(root / f"{name}.log").open("w"),
                                stderr=subprocess.STDOUT)
               for name in WORKERS]
    everyone: set[int] = set()
    try:
        started = time.monotonic()
        (root / "province.yaml").write_text(POLICY, encoding="utf-8")
        command = [sys.executable, "-m", "hecha.flows.cli", "province", "--drops", str(drops), "--out", str(out),
                   "--policy", str(root / "province.yaml")]
        result = subprocess.run(command, cwd=root, env=env, capture_output=True, text=True, timeout=PROVINCE_SECONDS)
        seconds = time.monotonic() - started
        flow_runs = read_flow_runs(url)
        everyone = {server.pid, *(worker.pid for worker in workers)}
        everyone |= set().union(*(descendants(pid) for pid in everyone))
        everyone |= {int(run.infrastructure_pid) for run in flow_runs if (run.infrastructure_pid or "").isdigit()}
    finally:
        for worker in workers:  # as an operator stops a worker: SIGTERM, the worker stops its flow runs
            worker.send_signal(signal.SIGTERM)
        for worker in workers:
            try:
                worker.wait(timeout=30)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait()
        stop_processes({server.pid}, 10)
        server.wait()
    deadline = time.monotonic() + 10
    while any(alive(pid) for pid in everyone) and time.monotonic() < deadline:
        time.sleep(0.2)
    return Province(root, out, result, seconds, flow_runs, {pid for pid in everyone if alive(pid)}, everyone)


def read_flow_runs(url: str) -> list:
    from prefect.client.orchestration import get_client
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings(updates={PREFECT_API_URL: url}), get_client(sync_client=True) as client:
        return client.read_flow_runs(limit=50, sort="START_TIME_ASC")


def publication(province: Province) -> Path:
    (folder,) = [path for path in province.out.iterdir() if re.fullmatch(r"\d{4}-\d{2}_\d{8}T\d+", path.name)]
    return folder


def explain(province: Province) -> str:
    logs = "\n".join(f"--- {path.name}\n{path.read_text(errors='replace')[-3000:]}" for path in province.root.glob("worker-*.log"))
    return f"exit {province.result.returncode}\n--- stdout\n{province.result.stdout}\n--- stderr\n{province.result.stderr[-3000:]}\n{logs}"


def counties_of(province: Province) -> list[str]:
    return sorted(path.name for path in (province.root / "drops").iterdir() if path.name != BROKEN)


def test_province_publishes_every_county_but_the_broken_one_and_says_so_in_its_exit_code(province):
    assert province.result.returncode == EXIT_PARTIAL, explain(province)
    assert province.seconds < PROVINCE_SECONDS
    lines = province.result.stdout.splitlines()
    statuses = {line.split()[0]: line.split()[1] for line in lines if re.match(r"\d{6} ", line)}
    assert statuses == {**{code: "published" for code in counties_of(province)}, BROKEN: "failed"}, explain(province)
    assert lines[-1] == f"province: {publication(province)}"
    for code in counties_of(province):
        runs = [path for path in (province.out / "counties" / code).iterdir() if path.is_dir() and not path.name.startswith(".")]
        (run_dir,) = runs
        record = json.loads((run_dir / "run.json").read_text(encoding="utf-8"))
        assert (record["status"], record["parameters"]["county"]) == ("succeeded", code)
        assert record["policy"]["inputs"]["max_unusable_id_share"] == 0.25  # the province's policy reached the worker
        export = json.loads((province.out / "store" / code / "export.json").read_text(encoding="utf-8"))
        assert (export["county"], export["run_id"]) == (code, run_dir.name)
        assert all((province.out / "store" / code / f"{table}.parquet").is_file() for table in export["rows"])
    assert not (province.out / "store" / BROKEN).exists()
    (work,) = (province.out / "counties" / BROKEN).glob(".work-*")
    assert json.loads((work / "run.json").read_text(encoding="utf-8"))["status"] == "failed"


def test_the_failed_county_is_named_with_its_reason_and_no_citizen_number(province):
    folder = publication(province)
    record = json.loads((folder / "province.json").read_text(encoding="utf-8"))
    (broken,) = [county for county in record["counties"] if county["county"] == BROKEN]
    assert broken["status"] == "failed"
    assert "payments.csv" in broken["error"] and "证号" in broken["error"] and "\n" not in broken["error"]
    published = {county["county"]: county for county in record["counties"] if county["status"] == "published"}
    assert sorted(published) == counties_of(province)
    assert all(county["error"] is None and county["run_id"] for county in published.values())
    assert {"counties", "cross"} <= record["timings_seconds"].keys()  # the fan-out's and the cross stage's times
    assert re.search(rf"^cross-county checks: {record['timings_seconds']['cross']:.1f} s", province.result.stdout, re.M)
    reports = [path for path in folder.rglob("*") if path.suffix in (".html", ".txt", ".md")]
    assert any(BROKEN in text and "payments.csv" in text for text in (path.read_text(encoding="utf-8") for path in reports))
    (line,) = [line for line in province.result.stdout.splitlines() if line.startswith(BROKEN)]
    assert "payments.csv" in line
    assert not CITIZEN_NUMBER.search(province.result.stdout + province.result.stderr)
    assert not CITIZEN_NUMBER.search(broken["error"])


def test_the_county_runs_were_shared_by_both_workers(province):
    county_runs = [run for run in province.flow_runs if run.name in {*counties_of(province), BROKEN}]
    assert len(county_runs) == 4, [(run.name, run.state_name) for run in province.flow_runs]
    assert {run.labels.get("prefect.worker.name") for run in county_runs} == set(WORKERS)
    assert len({run.infrastructure_pid for run in county_runs}) == 4  # each county in a flow-run process of its own
    assert {run.name: run.state_name for run in county_runs} == {**{code: "Completed" for code in counties_of(province)},
                                                                  BROKEN: "Failed"}
    for code in counties_of(province):  # each county's line names the worker that ran it
        (run,) = [run for run in county_runs if run.name == code]
        (line,) = [line for line in province.result.stdout.splitlines() if line.startswith(code)]
        assert run.labels["prefect.worker.name"] in line


def test_nothing_is_left_running(province):
    assert province.started  # the server, the workers and the county runs' processes
    assert province.left_running == set()


def test_cross_findings_are_the_provinces_truth(province):
    figures = score(publication(province), province.root / "truth")
    overall = figures["overall"]
    assert overall["truth"], "the generator planted no cross-county finding"
    assert overall["hecha"] == overall["right"] == overall["found"] == overall["truth"]  # precision and recall 1.0
    # every finding with the truth's other county, months and money
    assert overall["same_other_county"] == overall["same_period"] == overall["same_amount"] == overall["truth"]
    assert figures["near_misses"] and not figures["near_misses_raised"]


# --- refused in one line, before anything runs ------------------------------------------------------------------------


@pytest.fixture
def operator_environment(monkeypatch, tmp_path):
    for name in [name for name in os.environ if name.startswith("PREFECT_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("PREFECT_HOME", str(tmp_path / "prefect"))
    drops = tmp_path / "drops"
    copy_county(SAMPLE_DROP, drops / "130501", "130501")
    return drops


def refusal(capsys, *arguments: str) -> str:
    assert main(["province", *arguments]) == EXIT_INPUT_ERROR
    captured = capsys.readouterr()
    assert captured.out == "" and len(captured.err.strip().splitlines()) == 1, captured.err
    return captured.err


def test_province_without_a_prefect_server_named_says_what_to_start(operator_environment, tmp_path, capsys):
    error = refusal(capsys, "--drops", str(operator_environment), "--out", str(tmp_path / "out"))
    assert "PREFECT_API_URL" in error and "prefect worker start --pool hecha" in error and "prefect server start" in error
    assert not (tmp_path / "out").exists()


def test_province_refuses_a_missing_drops_folder_an_empty_one_and_an_unreachable_server(operator_environment, tmp_path,
                                                                                       capsys, monkeypatch):
    monkeypatch.setenv("PREFECT_API_URL", "http://127.0.0.1:9/api")  # the discard port: nothing answers there
    assert "not found" in refusal(capsys, "--drops", str(tmp_path / "nowhere"), "--out", str(tmp_path / "out"))
    (tmp_path / "empty" / "notes").mkdir(parents=True)
    assert "no county drop" in refusal(capsys, "--drops", str(tmp_path / "empty"), "--out", str(tmp_path / "out"))
    assert "does not answer" in refusal(capsys, "--drops", str(operator_environment), "--out", str(tmp_path / "out"))
    assert "--as-of" in refusal(capsys, "--drops", str(operator_environment), "--out", str(tmp_path / "out"), "--as-of", "2026-13")
    assert not (tmp_path / "out").exists()


# --- the counties a drops folder holds, and how a finished county run reads -------------------------------------------


def test_county_drops_are_found_by_manifest_and_the_unreadable_ones_are_failed_counties_named_by_folder(tmp_path):
    from hecha.flows.province import find_county_drops

    drops = tmp_path / "drops"
    copy_county(SAMPLE_DROP, drops / "a", "130501")
    copy_county(SAMPLE_DROP, drops / "b", "130502")
    copy_county(SAMPLE_DROP, drops / "same", "130501")  # a second drop of county 130501
    copy_county(SAMPLE_DROP, drops / "broken", "130503")
    (drops / "broken" / "manifest.yaml").write_text('county: "130503\nas_of: [', encoding="utf-8")
    copy_county(SAMPLE_DROP, drops / "nameless", "130504")
    (drops / "nameless" / "manifest.yaml").write_text('as_of: "2026-10"\n', encoding="utf-8")
    (drops / "notes").mkdir()  # no drop in it: not a county
    (drops / "notes" / "readme.txt").write_text("not a drop", encoding="utf-8")

    found, refused = find_county_drops(drops)

    assert [(drop.folder.name, drop.county, drop.as_of) for drop in found] == [("a", "130501", "2026-10"), ("b", "130502", "2026-10")]
    assert {county["folder"]: (county["county"], county["status"]) for county in refused} == {
        "broken": (None, "failed"), "nameless": (None, "failed"), "same": (None, "failed"),  # no code to name them by
    }
    reasons = {county["folder"]: county["error"] for county in refused}
    assert "manifest.yaml" in reasons["broken"] and "YAML" in reasons["broken"]
    assert "names no county" in reasons["nameless"]
    assert "130501" in reasons["same"] and "another drop" in reasons["same"]


def test_a_county_folder_whose_manifest_names_another_county_is_failed_under_its_folders_code(tmp_path):
    from hecha.flows.province import find_county_drops

    drops = tmp_path / "drops"
    copy_county(SAMPLE_DROP, drops / "130501", "130501")
    shutil.copytree(drops / "130501", drops / "130502")  # copied, its manifest left saying 130501
    copy_county(SAMPLE_DROP, drops / "130503", "13050")

    found, refused = find_county_drops(drops)

    assert [drop.county for drop in found] == ["130501"]
    assert [(county["county"], county["status"]) for county in refused] == [("130502", "failed"), ("130503", "failed")]
    assert "says county 130501" in refused[0]["error"] and "6-digit" in refused[1]["error"]


class FlowRunSeen:
    """What the province reads of a finished county flow run."""

    def __init__(self, completed: bool, message: str | None = None):
        from prefect.states import Completed, Failed

        self.state = Completed() if completed else Failed(message=message)
        self.labels = {"prefect.worker.name": "worker-a"}
        self.infrastructure_pid = "4242"
        self.start_time = self.end_time = None


def test_a_county_whose_drop_is_earlier_than_the_province_is_late_and_one_as_of_the_province_published(tmp_path):
    from hecha.flows.province import CountyDrop, finished_county

    store = tmp_path / "store"
    for code, as_of in (("130501", "2026-09"), ("130502", "2026-10")):
        (store / code).mkdir(parents=True)
        (store / code / "export.json").write_text(json.dumps({"county": code, "run_id": f"{as_of}_x", "as_of": as_of, "rows": {}}),
                                                  encoding="utf-8")
    late = finished_county(CountyDrop(tmp_path, "130501", "2026-09"), FlowRunSeen(True), tmp_path, str(store), "2026-10")
    on_time = finished_county(CountyDrop(tmp_path, "130502", "2026-10"), FlowRunSeen(True), tmp_path, str(store), "2026-10")
    assert (late["status"], late["as_of"], late["run_id"]) == ("late", "2026-09", "2026-09_x")
    assert (on_time["status"], on_time["run_dir"]) == ("published", str(tmp_path / "counties" / "130502" / "2026-10_x"))
    assert on_time["worker"] == "worker-a (pid 4242)"


def test_a_failed_county_run_gives_one_line_with_citizen_numbers_masked(tmp_path):
    from hecha.flows.province import CountyDrop, county_line, finished_county

    message = ("Flow run encountered an exception: ConversionException: Could not convert string '130534199604164518'\n"
               "LINE 1: select ...")
    failed = finished_county(CountyDrop(tmp_path, "130501", "2026-10"), FlowRunSeen(False, message), tmp_path,
                             str(tmp_path / "store"), "2026-10")
    assert failed["status"] == "failed" and failed["run_id"] is None
    assert failed["error"] == "ConversionException: Could not convert string '130534********4518' LINE 1: select ..."
    line = county_line(failed)
    assert line.startswith("130501   failed") and "\n" not in line and not CITIZEN_NUMBER.search(line)
