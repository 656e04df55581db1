"""A province on Prefect workers: wall time against what the counties cost, and each worker's memory.

    python -m bench.province --sample DIR --workers 2 [--repeat 3] [--poll 10]

`DIR` is the province generator's output (`python -m data.sample.province
--out DIR --counties N --households H --seed S`; its county drops are
`DIR/drops/<code>/`), or a folder of county drops itself. The bench starts a
Prefect server (its own PREFECT_HOME, on the loopback) and `--workers`
`prefect worker start --pool hecha --limit 1` processes, each polling every
`--poll` seconds (Prefect's default is 10), then runs `hecha province` as an
operator would, `--repeat` times, each into a fresh out folder. It prints,
as medians over the repeats:

- the province's wall time (the `hecha province` command, start to exit);
- each county's run time: how long it waited on the pool (created to Pending: no
  worker free yet), the flow-run process's start (from its worker taking
  the run, Pending, to the flow running), the flow run's duration on its
  worker, the run's own time in run.json (started_at → finished_at), and the
  difference of the last two (what the flow costs beyond the run);
- the target `1.2 × sum(county times) ÷ workers + cross stage` read two ways, and
  the wall time against each: the strict one (a county's time is its flow run,
  Running to Completed; the stage is the cross-county checks alone) and the
  one a worker sees (a county's time runs from its worker taking it, the
  flow-run process's start included; the stage after the counties is the
  cross-county checks and the publication: report, workbooks, history);
- the cross stage's time (as `hecha province` reports it);
- each worker's peak memory: the worker process and all its children (the
  county runs' processes), RSS summed and sampled every 0.2 s from /proc;
- for comparison, `hecha run` on the first county drop, alone (wall time).

The server's own start (until it answers) is printed once. Linux only (/proc).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from unittest import mock

from hecha.flows.server import descendants, start_server, stop_processes

HECHA = [sys.executable, "-m", "hecha.flows.cli"]
SAMPLE_SECONDS = 0.2
PAGE_BYTES = os.sysconf("SC_PAGE_SIZE")
TARGET_FACTOR = 1.2


def rss_bytes(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE_BYTES
    except (OSError, IndexError, ValueError):
        return 0


class PeakMemory:
    """Samples, every 0.2 s, the summed RSS of each watched process with all its descendants; keeps each peak."""

    def __init__(self, pids: dict[str, int]):
        self.pids = pids
        self.peaks = dict.fromkeys(pids, 0)
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self.sample, daemon=True)

    def sample(self) -> None:
        while not self.stopping.is_set():
            for name, pid in self.pids.items():
                total = sum(rss_bytes(each) for each in {pid} | descendants(pid))
                self.peaks[name] = max(self.peaks[name], total)
            self.stopping.wait(SAMPLE_SECONDS)

    def __enter__(self) -> PeakMemory:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stopping.set()
        self.thread.join()


def drops_root(sample: Path) -> Path:
    return sample / "drops" if (sample / "drops").is_dir() else sample


def start_workers(count: int, env: dict[str, str], logs: Path) -> dict[str, subprocess.Popen]:
    workers = {}
    for number in range(1, count + 1):
        name = f"bench-worker-{number}"
        workers[name] = subprocess.Popen(
            [sys.executable, "-m", "prefect", "worker", "start", "--pool", "hecha", "--limit", "1", "--name", name],
            cwd=logs, env=env, stdout=(logs / f"{name}.log").open("w"), stderr=subprocess.STDOUT,
        )
    return workers


def county_flow_runs(url: str, since: float) -> dict[str, tuple[object, float | None]]:
    """The county runs started since `since` (epoch seconds), by county code, each with the seconds from its worker
    taking it (Pending) to its flow starting (Running): the flow-run process's start."""
    from prefect.client.orchestration import get_client
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings(updates={PREFECT_API_URL: url}), get_client(sync_client=True) as client:
        runs = client.read_flow_runs(limit=200, sort="START_TIME_ASC")
        found = {}
        for run in runs:
            if "province" not in run.tags or not run.start_time or run.start_time.timestamp() < since:
                continue
            times = {state.type.value: state.timestamp for state in client.read_flow_run_states(run.id)}
            start = (times["RUNNING"] - times["PENDING"]).total_seconds() if {"RUNNING", "PENDING"} <= times.keys() else None
            queued = (times["PENDING"] - run.created).total_seconds() if "PENDING" in times and run.created else None
            found[run.name] = (run, start, queued)
    return found


