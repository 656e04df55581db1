"""The whole run against its floor: per-stage wall time and peak memory, and run ÷ floor.

    python -m bench.run [--persons 100000 1000000] [--drop DIR] [--repeat 3] [--seed N] [--noise X]

For each size it generates a drop with the sample generator (persons / 3.2
households; or takes `--drop`) and, `--repeat` times each, alternating:

- **run**: the nightly stages (`hecha run` as a fresh process would run them:
  load, normalize, validate, link, checks, history, outcomes, reports,
  publish) in a fresh process with a fresh out folder; per stage the wall
  time and the peak resident memory while it ran (the high-water mark is
  reset as each stage starts), and the whole run's wall time and peak;
- **floor**: in a fresh process, DuckDB reads the seven files (the GB18030
  cremation file decoded to UTF-8 first, the .xlsx through openpyxl as the
  loader reads it, every column as text) and joins each source to the
  household register on the raw citizen number — nothing else.

It prints medians (min–max) per stage, the run and the floor, and run ÷
floor (medians of the same session). Nothing is asserted.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.linkage import PERSONS_PER_HOUSEHOLD, peak_rss_bytes, reset_peak_rss

def measure_run(drop: Path, out: Path, full: bool = True, accept_unusable_ids: bool = False) -> dict:
    """One nightly run in this process (a full rebuild unless `full` is false): seconds and peak bytes per stage,
    for the whole run, and its mode."""
    from hecha.flows.run import start_run
    from hecha.flows.stages import Progress, nightly_stages, run_stages

    class Measured(Progress):
        def __init__(self) -> None:
            super().__init__()
            self.stages: dict[str, dict] = {}
            self.peak = 0

        def started(self, run, name, number, total) -> None:
            reset_peak_rss()

        def done(self, run, name, seconds, number, total) -> None:
            peak = peak_rss_bytes()
            self.peak = max(self.peak, peak)
            self.stages[name] = {"seconds": seconds, "peak_bytes": peak}

    progress = Measured()
    started = time.perf_counter()
    run = start_run(drop, None, out, full=full, accept_unusable_ids=accept_unusable_ids)
    run_stages(run, nightly_stages(), progress)
    return {"seconds": time.perf_counter() - started, "peak_bytes": progress.peak, "stages": progress.stages,
            "mode": run.record["mode"]}


def measure_floor(drop: Path, work: Path) -> dict:
    """DuckDB reads the seven files and joins each source to the register on the raw number."""
    import duckdb
    import polars as pl

    from hecha.extracts.declarations import EXTRACTS, HOUSEHOLD_REGISTER
    from hecha.extracts.read import read_xlsx

    reset_peak_rss()
    started = time.perf_counter()
    con = duckdb.connect()
    for path in sorted(drop.iterdir()):
        stem = path.stem
        if path.suffix == ".xlsx":
            frame = read_xlsx(path).with_columns(pl.all().cast(pl.String))
            con.register("sheet", frame.to_arrow())
            con.execute(f"create table {stem} as select * from sheet")
            con.unregister("sheet")
        elif path.suffix == ".csv":
            source = path
            data = path.read_bytes()
            if not data.startswith(b"\xef\xbb\xbf"):
                try:
                    data.decode("utf-8")
                except UnicodeDecodeError:  # the cremation system's GB18030
                    source = work / f"{stem}.utf8.csv"
                    source.write_text(data.decode("gb18030"), encoding="utf-8")
            con.execute(f"create table {stem} as select * from read_csv('{source}', all_varchar = true, header = true)")
    register = HOUSEHOLD_REGISTER.columns_of_kind("id_number")[0].header
    matched = {}
    for extract in EXTRACTS:
        if extract is HOUSEHOLD_REGISTER:
            continue
        # the row's own number (the first id column that is no household head's), under its exported header
        header = next(c.header for c in extract.columns_of_kind("id_number") if not c.name.startswith("head_"))
        matched[extract.stem] = con.execute(
            f'select count(*) from {extract.stem} as s inner join household_register as r on s."{header}" = r."{register}"'
        ).fetchall()[0][0]
    con.close()
    return {"seconds": time.perf_counter() - started, "peak_bytes": peak_rss_bytes(), "matched": matched}


def in_child(kind: str, drop: Path) -> dict:
    """Run `kind` (run or floor) in a fresh process; its figures."""
    with tempfile.TemporaryDirectory(prefix="hecha-bench-run-") as tmp:
        finished = subprocess.run(
            [sys.executable, "-m", "bench.run", "--measure", kind, "--drop", str(drop), "--work", tmp],
            capture_output=True, text=True,
        )
    if finished.returncode != 0:
        raise RuntimeError(f"{kind} failed: {finished.stderr.strip().splitlines()[-1:]}")
    return json.loads(finished.stdout.strip().splitlines()[-1])


def spread(values: list[float], scale: float = 1.0, digits: int = 1) -> str:
    values = [value / scale for value in values]
    return f"{statistics.median(values):.{digits}f} ({min(values):.{digits}f}–{max(values):.{digits}f})"


def report(title: str, runs: list[dict], floors: list[dict]) -> str:
    gib = 1024**3
    lines = [title, f"{'step':24s} {'seconds, median (min–max)':>28s} {'peak GB, median (min–max)':>28s}", "-" * 82]
    for stage in runs[0]["stages"]:
        lines.append(f"{stage:24s} {spread([r['stages'][stage]['seconds'] for r in runs]):>28s} "
                     f"{spread([r['stages'][stage]['peak_bytes'] for r in runs], gib, 2):>28s}")
    lines.append(f"{'run (all stages)':24s} {spread([r['seconds'] for r in runs]):>28s} "
                 f"{spread([r['peak_bytes'] for r in runs], gib, 2):>28s}")
    lines.append(f"{'floor':24s} {spread([f['seconds'] for f in floors]):>28s} "
                 f"{spread([f['peak_bytes'] for f in floors], gib, 2):>28s}")
    ratio = statistics.median(r["seconds"] for r in runs) / statistics.median(f["seconds"] for f in floors)
    lines.append(f"run / floor: {ratio:.2f}")
    return "\n".join(lines)


def benchmark(drop: Path, repeat: int, title: str) -> str:
    runs, floors = [], []
    for attempt in range(repeat):
        floors.append(in_child("floor", drop))
        runs.append(in_child("run", drop))
        print(f"  {attempt + 1}/{repeat}: run {runs[-1]['seconds']:.1f} s, floor {floors[-1]['seconds']:.1f} s",
              file=sys.stderr, flush=True)
    return report(title, runs, floors)


def main(argv: list[str] | None = None) -> int:
    from data.sample.generate import DEFAULT_SEED

    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, nargs="+", default=[100_000], help="drop sizes to generate")
    parser.add_argument("--drop", type=Path, help="measure this drop instead of generating")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--noise", type=float, default=1.0)
    parser.add_argument("--measure", choices=("run", "floor"), help=argparse.SUPPRESS)  # child process entry
    parser.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.measure:
        figures = measure_run(args.drop, args.work / "out") if args.measure == "run" else measure_floor(args.drop, args.work)
        print(json.dumps(figures))
        return 0
    if args.drop:
        print(benchmark(args.drop, args.repeat, f"\n{args.drop}"), flush=True)
        return 0
    from data.sample.generate import generate_drop

    for persons in args.persons:
        with tempfile.TemporaryDirectory(prefix="hecha-bench-drop-") as tmp:
            households = max(1, round(persons / PERSONS_PER_HOUSEHOLD))
            print(f"generating ~{persons:,} persons…", file=sys.stderr, flush=True)
            summary = generate_drop(Path(tmp), seed=args.seed, households=households, noise=args.noise)
            title = f"\n~{persons:,} persons ({summary['persons']:,} register persons, seed {args.seed}, noise {args.noise:g})"
            print(benchmark(Path(tmp) / "drop", args.repeat, title), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
