"""The generator's sharded counties: one county in files, whatever the number of shards.

A county of 600 households made as three shards of 200 (a second or two):
the same arguments give the same bytes, and the shards share no citizen
number, 户号, case, registered-poor or cremation record number; a wrong
number stays nobody's and an unrepairable one a slip from nobody's, across
the whole county; records.csv points at each extract's rows as written.
Expected values are worked out here from the files alone.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import random
from collections import defaultdict
from pathlib import Path

import pytest

from data.sample.county import COUNTY_CODE, NEIGHBOUR_COUNTIES
from data.sample.generate import generate_drop, shard_sizes
from data.sample.households import IdIssuer
from data.sample.ids import is_valid, make_id_number, normalize
from data.sample.noise import WRONG_NUMBER_KINDS
from data.sample.scenarios import one_slip_variants
from data.sample.taken import TakenNumbers
from hecha.extracts.declarations import BY_STEM
from hecha.extracts.read import read_xlsx

HOUSEHOLDS, SHARD = 600, 200
ENCODINGS = {"registered_poor": "utf-8-sig", "cremation": "gb18030"}


def _read(path: Path, encoding: str = "utf-8") -> list[dict[str, str]]:
    with path.open(encoding=encoding, newline="") as handle:
        return list(csv.DictReader(handle))


def _rows(drop: Path, stem: str) -> list[dict[str, str]]:
    """The extract's rows keyed by column name, in file order."""
    names = {c.header: c.name for c in BY_STEM[stem].columns}
    if stem == "disability":
        rows = list(read_xlsx(drop / "disability.xlsx").iter_rows(named=True))
    else:
        rows = _read(drop / f"{stem}.csv", ENCODINGS.get(stem, "utf-8"))
    return [{names.get(k, k): v for k, v in row.items()} for row in rows]


