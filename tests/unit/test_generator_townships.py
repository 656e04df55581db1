"""The generator's townships grow with the population: a county's worth of households per group of townships.

A drop of 3,000 households at 1,000 a county (`county_households`) is three
groups of townships, each made as five shards of 200 (a few seconds): its
township codes and names are unique and every number built on a code
(户号, DB/TK case numbers, registered-poor household numbers) names the
township its row names; a township holds about what one county's township
holds, not three times as much; and the drop begins with the one-county drop,
row for row. Expected values are worked out here from the files alone.
"""

from __future__ import annotations

import csv
import json
from collections import Counter, defaultdict
from pathlib import Path

import pytest

from data.sample.county import (
    COUNTY_CODE,
    COUNTY_NAME,
    MAX_TOWNSHIP_GROUPS,
    NEIGHBOUR_COUNTIES,
    build_township_groups,
    build_townships,
)
from data.sample.generate import generate_drop, shard_plan

HOUSEHOLDS, SHARD, COUNTY = 3000, 200, 1000
GROUPS = HOUSEHOLDS // COUNTY
ENCODINGS = {"registered_poor": "utf-8-sig", "cremation": "gb18030"}
# the kind of township each hundred of codes numbers, and how its name ends
KINDS = {"0": "街道", "1": "镇", "2": "乡"}


def _read(path: Path, encoding: str = "utf-8") -> list[dict[str, str]]:
    with path.open(encoding=encoding, newline="") as handle:
        return list(csv.DictReader(handle))


def _extract(out: Path, stem: str) -> list[dict[str, str]]:
    return _read(out / "drop" / f"{stem}.csv", ENCODINGS.get(stem, "utf-8"))


