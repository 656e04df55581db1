"""A payment batch screened before it is paid: `hecha screen` timed after a night and from a cold start, and scored.

    python -m bench.screen --sample DIR [--repeat 3] [--cold 2]

DIR is a generator output with its batch (`python -m data.sample.generate
--out DIR --batch`, or `python -m data.sample.batch --sample DIR`):
DIR/batch/drop/ is the night's drop, DIR/batch/发放名册_<YYYYMM>.csv the
batch and DIR/batch/truth.csv what each line should get.

Once: the nightly run on the batch's drop, in a fresh process (the reference,
measured in the same run). Then `--repeat` times, each in a fresh process:
`hecha screen --batch …` against that night — the wall time from starting
the command to its exit (interpreter and imports included), the screen's own
stages from its record, and the process's peak memory. Then `--cold` times, on
an empty out folder: `hecha screen --batch … --drop …`, the night run first
and then the screen, as a bureau's first screen would. Last, the screen's
verdicts scored against the truth (bench/screen_quality.py). Nothing is asserted.
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

from bench.run import measure_run, spread

GIB = 1024**3


def batch_files(sample: Path) -> tuple[Path, Path, Path]:
    """The batch's drop, the batch file and its truth in a generator output folder."""
    folder = sample / "batch"
    batches = sorted(folder.glob("发放名册_*.*"))
    if not (folder / "drop").is_dir() or not batches:
        raise SystemExit(f"{sample}: no batch (run `python -m data.sample.batch --sample {sample}` first)")
    return folder / "drop", batches[0], folder / "truth.csv"


def hecha(*arguments: str) -> float:
    """`hecha ARGUMENTS` in a fresh process: wall seconds from start to exit."""
    started = time.perf_counter()
    finished = subprocess.run([sys.executable, "-m", "hecha.flows.cli", *arguments], capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if finished.returncode != 0:
        raise RuntimeError(f"hecha {arguments[0]} failed: {finished.stderr.strip().splitlines()[-3:]}")
    return seconds


def latest_screen(out: Path) -> Path:
    screens = sorted(path for path in (out / "screens").iterdir() if not path.name.startswith("."))
    return screens[-1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.screen", description=__doc__.splitlines()[0])
    parser.add_argument("--sample", type=Path, required=True, help="a generator output folder with its batch/")
    parser.add_argument("--repeat", type=int, default=3, help="screens after the night")
    parser.add_argument("--cold", type=int, default=2, help="screens from a cold start (night run first)")
    parser.add_argument("--accept-unusable-ids", action="store_true",
                        help="run the night although a file's numbers are unusable beyond the policy's share (noisy drops)")
    parser.add_argument("--measure", choices=("night",), help=argparse.SUPPRESS)  # child process entry
    parser.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    drop, batch, truth = batch_files(args.sample)
    if args.measure == "night":
        print(json.dumps(measure_run(drop, args.work, accept_unusable_ids=args.accept_unusable_ids)))
        return 0
    with tempfile.TemporaryDirectory(prefix="hecha-bench-screen-") as tmp:
        work = Path(tmp)
        print("night…", file=sys.stderr, flush=True)
        accept = ["--accept-unusable-ids"] if args.accept_unusable_ids else []
        finished = subprocess.run([sys.executable, "-m", "bench.screen", "--sample", str(args.sample), "--measure", "night",
                                   "--work", str(work / "out"), *accept], capture_output=True, text=True, check=True)
        night = json.loads(finished.stdout.strip().splitlines()[-1])
        after, records = [], []
        for attempt in range(args.repeat):
            seconds = hecha("screen", "--batch", str(batch), "--out", str(work / "out"))
            record = json.loads((latest_screen(work / "out") / "screen.json").read_text(encoding="utf-8"))
            after.append(seconds)
            records.append(record)
            print(f"  {attempt + 1}/{args.repeat}: screen after the night {seconds:.1f} s", file=sys.stderr, flush=True)
        cold = []
        for attempt in range(args.cold):
            out = work / f"cold-{attempt}"
            seconds = hecha("screen", "--batch", str(batch), "--out", str(out), "--drop", str(drop), *accept)
            cold.append(seconds)
            print(f"  {attempt + 1}/{args.cold}: cold screen {seconds:.1f} s", file=sys.stderr, flush=True)
            shutil.rmtree(out)
        screen_dir = latest_screen(work / "out")
        record = records[-1]
        lines = [
            f"\n{batch.name}: {record['counts']['lines']:,} lines for {record['month']}, night {night['seconds']:.1f} s "
            f"(peak {night['peak_bytes'] / GIB:.2f} GB)",
            f"{'step':28s} {'seconds, median (min–max)':>28s}", "-" * 58,
        ]
        for stage in record["timings_seconds"]:
            lines.append(f"{stage:28s} {spread([r['timings_seconds'][stage] for r in records], digits=2):>28s}")
        for step in record.get("judge_timings_seconds", {}):
            lines.append(f"{'  judge: ' + step:28s} {spread([r['judge_timings_seconds'][step] for r in records], digits=2):>28s}")
        lines.append(f"{'hecha screen, after a night':28s} {spread(after):>28s}   ÷ night {statistics.median(after) / night['seconds']:.2f}")
        if cold:
            lines.append(f"{'hecha screen --drop (cold)':28s} {spread(cold):>28s}   ÷ night {statistics.median(cold) / night['seconds']:.2f}")
        lines.append(f"screen peak memory: {spread([r['peak_bytes'] for r in records], GIB, 2)} GB")
        lines.append(f"verdicts: {record['counts']['block']:,} blocked ({record['amounts']['block']:,.2f} yuan), "
                     f"{record['counts']['hold']:,} held ({record['amounts']['hold']:,.2f} yuan), {record['counts']['pass']:,} passed")
        if truth.is_file():
            from bench.screen_quality import render, score

            lines.append(render(score(screen_dir, truth)))
        print("\n".join(lines), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
