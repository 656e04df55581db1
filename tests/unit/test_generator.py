"""The sample generator: deterministic, realistic file formats, truth that matches the ledger.

Runs the generator on 600 households (a fraction of a second each), enough
for every scenario to be planted once. Expected amounts are recomputed here
from the written payments and dibao rows, by the rule in POLICY.md, without
the generator's own truth code.
"""

from __future__ import annotations

import csv
import hashlib
import json
import zipfile
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from pathlib import Path

import pytest

from data.sample.generate import generate_drop
from hecha.extracts.read import read_xlsx

HOUSEHOLDS = 600
EXEMPTIONS = (
    "paid_through_death_month",
    "not_covered_member_died",
    "paid_through_move_out_month",
    "namesake_alive",
    "outside_county_cremation",
)
# near misses planted for the other checks, one per exemption of ../shared/POLICY.md and the spec
NEAR_MISSES = {
    "person_not_household": {"single_inclusion", "uncovered_member_gone", "covered_by_other_case", "on_tekun"},
    "should_be_tekun": {"waiver", "other_member_present", "age_edge_59", "on_tekun"},
    "transfer_gap": {"no_gap", "gap_paid"},
    "missed_living_subsidy": {"not_covered_single_case", "on_tekun", "expired_certificate"},
    "missed_care_subsidy": {"grade_2_paid", "grade_3_not_paid", "died_certificate_normal"},
    "duplicate_benefit": {"stopped_month_before_tekun", "dibao_member_listed_twice", "tekun_listed_twice"},
    "status_mismatch": {"single_case_dibao"},
    "invalid_certificate_paid": {"death_cancelled_paid_to_death", "grade_2_care_paid", "reassessed_switched",
                                 "renewed_paid_before_reissue", "renewal_lapse_unpaid"},
    "identity_anomaly": {"one_slip_typo", "fifteen_digit", "lunar_birthday", "age_110"},
}
CHECKS = {"deceased_paid", "moved_out_paid", *NEAR_MISSES}
NO_MONEY = {"person_not_household", "should_be_tekun", "status_mismatch", "identity_anomaly"}
WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
FULL_WIDTH = str.maketrans("０１２３４５６７８９Ｘｘ", "0123456789XX")


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sample")
    generate_drop(out, seed=7, households=HOUSEHOLDS)
    return out


def _digests(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.rglob("*")) if p.is_file()}


def _read(path: Path, encoding: str = "utf-8") -> list[dict[str, str]]:
    with path.open(encoding=encoding, newline="") as handle:
        return list(csv.DictReader(handle))


def _month(text: str) -> int:
    digits = text.strip().replace("-", "")
    return int(digits[:4]) * 12 + int(digits[4:6]) - 1


def _month_text(month: int) -> str:
    return f"{month // 12:04d}-{month % 12 + 1:02d}"


def _valid_18(number: str) -> bool:
    if len(number) != 18 or not number[:17].isdigit():
        return False
    return "10X98765432"[sum(int(c) * w for c, w in zip(number, WEIGHTS)) % 11] == number[17]


def test_generator_same_seed_gives_identical_bytes(sample: Path, tmp_path: Path) -> None:
    generate_drop(tmp_path, seed=7, households=HOUSEHOLDS)
    assert _digests(tmp_path) == _digests(sample)


def test_generator_different_seed_gives_different_drop(sample: Path, tmp_path: Path) -> None:
    generate_drop(tmp_path, seed=8, households=HOUSEHOLDS)
    for name in ("household_register.csv", "payments.csv"):
        assert (tmp_path / "drop" / name).read_bytes() != (sample / "drop" / name).read_bytes()


def test_generator_writes_seven_extracts_and_manifest(sample: Path) -> None:
    names = sorted(p.name for p in (sample / "drop").iterdir())
    assert names == [
        "cremation.csv", "dibao.csv", "disability.xlsx", "household_register.csv", "manifest.yaml", "payments.csv",
        "registered_poor.csv", "tekun.csv",
    ]
    manifest = (sample / "drop" / "manifest.yaml").read_text(encoding="utf-8")
    assert 'as_of: "2026-10"' in manifest and "encoding" not in manifest
    assert (sample / "drop" / "registered_poor.csv").read_bytes().startswith(b"\xef\xbb\xbf")