@pytest.fixture(scope="module")
def prefecture(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("groups")
    generate_drop(out, seed=11, households=HOUSEHOLDS, shard_households=SHARD, county_households=COUNTY)
    return out


@pytest.fixture(scope="module")
def one_county(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("one_county")
    generate_drop(out, seed=11, households=COUNTY, shard_households=SHARD, county_households=COUNTY)
    return out


@pytest.fixture(scope="module")
def code_of(prefecture: Path) -> dict[str, str]:
    """Township name → code, from the truth's register persons and their 户号 (township code + village + sequence)."""
    codes: dict[str, set[str]] = defaultdict(set)
    for person in _read(prefecture / "truth" / "persons.csv"):
        if person["relation"]:  # someone in no register here (an outsider) has no 户号 of their own
            codes[person["township"]].add(person["household_no"][:3])
    assert all(len(held) == 1 for held in codes.values()), {name: held for name, held in codes.items() if len(held) > 1}
    return {name: held.pop() for name, held in codes.items()}


@pytest.mark.parametrize(("households", "shard", "county", "expected"), [
    (5000, 50_000, 312_500, [(0, 5000)]),  # the committed sample
    (312_500, 50_000, 312_500, [(0, 44_643)] * 6 + [(0, 44_642)]),  # the ~1M drop: one county, seven shards
    (625_000, 50_000, 312_500, ([(0, 44_643)] * 6 + [(0, 44_642)]) + ([(1, 44_643)] * 6 + [(1, 44_642)])),
    (3000, 200, 1000, [(group, 200) for group in range(3) for _ in range(5)]),
    (1001, 200, 1000, [(0, 167)] * 3 + [(1, 167), (1, 167), (1, 166)]),
    (1000, 5000, 300, [(0, 250), (1, 250), (2, 250), (3, 250)]),  # a county smaller than a shard: a shard a county
])
def test_shard_plan_cuts_counties_into_shards(households, shard, county, expected):
    assert shard_plan(households, shard, county) == expected


def test_township_groups_have_unique_codes_and_names_in_their_kinds_hundred():
    groups = build_township_groups(20261123, MAX_TOWNSHIP_GROUPS)
    assert groups[0] == build_townships(20261123)
    townships = [t for group in groups for t in group]
    assert len(townships) == MAX_TOWNSHIP_GROUPS * len(groups[0])
    codes = [t.code for t in townships]
    names = [t.name for t in townships]
    assert len(set(codes)) == len(codes) and len(set(names)) == len(names)
    for t in townships:
        assert len(t.code) == 3 and t.code.isdigit() and t.code != "000", t
        assert t.name.endswith(KINDS[t.code[0]]) and t.urban == (t.code[0] == "0"), t
        assert 5 <= len(t.villages) <= 14 and len(set(t.villages)) == len(t.villages), t
    # a cremation address is read for the longest place name inside it: no township name inside another
    assert not [(a, b) for a in names for b in names if a != b and a in b]
    neighbours = [name + township + village for _, name, towns, villages in NEIGHBOUR_COUNTIES for township in towns for village in villages]
    for group in groups[1:]:
        for t in group:
            assert not [address for address in neighbours for place in (t.name, *t.villages) if place in address], t


def test_township_groups_are_drawn_from_the_seed():
    assert build_township_groups(5, 3) == build_township_groups(5, 4)[:3]
    assert build_township_groups(5, 3)[1:] != build_township_groups(6, 3)[1:]


def test_township_groups_beyond_three_digit_codes_are_refused(tmp_path: Path):
    with pytest.raises(ValueError, match="township groups"):
        build_township_groups(5, MAX_TOWNSHIP_GROUPS + 1)
    with pytest.raises(ValueError, match="groups of townships"):
        generate_drop(tmp_path, seed=5, households=MAX_TOWNSHIP_GROUPS + 1, county_households=1)


def test_grouped_drop_counts_its_groups_and_townships(prefecture: Path, code_of: dict[str, str]) -> None:
    summary = json.loads((prefecture / "truth" / "summary.json").read_text(encoding="utf-8"))
    townships = len(build_townships(11))
    assert (summary["township_groups"], summary["townships"], summary["shards"]) == (GROUPS, GROUPS * townships, 15)
    assert len(code_of) == GROUPS * townships
    assert len(set(code_of.values())) == len(code_of)  # one code, one name


def test_grouped_drop_numbers_name_the_township_their_row_names(prefecture: Path, code_of: dict[str, str]) -> None:
    register = _extract(prefecture, "household_register")
    assert {row["乡镇(街道)"].strip() for row in register} == set(code_of)
    for row in register:
        assert row["户号"].strip()[:3] == code_of[row["乡镇(街道)"].strip()], row
    for stem, column, township, prefix in (
        ("dibao", "低保证号", "乡镇(街道)", "DB"),
        ("tekun", "供养证号", "乡镇(街道)", "TK"),
        ("registered_poor", "户编号", "乡镇", COUNTY_CODE),
    ):
        rows = _extract(prefecture, stem)
        assert len({row[township] for row in rows}) > len(code_of) // 2, stem  # spread over the groups
        for row in rows:
            number = row[column].strip()
            assert number.startswith(prefix) and number[len(prefix):len(prefix) + 3] == code_of[row[township].strip()], (stem, row)
    assert {row["乡镇(街道)"].strip() for row in _extract(prefecture, "payments")} <= set(code_of)


def test_grouped_drop_cremation_addresses_name_one_township(prefecture: Path, code_of: dict[str, str]) -> None:
    ours = [row["户籍地址"] for row in _extract(prefecture, "cremation") if row["户籍地址"].startswith(COUNTY_NAME)]
    assert len(ours) > 100
    for address in ours:
        assert len([name for name in code_of if name in address]) == 1, address


def _persons_per_township(out: Path) -> Counter:
    return Counter(p["township"] for p in _read(out / "truth" / "persons.csv") if p["relation"])


def test_grouped_drop_township_holds_what_a_county_township_holds(prefecture: Path, one_county: Path) -> None:
    grouped, county = _persons_per_township(prefecture), _persons_per_township(one_county)
    assert sum(grouped.values()) > 2.5 * sum(county.values())
    # three counties' people in three times the townships: a township's share stays a county township's
    assert max(grouped.values()) < 1.5 * max(county.values())
    assert sum(grouped.values()) / len(grouped) < 1.2 * sum(county.values()) / len(county)


def test_grouped_drop_begins_with_the_one_county_drop(prefecture: Path, one_county: Path) -> None:
    for stem in ("household_register", "dibao", "tekun", "registered_poor", "cremation", "payments"):
        name = f"{stem}.csv"
        county = (one_county / "drop" / name).read_bytes()
        assert (prefecture / "drop" / name).read_bytes()[:len(county)] == county, stem
    for name in ("persons.csv", "records.csv", "findings.csv"):
        county = (one_county / "truth" / name).read_bytes()
        assert (prefecture / "truth" / name).read_bytes()[:len(county)] == county, name
