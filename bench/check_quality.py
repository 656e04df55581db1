"""Finding quality against generated ground truth, per check.

    python -m bench.check_quality [--seeds 20261123 7] [--noise 1 2] [--households 5000]

For each (seed, noise) it generates a drop with the sample generator, runs
load → link → checks in-process, and prints per check: planted, planted that
exact citizen-number links can establish, found, true positives, precision,
recall (all planted, and over exact-link ones), findings with months and
amounts exact, near misses planted and raised, and the money error. Missed
and false findings are listed under the table so they can be read.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import duckdb

from bench.quality import format_table, read_exceptions, read_truth, score
from hecha.checks.catalogue import CATALOGUE
from data.sample.generate import generate_drop
from hecha.flows.pipeline import analyse_drop
from hecha.reports.exceptions import write_exceptions


def evaluate(folder: Path, checks: list[str]) -> tuple[dict, float]:
    con = duckdb.connect()
    started = time.perf_counter()
    analyse_drop(con, folder / "drop", codes=checks)
    elapsed = time.perf_counter() - started
    write_exceptions(con, folder / "exceptions.csv")
    planted, near = read_truth(folder / "truth")
    return score(read_exceptions(folder / "exceptions.csv"), planted, near, checks), elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, nargs="+", default=[20261123, 7])
    parser.add_argument("--noise", type=float, nargs="+", default=[1.0, 2.0])
    parser.add_argument("--households", type=int, default=5000)
    parser.add_argument("--show", type=int, default=5, help="misses and false findings listed per check")
    args = parser.parse_args()
    checks = [check.code for check in CATALOGUE]
    for seed in args.seeds:
        for noise in args.noise:
            with tempfile.TemporaryDirectory() as tmp:
                folder = Path(tmp)
                generate_drop(folder, seed=seed, households=args.households, noise=noise)
                scores, elapsed = evaluate(folder, checks)
            print(format_table(scores, f"\nseed {seed}, noise {noise:g}, {args.households} households (pipeline {elapsed:.1f} s)"))
            for s in scores.values():
                fuzzy_missed = sum(f.needs_fuzzy_link for f in s.missed)
                print(f"  {s.check_code}: missed {len(s.missed)} ({fuzzy_missed} need fuzzy links), "
                      f"false {len(s.false_positives)}, wrong months/amounts {len(s.wrong_amounts)}")
                for finding in s.missed[: args.show]:
                    print(f"    missed  {finding.id_number} {finding.period_start}..{finding.period_end} "
                          f"{finding.overpaid_amount:.2f} fuzzy={finding.needs_fuzzy_link} {finding.note}")
                for finding in s.false_positives[: args.show]:
                    print(f"    false   {finding.id_number} {finding.period_start}..{finding.period_end} {finding.overpaid_amount:.2f}")
                for got, expected in s.wrong_amounts[: args.show]:
                    print(f"    amount  {got.id_number} got {got.period_start}..{got.period_end} {got.overpaid_amount:.2f}, "
                          f"planted {expected.period_start}..{expected.period_end} {expected.overpaid_amount:.2f} {expected.note}")


if __name__ == "__main__":
    main()
