"""A province of counties, each a county drop of its own, with cross-county findings planted between them.

    python -m data.sample.province --out DIR [--counties N] [--households H] [--seed S] [--noise X]
                                   [--as-of YYYY-MM] [--jobs J]

writes

- `DIR/drops/<code>/` — each county's drop (the seven extracts, `manifest.yaml` naming its code);
- `DIR/truth/<code>/` — that county's own truth as the county generator writes it (records.csv,
  findings.csv, persons.csv, pairs.csv, summary.json), kept right after the cross-county rows were
  added, and `county.json`, the county's code, name, funeral homes and townships;
- `DIR/truth/cross_findings.csv` — the finding each planted cross-county scenario must give;
- `DIR/truth/cross_near_misses.csv` — the cross-county look-alikes that must raise nothing;
- `DIR/truth/province.json` — the counties, as_of, seed, findings per check and near misses per kind.

Each county is made by the county generator (`generate.py`) in a process of its own, told which county it
is by `county.COUNTY_ENV`: its own division code (`county.PROVINCE_COUNTIES`, never a neighbour's), name,
funeral home and townships (`county.build_province_townships`: no place name of one county inside
another's), and its own seed drawn from (seed, index). `--households` is per county (312,500: ~1M persons,
ten townships of ~100k; a larger county keeps its ten townships). One county is made at a time per job
(`--jobs 2`: two at once), shard by shard, so memory stays that of one county's shard; the planting that
follows reads one county's files at a time and keeps of the others only their names and numbers.

The cross-county scenarios are then planted by appending rows to the counties' files, as `batch.py`
edits a generated drop, and their truth is worked out from the county truth and the rows added:

- `cross_deceased_paid` (cremation): a living recipient of county A, paid every month through as_of, is
  cremated in B in an earlier month; every other record carries the number, the rest none (name, sex,
  年龄 — 虚岁 as often as the cremation system writes it — and 户籍地址 naming A's county, township and
  village). The recipient's name is nobody's in that township of A but theirs, and no recipient of B bears it.
- `cross_deceased_paid` (register): a person registered only in B (死亡, 变动日期), paid by A on tekun
  (62 or over) or a 单人 dibao case (under 59), from a start month through as_of.
- `cross_moved_out_paid`: the same with B's register saying 迁出; no county holds a 正常 record.
- `cross_duplicate_benefit`: a recipient of A enrolled again in B for the months from a later start
  month: a single-member dibao case of A and a 单人 case of B (the finding goes to B, the later start);
  a single-member dibao case of A and tekun in B (to A, the dibao county); a care subsidy of A paid by B
  too on a copy of the certificate B issued in its start month (to B, the later start).

Near misses, each raising nothing: a namesake of a living recipient of A cremated in B without a number
(the other sex, or ten years apart, or an address outside the province); a person who moved from A to B
(A's register 迁出 in month m, tekun paid by A through m, B's register 正常, B's tekun from m + 1); a dibao
case of A stopped the month before B's tekun starts; a register record of B saying 迁出 for a recipient
A still registers as 正常 and pays.

The people chosen are those whose money is unambiguous: living recipients of A (register 正常) on
tekun, a subsidy or a single-member dibao case, every row they rest on carrying their true number and
name, paid every month from their first month in the window through as_of, never twice a month, in no
finding or near miss of their county; no county the scenario writes to holds their name (for a
cremation record: no recipient of it). Where a county has too few (a small county, whose own planted
cases take most recipients), recipients are made for the scenario: a new single-person household A
registers and pays — tekun at 62 or over, a 单人 dibao case under 59, a grade-1 care subsidy
(province.json `made_recipients`). People made for a scenario have names no county of the province
holds and numbers nobody's. Nothing planted changes a county's own findings: the rows added to a
county are of people its own checks raise nothing for (a recipient it does not register, a register
person it does not pay, a recipient of its own whose money runs on unchanged), except the person who
moved from A to B, whom A's truth lists, as the county generator would, as a
`paid_through_move_out_month` near miss.

Money as POLICY.md: months after the event month (the event month itself is paid), inside the window;
for 低保金 the person's share (line / covered count). Counts: max(3, 0.3% of the county's recipients)
per scenario and county (fewer where candidates run short: province.json `short`). The same arguments
give byte-identical files.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import hashlib
import json
import os
import random
import re
import resource
import shutil
import subprocess
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import numpy as np
import polars as pl

from data.sample import county as places
from data.sample.events import read_any, write_any
from data.sample.generate import COUNTY_HOUSEHOLDS, DEFAULT_SEED, FORMATS
from data.sample.ids import make_id_number, normalize
from data.sample.model import first_day, full_age, last_day, month_compact, month_of, month_text, parse_month
from data.sample.noise import RATES
from data.sample.truth import CARE, DIBAO, FINDING_COLUMNS, TEKUN, yuan
from hecha.extracts.declarations import BY_STEM

CROSS_FINDING_COLUMNS = ("check_code", "county", "other_county", "true_id_number", "name", "period_start", "period_end",
                         "overpaid_amount", "kind")
CROSS_NEAR_MISS_COLUMNS = ("kind", "county", "other_county", "true_id_number", "name", "note")
# scenario kind → the cross-county check it plants
FINDING_KINDS = {
    "cremation_with_number": "cross_deceased_paid",
    "cremation_without_number": "cross_deceased_paid",
    "register_death": "cross_deceased_paid",
    "register_moved_out": "cross_moved_out_paid",
    "dibao_and_dibao": "cross_duplicate_benefit",
    "dibao_and_tekun": "cross_duplicate_benefit",
    "subsidy_twice": "cross_duplicate_benefit",
}
NEAR_MISS_KINDS = ("namesake_cremated", "moved_and_stopped", "dibao_stopped_before_tekun", "moved_out_registered_elsewhere")
CITIES = {"1305": "邢台市", "1311": "衡水市"}  # the prefectures of county.PROVINCE_COUNTIES
RATE = 0.003  # planted per scenario and recipient of the county
LEAST = 3
WINDOW = 24
SEX_TEXT = {"M": "男", "F": "女"}
CARE_GRADES = {"一级": 1, "二级": 2}
_BLANKS = re.compile(r"[\s\u3000]")
_FULL_WIDTH = ("０", "１", "２", "３", "４", "５", "６", "７", "８", "９", "Ｘ", "ｘ")
_HALF_WIDTH = ("0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "X", "X")


def county_seed(seed: int, index: int) -> int:
    """The seed of county `index`: drawn from (seed, index), the same on every machine."""
    return int(hashlib.sha256(f"{seed}/county/{index}".encode()).hexdigest()[:8], 16)


# -- generating the counties ----------------------------------------------------------------------

@dataclass(frozen=True)
class CountySpec:
    index: int
    code: str
    name: str
    seed: int
    townships: tuple[places.Township, ...]

    @property
    def funeral_homes(self) -> tuple[str, ...]:
        # most bodies go to the county's own home, some to the city's
        return (f"{self.name}殡仪馆",) * 3 + (f"{CITIES[self.code[:4]]}殡仪馆",)


def county_specs(seed: int, counties: int) -> list[CountySpec]:
    """The province's counties: codes and names in `county.PROVINCE_COUNTIES` order, townships apart."""
    townships = places.build_province_townships(seed, counties)
    return [CountySpec(index, code, name, county_seed(seed, index), townships[index])
            for index, (code, name) in enumerate(places.PROVINCE_COUNTIES[:counties])]