def run_json_seconds(out: Path, code: str) -> float | None:
    """The county run's own time, from its record: started_at to finished_at."""
    import datetime as dt

    for path in (out / "counties" / code).glob("[!.]*/run.json"):
        record = json.loads(path.read_text(encoding="utf-8"))
        return (dt.datetime.fromisoformat(record["finished_at"]) - dt.datetime.fromisoformat(record["started_at"])).total_seconds()
    return None


def province_once(drops: Path, out: Path, env: dict[str, str], url: str, workers: dict[str, subprocess.Popen]) -> dict:
    since = time.time()
    with PeakMemory({name: worker.pid for name, worker in workers.items()}) as memory:
        started = time.perf_counter()
        finished = subprocess.run(HECHA + ["province", "--drops", str(drops), "--out", str(out)], env=env,
                                  capture_output=True, text=True)
        wall = time.perf_counter() - started
    if finished.returncode not in (0, 4):
        raise SystemExit(f"hecha province exited {finished.returncode}:\n{finished.stdout}\n{finished.stderr[-3000:]}")
    cross = re.search(r"^cross-county checks: ([0-9.]+) s", finished.stdout, re.M)
    runs = county_flow_runs(url, since - 1)
    counties = {}
    for code, (run, start, queued) in sorted(runs.items()):
        flow_seconds = (run.end_time - run.start_time).total_seconds() if run.end_time else None
        counties[code] = {"flow_run": flow_seconds, "run_json": run_json_seconds(out, code), "start": start, "queued": queued,
                          "state": run.state_name, "worker": run.labels.get("prefect.worker.name")}
    print(finished.stdout, flush=True)
    published = re.search(r"^province: (.+)$", finished.stdout, re.M)
    record = Path(published.group(1).strip()) / "run.json" if published else None
    timings = json.loads(record.read_text(encoding="utf-8")).get("timings_seconds", {}) if record and record.exists() else {}
    return {"wall": wall, "cross": float(cross.group(1)) if cross else None, "publish": timings.get("publish"),
            "counties": counties, "peaks": memory.peaks,
            "exit": finished.returncode}


