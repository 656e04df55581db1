"""The generator's wrong-but-valid citizen numbers: well formed, someone else's form, nobody's number.

A mistyped 15-digit number (`id_15_typo`), a wrong division code with the
check character recomputed (`id_division`) and two slips that pass MOD 11-2
(`id_two_slip`) are the rows an exact-number linker gets wrong with
certainty. Tested on `_Noise.id_number` with a seeded stream and on small
drops; the expected properties are worked out here from the numbers alone.
"""

from __future__ import annotations

import csv
import datetime as dt
import random
from collections import defaultdict
from pathlib import Path

import pytest

from data.sample.county import COUNTY_CODE, NEIGHBOUR_COUNTIES
from data.sample.generate import generate_drop
from data.sample.households import build_population
from data.sample.ids import check_char, is_valid, make_id_number, normalize, to_15
from data.sample.model import Calendar, parse_month
from data.sample.noise import WRONG_NUMBER_KINDS, Rates, _Noise, apply_noise
from data.sample.plant import plant
from data.sample.programmes import assign_programmes
from data.sample.rows import build_rows
from data.sample.truth import compute_truth
from hecha.extracts.declarations import BY_STEM
from hecha.extracts.read import read_xlsx

HOUSEHOLDS = 600
ENCODINGS = {"registered_poor": "utf-8-sig", "cremation": "gb18030"}
NUMBER_COLUMNS = (("", "id_number", "true_id_number"), ("head_", "head_id_number", "head_true_id_number"))
OLD = make_id_number(COUNTY_CODE, dt.date(1956, 3, 14), 123)  # born before 1970: may be written in 15 digits
YOUNG = make_id_number(COUNTY_CODE, dt.date(1988, 11, 2), 457)


def _noise(seed: int = 1, *, issued: frozenset[str] = frozenset(), register: bool = False, **rates: float) -> _Noise:
    return _Noise(random.Random(seed), Rates(**rates), converter=None, issued=issued | {OLD, YOUNG},
                  latest_birth=dt.date(2026, 10, 31), register=register)


def _one_slip_variants(number: str) -> set[str]:
    variants = {number[:i] + c + number[i + 1:] for i in range(len(number)) for c in "0123456789X" if c != number[i]}
    variants |= {number[:i] + number[i + 1] + number[i] + number[i + 2:] for i in range(len(number) - 1)}
    return variants


def _embedded_birth(id18: str) -> dt.date:
    return dt.date(int(id18[6:10]), int(id18[10:12]), int(id18[12:14]))


def _written(noise: _Noise, number: str, born: int) -> list[tuple[str, str, list[str]]]:
    """(written, normalized, labels) of 200 calls."""
    result = []
    for _ in range(200):
        text, labels = noise.id_number(number, born)
        result.append((text, normalize(text), labels))
    return result


# -- _Noise.id_number, one kind at a time -------------------------------------------------------


def test_id_15_typo_upgrades_to_a_valid_number_of_nobody():
    for text, upgraded, labels in _written(_noise(id_15=1.0, id_15_typo=1.0), OLD, 1956):
        assert labels == ["id_15_typo"]
        assert len(text) == 15 and text.isdigit()
        assert sum(a != b for a, b in zip(text, to_15(OLD))) == 1  # one digit mistyped
        assert is_valid(upgraded) and upgraded != OLD
        assert dt.date(1900, 1, 1) <= _embedded_birth(upgraded) <= dt.date(2026, 10, 31)


def test_id_15_typo_only_on_numbers_written_in_15_digits():
    assert all(labels == [] for _, _, labels in _written(_noise(id_15=0.0, id_15_typo=1.0), OLD, 1956))
    assert all(labels == [] for _, _, labels in _written(_noise(id_15=1.0, id_15_typo=1.0), YOUNG, 1988))


def test_id_division_changes_only_the_division_code_and_recomputes_the_check():
    neighbours = {code for code, *_ in NEIGHBOUR_COUNTIES}
    areas = set()
    for text, normalized, labels in _written(_noise(id_division=1.0), YOUNG, 1988):
        assert labels == ["id_division"] and text == normalized
        assert is_valid(text) and text != YOUNG
        assert text[:2] == YOUNG[:2] and text[:6] != YOUNG[:6] and text[6:17] == YOUNG[6:17]
        areas.add(text[:6])
    assert areas & neighbours, "a neighbouring county's code is swapped in"
    assert areas - neighbours, "a code one digit off"


def test_id_two_slip_passes_the_check_and_is_more_than_one_slip_away():
    slips = _one_slip_variants(YOUNG)
    for text, normalized, labels in _written(_noise(id_two_slip=1.0), YOUNG, 1988):
        assert labels == ["id_two_slip"] and text == normalized
        assert is_valid(text) and text != YOUNG and text not in slips
        assert 2 <= sum(a != b for a, b in zip(text, YOUNG)) <= 3  # two substitutions, or a swap and a substitution
        assert dt.date(1900, 1, 1) <= _embedded_birth(text) <= dt.date(2026, 10, 31)


