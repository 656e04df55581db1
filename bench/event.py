"""A death file screened between nights: `hecha event` timed against the night it applies to.

    python -m bench.event --drop DIR [--rows 200] [--kind cremation|register] [--repeat 3] [--compare]

Once: the nightly run on the drop (in a fresh process, timed as `bench.run`
times it), and a death file of `--rows` rows written from the drop
(data/sample/events.py: paid register persons who died, rows without a
number, a namesake, an unreadable date). Then `--repeat` times, each on a
fresh copy of the night's out folder and in a fresh process: the event run
(`start_event` and its stages, as `hecha event` runs them), its wall time
and peak memory per stage, and the time until its findings are known (copy,
load, link, screen) apart from publishing them. With `--compare`, a full
run on the drop with the event applied, and the findings compared column
by column with the event run's. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.agree import disagreements
from bench.linkage import peak_rss_bytes, reset_peak_rss
from bench.run import measure_run, spread

SCREENED = ("copy_night", "load_event", "link_event", "screen_changes")


def measure_event(event_file: Path, out: Path) -> dict:
    """One event run in this process: seconds and peak bytes per stage, the whole run's, and the run folder."""
    from hecha.flows.event import event_stages, start_event
    from hecha.flows.stages import Progress, run_stages

    class Measured(Progress):
        def __init__(self) -> None:
            super().__init__()
            self.stages: dict[str, dict] = {}

        def started(self, run, name, number, total) -> None:
            reset_peak_rss()

        def done(self, run, name, seconds, number, total) -> None:
            self.stages[name] = {"seconds": seconds, "peak_bytes": peak_rss_bytes()}

    progress = Measured()
    started = time.perf_counter()
    run_dir = run_stages(start_event(event_file, out), event_stages(), progress)
    seconds = time.perf_counter() - started
    record = json.loads((run_dir / "run.json").read_text(encoding="utf-8"))
    return {"seconds": seconds, "stages": progress.stages, "run_dir": str(run_dir), "screened": record["event"]["screened"],
            "peak_bytes": max(stage["peak_bytes"] for stage in progress.stages.values())}


def child(*arguments: str) -> dict:
    finished = subprocess.run([sys.executable, "-m", "bench.event", *arguments], capture_output=True, text=True)
    if finished.returncode != 0:
        raise RuntimeError(f"bench.event {arguments[:2]} failed: {finished.stderr.strip().splitlines()[-3:]}")
    return json.loads(finished.stdout.strip().splitlines()[-1])


def compare(event_run: Path, full_drop: Path, work: Path) -> dict:
    """A full run on the drop with the event applied; its findings against the event run's."""
    from hecha.audit.history import published_runs
    from hecha.storage.secret import secret_path

    secret = secret_path(work / "full-out")  # the event run's secret, so persons and case keys compare
    secret.parent.mkdir(parents=True, mode=0o700)
    shutil.copyfile(secret_path(event_run.parent), secret)
    secret.chmod(0o600)
    full = measure_run(full_drop, work / "full-out")
    ours, theirs = disagreements(event_run / "hecha.duckdb", published_runs(work / "full-out")[-1] / "hecha.duckdb",
                                 ("chk.finding",))["chk.finding"]
    return {"full_run_seconds": full["seconds"], "only_in_event_run": len(ours), "only_in_full_run": len(theirs)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.event", description=__doc__.splitlines()[0])
    parser.add_argument("--drop", type=Path, help="the night's drop (required)")
    parser.add_argument("--rows", type=int, default=200, help="rows in the death file")
    parser.add_argument("--kind", choices=("cremation", "register"), default="cremation")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--compare", action="store_true", help="also a full run on the changed drop, findings compared")
    parser.add_argument("--measure", choices=("night", "event", "compare"), help=argparse.SUPPRESS)  # child process entry
    parser.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--event-file", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--event-run", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.measure == "night":
        print(json.dumps(measure_run(args.drop, args.work)))
        return 0
    if args.measure == "event":
        print(json.dumps(measure_event(args.event_file, args.work)))
        return 0
    if args.measure == "compare":
        print(json.dumps(compare(args.event_run, args.drop, args.work)))
        return 0
    if args.drop is None:
        parser.error("--drop is required")
    from data.sample.events import cremation_event, register_death_event

    with tempfile.TemporaryDirectory(prefix="hecha-bench-event-") as tmp:
        work = Path(tmp)
        print("night…", file=sys.stderr, flush=True)
        night = child("--measure", "night", "--drop", str(args.drop), "--work", str(work / "night-out"))
        make = cremation_event if args.kind == "cremation" else register_death_event
        event_file, full_drop = make(args.drop, work / "event", args.rows, 11)
        runs = []
        for attempt in range(args.repeat):
            out = work / f"out-{attempt}"
            shutil.copytree(work / "night-out", out)
            runs.append(child("--measure", "event", "--event-file", str(event_file), "--work", str(out)))
            print(f"  {attempt + 1}/{args.repeat}: event run {runs[-1]['seconds']:.1f} s", file=sys.stderr, flush=True)
            if attempt < args.repeat - 1:
                shutil.rmtree(out)
        gib = 1024**3
        screened = runs[-1]["screened"]
        lines = [
            f"\n{args.drop}: {args.kind} file of {args.rows} rows; night {night['seconds']:.1f} s, peak {night['peak_bytes'] / gib:.2f} GB",
            f"the event touched {screened['persons']:,} persons; " + (
                f"{screened['rows']:,} rows checked again, {screened['slice_findings']:,} findings for them, "
                f"{screened['night_findings_kept']:,} of the night's kept" if screened["sliced"] else "everyone checked again"),
            f"{'stage':24s} {'seconds, median (min–max)':>28s} {'peak GB, median (min–max)':>28s}", "-" * 82,
        ]
        for stage in runs[0]["stages"]:
            lines.append(f"{stage:24s} {spread([r['stages'][stage]['seconds'] for r in runs]):>28s} "
                         f"{spread([r['stages'][stage]['peak_bytes'] for r in runs], gib, 2):>28s}")
        known = [sum(r["stages"][stage]["seconds"] for stage in SCREENED) for r in runs]
        lines.append(f"{'findings known':24s} {spread(known):>28s}")
        lines.append(f"{'event run (all stages)':24s} {spread([r['seconds'] for r in runs]):>28s} "
                     f"{spread([r['peak_bytes'] for r in runs], gib, 2):>28s}")
        lines.append(f"event run / night: {statistics.median(r['seconds'] for r in runs) / night['seconds']:.2f}")
        if args.compare:
            print("full run on the changed drop…", file=sys.stderr, flush=True)
            compared = child("--measure", "compare", "--drop", str(full_drop), "--event-run", runs[-1]["run_dir"],
                             "--work", str(work / "compare"))
            lines.append(f"full run on the changed drop: {compared['full_run_seconds']:.1f} s; findings "
                         f"only in the event run: {compared['only_in_event_run']}, only in the full run: {compared['only_in_full_run']}")
        print("\n".join(lines), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