def hecha_run_seconds(drop: Path, scratch: Path) -> float:
    out = Path(tempfile.mkdtemp(dir=scratch))
    env = {name: value for name, value in os.environ.items() if not name.startswith("PREFECT_")}
    started = time.perf_counter()
    finished = subprocess.run(HECHA + ["run", "--drop", str(drop), "--out", str(out)], env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if finished.returncode != 0:
        raise SystemExit(f"hecha run failed:\n{finished.stderr[-2000:]}")
    shutil.rmtree(out)
    return seconds


def median(values) -> float | None:
    values = [value for value in values if value is not None]
    return statistics.median(values) if values else None


def seconds_text(value: float | None) -> str:
    return f"{value:8.2f} s" if value is not None else "       - s"


def report(rounds: list[dict], workers: int, hecha_run: float | None) -> None:
    codes = sorted({code for one in rounds for code in one["counties"]})
    print(f"{len(rounds)} round(s), {workers} worker(s), {len(codes)} counties; medians")
    print(f"  {'county':<8} {'queued':>10} {'start':>10} {'flow run':>10} {'run.json':>10} {'overhead':>10}  worker(s), state")
    sums = []
    for one in rounds:
        sums.append(sum(county["flow_run"] or 0 for county in one["counties"].values()))
    for code in codes:
        starts = [one["counties"][code]["start"] for one in rounds if code in one["counties"]]
        queued = [one["counties"][code]["queued"] for one in rounds if code in one["counties"]]
        flows = [one["counties"][code]["flow_run"] for one in rounds if code in one["counties"]]
        records = [one["counties"][code]["run_json"] for one in rounds if code in one["counties"]]
        overheads = [flow - record for flow, record in zip(flows, records) if flow is not None and record is not None]
        names = sorted({one["counties"][code]["worker"] or "-" for one in rounds if code in one["counties"]})
        states = sorted({one["counties"][code]["state"] for one in rounds if code in one["counties"]})
        print(f"  {code:<8} {seconds_text(median(queued))} {seconds_text(median(starts))} {seconds_text(median(flows))} {seconds_text(median(records))} {seconds_text(median(overheads))}  "
              f"{', '.join(names)}; {', '.join(states)}")
    # a county's time on its worker: from the worker taking it (Pending) to its end, its process's start included
    on_workers = [sum((county["flow_run"] or 0) + (county["start"] or 0) for county in one["counties"].values())
                  for one in rounds]
    targets = [TARGET_FACTOR * total / workers + (one["cross"] or 0) for one, total in zip(rounds, sums)]
    stage = [(one["cross"] or 0) + (one["publish"] or 0) for one in rounds]
    targets_on_workers = [TARGET_FACTOR * total / workers + after for total, after in zip(on_workers, stage)]
    wall = median(one["wall"] for one in rounds)
    target, target_on_workers = median(targets), median(targets_on_workers)
    print(f"  sum of county flow runs     {seconds_text(median(sums))}  (Running to Completed)")
    print(f"  sum of county times on workers {seconds_text(median(on_workers))}  (taken by a worker to Completed)")
    print(f"  cross stage                 {seconds_text(median(one['cross'] for one in rounds))}  (the cross-county checks)")
    print(f"  publication                 {seconds_text(median(one['publish'] for one in rounds))}  (report, workbooks, history)")
    print(f"  target 1.2 × flow runs ÷ {workers} + cross checks        {seconds_text(target)}")
    print(f"  target 1.2 × times on workers ÷ {workers} + cross stage and publication {seconds_text(target_on_workers)}")
    print(f"  province wall               {seconds_text(wall)}"
          + (f"  ({wall / target:.2f} × the first target, {wall / target_on_workers:.2f} × the second)" if target else ""))
    for name in sorted(rounds[0]["peaks"]):
        peak = median(one["peaks"][name] for one in rounds)
        print(f"  {name} peak memory  {peak / 2**20:8.0f} MiB (worker and its flow-run processes)")
    if hecha_run is not None:
        print(f"  hecha run on one county, alone (no Prefect): {seconds_text(hecha_run)}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.province", description=__doc__.splitlines()[0])
    parser.add_argument("--sample", required=True, type=Path, help="the province generator's output, or a folder of county drops")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--poll", type=float, default=10, help="seconds between a worker's polls (PREFECT_WORKER_QUERY_SECONDS)")
    args = parser.parse_args(argv)
    drops = drops_root(args.sample).resolve()
    with tempfile.TemporaryDirectory(prefix="bench-province-") as folder:
        scratch = Path(folder)
        env = {name: value for name, value in os.environ.items() if not name.startswith("PREFECT_")}
        env |= {"PREFECT_HOME": str(scratch / "prefect"), "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
        (scratch / "prefect").mkdir()
        started = time.perf_counter()
        with mock.patch.dict(os.environ, env, clear=True):
            server, url = start_server()
        print(f"Prefect server answered after {time.perf_counter() - started:.1f} s ({url})")
        env |= {"PREFECT_API_URL": url, "PREFECT_WORKER_QUERY_SECONDS": f"{args.poll:g}"}
        workers = start_workers(args.workers, env, scratch)
        try:
            rounds = []
            for number in range(args.repeat):
                one = province_once(drops, scratch / f"out-{number}", env, url, workers)
                print(f"round {number + 1}: {one['wall']:.1f} s, exit {one['exit']}", flush=True)
                rounds.append(one)
                shutil.rmtree(scratch / f"out-{number}", ignore_errors=True)
            # the reference: the first county every round published, run alone
            published = sorted(set.intersection(*({code for code, county in one["counties"].items()
                                                    if county["state"] == "Completed"} for one in rounds)))
            hecha_run = hecha_run_seconds(drops / published[0], scratch) if published else None
        finally:
            stop_processes({worker.pid for worker in workers.values()}, 20)  # a worker stops its flow runs
            for worker in workers.values():
                worker.wait()
            stop_processes({server.pid}, 10)
            server.wait()
    report(rounds, args.workers, hecha_run)
    return 0


if __name__ == "__main__":
    sys.exit(main())
