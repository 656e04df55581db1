"""Generate a realistic county drop with its ground truth, seeded and deterministic.

    python -m data.sample.generate --out DIR [--seed N] [--households N] [--noise X] [--number-noise X] [--as-of YYYY-MM]

writes `DIR/drop/` (the seven extracts and manifest.yaml, through the
extracts' own writer) and `DIR/truth/` (records.csv, findings.csv,
persons.csv, pairs.csv, summary.json). The same arguments give byte-identical
files. The stages live in their own modules: `households` (people and
events), `programmes` (rosters), `plant` (planted deceased / moved-out
findings and near misses), `scenarios` (the other checks' findings and near
misses), `rows` (extract rows and the ledger), `noise`, `truth`.
"""

from __future__ import annotations

import argparse
import csv
import gc
import io
import json
import re
import sys
import time
from pathlib import Path

import polars as pl

from data.sample.county import COUNTY_CODE
from data.sample.households import Population, build_population
from data.sample.model import Calendar, parse_month
from data.sample.noise import apply_noise
from data.sample.plant import plant
from data.sample.programmes import assign_programmes
from data.sample.rows import Row, build_rows
from data.sample.truth import FINDING_COLUMNS, compute_truth
from hecha.extracts.declarations import BY_STEM
from hecha.extracts.writer import write_extract

DEFAULT_SEED = 20261123
# How each system exports: the cremation system writes GBK-family text, the
# disability federation sends a workbook, the poverty system a BOM.
FORMATS = {
    "household_register": ("csv", "utf-8"),
    "dibao": ("csv", "utf-8"),
    "tekun": ("csv", "utf-8"),
    "registered_poor": ("csv", "utf-8-sig"),
    "cremation": ("csv", "gb18030"),
    "disability": ("xlsx", "utf-8"),
    "payments": ("csv", "utf-8"),
}


def generate_drop(out: Path, *, seed: int = DEFAULT_SEED, households: int = 5000, noise: float = 1.0,
                  number_noise: float | None = None, as_of: str = "2026-10") -> dict:
    """Write `out/drop/` and `out/truth/`; return counts per file and findings per check.

    `number_noise` scales only the numbers that are valid and nobody's (a mistyped
    15-digit number, a wrong division code, two slips passing the check); None: `noise`.
    """
    # millions of small objects and no reference cycles worth collecting: the cyclic
    # collector would only rescan the growing heap (a third of the run time)
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _generate(Path(out), seed=seed, households=households, noise=noise, number_noise=number_noise, as_of=as_of)
    finally:
        if collecting:
            gc.enable()


