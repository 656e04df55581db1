"""Score a province publication's cross-county findings against the province generator's truth.

    python -m bench.province_quality PUBLICATION_DIR TRUTH_DIR [--json]

PUBLICATION_DIR is a published province run (`<out>/<as_of>_<time>/`, whose
`cross_findings.csv` holds hecha's findings: check_code, county,
other_county, id_number, period_start, period_end, overpaid_amount, …);
TRUTH_DIR is the `truth/` folder `data.sample.province` wrote
(`cross_findings.csv`, `cross_near_misses.csv`, `province.json`).

A finding is the truth's when check, paying county and citizen number agree.
Figures, overall and per check and per planted kind: the truth's findings,
hecha's, found (recall), right (precision), and of those found how many have
the truth's other county, period and overpaid amount; near misses raised (a
finding outside the truth about a near miss's person, in any check). A
county the truth covers but the publication did not read (failed, late)
can be left out with --counties.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections import defaultdict
from decimal import Decimal
from pathlib import Path


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _amount(text: str) -> Decimal:
    return Decimal(text or "0").quantize(Decimal("0.01"))


def score(publication: Path, truth_dir: Path, counties: set[str] | None = None) -> dict:
    """The figures the module docstring lists, as a dict (ratios None when undefined)."""
    publication, truth_dir = Path(publication), Path(truth_dir)
    found_csv = publication / "cross_findings.csv" if publication.is_dir() else publication
    keep = (lambda county: county in counties) if counties else (lambda county: True)
    truth = {(r["check_code"], r["county"], r["true_id_number"]): r
             for r in _rows(truth_dir / "cross_findings.csv") if keep(r["county"])}
    near = {r["true_id_number"]: r["kind"] for r in _rows(truth_dir / "cross_near_misses.csv")
            if keep(r["county"]) or keep(r["other_county"])}
    hecha = {(r["check_code"], r["county"], r["id_number"]): r for r in _rows(found_csv) if keep(r["county"])}

    def tally() -> dict:
        return {"truth": 0, "hecha": 0, "found": 0, "right": 0, "same_other_county": 0, "same_period": 0,
                "same_amount": 0}

    overall, by_check, by_kind = tally(), defaultdict(tally), defaultdict(tally)
    for key, expected in truth.items():
        for figures in (overall, by_check[key[0]], by_kind[expected["kind"]]):
            figures["truth"] += 1
        got = hecha.get(key)
        if got is None:
            continue
        same = {
            "same_other_county": got["other_county"] == expected["other_county"],
            "same_period": (got["period_start"], got["period_end"]) == (expected["period_start"], expected["period_end"]),
            "same_amount": _amount(got["overpaid_amount"]) == _amount(expected["overpaid_amount"]),
        }
        for figures in (overall, by_check[key[0]], by_kind[expected["kind"]]):
            figures["found"] += 1
            for name, agrees in same.items():
                figures[name] += agrees
    false_findings, near_raised = [], defaultdict(int)
    for key in hecha:
        for figures in (overall, by_check[key[0]]):
            figures["hecha"] += 1
            figures["right"] += key in truth
        if key not in truth:
            false_findings.append(key)
            if key[2] in near:
                near_raised[near[key[2]]] += 1
    for figures in (overall, *by_check.values(), *by_kind.values()):
        figures["recall"] = _ratio(figures["found"], figures["truth"])
        figures["precision"] = _ratio(figures["right"], figures["hecha"]) if figures["hecha"] or figures["truth"] else None
    return {
        "overall": overall, "by_check": dict(sorted(by_check.items())), "by_kind": dict(sorted(by_kind.items())),
        "near_misses": len(near), "near_misses_raised": dict(sorted(near_raised.items())),
        "false_findings": [{"check_code": c, "county": k} for c, k, _ in sorted(false_findings)],
    }


def format_score(figures: dict) -> str:
    lines = [f"{'':28} {'truth':>6} {'hecha':>6} {'recall':>7} {'precision':>9} {'amount=':>8}"]

    def line(name: str, f: dict) -> str:
        recall = "—" if f["recall"] is None else f"{f['recall']:.3f}"
        precision = "—" if f.get("precision") is None else f"{f['precision']:.3f}"
        return f"{name:28} {f['truth']:>6} {f['hecha']:>6} {recall:>7} {precision:>9} {f['same_amount']:>8}"

    lines.append(line("all cross-county findings", figures["overall"]))
    lines += [line(f"  {code}", f) for code, f in figures["by_check"].items()]
    lines += [f"  kind {kind:21} {f['truth']:>6} {'':>6} {('—' if f['recall'] is None else format(f['recall'], '.3f')):>7}"
              for kind, f in figures["by_kind"].items()]
    raised = sum(figures["near_misses_raised"].values())
    lines.append(f"near misses raised: {raised} of {figures['near_misses']}"
                 + (f" ({', '.join(f'{k} {n}' for k, n in figures['near_misses_raised'].items())})" if raised else ""))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("publication", type=Path)
    parser.add_argument("truth", type=Path)
    parser.add_argument("--counties", help="comma-separated county codes to score (default: all)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    counties = set(args.counties.split(",")) if args.counties else None
    figures = score(args.publication, args.truth, counties)
    print(json.dumps(figures, ensure_ascii=False, indent=1) if args.json else format_score(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
