"""Generate a realistic county drop with its ground truth, seeded and deterministic.

    python -m data.sample.generate --out DIR [--seed N] [--households N] [--noise X] [--number-noise X] [--as-of YYYY-MM]
                                   [--shard-households N] [--county-households N] [--batch]

writes `DIR/drop/` (the seven extracts and manifest.yaml, in the formats the
extracts' own writer gives) and `DIR/truth/` (records.csv, findings.csv,
persons.csv, pairs.csv, summary.json). The same arguments give byte-identical
files. `--batch` also writes `DIR/batch/`: next month's payment batch with
the verdict each line should get (`data.sample.batch`, seeded with --seed). The stages live in their own modules: `households` (people and
events), `programmes` (rosters), `plant` (planted deceased / moved-out
findings and near misses), `scenarios` (the other checks' findings and near
misses), `rows` (extract rows and the ledger), `noise`, `truth`.

A county of more than `--shard-households` households (50,000 by default) is
made as a sequence of shards, so memory stays that of one shard whatever the
county's size: each shard is a sub-population of at most that many
households, seeded from (seed, shard index), planted, damaged and worked out
like a county of its own, appended to the files (`sinks`) and dropped. Shard
0 draws from the seed's own streams, so a drop of one shard is the drop the
generator made before shards existed. Shards share their group's townships
(below) and continue the county's running numbers (户号, case, registered-poor and cremation
record numbers start after the largest an earlier shard used, row numbers in
records.csv after its rows), and consult `taken.TakenNumbers`: every citizen
number earlier shards issued, every wrong number they wrote, and the valid
numbers one slip from an unrepairable number they planted. A shard issues
no number in it and writes no wrong number in it, and adds its own when done,
so no two people of the county share a number and a wrong number stays
nobody's: a later shard never issues it. summary.json sums the shards.

The truth is worked out shard by shard. A person's rows, cases and payments
all lie in one shard, so every finding and every planted near miss is
listed; what is not is a chance likeness between two shards (a recipient
whose namesake died in another shard: `namesake_alive`,
`outside_county_cremation`), which the truth of one large shard would list
as a near miss. A run that raised one would count it as a false finding.

The townships grow with the population, so that persons per township and
per village stay those of a real county (0.3–1.5M people) at any size. A
drop of up to `--county-households` households (312,500 by default, ~1M
persons in ten townships of ~100k) is one county: one group of townships,
the county's own (`county.build_townships`), byte for byte the drop made
before groups existed. A larger drop (~5M persons is a prefecture's worth)
is split into as few groups as hold at most that many households each,
sizes within one of each other, and each group into shards as above; group
0 keeps the county's townships, and group g gets ten townships of its own,
shaped like the county's, with new codes and names drawn from (seed, g)
(`county.build_township_groups`: codes stay three digits in their kind's
hundred, so at most 16 groups). A shard's households live in its group's
townships only; the drop stays one bureau's extract, one county code. A
drop made of whole counties (households a multiple of `--county-households`)
begins with the county drop of that size: the same shards, the same rows.
"""

from __future__ import annotations

import argparse
import gc
import json
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from data.sample.county import COUNTY_CODE, MAX_TOWNSHIP_GROUPS, Township, build_township_groups
from data.sample.households import Population, build_population
from data.sample.ids import is_valid
from data.sample.model import Calendar, parse_month
from data.sample.noise import apply_noise
from data.sample.plant import Planted, plant
from data.sample.programmes import Programmes, assign_programmes
from data.sample.rows import STEMS, Row, build_rows
from data.sample.scenarios import one_slip_variants
from data.sample.sinks import ExtractFile, TruthFile
from data.sample.taken import TakenNumbers
from data.sample.truth import FINDING_COLUMNS, Truth, compute_truth