def _generate(out: Path, *, seed: int, households: int, noise: float, number_noise: float | None, as_of: str) -> dict:
    cal = Calendar(parse_month(as_of))
    population = build_population(seed, households, cal)
    programmes = assign_programmes(population, cal, seed)
    planted = plant(population, programmes, cal, seed)
    rows = build_rows(population, programmes, cal, seed)
    # the true numbers, so no wrong number is a real person's: references to strings already held, dropped
    # before the truth is built
    issued = {p.id_number for p in (*population.persons, *population.outsiders)}
    apply_noise(rows, seed=seed, scale=noise, number_scale=number_noise, issued=issued, latest_birth=cal.end_date)
    del issued

    drop = out / "drop"
    drop.mkdir(parents=True, exist_ok=True)
    for stem, stem_rows in rows.items():
        _write_stem(stem, stem_rows, drop)
    (drop / "manifest.yaml").write_text(f'county: "{COUNTY_CODE}"\nas_of: "{as_of}"\n', encoding="utf-8")

    truth = compute_truth(rows, population, cal)
    folder = out / "truth"
    folder.mkdir(parents=True, exist_ok=True)
    _write_csv(folder / "records.csv", ("source", "row_number", "true_id_number", "head_true_id_number", "noise"), truth.records)
    _write_csv(folder / "findings.csv", FINDING_COLUMNS, [tuple(f[c] for c in FINDING_COLUMNS) for f in truth.findings])
    _write_csv(folder / "persons.csv", PERSON_COLUMNS, _person_rows(population, rows))
    _write_csv(folder / "pairs.csv", ("true_id_number_l", "true_id_number_r", "name_l", "name_r", "kind"),
               [(a.id_number, b.id_number, a.name, b.name, kind) for a, b, kind in population.pairs])
    summary = _summary(seed, households, noise, number_noise, as_of, population, rows, truth.findings)
    summary["planted_short"] = dict(sorted(planted.short.items()))
    (folder / "summary.json").write_text(json.dumps(summary, ensure_ascii=False, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return summary


def _write_stem(stem: str, stem_rows: list[Row], drop: Path) -> None:
    columns = [c.name for c in BY_STEM[stem].columns]
    frame = pl.DataFrame({c: [row.values.get(c) for row in stem_rows] for c in columns}, schema={c: pl.String for c in columns})
    fmt, encoding = FORMATS[stem]
    for stale in drop.glob(f"{stem}.*"):
        stale.unlink()
    write_extract(stem, frame, drop, fmt=fmt, encoding=encoding)


def _write_csv(path: Path, header: tuple[str, ...], rows: list[tuple]) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    path.write_bytes(buffer.getvalue().encode("utf-8"))


PERSON_COLUMNS = (
    "true_id_number", "name", "sex", "birth_date", "household_no", "relation", "township", "village",
    "death_date", "move_out_date", "register_status", "cremated", "scenario",
)


def _person_rows(population: Population, rows: dict[str, list[Row]]) -> list[tuple]:
    """Every true person: register people, then people only cremated here."""
    status = {row.person.pid: (row.values["person_status"] or "").strip() for row in rows["household_register"]}
    result = []
    for p in (*population.persons, *population.outsiders):
        if p.township >= 0:
            township = population.townships[p.township]
            place = (population.households[p.household].household_no, p.relation, township.name, township.villages[p.village])
        else:
            place = ("", "", "", "")
        result.append((
            p.id_number, p.name, p.sex, f"{p.birth:%Y-%m-%d}", *place,
            f"{p.death:%Y-%m-%d}" if p.death else "", f"{p.move_out:%Y-%m-%d}" if p.move_out else "",
            status.get(p.pid, ""), "true" if p.cremated else "false", p.scenario,
        ))
    return result


def _summary(seed: int, households: int, noise: float, number_noise: float | None, as_of: str, population: Population,
             rows: dict[str, list[Row]], findings: list[dict[str, str]]) -> dict:
    checks: dict[str, dict] = {}
    for f in findings:
        entry = checks.setdefault(f["check_code"], {"planted": 0, "needs_fuzzy_link": 0, "near_miss": {}, "unplanned": 0})
        if f["kind"] == "planted":
            entry["planted"] += 1
            entry["needs_fuzzy_link"] += f["needs_fuzzy_link"] == "true"
            entry["unplanned"] += f["note"].startswith("unplanned")
        else:
            entry["near_miss"][f["note"]] = entry["near_miss"].get(f["note"], 0) + 1
    return {
        "seed": seed, "households": households, "noise": noise, "number_noise": noise if number_noise is None else number_noise,
        "as_of": as_of, "county": COUNTY_CODE,
        "persons": len(population.persons), "outside_county_persons": len(population.outsiders),
        "rows": {stem: len(stem_rows) for stem, stem_rows in rows.items()},
        "findings": checks,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m data.sample.generate", description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="folder that receives drop/ and truth/")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--households", type=int, default=5000)
    parser.add_argument("--noise", type=float, default=1.0, help="scale of every noise rate (2 doubles them)")
    parser.add_argument("--number-noise", type=float, default=None,
                        help="scale of the wrong-but-valid citizen numbers alone (default: --noise)")
    parser.add_argument("--as-of", default="2026-10", help="last complete month, YYYY-MM")
    args = parser.parse_args(argv)
    if not re.fullmatch(r"\d{4}-\d{2}", args.as_of):
        parser.error(f"--as-of {args.as_of!r}: expected YYYY-MM")
    started = time.perf_counter()
    summary = generate_drop(args.out, seed=args.seed, households=args.households, noise=args.noise,
                            number_noise=args.number_noise, as_of=args.as_of)
    elapsed = time.perf_counter() - started
    print(json.dumps(summary, ensure_ascii=False, indent=2, sort_keys=True))
    print(f"generated in {elapsed:.1f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
