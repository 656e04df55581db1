"""The province generator: counties of their own, cross-county scenarios whose truth the files bear out.

A province of three counties of 300 households (a few seconds). Expected
periods and amounts are worked out here from the written files alone — each
county's ledger, rosters and records.csv (which true person each row is
about) — by the rules of POLICY.md, never from the generator's own code.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
from collections import Counter, defaultdict
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from pathlib import Path

import pytest

from data.sample.county import NEIGHBOUR_COUNTIES
from data.sample.generate import generate_drop
from data.sample.ids import normalize
from data.sample.province import generate_province
from hecha.extracts.read import read_xlsx

COUNTIES, HOUSEHOLDS, SEED = 3, 300, 5
ENCODINGS = {"registered_poor": "utf-8-sig", "cremation": "gb18030"}
CROSS_SCENARIOS = {"cross_deceased_paid", "cross_moved_out_paid", "cross_duplicate_benefit", "cross_recipient",
                   "moved_and_stopped", "dibao_stopped_before_tekun", "moved_out_registered_elsewhere", "namesake_cremated"}
SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample"


def _month(text: str) -> int:
    digits = text.replace("-", "")
    return int(digits[:4]) * 12 + int(digits[4:6]) - 1


def _month_text(month: int) -> str:
    return f"{month // 12:04d}-{month % 12 + 1:02d}"


def _yuan(amount: Fraction) -> str:
    value = Decimal(amount.numerator) / Decimal(amount.denominator)
    return str(value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def _csv(path: Path, encoding: str = "utf-8") -> list[dict[str, str]]:
    with path.open(encoding=encoding, newline="") as handle:
        return list(csv.DictReader(handle))


def _digest(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


class County:
    """One county's drop read back, each row with the true person records.csv names for it."""

    def __init__(self, out: Path, code: str) -> None:
        self.code = code
        self.drop, self.truth = out / "drops" / code, out / "truth" / code
        self.config = json.loads((self.truth / "county.json").read_text(encoding="utf-8"))
        records = _csv(self.truth / "records.csv")
        self.true_id = {(r["source"], int(r["row_number"])): r["true_id_number"] for r in records}
        self.records = Counter(r["source"] for r in records)
        self.rows = {stem: self._read(stem) for stem in
                     ("household_register", "dibao", "tekun", "cremation", "payments", "registered_poor")}
        self.rows["disability"] = list(read_xlsx(self.drop / "disability.xlsx").iter_rows(named=True))
        for number, row in enumerate(self.rows["disability"], start=1):
            row["_true"] = self.true_id.get(("disability", number))
        self.persons = _csv(self.truth / "persons.csv")

    def _read(self, stem: str) -> list[dict[str, str]]:
        rows = _csv(self.drop / f"{stem}.csv", ENCODINGS.get(stem, "utf-8"))
        for number, row in enumerate(rows, start=1):
            row["_true"] = self.true_id.get((stem, number))
        return rows

    def places(self) -> list[str]:
        return [name for t in self.config["townships"] for name in (t["name"], *t["villages"])]

    def addresses(self) -> list[str]:
        return [self.config["name"] + t["name"] + v for t in self.config["townships"] for v in t["villages"]]

    def register(self, true_id: str) -> list[dict[str, str]]:
        return [r for r in self.rows["household_register"] if r["_true"] == true_id]

    def paid(self, true_id: str, programmes: tuple[str, ...] | None = None) -> dict[int, Fraction]:
        """The person's share of every ledger line by month: the payee's line, or 低保金 / covered members."""
        covered: dict[str, set[str]] = defaultdict(set)
        for row in self.rows["dibao"]:
            if row["是否保障对象"].strip() == "是":
                covered[row["低保证号"].strip()].add(row["_true"])
        months: dict[int, Fraction] = defaultdict(Fraction)
        for row in self.rows["payments"]:
            programme = row["项目"].strip()
            if programmes is not None and programme not in programmes:
                continue
            amount = Fraction(Decimal(row["金额"]))
            if programme == "低保金":
                members = covered[row["证号"].strip()]
                if true_id in members:
                    months[_month(row["发放年月"])] += amount / len(members)
            elif row["_true"] == true_id:
                months[_month(row["发放年月"])] += amount
        return dict(months)

    def start_month(self, true_id: str, programme: str) -> int:
        """When the person's enrolment of `programme` began: the roster's start month, else the first line."""
        if programme in ("低保金", "特困供养金"):
            stem, column = ("dibao", "保障开始年月") if programme == "低保金" else ("tekun", "开始年月")
            return min(_month(r[column]) for r in self.rows[stem] if r["_true"] == true_id)
        return min(self.paid(true_id, (programme,)))


