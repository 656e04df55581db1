"""Time of the check stage against the linkage stage, at scale.

    python -m bench.check_speed [--persons 1000000] [--repeat 3] [--drop DIR]

Generates a drop of ~`persons` register persons with the sample generator (or
uses `--drop`), loads and normalizes it once, then in one process, on the same
in-memory DuckDB: links it `--repeat` times and runs all checks (shared `int`
facts and every check SQL) `--repeat` times. Prints medians, the per-check
breakdown and the ratio checks / linkage — the target is a ratio of at most 1.
"""

from __future__ import annotations

import argparse
import secrets
import statistics
import tempfile
import time
from pathlib import Path

import duckdb

from hecha.checks.runner import run_checks
from hecha.config import load_policy
from data.sample.generate import generate_drop
from hecha.extracts.declarations import EXTRACTS
from hecha.extracts.load import load_drop
from hecha.extracts.read import read_manifest
from hecha.flows.pipeline import link_thresholds
from hecha.flows.run import resolve_as_of
from hecha.matching.normalize import normalize_identities
from hecha.matching.link import link_people
from hecha.storage.secret import SECRET_BYTES, install_keyed_hash

PERSONS_PER_HOUSEHOLD = 3.2


def measure(drop: Path, repeat: int) -> None:
    con = duckdb.connect()
    install_keyed_hash(con, secrets.token_bytes(SECRET_BYTES))  # person ids and case keys of this process only
    manifest = read_manifest(drop)
    as_of = resolve_as_of(manifest, None)
    policy = load_policy()
    started = time.perf_counter()
    files = load_drop(con, drop, manifest)
    normalize_identities(con)
    rows = sum(f["rows_read"] for f in files)
    print(f"{rows:,} source rows; load + normalize {time.perf_counter() - started:.1f} s")
    link_times, check_times, steps = [], [], []
    for _ in range(repeat):
        started = time.perf_counter()
        figures = link_people(con, EXTRACTS, thresholds=link_thresholds(policy))
        link_times.append(time.perf_counter() - started)
    for _ in range(repeat):
        timings: dict[str, float] = {}
        started = time.perf_counter()
        counts = run_checks(con, as_of, policy, timings=timings)
        check_times.append(time.perf_counter() - started)
        steps.append(timings)
    print(f"persons {figures['persons']:,}; findings {sum(counts.values()):,}")
    print(f"link    median {statistics.median(link_times):6.2f} s  ({', '.join(f'{t:.2f}' for t in link_times)})")
    print(f"checks  median {statistics.median(check_times):6.2f} s  ({', '.join(f'{t:.2f}' for t in check_times)})")
    for step in steps[0]:
        median = statistics.median(timing[step] for timing in steps)
        print(f"  {step:<26} {median:6.2f} s  {counts.get(step, ''):>6}")
    print(f"ratio checks / link: {statistics.median(check_times) / statistics.median(link_times):.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--persons", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=20261123)
    parser.add_argument("--drop", type=Path, help="an existing drop folder (skips generation)")
    args = parser.parse_args()
    if args.drop:
        measure(args.drop, args.repeat)
        return
    with tempfile.TemporaryDirectory() as tmp:
        households = max(1, round(args.persons / PERSONS_PER_HOUSEHOLD))
        started = time.perf_counter()
        generate_drop(Path(tmp), seed=args.seed, households=households)
        print(f"generated {households:,} households in {time.perf_counter() - started:.0f} s")
        measure(Path(tmp) / "drop", args.repeat)


if __name__ == "__main__":
    main()