def _digests(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def county(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sharded")
    # many wrong numbers, so that nobody's-ness is tested across shards on more than a handful
    generate_drop(out, seed=11, households=HOUSEHOLDS, number_noise=10.0, shard_households=SHARD)
    return out


@pytest.fixture(scope="module")
def records(county: Path) -> list[tuple[dict[str, str], dict[str, str]]]:
    """(records.csv row, the extract row it names) for every record."""
    drop = county / "drop"
    rows = {stem: _rows(drop, stem) for stem in BY_STEM}
    return [(record, rows[record["source"]][int(record["row_number"]) - 1]) for record in _read(county / "truth" / "records.csv")]


@pytest.mark.parametrize(("households", "shard", "expected"), [
    (5000, 50_000, [5000]),  # the default sample: one shard
    (50_000, 50_000, [50_000]),
    (50_001, 50_000, [25_001, 25_000]),
    (600, 200, [200, 200, 200]),
    (601, 200, [151, 150, 150, 150]),
    (1, 200, [1]),
])
def test_shard_sizes_hold_at_most_a_shard_and_differ_by_one(households, shard, expected):
    assert shard_sizes(households, shard) == expected


@pytest.mark.parametrize(("description", "number"), [
    ("the county's own", make_id_number(COUNTY_CODE, dt.date(1956, 3, 14), 123)),
    ("a neighbouring county's", make_id_number(NEIGHBOUR_COUNTIES[0][0], dt.date(1988, 11, 2), 457)),
    ("a division code one digit off", make_id_number("130544", dt.date(1988, 11, 2), 457)),
    ("born before the array's first year", make_id_number(COUNTY_CODE, dt.date(1870, 1, 1), 1)),
])
def test_taken_numbers_hold_what_was_added_and_nothing_else(description, number):
    taken = TakenNumbers()
    assert number not in taken, description
    taken.add(number)
    assert number in taken, description
    # the same first 17 characters with another check character: an invalid number, never taken
    assert number[:17] + next(c for c in "0123456789X" if c != number[17]) not in taken, description
    assert make_id_number(number[:6], dt.date(1956, 3, 15), 123) not in taken, description


def test_issuer_never_issues_a_number_an_earlier_shard_took():
    birth = dt.date(1960, 5, 1)
    free = make_id_number(COUNTY_CODE, birth, 457)  # odd sequence: a man's
    taken = TakenNumbers()
    for sequence in range(1, 1000, 2):
        if sequence != 457:
            taken.add(make_id_number(COUNTY_CODE, birth, sequence))
    issuer = IdIssuer(random.Random(1), taken)
    assert issuer.issue(COUNTY_CODE, birth, "M") == free


def test_sharded_county_same_arguments_give_identical_bytes(county: Path, tmp_path: Path) -> None:
    generate_drop(tmp_path, seed=11, households=HOUSEHOLDS, number_noise=10.0, shard_households=SHARD)
    assert _digests(tmp_path) == _digests(county)


def test_sharded_county_is_summed_over_its_shards(county: Path, records) -> None:
    summary = json.loads((county / "truth" / "summary.json").read_text(encoding="utf-8"))
    assert (summary["households"], summary["shards"]) == (HOUSEHOLDS, 3)
    per_source = defaultdict(int)
    for record, _ in records:
        per_source[record["source"]] += 1
    assert summary["rows"] == dict(per_source)
    persons = _read(county / "truth" / "persons.csv")
    assert summary["persons"] + summary["outside_county_persons"] == len(persons)
    households = {p["household_no"] for p in persons if p["household_no"]}
    assert len(households) == HOUSEHOLDS


def test_sharded_county_shares_no_citizen_number(county: Path) -> None:
    numbers = [p["true_id_number"] for p in _read(county / "truth" / "persons.csv")]
    assert len(numbers) > 3 * HOUSEHOLDS
    assert len(set(numbers)) == len(numbers)


def test_sharded_county_records_name_their_person_and_household(county: Path, records) -> None:
    household_of = {p["true_id_number"]: p["household_no"] for p in _read(county / "truth" / "persons.csv")}
    register = [(record, row) for record, row in records if record["source"] == "household_register"]
    assert len(register) > HOUSEHOLDS
    for record, row in register:
        assert household_of[record["true_id_number"]] == row["household_no"].strip(), record


def test_sharded_county_case_and_record_numbers_name_one_holder(county: Path, records) -> None:
    holders: dict[tuple[str, str], set[str]] = defaultdict(set)
    for record, row in records:
        source = record["source"]
        if source in ("dibao", "registered_poor"):
            key, holder = row["case_no" if source == "dibao" else "poor_household_no"], record["head_true_id_number"]
        elif source in ("tekun", "disability", "cremation"):
            key, holder = row["record_no" if source == "cremation" else "case_no"], record["true_id_number"]
        else:
            continue
        holders[(source, key.strip())].add(holder)
    assert {source for source, _ in holders} == {"dibao", "registered_poor", "tekun", "disability", "cremation"}
    assert all(len(holder) == 1 for holder in holders.values()), [k for k, v in holders.items() if len(v) > 1]
    cremations = [row["record_no"] for record, row in records if record["source"] == "cremation"]
    assert len(set(cremations)) == len(cremations)


def test_sharded_county_writes_wrong_numbers_of_nobody(county: Path, records) -> None:
    issued = {p["true_id_number"] for p in _read(county / "truth" / "persons.csv")}
    written_for: dict[str, set[str]] = defaultdict(set)
    for record, row in records:
        labels = set(record["noise"].split(";"))
        for prefix, column, true_column in (("", "id_number", "true_id_number"), ("head_", "head_id_number", "head_true_id_number")):
            if labels & {prefix + kind for kind in WRONG_NUMBER_KINDS}:
                number = normalize(row[column])
                assert number is not None and is_valid(number) and number not in issued, (record, row[column])
                written_for[number].add(record[true_column])
    assert len(written_for) > 30
    assert all(len(holders) == 1 for holders in written_for.values())  # one wrong number, one person


def test_sharded_county_unrepairable_numbers_are_a_slip_from_nobody(county: Path) -> None:
    register = {p["true_id_number"] for p in _read(county / "truth" / "persons.csv") if p["household_no"]}
    unrepairable = [f["true_id_number"] for f in _read(county / "truth" / "findings.csv")
                    if f["note"].startswith("on tekun, in no register")]
    assert len(unrepairable) >= 3  # at least one a shard
    for number in unrepairable:
        assert not is_valid(number) and not one_slip_variants(number) & register, number