DEFAULT_SEED = 20261123
# A shard of 50,000 households peaks near 0.75 GB; drops up to this size are one shard.
SHARD_HOUSEHOLDS = 50_000
# ~1M persons: a large county. A larger drop gets further groups of townships of this size.
COUNTY_HOUSEHOLDS = 312_500
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
RECORD_COLUMNS = ("source", "row_number", "true_id_number", "head_true_id_number", "noise")
PAIR_COLUMNS = ("true_id_number_l", "true_id_number_r", "name_l", "name_r", "kind")


def generate_drop(out: Path, *, seed: int = DEFAULT_SEED, households: int = 5000, noise: float = 1.0,
                  number_noise: float | None = None, as_of: str = "2026-10", shard_households: int = SHARD_HOUSEHOLDS,
                  county_households: int = COUNTY_HOUSEHOLDS) -> dict:
    """Write `out/drop/` and `out/truth/`; return counts per file and findings per check.

    `number_noise` scales only the numbers that are valid and nobody's (a mistyped
    15-digit number, a wrong division code, two slips passing the check); None: `noise`.
    `shard_households` bounds the households made at once, `county_households` those
    living in one group of townships (see the module docstring).
    """
    if shard_households < 1:
        raise ValueError(f"shard_households {shard_households}: expected at least 1")
    if county_households < 1:
        raise ValueError(f"county_households {county_households}: expected at least 1")
    groups = len(shard_sizes(households, county_households))
    if groups > MAX_TOWNSHIP_GROUPS:
        raise ValueError(f"{households} households at county_households {county_households} need {groups} groups of "
                         f"townships: expected at most {MAX_TOWNSHIP_GROUPS}; raise county_households")
    # millions of small objects and no reference cycles worth collecting: the cyclic
    # collector would only rescan the growing heap (a third of the run time)
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _generate(Path(out), seed=seed, households=households, noise=noise, number_noise=number_noise, as_of=as_of,
                         shard_households=shard_households, county_households=county_households)
    finally:
        if collecting:
            gc.enable()