def test_generator_register_numbers_are_valid_or_15_digit(sample: Path) -> None:
    register = _read(sample / "drop" / "household_register.csv")
    assert len(register) > HOUSEHOLDS
    for row in register:
        # formatting noise (full-width, spaces, lower-case x) is allowed; the number itself is clean
        number = row["身份证号"].translate(FULL_WIDTH).replace(" ", "").replace("\u3000", "").upper()
        assert _valid_18(number) or (len(number) == 15 and number.isdigit()), row


def test_generator_cremation_is_gb18030(sample: Path) -> None:
    data = (sample / "drop" / "cremation.csv").read_bytes()
    text = data.decode("gb18030")
    assert "逝者姓名" in text and "殡仪馆" in text
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")


def test_generator_disability_is_xlsx(sample: Path) -> None:
    path = sample / "drop" / "disability.xlsx"
    assert path.read_bytes()[:2] == b"PK"
    with zipfile.ZipFile(path) as workbook:
        assert "xl/workbook.xml" in workbook.namelist()
    frame = read_xlsx(path)
    assert {"残疾人证号", "证件状态"} <= set(frame.columns)
    assert frame.height > 0 and all(len(number) == 20 for number in frame["残疾人证号"].drop_nulls())


def test_generator_records_cover_every_row(sample: Path) -> None:
    records = _read(sample / "truth" / "records.csv")
    per_source = defaultdict(int)
    for record in records:
        per_source[record["source"]] += 1
    for stem, encoding in (("household_register", "utf-8"), ("dibao", "utf-8"), ("payments", "utf-8"),
                           ("registered_poor", "utf-8-sig"), ("cremation", "gb18030")):
        assert per_source[stem] == len(_read(sample / "drop" / f"{stem}.csv", encoding)), stem


def test_generator_deceased_paid_amounts_match_payments(sample: Path) -> None:
    """Each planted finding: months after the true death, amount = the ledger lines recomputed here."""
    drop, truth = sample / "drop", sample / "truth"
    true_ids: dict[tuple[str, int], str] = {
        (r["source"], int(r["row_number"])): r["true_id_number"] for r in _read(truth / "records.csv")
    }
    death_month = {p["true_id_number"]: _month(p["death_date"]) for p in _read(truth / "persons.csv") if p["death_date"]}
    covered: dict[str, list[str]] = defaultdict(list)
    for number, row in enumerate(_read(drop / "dibao.csv"), start=1):
        if row["是否保障对象"].strip() == "是":
            covered[row["低保证号"]].append(true_ids[("dibao", number)])

    overpaid: dict[str, Fraction] = defaultdict(Fraction)
    months: dict[str, set[int]] = defaultdict(set)
    for number, row in enumerate(_read(drop / "payments.csv"), start=1):
        month = _month(row["发放年月"])
        amount = Fraction(Decimal(row["金额"]))
        if row["项目"].strip() == "低保金":
            members = covered[row["证号"]]
            shares = [(person, amount / len(members)) for person in members]
        else:
            shares = [(true_ids[("payments", number)], amount)]
        for person, share in shares:
            if person in death_month and month > death_month[person]:
                overpaid[person] += share
                months[person].add(month)

    findings = [f for f in _read(truth / "findings.csv") if f["check_code"] == "deceased_paid" and f["kind"] == "planted"]
    assert findings
    for finding in findings:
        person = finding["true_id_number"]
        assert _month(finding["period_start"]) > death_month[person], finding
        expected = Decimal(overpaid[person].numerator) / Decimal(overpaid[person].denominator)
        assert Decimal(finding["overpaid_amount"]) == expected.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP), finding
        assert (finding["period_start"], finding["period_end"]) == (_month_text(min(months[person])), _month_text(max(months[person])))


def test_generator_plants_near_misses_for_each_exemption(sample: Path) -> None:
    findings = _read(sample / "truth" / "findings.csv")
    near_misses = {f["note"] for f in findings if f["kind"] == "near_miss"}
    assert set(EXEMPTIONS) <= near_misses
    planted = [f for f in findings if f["kind"] == "planted"]
    assert {f["check_code"] for f in planted} == CHECKS
    assert not [f for f in planted if f["note"].startswith("unplanned")]