@pytest.fixture(scope="module")
def province(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("province")
    generate_province(out, counties=COUNTIES, households=HOUSEHOLDS, seed=SEED, jobs=2)
    return out


@pytest.fixture(scope="module")
def counties(province: Path) -> dict[str, County]:
    codes = [c["code"] for c in json.loads((province / "truth" / "province.json").read_text(encoding="utf-8"))["counties"]]
    return {code: County(province, code) for code in codes}


@pytest.fixture(scope="module")
def findings(province: Path) -> list[dict[str, str]]:
    return _csv(province / "truth" / "cross_findings.csv")


@pytest.fixture(scope="module")
def near_misses(province: Path) -> list[dict[str, str]]:
    return _csv(province / "truth" / "cross_near_misses.csv")


def test_province_counties_have_codes_and_places_of_their_own(counties: dict[str, County]) -> None:
    codes = list(counties)
    assert len(codes) == COUNTIES == len(set(codes))
    assert all(len(code) == 6 and code.isdigit() for code in codes)
    assert not set(codes) & {code for code, *_ in NEIGHBOUR_COUNTIES}
    for code, county in counties.items():
        manifest = (county.drop / "manifest.yaml").read_text(encoding="utf-8")
        assert f'county: "{code}"' in manifest
    townships = [t["name"] for c in counties.values() for t in c.config["townships"]]
    assert len(townships) == len(set(townships))
    assert len({c.config["name"] for c in counties.values()}) == COUNTIES
    # an address of one county names no place of another: its linker reads it as someone from elsewhere
    for code, county in counties.items():
        others = [address for other, c in counties.items() if other != code for address in c.addresses()]
        for place in county.places():
            assert not any(place in address for address in others), place


def test_province_register_numbers_carry_their_county_code(counties: dict[str, County]) -> None:
    for code, county in counties.items():
        issued = [p for p in county.persons if p["township"] and p["scenario"] not in CROSS_SCENARIOS]
        assert issued
        assert all(p["true_id_number"][:6] == code for p in issued), code
        # and bodies from outside the province carry a neighbour's code, which no province county issues
        outsiders = [p for p in county.persons if not p["township"] and p["scenario"] not in CROSS_SCENARIOS]
        assert all(p["true_id_number"][:6] in {c for c, *_ in NEIGHBOUR_COUNTIES} for p in outsiders)


def test_province_truth_records_every_row_of_every_county(counties: dict[str, County]) -> None:
    for county in counties.values():
        for stem, rows in county.rows.items():
            assert county.records[stem] == len(rows), (county.code, stem)
            assert all(row["_true"] for row in rows)
        summary = json.loads((county.truth / "summary.json").read_text(encoding="utf-8"))
        assert summary["rows"] == {stem: len(rows) for stem, rows in county.rows.items()}


def test_province_plants_every_kind_at_least_three_times_a_county(province: Path, findings, near_misses) -> None:
    summary = json.loads((province / "truth" / "province.json").read_text(encoding="utf-8"))
    kinds = Counter(f["kind"] for f in findings)
    for kind in ("register_death", "register_moved_out", "dibao_and_dibao", "dibao_and_tekun", "subsidy_twice"):
        assert kinds[kind] >= 3 * COUNTIES, kind
    assert kinds["cremation_with_number"] + kinds["cremation_without_number"] >= 3 * COUNTIES
    assert kinds["cremation_with_number"] and kinds["cremation_without_number"]
    near = Counter((n["kind"], n["county"]) for n in near_misses)
    for kind in ("namesake_cremated", "moved_and_stopped", "dibao_stopped_before_tekun", "moved_out_registered_elsewhere"):
        for code in summary["counties"]:
            assert near[(kind, code["code"])] >= 3, (kind, code["code"])
    assert summary["findings"] == dict(Counter(f["check_code"] for f in findings))
    assert summary["near_misses"] == dict(Counter(n["kind"] for n in near_misses))
    assert "short" not in summary


def test_province_cremation_findings_rest_on_the_other_countys_record(counties, findings) -> None:
    planted = [f for f in findings if f["kind"].startswith("cremation_")]
    assert planted
    for f in planted:
        payer, other = counties[f["county"]], counties[f["other_county"]]
        (register,) = payer.register(f["true_id_number"])
        assert register["人员状态"].strip() == "正常"
        (record,) = [r for r in other.rows["cremation"] if r["_true"] == f["true_id_number"]]
        assert record["逝者姓名"] == f["name"] == register["姓名"]
        assert record["性别"] == register["性别"]
        assert record["户籍地址"] == payer.config["name"] + register["乡镇(街道)"] + register["村(社区)"]
        if f["kind"] == "cremation_with_number":
            assert normalize(record["身份证号"]) == f["true_id_number"]
        else:
            assert not record["身份证号"].strip()
        birth, death = dt.date.fromisoformat(register["出生日期"]), dt.datetime.strptime(record["死亡日期"], "%Y%m%d").date()
        full = death.year - birth.year - ((death.month, death.day) < (birth.month, birth.day))
        assert int(record["年龄"]) in (full, full + 1)  # 虚岁 is a year above full age
        # every month after the death month that the payer paid, the death month itself excluded
        after = {m: v for m, v in payer.paid(f["true_id_number"]).items() if m > _month(record["死亡日期"])}
        assert (f["period_start"], f["period_end"]) == (_month_text(min(after)), _month_text(max(after)))
        assert f["overpaid_amount"] == _yuan(sum(after.values()))
        assert _month(record["死亡日期"]) in payer.paid(f["true_id_number"])  # paid through the death month too


def test_province_register_findings_rest_on_the_only_register_record(counties, findings) -> None:
    planted = [f for f in findings if f["kind"] in ("register_death", "register_moved_out")]
    assert planted
    for f in planted:
        payer, other = counties[f["county"]], counties[f["other_county"]]
        (record,) = other.register(f["true_id_number"])
        assert record["人员状态"] == ("死亡" if f["kind"] == "register_death" else "迁出")
        assert f["check_code"] == ("cross_deceased_paid" if f["kind"] == "register_death" else "cross_moved_out_paid")
        # nobody else registers them, so no 正常 record anywhere
        assert all(not c.register(f["true_id_number"]) for code, c in counties.items() if code != other.code)
        event = _month(record["变动日期"])
        paid = payer.paid(f["true_id_number"])
        assert event in paid and max(paid) == _month("2026-10")
        after = {m: v for m, v in paid.items() if m > event}
        assert (f["period_start"], f["period_end"]) == (_month_text(min(after)), _month_text(max(after)))
        assert f["overpaid_amount"] == _yuan(sum(after.values()))


def test_province_duplicate_findings_go_to_the_duplicate_enrolment(counties, findings) -> None:
    planted = [f for f in findings if f["check_code"] == "cross_duplicate_benefit"]
    assert {f["kind"] for f in planted} == {"dibao_and_dibao", "dibao_and_tekun", "subsidy_twice"}
    for f in planted:
        payer, other = counties[f["county"]], counties[f["other_county"]]
        person = f["true_id_number"]
        programme = {"dibao_and_dibao": "低保金", "dibao_and_tekun": "低保金", "subsidy_twice": "重度残疾人护理补贴"}[f["kind"]]
        theirs = {"dibao_and_dibao": "低保金", "dibao_and_tekun": "特困供养金", "subsidy_twice": "重度残疾人护理补贴"}[f["kind"]]
        mine, both = payer.paid(person, (programme,)), other.paid(person, (theirs,))
        overlap = sorted(set(mine) & set(both))
        assert overlap, f
        if f["kind"] != "dibao_and_tekun":
            # the later-started enrolment is the duplicate
            assert payer.start_month(person, programme) > other.start_month(person, theirs)
        assert (f["period_start"], f["period_end"]) == (_month_text(overlap[0]), _month_text(overlap[-1]))
        assert f["overpaid_amount"] == _yuan(sum(mine[m] for m in overlap))
        # one register of the province holds the person, 正常, and it is not the payer's for an enrolment elsewhere
        registers = [r for c in counties.values() for r in c.register(person)]
        assert [r["人员状态"] for r in registers] == ["正常"]


def test_province_namesake_cremations_differ_in_sex_age_or_county(counties, near_misses) -> None:
    planted = [n for n in near_misses if n["kind"] == "namesake_cremated"]
    assert {n["note"].split(",")[0] for n in planted} == {"other sex", "ten years older", "same sex and age"}
    for n in planted:
        payer, other = counties[n["county"]], counties[n["other_county"]]
        (register,) = payer.register(n["true_id_number"])
        records = [r for r in other.rows["cremation"] if r["逝者姓名"] == n["name"]]
        assert len(records) == 1 and not records[0]["身份证号"].strip()
        record = records[0]
        assert record["_true"] != n["true_id_number"]
        birth = dt.date.fromisoformat(register["出生日期"])
        death = dt.datetime.strptime(record["死亡日期"], "%Y%m%d").date()
        age = death.year - birth.year - ((death.month, death.day) < (birth.month, birth.day))
        in_province = any(c.config["name"] in record["户籍地址"] for c in counties.values())
        assert (record["性别"] != register["性别"] or int(record["年龄"]) - age not in (0, 1) or not in_province), n
        # the recipient is alive and paid after the namesake's death
        assert max(payer.paid(n["true_id_number"])) > _month(record["死亡日期"])


def test_province_moves_and_stops_in_time_raise_nothing(counties, near_misses) -> None:
    moved = [n for n in near_misses if n["kind"] == "moved_and_stopped"]
    assert moved
    for n in moved:
        a, b = counties[n["county"]], counties[n["other_county"]]
        (left,) = a.register(n["true_id_number"])
        (arrived,) = b.register(n["true_id_number"])
        assert (left["人员状态"], arrived["人员状态"]) == ("迁出", "正常")
        month = _month(left["变动日期"])
        assert max(a.paid(n["true_id_number"])) == month
        assert min(b.paid(n["true_id_number"])) == month + 1
        # the payer's own truth lists the move, paid through its month, as its county generator would
        truth = _csv(a.truth / "findings.csv")
        assert any(t["true_id_number"] == n["true_id_number"] and t["note"] == "paid_through_move_out_month" for t in truth)
    stopped = [n for n in near_misses if n["kind"] == "dibao_stopped_before_tekun"]
    assert stopped
    for n in stopped:
        a, b = counties[n["county"]], counties[n["other_county"]]
        dibao, tekun = a.paid(n["true_id_number"], ("低保金",)), b.paid(n["true_id_number"], ("特困供养金",))
        (case,) = [r for r in a.rows["dibao"] if r["_true"] == n["true_id_number"]]
        assert case["保障状态"] == "停保" and max(dibao) == _month(case["停保年月"])
        assert min(tekun) == max(dibao) + 1 and not set(dibao) & set(tekun)
    registered = [n for n in near_misses if n["kind"] == "moved_out_registered_elsewhere"]
    assert registered
    for n in registered:
        a, b = counties[n["county"]], counties[n["other_county"]]
        assert [r["人员状态"] for r in a.register(n["true_id_number"])] == ["正常"]
        assert [r["人员状态"] for r in b.register(n["true_id_number"])] == ["迁出"]
        assert max(a.paid(n["true_id_number"])) == _month("2026-10")


def test_province_people_planted_raise_nothing_in_their_own_county(counties, findings, near_misses) -> None:
    """A county's own truth lists no finding on a person of a cross-county scenario (the move paid in time aside)."""
    planted = {(f["county"], f["true_id_number"]) for f in findings} | {(f["other_county"], f["true_id_number"]) for f in findings}
    planted |= {(n["county"], n["true_id_number"]) for n in near_misses} | {(n["other_county"], n["true_id_number"]) for n in near_misses}
    for code, county in counties.items():
        own = [f for f in _csv(county.truth / "findings.csv") if (code, f["true_id_number"]) in planted]
        assert all(f["note"] == "paid_through_move_out_month" for f in own), own


def test_province_same_arguments_give_identical_bytes(province: Path, tmp_path: Path) -> None:
    generate_province(tmp_path, counties=COUNTIES, households=HOUSEHOLDS, seed=SEED, jobs=1)
    assert _digest(tmp_path / "drops") == _digest(province / "drops")
    assert _digest(tmp_path / "truth") == _digest(province / "truth")


def test_province_default_county_is_the_committed_sample(tmp_path: Path) -> None:
    """Without a province's configuration the generator makes 清河县 as it always has: the committed sample, byte for byte."""
    generate_drop(tmp_path)
    assert _digest(tmp_path / "drop") == _digest(SAMPLE / "drop")
    assert _digest(tmp_path / "truth") == _digest(SAMPLE / "truth")