def _generate_counties(out: Path, specs: list[CountySpec], *, households: int, noise: float, as_of: str,
                       jobs: int) -> dict[str, float]:
    """Each county made by `generate.py` in a process of its own, `jobs` at once; seconds per county."""
    work = out / ".work"
    root = Path(__file__).resolve().parents[2]
    env_path = os.pathsep.join(filter(None, (str(root), os.environ.get("PYTHONPATH"))))
    pending = list(specs)
    running: list[tuple[CountySpec, subprocess.Popen, float]] = []
    seconds: dict[str, float] = {}
    failed: list[str] = []
    while pending or running:
        while pending and len(running) < jobs:
            spec = pending.pop(0)
            folder = work / spec.code
            folder.mkdir(parents=True)
            config = folder / "county.json"
            config.write_text(json.dumps(places.county_config(spec.code, spec.name, spec.townships, spec.funeral_homes),
                                         ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
            command = [sys.executable, "-m", "data.sample.generate", "--out", str(folder / "out"), "--seed", str(spec.seed),
                       "--households", str(households), "--noise", repr(noise), "--as-of", as_of,
                       "--county-households", str(max(households, COUNTY_HOUSEHOLDS))]
            log = (folder / "generate.log").open("wb")
            process = subprocess.Popen(command, cwd=root, stdout=log, stderr=subprocess.STDOUT,
                                       env={**os.environ, places.COUNTY_ENV: str(config), "PYTHONPATH": env_path})
            log.close()
            running.append((spec, process, time.perf_counter()))
        spec, process, started = running.pop(0)
        if process.wait() != 0:
            failed.append(f"county {spec.code}: the generator exited with {process.returncode} "
                          f"(see {work / spec.code / 'generate.log'})")
        seconds[spec.code] = time.perf_counter() - started
    if failed:
        raise RuntimeError("; ".join(failed))
    for spec in specs:
        folder = work / spec.code
        shutil.move(folder / "out" / "drop", out / "drops" / spec.code)
        shutil.move(folder / "out" / "truth", out / "truth" / spec.code)
        shutil.move(folder / "county.json", out / "truth" / spec.code / "county.json")
    shutil.rmtree(work)
    return seconds


# -- what a county holds ----------------------------------------------------------------------------

def _read(drop: Path, stem: str, columns: list[str] | None = None) -> pl.DataFrame:
    """An extract as text columns under stg names, with its row number ("row", 1 = first data row)."""
    frame = read_any(drop, stem)
    frame = frame.rename({c.header: c.name for c in BY_STEM[stem].columns if c.header in frame.columns})
    if columns is not None:
        frame = frame.select(columns)
    return frame.with_row_index("row", offset=1).with_columns(pl.col("row").cast(pl.Int64))


def _clean_number(column: str) -> pl.Expr:
    """A written number cleaned as a reader would: blanks out, full-width to ASCII, upper case."""
    return pl.col(column).str.replace_all(_BLANKS.pattern, "").str.replace_many(_FULL_WIDTH, _HALF_WIDTH).str.to_uppercase()


def _first17(cleaned: pl.Series) -> np.ndarray:
    """The 17 digits before the check character of every 18-character or 15-digit number (19xx), as integers."""
    frame = pl.DataFrame({"n": cleaned}).drop_nulls()
    long = frame.filter(pl.col("n").str.contains(r"^[0-9]{17}[0-9X]$")).select(pl.col("n").str.slice(0, 17))
    short = frame.filter(pl.col("n").str.contains(r"^[0-9]{15}$")).select(
        (pl.col("n").str.slice(0, 6) + "19" + pl.col("n").str.slice(6)).alias("n"))
    digits = pl.concat([long, short])["n"].cast(pl.Int64).unique().sort()
    return digits.to_numpy()


@dataclass
class _Additions:
    """Rows to append to one county's files (stg names) and to its truth."""

    rows: dict[str, list[dict]] = field(default_factory=lambda: defaultdict(list))
    records: dict[str, list[tuple[str, str]]] = field(default_factory=lambda: defaultdict(list))  # stem → (true, head)
    persons: list[tuple] = field(default_factory=list)
    findings: list[dict] = field(default_factory=list)


@dataclass
class _County:
    """One county of the province: where its files are, what names and numbers it holds, its running numbers."""

    spec: CountySpec
    drop: Path
    truth: Path
    all_names: pl.Series = None  # every name written in the drop or true of a person
    paid_names: pl.Series = None  # names written on its rosters and ledger
    numbers: np.ndarray = None  # first 17 digits of every number issued or written
    recipients: int = 0
    sequences: dict[str, int] = field(default_factory=dict)  # running-number prefix → last sequence used
    added: _Additions = field(default_factory=_Additions)
    added_paid_names: set[str] = field(default_factory=set)
    added_cremated_names: set[str] = field(default_factory=set)
    added_names: set[str] = field(default_factory=set)

    @property
    def code(self) -> str:
        return self.spec.code

    def next_number(self, prefix: str, width: int) -> str:
        self.sequences[prefix] = self.sequences.get(prefix, 0) + 1
        return f"{prefix}{self.sequences[prefix]:0{width}d}"

    def holds_name(self, name: str, *, paid_only: bool = False) -> bool:
        """Whether a name is written or borne in the county (`paid_only`: on its rosters and ledger), added rows included."""
        if name in self.added_paid_names or name in self.added_cremated_names or name in self.added_names:
            return True
        return _holds(self.paid_names if paid_only else self.all_names, name)

    def holds_number(self, number: str) -> bool:
        key = int(number[:17])
        at = np.searchsorted(self.numbers, key)
        return bool(at < len(self.numbers) and self.numbers[at] == key)


def _holds(values: pl.Series, value: str) -> bool:
    """Whether sorted `values` hold `value`."""
    at = values.search_sorted(value)
    return at < len(values) and values[at] == value


def _month_number(column: str) -> pl.Expr:
    """A YYYYMM text column as a month number (`model.month_of`)."""
    return pl.col(column).str.slice(0, 4).cast(pl.Int64) * 12 + pl.col(column).str.slice(4, 2).cast(pl.Int64) - 1


def _survey(county: _County) -> None:
    """Names, numbers, running numbers and recipient count of a generated county (files read one at a time)."""
    drop, truth = county.drop, county.truth
    persons = pl.read_csv(truth / "persons.csv", infer_schema=False, columns=["true_id_number", "name"])
    names = [persons["name"]]
    paid = []
    numbers = [persons["true_id_number"]]
    sequences: dict[str, int] = {}

    def track(values: pl.Series, length: int) -> None:
        frame = pl.DataFrame({"v": values}).drop_nulls().select(
            pl.col("v").str.strip_chars().str.slice(0, length).alias("prefix"),
            pl.col("v").str.strip_chars().str.slice(length).cast(pl.Int64, strict=False).alias("sequence"))
        for prefix, sequence in frame.group_by("prefix").agg(pl.col("sequence").max()).iter_rows():
            if sequence is not None:
                sequences[prefix] = max(sequences.get(prefix, 0), sequence)

    for stem in ("household_register", "dibao", "tekun", "registered_poor", "cremation", "disability", "payments"):
        frame = _read(drop, stem)
        for column in ("name", "head_name"):
            if column in frame.columns:
                names.append(frame[column].str.strip_chars())
                if stem in ("dibao", "tekun", "disability", "payments"):
                    paid.append(frame[column].str.strip_chars())
        for column in ("id_number", "head_id_number"):
            if column in frame.columns:
                numbers.append(frame.select(_clean_number(column))[column])
        if stem == "household_register":
            track(frame["household_no"], 6)
        elif stem in ("dibao", "tekun"):
            track(frame["case_no"], 5)
        elif stem == "cremation":
            track(frame["record_no"], 6)
        elif stem == "payments":
            records = pl.read_csv(truth / "records.csv", infer_schema=False, columns=["source", "true_id_number"])
            county.recipients = records.filter(pl.col("source") == "payments")["true_id_number"].n_unique()
            del records
        del frame
    county.all_names = pl.concat(names).drop_nulls().unique().sort()
    county.paid_names = pl.concat(paid).drop_nulls().unique().sort()
    county.numbers = _first17(pl.concat(numbers))
    county.sequences = sequences


# -- candidates ---------------------------------------------------------------------------------------

@dataclass
class _Person:
    """A living recipient of a county whose money is unambiguous, with every share paid to them by month."""

    true_id: str
    name: str
    sex: str  # M / F
    birth: dt.date
    township: str
    village: str
    months: dict[int, list[tuple[str, str, Fraction]]]  # month → (programme, case_no, share)
    dibao: dict | None = None  # their single-member dibao case: case_no, start, area_type
    care: dict | None = None  # their care-subsidy certificate: its disability row and the lines' amount

    @property
    def first(self) -> int:
        return min(self.months)

    @property
    def identity(self) -> dict:
        return {"true_id": self.true_id, "name": self.name, "sex": self.sex, "birth": self.birth}

    def paid(self, programme: str) -> dict[int, Fraction]:
        """Their shares of one programme by month."""
        months = {m: sum((share for p, _, share in paid if p == programme), Fraction(0)) for m, paid in self.months.items()}
        return {m: share for m, share in months.items() if any(p == programme for p, _, _ in self.months[m])}


def _candidates(county: _County, as_of: int, limit: int, seed: int) -> list[_Person]:
    """Up to `limit` of the county's living recipients whose money is unambiguous (see the module docstring).

    In number order; a larger pool is sampled with `seed`.
    """
    drop, truth = county.drop, county.truth
    window_start = as_of - WINDOW + 1
    persons = pl.read_csv(truth / "persons.csv", infer_schema=False)
    records = pl.read_csv(truth / "records.csv", infer_schema=False,
                          columns=["source", "row_number", "true_id_number", "head_true_id_number"]).with_columns(
        pl.col("row_number").cast(pl.Int64).alias("row"))
    flagged = set(pl.read_csv(truth / "findings.csv", infer_schema=False, columns=["true_id_number"])["true_id_number"])

    def truth_of(stem: str) -> pl.DataFrame:
        frame = _read(drop, stem).join(records.filter(pl.col("source") == stem)
                                       .select("row", pl.col("true_id_number").alias("true_id"),
                                               pl.col("head_true_id_number").alias("head_true_id")), on="row", how="left")
        written = frame["id_number"].drop_nulls().unique()
        readings = dict(zip(written, (normalize(number) for number in written)))
        return frame.with_columns(pl.col("id_number").replace_strict(readings, default=None, return_dtype=pl.String)
                                  .alias("normalized"))

    true_names = persons.select(pl.col("true_id_number").alias("true_id"), pl.col("name").alias("true_name"))
    # as written: the number reads as theirs (a 15-digit form or a lower-case x links exactly too) and the name is theirs
    clean = (pl.col("normalized") == pl.col("true_id")) & (pl.col("name") == pl.col("true_name"))

    # register: one row, 正常, the true number and name as written
    register = truth_of("household_register").join(true_names, on="true_id", how="left")
    register_ok = (register.group_by("true_id").agg(
        (clean & (pl.col("person_status").str.strip_chars() == "正常")).all().alias("ok"), pl.len().alias("rows"))
        .filter(pl.col("ok") & (pl.col("rows") == 1))["true_id"])
    del register

    # dibao: covered members per case, each case's start, and whether every member's rows are clean
    dibao = truth_of("dibao").join(true_names, on="true_id", how="left")
    covered = dibao.filter(pl.col("is_covered").str.strip_chars() == "是")
    counts = covered.group_by("case_no").agg(pl.col("true_id").n_unique().alias("count"))
    cases = dibao.group_by("case_no").agg(
        pl.col("start_month").str.strip_chars().min().alias("start"), pl.col("area_type").str.strip_chars().first(),
        (pl.col("case_status").str.strip_chars() == "在保").all().alias("active"), pl.len().alias("rows"))
    member_ok = covered.group_by("case_no", "true_id").agg(clean.fill_null(False).all().alias("member_ok"))
    del dibao

    ledger = truth_of("payments").join(true_names, on="true_id", how="left").with_columns(
        pl.col("paid_month").str.strip_chars().alias("month"), pl.col("programme").str.strip_chars().alias("programme"),
        pl.col("case_no").str.strip_chars().alias("case_no"), clean.alias("line_ok"))
    ledger = ledger.filter(pl.col("month") >= month_compact(window_start))
    # every beneficiary of every line: the payee, or for 低保金 the case's covered members, each a share
    others = ledger.filter(pl.col("programme") != DIBAO).select(
        "true_id", "month", "programme", "case_no", "amount", pl.lit(1).alias("count"), "line_ok")
    shared = (ledger.filter(pl.col("programme") == DIBAO).select("month", "programme", "case_no", "amount", "line_ok",
                                                                  pl.col("true_id").alias("payee"))
              .join(covered.select("case_no", "true_id").unique(), on="case_no", how="inner")
              .join(counts, on="case_no", how="left").join(member_ok, on=["case_no", "true_id"], how="left")
              .with_columns((pl.col("line_ok") & pl.col("member_ok").fill_null(False)).alias("line_ok")))
    heads_only = set(shared["payee"].drop_nulls()) - set(shared["true_id"].drop_nulls())
    shares = pl.concat([others, shared.select(others.columns)], how="vertical_relaxed")
    del ledger, others, shared

    # a recipient: living, on the register as written, in no finding, every line clean and alone in its month
    per_person = shares.group_by("true_id").agg(
        pl.col("line_ok").fill_null(False).all().alias("ok"), pl.col("count").max().alias("count"),
        pl.struct("month", "programme", "case_no").is_duplicated().any().alias("repeated"),
        pl.col("month").n_unique().alias("months"), pl.col("month").min().alias("first"), pl.col("month").max().alias("last"))
    living = persons.filter(pl.col("death_date").is_null() & pl.col("move_out_date").is_null()
                            & (pl.col("register_status") == "正常"))
    chosen = (per_person.filter(pl.col("ok") & (pl.col("count") == 1) & ~pl.col("repeated")
                                & (pl.col("last") == month_compact(as_of)))
              .join(living, left_on="true_id", right_on="true_id_number", how="inner")
              .filter(pl.col("true_id").is_in(register_ok.implode()) & ~pl.col("true_id").is_in(list(flagged | heads_only))))
    # paid every month from the first in the window through as_of
    chosen = chosen.filter(pl.col("months") == as_of - _month_number("first") + 1)
    # alone in their township under their name: a record naming the township and the name can be only theirs
    namesakes = persons.group_by("name", "township").agg(pl.len().alias("namesakes"))
    chosen = chosen.join(namesakes, on=["name", "township"], how="left").filter(pl.col("namesakes") == 1).sort("true_id")
    # enough for every scenario many times over: the rest would only cost time
    chosen = chosen.sample(n=min(chosen.height, limit), seed=seed).sort("true_id") if chosen.height > limit else chosen
    wanted = chosen["true_id"].implode()
    lines = shares.filter(pl.col("true_id").is_in(wanted)).sort("true_id", "month", "programme", "case_no")
    disability = truth_of("disability").filter(pl.col("true_id").is_in(wanted))
    certificates = {row["true_id"]: row for row in disability.iter_rows(named=True)}
    certificate_rows = Counter(disability["true_id"])
    single = {case_no: (start, area_type, active) for case_no, start, area_type, active in cases.join(counts, on="case_no")
              .filter(pl.col("count") == 1).select("case_no", "start", "area_type", "active").iter_rows()}

    months: dict[str, dict[int, list]] = defaultdict(lambda: defaultdict(list))
    for true_id, month, programme, case_no, amount, count in lines.select(
            "true_id", "month", "programme", "case_no", "amount", "count").iter_rows():
        months[true_id][parse_month(month)].append((programme, case_no, Fraction(Decimal(amount)) / count))
    result = []
    for row in chosen.iter_rows(named=True):
        person = _Person(row["true_id"], row["name"], row["sex"], dt.date.fromisoformat(row["birth_date"]), row["township"],
                         row["village"], dict(months[row["true_id"]]))
        programmes = {programme for paid in person.months.values() for programme, _, _ in paid}
        dibao_cases = {case_no for paid in person.months.values() for programme, case_no, _ in paid if programme == DIBAO}
        if len(dibao_cases) == 1:
            case_no = next(iter(dibao_cases))
            start, area_type, active = single.get(case_no, (None, None, False))
            if active and start:
                person.dibao = {"case_no": case_no, "start": parse_month(start), "area_type": area_type}
        if CARE in programmes and certificate_rows[person.true_id] == 1:
            cert = certificates[person.true_id]
            numbers = {case_no for paid in person.months.values() for programme, case_no, _ in paid if programme == CARE}
            amounts = {share for paid in person.months.values() for programme, _, share in paid if programme == CARE}
            if (cert["disability_grade"].strip() in CARE_GRADES and cert["certificate_status"].strip() == "正常"
                    and numbers == {cert["case_no"].strip()} and len(amounts) == 1
                    and (cert["valid_until"] or "") >= f"{last_day(as_of):%Y-%m-%d}"):
                person.care = {**cert, "amount": next(iter(amounts)),
                               "first": min(m for m, paid in person.months.items() if any(p == CARE for p, _, _ in paid))}
        if person.first <= as_of - 2:
            result.append(person)
    return result


# -- planting -------------------------------------------------------------------------------------------

@dataclass
class _Plan:
    """The scenarios planted so far, and what is short."""

    findings: list[dict] = field(default_factory=list)
    near_misses: list[dict] = field(default_factory=list)
    short: Counter = field(default_factory=Counter)
    made: Counter = field(default_factory=Counter)  # recipients made where too few were found, by scenario
    used_names: set[str] = field(default_factory=set)
    used_numbers: set[str] = field(default_factory=set)


class _Planter:
    """Plants one county's scenarios (county A pays) into the province's counties."""

    def __init__(self, counties: list[_County], a: _County, as_of: int, noise: float, seed: int, plan: _Plan) -> None:
        self.counties = counties
        self.a = a
        self.as_of = as_of
        self.window_start = as_of - WINDOW + 1
        self.plan = plan
        self.rng = random.Random(f"{seed}:cross/{a.code}")
        self.xusui = min(1.0, RATES["cremation"].age_xusui * noise)
        self.others = [c for c in counties if c is not a]

    # -- people ----------------------------------------------------------------------
    def made_person(self, registered: _County, age_range: tuple[int, int]) -> dict:
        """A new person registered in `registered`: a name no county holds, a number nobody's, a birth for the age."""
        rng = self.rng
        sex = "M" if rng.random() < 0.5 else "F"
        end = last_day(self.as_of)
        age = rng.randint(*age_range)
        birth = dt.date(end.year - age, end.month, min(end.day, 28)) - dt.timedelta(days=rng.randrange(365))
        while True:
            # a first character of one era and a second of another: a name no county generator gives
            eras = rng.sample(("old", "mid", "young", "new"), 2)
            firsts = places.GIVEN_NAMES[(eras[0], sex)][0]
            seconds = places.GIVEN_NAMES[(eras[1], sex)][1]
            surname = rng.choices(places.SURNAME_CHOICES, places.SURNAME_WEIGHTS)[0]
            name = surname + rng.choice(firsts) + rng.choice(seconds)
            if name not in self.plan.used_names and not any(c.holds_name(name) for c in self.counties):
                break
        while True:
            sequence = rng.randrange(1, 500) * 2 - (1 if sex == "M" else 0)
            number = make_id_number(registered.code, birth, sequence)
            if number not in self.plan.used_numbers and not registered.holds_number(number):
                break
        self.plan.used_names.add(name)
        self.plan.used_numbers.add(number)
        return {"true_id": number, "name": name, "sex": sex, "birth": birth}

    def place(self, county: _County) -> tuple[places.Township, str]:
        township = self.rng.choice(county.spec.townships)
        return township, self.rng.choice(township.villages)

    # -- rows --------------------------------------------------------------------------
    def register(self, county: _County, person: dict, status: str, changed: dt.date | None,
                 where: tuple[places.Township, str] | None = None, scenario: str = "") -> None:
        """A single-person household of `county`'s register."""
        township, village = where or self.place(county)
        household_no = county.next_number(f"{township.code}{township.villages.index(village) + 1:03d}", 5)
        values = {"household_no": household_no, "name": person["name"], "id_number": person["true_id"],
                  "sex": SEX_TEXT[person["sex"]], "birth_date": f"{person['birth']:%Y-%m-%d}", "relation": "户主",
                  "township": township.name, "village": village, "person_status": status,
                  "change_date": f"{changed:%Y-%m-%d}" if changed else None}
        self.add(county, "household_register", values, person["true_id"])
        county.added_names.add(person["name"])
        county.added.persons.append((
            person["true_id"], person["name"], person["sex"], f"{person['birth']:%Y-%m-%d}", household_no, "户主",
            township.name, village, f"{changed:%Y-%m-%d}" if status == "死亡" else "",
            f"{changed:%Y-%m-%d}" if status == "迁出" else "", status, "false", scenario))

    def paid_unregistered(self, county: _County, person: dict, scenario: str) -> None:
        """`person` in `county`'s truth as someone it pays without registering them."""
        county.added.persons.append((person["true_id"], person["name"], person["sex"], f"{person['birth']:%Y-%m-%d}",
                                     "", "", "", "", "", "", "", "false", scenario))

    def add(self, county: _County, stem: str, values: dict, true_id: str, head: str = "") -> None:
        county.added.rows[stem].append(values)
        county.added.records[stem].append((true_id, head))

    def tekun(self, county: _County, person: dict, start: int, stop: int | None, where) -> tuple[str, dict[int, Fraction]]:
        """A tekun support (分散) of `county` from `start` to `stop` (None: 在供) and its ledger lines.

        Returns the case number and the amounts paid by month.
        """
        township, village = where
        case_no = county.next_number(f"TK{township.code}", 5)
        last = self.as_of if stop is None else stop
        self.add(county, "tekun", {
            "case_no": case_no, "name": person["name"], "id_number": person["true_id"], "sex": SEX_TEXT[person["sex"]],
            "birth_date": f"{person['birth']:%Y-%m-%d}", "township": township.name, "village": village,
            "support_mode": "分散", "monthly_amount": f"{places.standard(places.TEKUN_STANDARD['分散'], last // 12):.2f}",
            "start_month": month_text(start), "case_status": "在供" if stop is None else "终止",
            "stop_month": month_text(stop) if stop is not None else None}, person["true_id"])
        amounts = {month: Fraction(places.standard(places.TEKUN_STANDARD["分散"], month // 12))
                   for month in range(max(start, self.window_start), last + 1)}
        self.ledger(county, person, TEKUN, case_no, amounts, township)
        county.added_paid_names.add(person["name"])
        return case_no, amounts

    def dibao(self, county: _County, person: dict, start: int, stop: int | None, where) -> tuple[str, dict[int, Fraction]]:
        """A 单人 dibao case of `county` covering `person` alone, and its ledger lines: (case number, amounts by month)."""
        township, village = where
        case_no = county.next_number(f"DB{township.code}", 5)
        area_type = "城市" if township.urban else "农村"
        last = self.as_of if stop is None else stop
        self.add(county, "dibao", {
            "case_no": case_no, "township": township.name, "village": village, "area_type": area_type,
            "head_name": person["name"], "head_id_number": person["true_id"], "name": person["name"],
            "id_number": person["true_id"], "relation": "户主", "sex": SEX_TEXT[person["sex"]],
            "birth_date": f"{person['birth']:%Y-%m-%d}", "is_covered": "是", "inclusion": "单人",
            "start_month": month_text(start), "case_status": "在保" if stop is None else "停保",
            "stop_month": month_text(stop) if stop is not None else None,
            "monthly_amount": f"{places.standard(places.DIBAO_STANDARD[area_type], last // 12):.2f}",
            "has_tekun_waiver": None}, person["true_id"], person["true_id"])
        amounts = {month: Fraction(places.standard(places.DIBAO_STANDARD[area_type], month // 12))
                   for month in range(max(start, self.window_start), last + 1)}
        self.ledger(county, person, DIBAO, case_no, amounts, township)
        county.added_paid_names.add(person["name"])
        return case_no, amounts

    def ledger(self, county: _County, person: dict, programme: str, case_no: str, amounts: dict[int, Fraction],
               township: places.Township) -> None:
        for month, amount in sorted(amounts.items()):
            self.add(county, "payments", {
                "paid_month": month_compact(month), "programme": programme, "case_no": case_no, "name": person["name"],
                "id_number": person["true_id"], "amount": yuan(amount), "township": township.name}, person["true_id"])

    def cremation(self, county: _County, person: dict, death: dt.date, *, number: bool, age: int, address: str,
                  sex: str) -> None:
        """A cremation record of `county`: the body of someone registered elsewhere."""
        cremated = min(death + dt.timedelta(days=self.rng.randint(1, 4)), last_day(self.as_of))
        self.add(county, "cremation", {
            "record_no": county.next_number(f"HH{cremated.year}", 5), "name": person["name"],
            "id_number": person["true_id"] if number else None, "sex": SEX_TEXT[sex], "age_at_death": str(age),
            "death_date": f"{death:%Y%m%d}", "cremation_date": f"{cremated:%Y%m%d}", "address": address,
            "funeral_home": self.rng.choice(county.spec.funeral_homes)}, person["true_id"])
        county.added_cremated_names.add(person["name"])

    def day_in(self, month: int) -> dt.date:
        return first_day(month).replace(day=self.rng.randint(1, 28))

    def age_written(self, birth: dt.date, death: dt.date) -> int:
        # the cremation system often writes 虚岁, a year above full age
        return full_age(birth, death) + (self.rng.random() < self.xusui)

    # -- truth ---------------------------------------------------------------------------
    def finding(self, kind: str, payer: _County, other: _County, person: dict, months: dict[int, Fraction]) -> None:
        self.plan.findings.append({
            "check_code": FINDING_KINDS[kind], "county": payer.code, "other_county": other.code,
            "true_id_number": person["true_id"], "name": person["name"], "period_start": month_text(min(months)),
            "period_end": month_text(max(months)), "overpaid_amount": yuan(sum(months.values(), Fraction(0))), "kind": kind})

    def near_miss(self, kind: str, county: _County, other: _County, person: dict, note: str) -> None:
        self.plan.near_misses.append({"kind": kind, "county": county.code, "other_county": other.code,
                                      "true_id_number": person["true_id"], "name": person["name"], "note": note})

    # -- choosing ------------------------------------------------------------------------
    def take(self, kind: str, pool: list[_Person], count: int, accept, programme: str) -> int:
        """Plant `kind` on `count` people of `pool` (drawn in seeded order) for whom `accept` plants it.

        When the pool runs short, on recipients made for it (`made_recipient(programme)`).
        """
        planted = 0
        for person in self.rng.sample(pool, len(pool)):
            if planted == count:
                break
            if person.true_id in self.used:
                continue
            if accept(person, planted):
                self.used.add(person.true_id)
                planted += 1
        while planted < count:
            if not accept(self.made_recipient(programme), planted):
                break
            self.plan.made[kind] += 1
            planted += 1
        self.plan.short[kind] += count - planted
        return planted

    def made_recipient(self, programme: str) -> _Person:
        """A new single-person household of A paid by A from before the window, on `programme` (any: tekun or dibao).

        Tekun at 62 or over; a 单人 dibao case under 59 (older, alone on dibao, A's should_be_tekun would raise
        them); a grade 1 care subsidy on a certificate issued in the start month.
        """
        rng, a = self.rng, self.a
        if programme == "any":
            programme = rng.choice(("tekun", "dibao"))
        person = self.made_person(a, (62, 90) if programme == "tekun" else (25, 58))
        where = township, village = self.place(a)
        start = rng.randint(self.window_start - 24, self.as_of - 8)
        self.register(a, person, "正常", None, where, scenario="cross_recipient")
        made = _Person(person["true_id"], person["name"], person["sex"], person["birth"], township.name, village, {})
        if programme == "tekun":
            case_no, paid = self.tekun(a, person, start, None, where)
        elif programme == "dibao":
            case_no, paid = self.dibao(a, person, start, None, where)
            made.dibao = {"case_no": case_no, "start": start, "area_type": "城市" if township.urban else "农村"}
        else:
            issued = self.day_in(start)
            valid_until = dt.date(issued.year + 10, issued.month, issued.day) - dt.timedelta(days=1)
            case_no = person["true_id"] + "41"  # 肢体, grade 1 (rows.certificate_number)
            cert = {"case_no": case_no, "name": person["name"], "id_number": person["true_id"],
                    "sex": SEX_TEXT[person["sex"]], "disability_category": "肢体", "disability_grade": "一级",
                    "issue_date": f"{issued:%Y-%m-%d}", "valid_until": f"{valid_until:%Y-%m-%d}",
                    "certificate_status": "正常", "township": township.name, "village": village}
            self.add(a, "disability", cert, person["true_id"])
            amount = Fraction(places.CARE_SUBSIDY[1])
            paid = {m: amount for m in range(max(start, self.window_start), self.as_of + 1)}
            self.ledger(a, person, CARE, case_no, paid, township)
            a.added_paid_names.add(person["name"])
            made.care = {**cert, "amount": amount, "first": min(paid)}
        programme_name = {"tekun": TEKUN, "dibao": DIBAO, "care": CARE}[programme]
        made.months = {m: [(programme_name, case_no, amount)] for m, amount in paid.items()}
        return made

    def other_county(self, name: str, *, cremated: bool = False) -> _County | None:
        """A county other than A where a record under `name` can be taken for nobody of its own, or None.

        A body from elsewhere (`cremated`) is linked only to people the county pays without registering them,
        and the county's truth lists its recipients of the same name as near misses: none may bear the name.
        A register or roster row is: nobody of the county may bear it.
        """
        fitting = [c for c in self.others if not c.holds_name(name, paid_only=cremated)]
        if not fitting:
            return None
        chosen = self.rng.choice(fitting)
        (chosen.added_cremated_names if cremated else chosen.added_names).add(name)
        return chosen

    def plant(self, pool: list[_Person], count: int) -> None:
        """Every scenario A pays in, `count` times each, on people of `pool` or made for it."""
        self.used: set[str] = set()
        self.take("cremation", pool, count, self.cremated, "any")
        for kind in ("register_death", "register_moved_out"):
            for index in range(count):
                self.registered_elsewhere(kind, index)
        singles = [p for p in pool if p.dibao is not None]
        self.take("dibao_and_dibao", singles, count, self.dibao_in_b, "dibao")
        self.take("dibao_and_tekun", singles, count, self.tekun_in_b, "dibao")
        self.take("subsidy_twice", [p for p in pool if p.care is not None], count, self.care_in_b, "care")
        self.take("namesake_cremated", pool, count, self.namesake, "any")
        for _ in range(count):
            self.moved_and_stopped()
        for _ in range(count):
            self.dibao_stopped_before_tekun()
        self.take("moved_out_registered_elsewhere", pool, count, self.registered_here, "any")

    # -- the scenarios (each on one recipient `p` of A; True when planted) --------------
    def cremated(self, p: _Person, index: int) -> bool:
        """cross_deceased_paid: A's recipient cremated in B, with the number on every other record."""
        b = self.other_county(p.name, cremated=True)
        if b is None:
            return False
        death_month = self.rng.randint(max(p.first, self.as_of - 12), self.as_of - 1)
        death = self.day_in(death_month)
        numbered = index % 2 == 0
        self.cremation(b, p.identity, death, number=numbered, age=self.age_written(p.birth, death),
                       address=self.a.spec.name + p.township + p.village, sex=p.sex)
        b.added.persons.append((p.true_id, p.name, p.sex, f"{p.birth:%Y-%m-%d}", "", "", "", "",
                                f"{death:%Y-%m-%d}", "", "", "true", "cross_deceased_paid"))
        after = {m: sum((share for _, _, share in paid), Fraction(0)) for m, paid in p.months.items() if m > death_month}
        self.finding("cremation_with_number" if numbered else "cremation_without_number", self.a, b, p.identity, after)
        return True

    def registered_elsewhere(self, kind: str, index: int) -> None:
        """cross_deceased_paid / cross_moved_out_paid: registered only in B (死亡 / 迁出), paid by A through as_of."""
        rng, a, as_of = self.rng, self.a, self.as_of
        b = rng.choice(self.others)
        on_tekun = index % 2 == 0
        person = self.made_person(b, (62, 90) if on_tekun else (25, 58))
        start = rng.randint(self.window_start - 24, as_of - 6)
        event = rng.randint(max(start, self.window_start, as_of - 12), as_of - 1)
        self.register(b, person, "死亡" if kind == "register_death" else "迁出", self.day_in(event),
                      scenario=FINDING_KINDS[kind])
        _, paid = (self.tekun if on_tekun else self.dibao)(a, person, start, None, self.place(a))
        self.paid_unregistered(a, person, FINDING_KINDS[kind])
        self.finding(kind, a, b, person, {m: v for m, v in paid.items() if m > event})

    def dibao_in_b(self, p: _Person, _: int) -> bool:
        """cross_duplicate_benefit: A's single-member dibao recipient on a 单人 case of B from a later month (B's finding)."""
        low = max(p.first, p.dibao["start"]) + 1
        if low > self.as_of - 1:
            return False
        b = self.other_county(p.name)
        if b is None:
            return False
        _, paid = self.dibao(b, p.identity, self.rng.randint(low, self.as_of - 1), None, self.place(b))
        self.paid_unregistered(b, p.identity, "cross_duplicate_benefit")
        mine = p.paid(DIBAO)
        self.finding("dibao_and_dibao", b, self.a, p.identity, {m: v for m, v in paid.items() if m in mine})
        return True

    def tekun_in_b(self, p: _Person, _: int) -> bool:
        """cross_duplicate_benefit: A's single-member dibao recipient on tekun in B (A's finding: tekun stays)."""
        b = self.other_county(p.name)
        if b is None:
            return False
        start = self.rng.randint(p.first + 1, self.as_of - 1)
        self.tekun(b, p.identity, start, None, self.place(b))
        self.paid_unregistered(b, p.identity, "cross_duplicate_benefit")
        self.finding("dibao_and_tekun", self.a, b, p.identity, {m: v for m, v in p.paid(DIBAO).items() if m >= start})
        return True

    def care_in_b(self, p: _Person, _: int) -> bool:
        """cross_duplicate_benefit: A's care subsidy paid by B too from a later month (B's finding)."""
        cert = p.care
        if cert["first"] + 1 > self.as_of - 1:
            return False
        b = self.other_county(p.name)
        if b is None:
            return False
        start = self.rng.randint(cert["first"] + 1, self.as_of - 1)
        township, village = self.place(b)
        # B's copy of the certificate is issued in its start month: B owes nothing before it
        self.add(b, "disability", {
            "case_no": cert["case_no"].strip(), "name": p.name, "id_number": p.true_id, "sex": SEX_TEXT[p.sex],
            "disability_category": cert["disability_category"], "disability_grade": cert["disability_grade"],
            "issue_date": f"{self.day_in(start):%Y-%m-%d}", "valid_until": cert["valid_until"],
            "certificate_status": "正常", "township": township.name, "village": village}, p.true_id)
        amounts = {m: cert["amount"] for m in range(start, self.as_of + 1)}
        self.ledger(b, p.identity, CARE, cert["case_no"].strip(), amounts, township)
        b.added_paid_names.add(p.name)
        self.paid_unregistered(b, p.identity, "cross_duplicate_benefit")
        mine = p.paid(CARE)
        self.finding("subsidy_twice", b, self.a, p.identity, {m: v for m, v in amounts.items() if m in mine})
        return True

    def namesake(self, p: _Person, index: int) -> bool:
        """Near miss: a namesake of A's recipient cremated in B without a number — another sex, ten years older,
        or registered outside the province."""
        rng, a = self.rng, self.a
        b = self.other_county(p.name, cremated=True)
        if b is None:
            return False
        variant = index % 3
        death = self.day_in(rng.randint(self.window_start, self.as_of - 1))
        sex, birth, address = p.sex, p.birth, a.spec.name + p.township + p.village
        if variant == 0:
            sex, note = ("F" if p.sex == "M" else "M"), "other sex, same age and address"
            number = self.fresh_number(a, birth, sex)
        elif variant == 1:
            birth = birth.replace(year=birth.year - 10, day=min(birth.day, 28))
            note = "ten years older, same sex and address"
            number = self.fresh_number(a, birth, sex)
        else:
            code, county_name, townships, villages = rng.choice(places.NEIGHBOUR_COUNTIES)
            address = county_name + rng.choice(townships) + rng.choice(villages)
            note = "same sex and age, registered outside the province"
            number = self.fresh_number(None, birth, sex, code)
        dead = {"true_id": number, "name": p.name, "sex": sex, "birth": birth}
        self.cremation(b, dead, death, number=False, age=self.age_written(birth, death), address=address, sex=sex)
        b.added.persons.append((number, p.name, sex, f"{birth:%Y-%m-%d}", "", "", "", "", f"{death:%Y-%m-%d}", "", "",
                                "true", "namesake_cremated"))
        self.near_miss("namesake_cremated", a, b, p.identity, note)
        return True

    def moved_and_stopped(self) -> None:
        """Near miss: moved from A to B in month m, A's tekun paid through m, B's from m + 1."""
        rng, a, as_of = self.rng, self.a, self.as_of
        b = rng.choice(self.others)
        person = self.made_person(a, (62, 90))
        start = rng.randint(self.window_start - 24, as_of - 8)
        moved = rng.randint(max(start, self.window_start), as_of - 2)
        here, there = self.place(a), self.place(b)
        self.register(a, person, "迁出", self.day_in(moved), here, scenario="moved_and_stopped")
        case_no, _ = self.tekun(a, person, start, moved, here)
        self.register(b, person, "正常", None, there, scenario="moved_and_stopped")
        self.tekun(b, person, moved + 1, None, there)
        # A's own truth lists it, as the county generator would: paid through the move-out month
        a.added.findings.append({
            "check_code": "moved_out_paid", "kind": "near_miss", "true_id_number": person["true_id"],
            "name": person["name"], "case_no": case_no, "period_start": "", "period_end": "", "overpaid_amount": "0.00",
            "backpay_amount": "0.00", "needs_fuzzy_link": "false", "note": "paid_through_move_out_month"})
        self.near_miss("moved_and_stopped", a, b, person,
                       f"A's register 迁出 {month_text(moved)}, A paid through {month_text(moved)}, B from {month_text(moved + 1)}")

    def dibao_stopped_before_tekun(self) -> None:
        """Near miss: A's 单人 dibao case stopped (停保) the month before B's tekun starts."""
        rng, a, as_of = self.rng, self.a, self.as_of
        b = rng.choice(self.others)
        person = self.made_person(a, (62, 90))
        start = rng.randint(self.window_start - 24, as_of - 8)
        stopped = rng.randint(max(start, self.window_start), as_of - 2)
        here = self.place(a)
        self.register(a, person, "正常", None, here, scenario="dibao_stopped_before_tekun")
        self.dibao(a, person, start, stopped, here)
        self.tekun(b, person, stopped + 1, None, self.place(b))
        self.paid_unregistered(b, person, "dibao_stopped_before_tekun")
        self.near_miss("dibao_stopped_before_tekun", a, b, person,
                       f"A's dibao 停保 {month_text(stopped)}, B's tekun from {month_text(stopped + 1)}")

    def registered_here(self, p: _Person, _: int) -> bool:
        """Near miss: B's register says 迁出 for a recipient A registers as 正常 and pays."""
        b = self.other_county(p.name)
        if b is None:
            return False
        left = self.day_in(self.rng.randint(self.window_start - 60, self.as_of - 1))
        self.register(b, p.identity, "迁出", left, scenario="moved_out_registered_elsewhere")
        self.near_miss("moved_out_registered_elsewhere", self.a, b, p.identity,
                       f"B's register 迁出 {month_text(month_of(left))}; A's register 正常")
        return True

    def fresh_number(self, registered: _County | None, birth: dt.date, sex: str, code: str = "") -> str:
        """A number for the birth and sex that is nobody's: of county `registered`, or of `code` outside the province."""
        while True:
            sequence = self.rng.randrange(1, 500) * 2 - (1 if sex == "M" else 0)
            number = make_id_number(registered.code if registered is not None else code, birth, sequence)
            if number not in self.plan.used_numbers and (registered is None or not registered.holds_number(number)):
                self.plan.used_numbers.add(number)
                return number


# -- writing ---------------------------------------------------------------------------------------------

def _apply(county: _County) -> dict[str, int]:
    """Append the planted rows to the county's files and truth; return rows added per extract."""
    drop, truth, added = county.drop, county.truth, county.added
    counts = {}
    records = pl.read_csv(truth / "records.csv", infer_schema=False, columns=["source", "row_number"])
    last_row = dict(records.group_by("source").agg(pl.col("row_number").cast(pl.Int64).max()).iter_rows())
    del records
    record_rows = []
    for stem in FORMATS:
        rows = added.rows.get(stem)
        if not rows:
            continue
        columns = [c.name for c in BY_STEM[stem].columns]
        frame = pl.DataFrame([[row.get(c) for row in rows] for c in columns], schema={c: pl.String for c in columns},
                             orient="col")
        fmt, encoding = FORMATS[stem]
        if fmt == "xlsx":
            existing = read_any(drop, stem)
            existing = existing.rename({c.header: c.name for c in BY_STEM[stem].columns if c.header in existing.columns})
            (drop / f"{stem}.xlsx").unlink()
            write_any(pl.concat([existing, frame], how="diagonal"), drop, stem)
        else:
            headers = {c.name: c.header for c in BY_STEM[stem].columns}
            text = frame.rename(headers).write_csv(include_header=False)
            with (drop / f"{stem}.{fmt}").open("ab") as handle:
                handle.write(text.encode(encoding.removesuffix("-sig")))
        start = last_row.get(stem, 0)
        record_rows += [(stem, start + i, true_id, head, "") for i, (true_id, head) in enumerate(added.records[stem], 1)]
        counts[stem] = len(rows)
    _append_csv(truth / "records.csv", record_rows)
    _append_csv(truth / "persons.csv", added.persons)
    _append_csv(truth / "findings.csv", [tuple(f[c] for c in FINDING_COLUMNS) for f in added.findings])
    summary_path = truth / "summary.json"
    summary = json.loads(summary_path.read_text(encoding="utf-8"))
    for stem, count in counts.items():
        summary["rows"][stem] = summary["rows"].get(stem, 0) + count
    summary["persons"] += sum(1 for row in added.persons if row[6])
    for f in added.findings:
        entry = summary["findings"].setdefault(f["check_code"], {"planted": 0, "needs_fuzzy_link": 0, "near_miss": {},
                                                                 "unplanned": 0})
        entry["near_miss"][f["note"]] = entry["near_miss"].get(f["note"], 0) + 1
    summary["cross_county_rows"] = dict(sorted(counts.items()))
    summary_path.write_text(json.dumps(summary, ensure_ascii=False, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return counts


def _append_csv(path: Path, rows: list[tuple]) -> None:
    with path.open("a", encoding="utf-8", newline="") as handle:
        csv.writer(handle, lineterminator="\n").writerows(rows)


def _write_csv(path: Path, columns: tuple[str, ...], rows: list[dict]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows(tuple(row[c] for c in columns) for row in rows)


# -- the province ------------------------------------------------------------------------------------------

def generate_province(out: Path, *, counties: int = 3, households: int = 5000, seed: int = DEFAULT_SEED,
                      noise: float = 1.0, as_of: str = "2026-10", jobs: int = 1) -> dict:
    """Write the province sample to `out` (see the module docstring); return province.json's content."""
    if counties < 2:
        raise ValueError(f"{counties} counties: a province needs at least 2 for cross-county scenarios")
    if jobs < 1:
        raise ValueError(f"jobs {jobs}: expected at least 1")
    out = Path(out)
    for stale in ("drops", "truth", ".work"):
        shutil.rmtree(out / stale, ignore_errors=True)
    (out / "drops").mkdir(parents=True)
    (out / "truth").mkdir(parents=True)
    specs = county_specs(seed, counties)
    timings = _generate_counties(out, specs, households=households, noise=noise, as_of=as_of, jobs=jobs)

    month = parse_month(as_of)
    members = [_County(spec, out / "drops" / spec.code, out / "truth" / spec.code) for spec in specs]
    for member in members:
        _survey(member)
    plan = _Plan()
    for member in members:
        count = max(LEAST, round(member.recipients * RATE))
        pool = _candidates(member, month, limit=max(2000, 40 * count), seed=member.spec.seed)
        _Planter(members, member, month, noise, seed, plan).plant(pool, count)
    for member in members:
        _apply(member)
        member.all_names = member.paid_names = member.numbers = None

    plan.findings.sort(key=lambda f: (f["check_code"], f["county"], f["other_county"], f["true_id_number"]))
    plan.near_misses.sort(key=lambda f: (f["kind"], f["county"], f["other_county"], f["true_id_number"]))
    _write_csv(out / "truth" / "cross_findings.csv", CROSS_FINDING_COLUMNS, plan.findings)
    _write_csv(out / "truth" / "cross_near_misses.csv", CROSS_NEAR_MISS_COLUMNS, plan.near_misses)
    province = {
        "counties": [{"code": m.code, "name": m.spec.name, "households": households,
                      "persons": json.loads((m.truth / "summary.json").read_text(encoding="utf-8"))["persons"],
                      "seed": m.spec.seed} for m in members],
        "as_of": as_of, "seed": seed,
        "findings": dict(sorted(Counter(f["check_code"] for f in plan.findings).items())),
        "near_misses": dict(sorted(Counter(f["kind"] for f in plan.near_misses).items())),
        "kinds": dict(sorted(Counter(f["kind"] for f in plan.findings).items())),
    }
    made = {kind: n for kind, n in sorted(plan.made.items()) if n}
    if made:
        province["made_recipients"] = made
    short = {kind: n for kind, n in sorted(plan.short.items()) if n}
    if short:
        province["short"] = short
    (out / "truth" / "province.json").write_text(json.dumps(province, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    province["seconds"] = timings
    return province


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m data.sample.province", description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="folder that receives drops/ and truth/")
    parser.add_argument("--counties", type=int, default=3, help=f"2 to {len(places.PROVINCE_COUNTIES)}")
    parser.add_argument("--households", type=int, default=5000, help="per county (312,500: ~1M persons)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--noise", type=float, default=1.0, help="scale of every noise rate (2 doubles them)")
    parser.add_argument("--as-of", default="2026-10", help="last complete month, YYYY-MM")
    parser.add_argument("--jobs", type=int, default=1, help="counties generated at once, each in a process of its own")
    args = parser.parse_args(argv)
    if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", args.as_of):
        parser.error(f"--as-of {args.as_of!r}: expected YYYY-MM")
    if not 2 <= args.counties <= len(places.PROVINCE_COUNTIES):
        parser.error(f"--counties {args.counties}: expected 2 to {len(places.PROVINCE_COUNTIES)}")
    if args.households < 1:
        parser.error(f"--households {args.households}: expected at least 1")
    if args.jobs < 1:
        parser.error(f"--jobs {args.jobs}: expected at least 1")
    started = time.perf_counter()
    province = generate_province(args.out, counties=args.counties, households=args.households, seed=args.seed,
                                 noise=args.noise, as_of=args.as_of, jobs=args.jobs)
    seconds = province.pop("seconds")
    print(json.dumps(province, ensure_ascii=False, indent=2))
    for code, elapsed in seconds.items():
        print(f"county {code} generated in {elapsed:.1f} s", file=sys.stderr)
    # ru_maxrss is in KiB on Linux: the largest county process, and this one (surveying and planting)
    generating = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 2**20
    planting = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    print(f"province generated in {time.perf_counter() - started:.1f} s; peak memory {generating:.2f} GB per county "
          f"process, {planting:.2f} GB planting", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
