"""What `hecha run` costs beyond its stages, and how fast it refuses bad input.

    python -m bench.run_overhead [--drop DIR] [--repeat 5]

Runs the `hecha` command as an operator would (a fresh process each time, a
fresh out folder each time) on `--drop` (default: the committed sample) and
prints, as medians of `--repeat` runs: the wall time, the sum of the stage
times the run recorded in run.json, their ratio (target ≤ 1.5 on the sample)
and the time outside every stage (target ≤ 2 s on a ~1M-person drop). Then
the time to report each kind of input error (target ≤ 3 s): a drop folder
that does not exist, and a drop whose payments file lacks a required column.
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

SAMPLE_DROP = Path(__file__).resolve().parents[1] / "data" / "sample" / "drop"
HECHA = [sys.executable, "-m", "hecha.flows.cli"]


def timed(command: list[str]) -> tuple[float, subprocess.CompletedProcess]:
    started = time.perf_counter()
    finished = subprocess.run(command, capture_output=True, text=True)
    return time.perf_counter() - started, finished


def run_once(drop: Path, scratch: Path) -> tuple[float, float]:
    """(wall seconds, sum of recorded stage seconds) of one `hecha run`."""
    out = Path(tempfile.mkdtemp(dir=scratch))
    wall, finished = timed(HECHA + ["run", "--drop", str(drop), "--out", str(out)])
    if finished.returncode != 0:
        raise SystemExit(f"hecha run failed:\n{finished.stderr[-2000:]}")
    (record_path,) = out.glob("[!.]*/run.json")
    stages = sum(json.loads(record_path.read_text(encoding="utf-8"))["timings_seconds"].values())
    shutil.rmtree(out)
    return wall, stages


def missing_column_drop(drop: Path, scratch: Path) -> Path:
    broken = scratch / "broken-drop"
    shutil.copytree(drop, broken)
    payments = next(broken.glob("payments.*"))
    if payments.suffix == ".csv":
        text = payments.read_text(encoding="utf-8-sig")
        header, rest = text.split("\n", 1)
        payments.write_text(header.replace("金额", "金 额 合计", 1) + "\n" + rest, encoding="utf-8")
    return broken


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--drop", type=Path, default=SAMPLE_DROP)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        scratch = Path(folder)
        timed(HECHA + ["checks"])  # warm the file cache for imports
        runs = [run_once(args.drop, scratch) for _ in range(args.repeat)]
        walls = [wall for wall, _ in runs]
        stages = [stage for _, stage in runs]
        ratios = [wall / stage for wall, stage in runs]
        outside = [wall - stage for wall, stage in runs]
        print(f"drop: {args.drop} ({args.repeat} runs, medians)")
        print(f"  hecha run wall        {statistics.median(walls):7.2f} s")
        print(f"  sum of stage times    {statistics.median(stages):7.2f} s")
        print(f"  wall / stages         {statistics.median(ratios):7.2f}   (target ≤ 1.5 on the sample)")
        print(f"  outside every stage   {statistics.median(outside):7.2f} s (target ≤ 2 s on ~1M persons)")
        broken = missing_column_drop(args.drop, scratch)
        cases = {
            "drop folder not found": HECHA + ["run", "--drop", str(scratch / "no-such-drop"), "--out", str(scratch / "o")],
            "payments lacks a column": HECHA + ["run", "--drop", str(broken), "--out", str(scratch / "o")],
        }
        print("input errors (one stderr line, exit 2; target ≤ 3 s):")
        for label, command in cases.items():
            results = [timed(command) for _ in range(args.repeat)]
            codes = {finished.returncode for _, finished in results}
            lines = results[0][1].stderr.strip().splitlines()
            print(f"  {label:<24} {statistics.median(t for t, _ in results):6.2f} s  exit {sorted(codes)}  "
                  f"last line: {lines[-1][:90] if lines else ''}")


if __name__ == "__main__":
    main()
