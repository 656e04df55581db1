"""Score a screened batch against the batch's ground truth.

    python -m bench.screen_quality SCREEN_DIR TRUTH_CSV

SCREEN_DIR is a published screen (`<out>/screens/<screen_id>/`, whose
`verdicts.csv` holds hecha's verdict per line: source_row, verdict,
reason_code, …); TRUTH_CSV is the `batch/truth.csv` the sample generator
wrote with the batch (`data.sample.batch`: line, expected, reason_code,
kind, scenario, true_id_number, note). Lines are matched by number
(source_row = line).

Figures: lines; per verdict and per reason, how many the truth expects and
how many hecha gave; blocked precision and recall (a line blocked or not),
overall and per reason (recall per truth reason: of the lines the truth
blocks for it, how many hecha blocked, for any reason; precision per hecha
reason: of the lines hecha blocked for it, how many the truth blocks); the
truth's held lines and what hecha did with them; near misses blocked and
held (kind near_miss, expected pass); and the confusion table, expected ×
hecha verdict. A truth line hecha has no verdict for counts as `missing`.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections import Counter, defaultdict
from pathlib import Path

VERDICTS = ("block", "hold", "pass")


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def score(screen_dir: Path, truth_csv: Path) -> dict:
    """The figures the module docstring lists, as a dict (ratios None when undefined)."""
    screen_dir = Path(screen_dir)
    verdicts_csv = screen_dir / "verdicts.csv" if screen_dir.is_dir() else screen_dir
    hecha: dict[int, tuple[str, str]] = {}
    for row in _rows(verdicts_csv):
        hecha[int(row["source_row"])] = ((row.get("verdict") or "").strip(), (row.get("reason_code") or "").strip())
    truth = _rows(Path(truth_csv))
    lines = {int(row["line"]) for row in truth}

    verdicts = {v: {"truth": 0, "hecha": 0} for v in VERDICTS}
    reasons: dict[str, dict[str, int]] = defaultdict(lambda: {"truth": 0, "hecha": 0, "agree": 0})
    confusion: dict[str, Counter] = {v: Counter() for v in VERDICTS}
    tp = fp = fn = 0
    recall_by: dict[str, dict[str, int]] = defaultdict(lambda: {"lines": 0, "blocked": 0, "same_reason": 0})
    precision_by: dict[str, dict[str, int]] = defaultdict(lambda: {"blocked": 0, "truth_block": 0})
    held = {"lines": 0, "held": 0, "blocked": 0, "passed": 0, "missing": 0, "same_reason": 0}
    near = {"lines": 0, "blocked": 0, "held": 0}
    near_by: dict[str, dict[str, int]] = defaultdict(lambda: {"lines": 0, "blocked": 0, "held": 0})
    by_kind: dict[str, Counter] = defaultdict(Counter)
    for row in truth:
        expected, code = row["expected"].strip(), row["reason_code"].strip()
        verdict, hecha_code = hecha.get(int(row["line"]), ("missing", ""))
        verdicts[expected]["truth"] += 1
        if verdict in verdicts:
            verdicts[verdict]["hecha"] += 1
        if code:
            reasons[code]["truth"] += 1
        if hecha_code and verdict in ("block", "hold"):
            reasons[hecha_code]["hecha"] += 1
            reasons[hecha_code]["agree"] += hecha_code == code and verdict == expected
        confusion[expected][verdict] += 1
        by_kind[row["kind"]][f"{expected}->{verdict}"] += 1
        if expected == "block":
            recall_by[code]["lines"] += 1
            recall_by[code]["blocked"] += verdict == "block"
            recall_by[code]["same_reason"] += verdict == "block" and hecha_code == code
        if verdict == "block":
            precision_by[hecha_code]["blocked"] += 1
            precision_by[hecha_code]["truth_block"] += expected == "block"
        tp += expected == "block" and verdict == "block"
        fp += expected != "block" and verdict == "block"
        fn += expected == "block" and verdict != "block"
        if expected == "hold":
            held["lines"] += 1
            held[{"hold": "held", "block": "blocked", "pass": "passed"}.get(verdict, "missing")] += 1
            held["same_reason"] += verdict == "hold" and hecha_code == code
        if row["kind"] == "near_miss":
            near["lines"] += 1
            near_by[row["scenario"]]["lines"] += 1
            for what, hit in (("blocked", verdict == "block"), ("held", verdict == "hold")):
                near[what] += hit
                near_by[row["scenario"]][what] += hit
    return {
        "lines": {"truth": len(truth), "hecha": len(hecha), "missing": len(lines - hecha.keys()),
                  "extra": len(hecha.keys() - lines)},
        "verdicts": verdicts,
        "reasons": {code: dict(counts) for code, counts in sorted(reasons.items())},
        "blocked": {"true_positive": tp, "false_positive": fp, "false_negative": fn,
                    "precision": _ratio(tp, tp + fp), "recall": _ratio(tp, tp + fn)},
        "blocked_recall_by_reason": {code: {**c, "recall": _ratio(c["blocked"], c["lines"])}
                                     for code, c in sorted(recall_by.items())},
        "blocked_precision_by_reason": {code or "(none)": {**c, "precision": _ratio(c["truth_block"], c["blocked"])}
                                        for code, c in sorted(precision_by.items())},
        "held": held,
        "near_misses": {**near, "by_scenario": {s: dict(c) for s, c in sorted(near_by.items())}},
        "confusion": {expected: {v: confusion[expected][v] for v in (*VERDICTS, "missing")} for expected in VERDICTS},
        "by_kind": {kind: dict(sorted(counts.items())) for kind, counts in sorted(by_kind.items())},
    }


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.1f}%"


def render(result: dict) -> str:
    out = [f"lines: {result['lines']['truth']} in the truth, {result['lines']['hecha']} screened "
           f"({result['lines']['missing']} missing, {result['lines']['extra']} extra)", "",
           "verdict   truth  hecha"]
    out += [f"{v:<8}{c['truth']:>7}{c['hecha']:>7}" for v, c in result["verdicts"].items()]
    out += ["", "reason                 truth  hecha  agree"]
    out += [f"{code:<22}{c['truth']:>6}{c['hecha']:>7}{c['agree']:>7}" for code, c in result["reasons"].items()]
    b = result["blocked"]
    out += ["", f"blocked: precision {_percent(b['precision'])}, recall {_percent(b['recall'])} "
                f"(tp {b['true_positive']}, fp {b['false_positive']}, fn {b['false_negative']})"]
    out += [f"  recall    {code:<20} {c['blocked']:>5}/{c['lines']:<5} {_percent(c['recall']):>7}  (same reason {c['same_reason']})"
            for code, c in result["blocked_recall_by_reason"].items()]
    out += [f"  precision {code:<20} {c['truth_block']:>5}/{c['blocked']:<5} {_percent(c['precision']):>7}"
            for code, c in result["blocked_precision_by_reason"].items()]
    h = result["held"]
    out += ["", f"held (truth): {h['lines']} lines: held {h['held']} (same reason {h['same_reason']}), "
                f"blocked {h['blocked']}, passed {h['passed']}, missing {h['missing']}"]
    n = result["near_misses"]
    out += [f"near misses: {n['lines']} lines: blocked {n['blocked']}, held {n['held']}"]
    out += [f"  {s:<26} {c['lines']:>5} lines  blocked {c['blocked']}  held {c['held']}" for s, c in n["by_scenario"].items()]
    out += ["", "expected \\ hecha   block   hold   pass  missing"]
    out += [f"{e:<16}" + "".join(f"{row[v]:>7}" for v in VERDICTS) + f"{row['missing']:>9}"
            for e, row in result["confusion"].items()]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.screen_quality", description=__doc__.splitlines()[0])
    parser.add_argument("screen_dir", type=Path, help="a published screen folder (its verdicts.csv), or verdicts.csv itself")
    parser.add_argument("truth_csv", type=Path, help="the batch's truth.csv (data.sample.batch)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    result = score(args.screen_dir, args.truth_csv)
    print(json.dumps(result, ensure_ascii=False, indent=2) if args.json else render(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