def shard_sizes(households: int, shard_households: int) -> list[int]:
    """Households per shard: as few shards as hold at most `shard_households` each, sizes within one of each other."""
    count = max(1, -(-households // shard_households))
    base, extra = divmod(households, count)
    return [base + (index < extra) for index in range(count)]


def shard_plan(households: int, shard_households: int, county_households: int) -> list[tuple[int, int]]:
    """(township group, households) per shard: groups of at most `county_households`, each cut into shards.

    One group: `shard_sizes(households, shard_households)`, the shards of the county.
    """
    return [(group, size) for group, group_households in enumerate(shard_sizes(households, county_households))
            for size in shard_sizes(group_households, shard_households)]


@dataclass
class _Shard:
    population: Population
    programmes: Programmes
    planted: Planted
    rows: dict[str, list[Row]]
    wrong_numbers: list[str]  # wrong numbers written, 18-character form
    truth: Truth


def _generate(out: Path, *, seed: int, households: int, noise: float, number_noise: float | None, as_of: str,
              shard_households: int, county_households: int) -> dict:
    cal = Calendar(parse_month(as_of))
    plan = shard_plan(households, shard_households, county_households)
    township_groups = build_township_groups(seed, plan[-1][0] + 1)
    sizes = [size for _, size in plan]
    drop, folder = out / "drop", out / "truth"
    # one shard needs no memory of others (and a 50 MB array would only cost time)
    taken: TakenNumbers | tuple = TakenNumbers() if len(sizes) > 1 else ()
    numbered: dict[str, int] = {}  # the last sequence number each running number reached, by prefix
    written = dict.fromkeys(STEMS, 0)  # rows already written per extract
    extracts = {stem: ExtractFile(stem, drop, *FORMATS[stem]) for stem in STEMS}
    truth_files = {
        "records": TruthFile(folder / "records.csv", RECORD_COLUMNS),
        "findings": TruthFile(folder / "findings.csv", FINDING_COLUMNS),
        "persons": TruthFile(folder / "persons.csv", PERSON_COLUMNS),
        "pairs": TruthFile(folder / "pairs.csv", PAIR_COLUMNS),
    }
    summary: dict = {}
    try:
        for index, (group, size) in enumerate(plan):
            # shard 0 draws from the seed's own streams: a county of one shard is the unsharded county
            shard_seed = seed if index == 0 else f"{seed}/{index}"
            shard = _make_shard(shard_seed, size, cal, township_groups[group], taken, numbered, noise, number_noise)
            for stem, stem_rows in shard.rows.items():
                extracts[stem].write(stem_rows)
            records = shard.truth.records
            if any(written.values()):
                records = [(stem, number + written[stem], *rest) for stem, number, *rest in records]
            truth_files["records"].write(records)
            truth_files["findings"].write([tuple(f[c] for c in FINDING_COLUMNS) for f in shard.truth.findings])
            truth_files["persons"].write(_person_rows(shard.population, shard.rows))
            truth_files["pairs"].write([(a.id_number, b.id_number, a.name, b.name, kind) for a, b, kind in shard.population.pairs])
            part = _summary(seed, households, noise, number_noise, as_of, shard.population, shard.rows, shard.truth.findings)
            part["planted_short"] = dict(sorted(shard.planted.short.items()))
            summary = _add_summary(summary, part)
            for stem, stem_rows in shard.rows.items():
                written[stem] += len(stem_rows)
            if index + 1 < len(sizes):
                _take_numbers(taken, shard)
            del shard, records
            gc.collect()  # the shard is gone: little is left to scan, and any cycles it held are freed
    finally:
        for sink in (*extracts.values(), *truth_files.values()):
            sink.close()
    (drop / "manifest.yaml").write_text(f'county: "{COUNTY_CODE}"\nas_of: "{as_of}"\n', encoding="utf-8")
    if len(sizes) > 1:
        summary["shards"] = len(sizes)
    if len(township_groups) > 1:
        summary["township_groups"] = len(township_groups)
        summary["townships"] = sum(len(townships) for townships in township_groups)
    (folder / "summary.json").write_text(json.dumps(summary, ensure_ascii=False, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return summary


def _make_shard(seed: int | str, households: int, cal: Calendar, townships: tuple[Township, ...], taken: TakenNumbers | tuple,
                numbered: dict[str, int], noise: float, number_noise: float | None) -> _Shard:
    """One shard's people, rosters, planted findings, damaged rows and truth; `numbered` advanced past its running numbers."""
    population = build_population(seed, households, cal, townships=townships, taken=taken, numbered=numbered)
    programmes = assign_programmes(population, cal, seed, numbered)
    planted = plant(population, programmes, cal, seed, taken=taken, numbered=numbered)
    rows = build_rows(population, programmes, cal, seed, numbered)
    _advance(numbered, population, programmes, rows)
    # the true numbers, so no wrong number is a real person's: references to strings already held, dropped
    # before the truth is built
    issued = {p.id_number for p in (*population.persons, *population.outsiders)}
    wrong = apply_noise(rows, seed=seed, scale=noise, number_scale=number_noise, issued=issued, taken=taken,
                        latest_birth=cal.end_date)
    del issued
    truth = compute_truth(rows, population, cal)
    return _Shard(population, programmes, planted, rows, wrong, truth)


# Running numbers: the prefix before each sequence, as households.py, programmes.py and rows.py write them
# (户号 township + village; DB/TK + township; county + township for registered-poor households; HH + year).
_PREFIX_LENGTHS = {"household": 6, "case": 5, "poor": 9, "cremation": 6}


def _advance(numbered: dict[str, int], population: Population, programmes: Programmes, rows: dict[str, list[Row]]) -> None:
    """Record the largest sequence number this shard used per prefix: the next shard starts after it."""
    numbers = [(h.household_no, _PREFIX_LENGTHS["household"]) for h in population.households]
    numbers += [(case.case_no, _PREFIX_LENGTHS["case"]) for case in (*programmes.dibao, *programmes.tekun)]
    numbers += [(poor.number, _PREFIX_LENGTHS["poor"]) for poor in programmes.poor]
    numbers += [(row.values["record_no"], _PREFIX_LENGTHS["cremation"]) for row in rows["cremation"]]
    for number, length in numbers:
        prefix, sequence = number[:length], int(number[length:])
        if sequence > numbered.get(prefix, 0):
            numbered[prefix] = sequence


def _take_numbers(taken: TakenNumbers, shard: _Shard) -> None:
    """Add what this shard issued and wrote to the numbers later shards must leave alone."""
    for p in (*shard.population.persons, *shard.population.outsiders):
        if is_valid(p.id_number):
            taken.add(p.id_number)
        else:
            # an unrepairable number planted as written: no later person may hold a number it is one slip from
            for variant in one_slip_variants(p.id_number):
                taken.add(variant)
    for number in shard.wrong_numbers:
        taken.add(number)


def _add_summary(total: dict, part: dict) -> dict:
    """Two shards' summaries as one: counts added, findings and shortfalls per check and note added."""
    if not total:
        return part
    for key in ("persons", "outside_county_persons"):
        total[key] += part[key]
    for stem, count in part["rows"].items():
        total["rows"][stem] = total["rows"].get(stem, 0) + count
    for code, entry in part["findings"].items():
        into = total["findings"].setdefault(code, {"planted": 0, "needs_fuzzy_link": 0, "near_miss": {}, "unplanned": 0})
        for key in ("planted", "needs_fuzzy_link", "unplanned"):
            into[key] += entry[key]
        for note, count in entry["near_miss"].items():
            into["near_miss"][note] = into["near_miss"].get(note, 0) + count
    for scenario, count in part["planted_short"].items():
        total["planted_short"][scenario] = total["planted_short"].get(scenario, 0) + count
    return total


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
    parser.add_argument("--shard-households", type=int, default=SHARD_HOUSEHOLDS,
                        help="households made at once: a larger county is made shard by shard, in bounded memory")
    parser.add_argument("--county-households", type=int, default=COUNTY_HOUSEHOLDS,
                        help="households living in one group of townships: a larger drop gets further groups of its own")
    parser.add_argument("--batch", action="store_true",
                        help="also write DIR/batch/: next month's payment batch and its truth (data.sample.batch)")
    args = parser.parse_args(argv)
    if not re.fullmatch(r"\d{4}-\d{2}", args.as_of):
        parser.error(f"--as-of {args.as_of!r}: expected YYYY-MM")
    if args.shard_households < 1:
        parser.error(f"--shard-households {args.shard_households}: expected at least 1")
    if args.county_households < 1:
        parser.error(f"--county-households {args.county_households}: expected at least 1")
    if len(shard_sizes(args.households, args.county_households)) > MAX_TOWNSHIP_GROUPS:
        parser.error(f"--households {args.households} at --county-households {args.county_households}: "
                     f"at most {MAX_TOWNSHIP_GROUPS} groups of townships; raise --county-households")
    started = time.perf_counter()
    summary = generate_drop(args.out, seed=args.seed, households=args.households, noise=args.noise,
                            number_noise=args.number_noise, as_of=args.as_of, shard_households=args.shard_households,
                            county_households=args.county_households)
    elapsed = time.perf_counter() - started
    print(json.dumps(summary, ensure_ascii=False, indent=2, sort_keys=True))
    print(f"generated in {elapsed:.1f} s", file=sys.stderr)
    if args.batch:
        from data.sample.batch import make_batch

        started = time.perf_counter()
        batch = make_batch(args.out, seed=args.seed)
        print(f"batch {batch['file']}: {batch['lines']} lines ({batch['base_lines']} carried), "
              f"expected {batch['expected']}, in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
