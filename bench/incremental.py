"""An incremental night against a full rebuild of the same drop: time, memory, and the same findings.

    python -m bench.incremental --drop DIR [--share 0.01] [--removals anywhere|end|none] [--repeat 3]

From `--drop`, two drops a night apart (data/sample/events.py `two_nights`):
`--share` of every file's rows changed the second night — a third changed in
place (register deaths among them), a third added, a third removed
(`--removals`: from anywhere in the file, every row after one moving up; from
its last rows; or none, as a roster that records a stop rather than deleting
the row) — and a few mistyped numbers corrected. The
first night runs once. Then, `--repeat` times, alternating, each in a fresh
process on a fresh copy of the folder after the first night: the second
night incremental, and the second night as a full rebuild (`--full`). It
prints per-stage medians (min–max) and peaks, incremental ÷ full, and
whether the last pair's findings (every column) and ledger shares agree.
Nothing is asserted.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.agree import disagreements
from bench.run import measure_run, spread



def child(*arguments: str) -> dict:
    finished = subprocess.run([sys.executable, "-m", "bench.incremental", *arguments], capture_output=True, text=True)
    if finished.returncode != 0:
        raise RuntimeError(f"bench.incremental {arguments[:2]} failed: {finished.stderr.strip().splitlines()[-3:]}")
    return json.loads(finished.stdout.strip().splitlines()[-1])


def differences(a: Path, b: Path) -> dict:
    """Rows of findings and of ledger shares in one folder's last run and not the other's."""
    from hecha.audit.history import published_runs

    found = disagreements(published_runs(a)[-1] / "hecha.duckdb", published_runs(b)[-1] / "hecha.duckdb")
    return {table: len(ours) + len(theirs) for table, (ours, theirs) in found.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.incremental", description=__doc__.splitlines()[0])
    parser.add_argument("--drop", type=Path, help="the drop the two nights are made from (required)")
    parser.add_argument("--share", type=float, default=0.01, help="share of each file's rows changed the second night")
    parser.add_argument("--removals", choices=("anywhere", "end", "none"), default="anywhere",
                        help="where rows are removed from: anywhere, the end of each file, or none")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--measure", choices=("full", "incremental"), help=argparse.SUPPRESS)  # child process entry
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.measure:
        figures = measure_run(args.drop, args.out, full=args.measure == "full")
        print(json.dumps(figures))
        return 0
    if args.drop is None:
        parser.error("--drop is required")
    from data.sample.events import two_nights

    with tempfile.TemporaryDirectory(prefix="hecha-bench-incremental-") as tmp:
        work = Path(tmp)
        night, after = two_nights(args.drop, work / "drops", share=args.share, removals=args.removals)
        print("first night…", file=sys.stderr, flush=True)
        first = child("--measure", "full", "--drop", str(night), "--out", str(work / "out"))
        runs: dict[str, list[dict]] = {"incremental": [], "full": []}
        for attempt in range(args.repeat):
            for kind in runs:
                out = work / f"out-{kind}"
                shutil.rmtree(out, ignore_errors=True)
                shutil.copytree(work / "out", out)
                runs[kind].append(child("--measure", kind, "--drop", str(after), "--out", str(out)))
            print(f"  {attempt + 1}/{args.repeat}: incremental {runs['incremental'][-1]['seconds']:.1f} s, "
                  f"full {runs['full'][-1]['seconds']:.1f} s", file=sys.stderr, flush=True)
        agree = differences(work / "out-incremental", work / "out-full")
        gib = 1024**3
        mode = runs["incremental"][-1]["mode"]
        screened = mode.get("screened", {})
        lines = [
            f"\n{args.drop}: {args.share:.1%} of rows changed (removals: {args.removals}); "
            f"first night {first['seconds']:.1f} s; second night {mode['kind']}: {mode['reason']} "
            f"({mode.get('changed_rows', 0):,} rows changed, touching {screened.get('persons', 0):,} persons"
            f"{'' if screened.get('sliced', True) else ': too many, everyone checked again'})",
            f"{'stage':24s} {'incremental s':>22s} {'full s':>22s} {'incremental peak GB':>22s}", "-" * 94,
        ]
        for stage in runs["full"][0]["stages"]:
            lines.append(f"{stage:24s} {spread([r['stages'][stage]['seconds'] for r in runs['incremental']]):>22s} "
                         f"{spread([r['stages'][stage]['seconds'] for r in runs['full']]):>22s} "
                         f"{spread([r['stages'][stage]['peak_bytes'] for r in runs['incremental']], gib, 2):>22s}")
        lines.append(f"{'run':24s} {spread([r['seconds'] for r in runs['incremental']]):>22s} "
                     f"{spread([r['seconds'] for r in runs['full']]):>22s} "
                     f"{spread([r['peak_bytes'] for r in runs['incremental']], gib, 2):>22s}")
        ratio = statistics.median(r["seconds"] for r in runs["incremental"]) / statistics.median(r["seconds"] for r in runs["full"])
        lines.append(f"incremental / full: {ratio:.2f}; rows differing: findings {agree['chk.finding']}, "
                     f"ledger shares {agree['int.person_month_paid']}")
        print("\n".join(lines), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