def test_wrong_number_is_never_an_issued_number():
    # half the forms a draw could give are declared issued: those must be drawn again
    typos = [text for text in _one_slip_variants(to_15(OLD)) if len(text) == 15 and text.isdigit()]
    taken_typos = {normalize(text) for i, text in enumerate(sorted(typos)) if i % 2}
    taken_areas = {make_id_number(code, dt.date(1988, 11, 2), 457) for code, *_ in NEIGHBOUR_COUNTIES}
    issued = frozenset(taken_typos | taken_areas)
    for kind, rates, number, born, taken in (("id_15_typo", {"id_15": 1.0, "id_15_typo": 1.0}, OLD, 1956, taken_typos),
                                             ("id_division", {"id_division": 1.0}, YOUNG, 1988, taken_areas)):
        written = [(normalized, labels) for _, normalized, labels in _written(_noise(7, issued=issued, **rates), number, born)]
        assert all(labels == [kind] for _, labels in written), kind
        assert not {normalized for normalized, _ in written} & taken, kind


def test_wrong_number_is_never_one_written_for_another_person():
    other = make_id_number(NEIGHBOUR_COUNTIES[0][0], dt.date(1988, 11, 2), 457)  # shares all but the division code
    noise = _noise(5, id_division=1.0)
    first = [(normalized, labels) for _, normalized, labels in _written(noise, YOUNG, 1988)]
    # 200 rows of one person from some 40 forms: the same person gets the same wrong number again
    assert all(labels == ["id_division"] for _, labels in first) and len({n for n, _ in first}) < 100
    second = {normalized for _, normalized, labels in _written(noise, other, 1988) if labels == ["id_division"]}
    # both could take 130535… and the other neighbours' codes; whoever came first keeps them
    assert {n for n, _ in first} & {make_id_number(code, dt.date(1988, 11, 2), 457) for code, *_ in NEIGHBOUR_COUNTIES[1:]}
    assert second and not {n for n, _ in first} & second


def test_register_keeps_birth_date_and_sex_digits():
    for rates, number, born in (({"id_15": 1.0, "id_15_typo": 1.0}, OLD, 1956), ({"id_division": 1.0}, YOUNG, 1988),
                                ({"id_two_slip": 1.0}, YOUNG, 1988)):
        for _, normalized, labels in _written(_noise(3, register=True, **rates), number, born):
            assert labels and labels[0] in WRONG_NUMBER_KINDS
            assert normalized != number and normalized[6:14] == number[6:14] and normalized[16] == number[16]


def test_number_planted_as_written_is_left_alone():
    noise = _noise(id_15=1.0, id_15_typo=1.0, id_division=1.0, id_two_slip=1.0)
    assert noise.id_number(OLD, 1956, forced="clean") == (OLD, [])
    assert noise.id_number(OLD, 1956, forced="id_15") == (to_15(OLD), ["id_15"])


def test_rates_scale_wrong_numbers_apart():
    rates = Rates(id_typo=0.01, id_division=0.003, id_15_typo=0.4).scaled(3.0, number_factor=0.5)
    assert (rates.id_typo, rates.id_division, rates.id_15_typo) == pytest.approx((0.03, 0.0015, 0.2))
    rates = Rates(id_typo=0.01, id_division=0.003, id_15_typo=0.4).scaled(3.0)
    assert (rates.id_typo, rates.id_division, rates.id_15_typo) == pytest.approx((0.03, 0.009, 1.0))  # capped at 1


# -- generated drops --------------------------------------------------------------------------


def _rows(drop: Path, stem: str) -> list[dict[str, str]]:
    """The extract's rows keyed by column name, in file order."""
    names = {c.header: c.name for c in BY_STEM[stem].columns}
    if stem == "disability":
        rows = read_xlsx(drop / "disability.xlsx").iter_rows(named=True)
    else:
        with (drop / f"{stem}.csv").open(encoding=ENCODINGS.get(stem, "utf-8"), newline="") as handle:
            rows = list(csv.DictReader(handle))
    return [{names.get(k, k): v for k, v in row.items()} for row in rows]


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _labelled(out: Path) -> list[tuple[str, str, str, str, dict[str, str]]]:
    """(source, label, written number, true number, row) of every number a wrong-number kind wrote."""
    drop = out / "drop"
    rows = {stem: _rows(drop, stem) for stem in BY_STEM}
    found = []
    for record in _read(out / "truth" / "records.csv"):
        labels = set(filter(None, record["noise"].split(";")))
        row = rows[record["source"]][int(record["row_number"]) - 1]
        for prefix, column, true_column in NUMBER_COLUMNS:
            for kind in WRONG_NUMBER_KINDS:
                if prefix + kind in labels:
                    found.append((record["source"], kind, row[column], record[true_column], row))
    return found