def test_generator_plants_every_check_with_near_misses_for_each_exemption(sample: Path) -> None:
    findings = _read(sample / "truth" / "findings.csv")
    summary = json.loads((sample / "truth" / "summary.json").read_text(encoding="utf-8"))
    assert not [scenario for scenario in summary["planted_short"] if scenario.split(":")[0] in NEAR_MISSES]
    for check, labels in NEAR_MISSES.items():
        assert summary["findings"][check]["planted"] >= 1, check
        assert set(summary["findings"][check]["near_miss"]) == labels, check
    planted = {(f["check_code"], f["true_id_number"]) for f in findings if f["kind"] == "planted"}
    near = [(f["check_code"], f["true_id_number"]) for f in findings if f["kind"] == "near_miss"]
    assert not planted & set(near)  # a near miss is never a finding of its own check


def test_generator_findings_carry_months_and_money_by_kind_of_check(sample: Path) -> None:
    for f in _read(sample / "truth" / "findings.csv"):
        if f["kind"] != "planted" or f["check_code"] in ("deceased_paid", "moved_out_paid"):
            continue
        overpaid, backpay = Decimal(f["overpaid_amount"]), Decimal(f["backpay_amount"])
        if f["check_code"] in NO_MONEY:
            assert (f["period_start"], f["period_end"], overpaid, backpay) == ("2026-10", "2026-10", 0, 0), f
        elif f["check_code"] in ("transfer_gap", "missed_living_subsidy", "missed_care_subsidy"):
            assert backpay > 0 and overpaid == 0 and "2024-11" <= f["period_start"] <= f["period_end"] <= "2026-10", f
        else:
            assert overpaid > 0 and backpay == 0 and "2024-11" <= f["period_start"] <= f["period_end"] <= "2026-10", f


def test_generator_repeated_ledger_lines_are_overpaid_beyond_the_first(sample: Path) -> None:
    """Repeated lines recomputed from the ledger: every line beyond the first, 低保金 split over the covered."""
    drop, truth = sample / "drop", sample / "truth"
    true_ids = {(r["source"], int(r["row_number"])): r["true_id_number"] for r in _read(truth / "records.csv")}
    covered: dict[str, list[str]] = defaultdict(list)
    for number, row in enumerate(_read(drop / "dibao.csv"), start=1):
        if row["是否保障对象"].strip() == "是":
            covered[row["低保证号"]].append(true_ids[("dibao", number)])
    seen: dict[tuple[str, str, int], int] = defaultdict(int)
    extra: dict[str, Fraction] = defaultdict(Fraction)
    for number, row in enumerate(_read(drop / "payments.csv"), start=1):
        key = (row["项目"].strip(), row["证号"], _month(row["发放年月"]))
        seen[key] += 1
        if seen[key] > 1:
            amount = Fraction(Decimal(row["金额"]))
            members = covered[row["证号"]] if key[0] == "低保金" else [true_ids[("payments", number)]]
            for person in members:
                extra[person] += amount / len(members)
    findings = [f for f in _read(truth / "findings.csv") if f["note"] == "a ledger line entered twice in one month"]
    assert findings
    for f in findings:
        expected = Decimal(extra[f["true_id_number"]].numerator) / Decimal(extra[f["true_id_number"]].denominator)
        assert Decimal(f["overpaid_amount"]) == expected.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP), f


def test_generator_unrepairable_numbers_are_written_as_the_truth_says(sample: Path) -> None:
    """identity_anomaly (a): the finding's number is the one written, invalid, and in no register row."""
    register = {row["身份证号"] for row in _read(sample / "drop" / "household_register.csv")}
    written = {row["身份证号"] for row in _read(sample / "drop" / "tekun.csv")}
    findings = [f for f in _read(sample / "truth" / "findings.csv") if f["note"].startswith("on tekun, in no register")]
    assert findings
    for f in findings:
        assert f["true_id_number"] in written and not _valid_18(f["true_id_number"]) and f["true_id_number"] not in register


def test_generator_noise_zero_leaves_rows_clean(tmp_path: Path) -> None:
    generate_drop(tmp_path, seed=7, households=60, noise=0.0)
    assert all(r["noise"] == "" for r in _read(tmp_path / "truth" / "records.csv"))