@pytest.fixture(scope="module")
def drops(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = {}
    for name, number_noise in (("noisy", 10.0), ("quiet", 0.0)):
        folder = out[name] = tmp_path_factory.mktemp(name)
        generate_drop(folder, seed=5, households=HOUSEHOLDS, noise=1.0, number_noise=number_noise)
    return out


@pytest.mark.parametrize("kind", WRONG_NUMBER_KINDS)
def test_drop_writes_valid_numbers_of_nobody(drops, kind):
    issued = {p["true_id_number"] for p in _read(drops["noisy"] / "truth" / "persons.csv")}
    written = [(source, number, true) for source, label, number, true, _ in _labelled(drops["noisy"]) if label == kind]
    assert written
    for source, number, true in written:
        normalized = normalize(number)
        assert normalized is not None and is_valid(normalized), (source, number)
        assert normalized != true and normalized not in issued, (source, number, true)


def test_drop_has_wrong_numbers_in_every_source_with_numbers(drops):
    sources = {source for source, *_ in _labelled(drops["noisy"])}
    assert sources == {"household_register", "dibao", "tekun", "registered_poor", "cremation", "disability", "payments"}


def test_drop_without_number_noise_has_none_and_nothing_else_changes(drops):
    quiet, noisy = _read(drops["quiet"] / "truth" / "records.csv"), _read(drops["noisy"] / "truth" / "records.csv")
    assert not _labelled(drops["quiet"])
    kinds = {prefix + kind for prefix, *_ in NUMBER_COLUMNS for kind in WRONG_NUMBER_KINDS}
    changed = 0
    for before, after in zip(quiet, noisy, strict=True):
        if set(after["noise"].split(";")) & kinds:
            changed += 1
        else:
            assert before == after
    assert changed
    for stem in ("household_register", "dibao", "payments"):
        labels = [r["noise"] for r in noisy if r["source"] == stem]
        for label, before, after in zip(labels, _rows(drops["quiet"] / "drop", stem), _rows(drops["noisy"] / "drop", stem), strict=True):
            if not set(label.split(";")) & kinds:
                assert before == after, stem


def test_drop_payee_keeps_one_wrong_number_every_month(drops):
    numbers: dict[tuple[str, str, str], set[str]] = defaultdict(set)
    for source, _, number, true, row in _labelled(drops["noisy"]):
        if source == "payments":
            numbers[(row["case_no"], row["programme"], true)].add(number)
    assert numbers
    assert all(len(written) == 1 for written in numbers.values())
    # and every line of such a stream carries it, not only some months
    records = _read(drops["noisy"] / "truth" / "records.csv")
    for record, row in zip((r for r in records if r["source"] == "payments"), _rows(drops["noisy"] / "drop", "payments"), strict=True):
        written = numbers.get((row["case_no"], row["programme"], record["true_id_number"]))
        if written is not None:
            assert {row["id_number"]} == written


def test_truth_finding_on_misregistered_person_needs_a_fuzzy_link():
    """Only the register row's number made wrong: each finding about that person turns fuzzy, no other finding does."""
    cal = Calendar(parse_month("2026-10"))
    population = build_population(5, HOUSEHOLDS, cal)
    programmes = assign_programmes(population, cal, 5)
    plant(population, programmes, cal, 5)
    rows = build_rows(population, programmes, cal, 5)
    apply_noise(rows, seed=5, scale=0.0)
    before = {(f["check_code"], f["kind"], f["true_id_number"]): f["needs_fuzzy_link"] for f in compute_truth(rows, population, cal).findings}
    register = {row.person.id_number: row for row in rows["household_register"]}
    exact = sorted(key for key, fuzzy in before.items() if fuzzy == "false" and key[2] in register)
    assert exact
    chosen = {key[2] for key in exact[::3]}
    for number in chosen:
        wrong = ("130533" if number[:6] != "130533" else "130535") + number[6:17]
        register[number].values["id_number"] = wrong + check_char(wrong)
        register[number].labels = ["id_division"]
    after = {(f["check_code"], f["kind"], f["true_id_number"]): f["needs_fuzzy_link"] for f in compute_truth(rows, population, cal).findings}
    assert after.keys() == before.keys()
    for key, fuzzy in after.items():
        assert fuzzy == ("true" if key[2] in chosen else before[key]), key


def test_drop_number_noise_alone_keeps_numbers_planted_as_written(tmp_path):
    # every wrong-number rate capped at 1: each number not planted as written is damaged
    generate_drop(tmp_path, seed=3, households=HOUSEHOLDS, noise=0.0, number_noise=1000.0)
    unrepairable = [f for f in _read(tmp_path / "truth" / "findings.csv") if f["note"].startswith("on tekun, in no register")]
    written = {row["id_number"] for row in _rows(tmp_path / "drop", "tekun")}
    assert unrepairable
    for f in unrepairable:
        assert f["true_id_number"] in written and check_char(f["true_id_number"][:17]) != f["true_id_number"][17]
    labels = {label for r in _read(tmp_path / "truth" / "records.csv") for label in r["noise"].split(";") if label}
    assert labels <= {prefix + kind for prefix, *_ in NUMBER_COLUMNS for kind in WRONG_NUMBER_KINDS} | {"id_lower_x", "head_id_lower_x"}
