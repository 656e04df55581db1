"""Score a run's findings against a generated drop's ground truth.

Truth (`truth/findings.csv`) lists planted findings and near-miss negatives
per check; a run's findings are matched to it by (check_code, citizen
number). Shared by `bench/check_quality.py` and the integration test, so both
count the same way.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

from data.sample.ids import normalize


@dataclass(frozen=True)
class Finding:
    check_code: str
    id_number: str
    period_start: str
    period_end: str
    overpaid_amount: float
    backpay_amount: float
    needs_fuzzy_link: bool = False
    note: str = ""


@dataclass
class CheckScore:
    check_code: str
    planted: int = 0
    planted_exact_links: int = 0  # planted findings exact citizen-number links can establish
    found: int = 0  # raised by the run
    true_positive: int = 0
    true_positive_exact_links: int = 0
    amounts_exact: int = 0  # true positives with the right months and amounts (to the fen)
    near_misses: int = 0
    near_misses_raised: int = 0
    missed: list[Finding] = field(default_factory=list)
    false_positives: list[Finding] = field(default_factory=list)
    wrong_amounts: list[tuple[Finding, Finding]] = field(default_factory=list)
    raised_near_misses: list[Finding] = field(default_factory=list)

    @property
    def precision(self) -> float:
        return self.true_positive / self.found if self.found else 1.0

    @property
    def recall(self) -> float:
        return self.true_positive / self.planted if self.planted else 1.0

    @property
    def recall_exact_links(self) -> float:
        return self.true_positive_exact_links / self.planted_exact_links if self.planted_exact_links else 1.0


def money(text: str) -> float:
    return round(float(text or 0), 2)


def register_numbers(truth_dir: Path) -> dict[str, str]:
    """True number → the number the household register writes for the person, where the two differ.

    A register row can carry a wrong but well-formed number (a wrong division
    code, two slips that pass the check): the person is who the register says,
    so a finding about them names the register's number, as the bureau knows them.
    """
    drop = truth_dir.parent / "drop" / "household_register.csv"
    if not drop.exists():
        return {}
    with drop.open(encoding="utf-8-sig") as handle:
        written = [row.get("身份证号") for row in csv.DictReader(handle)]
    numbers = {}
    with (truth_dir / "records.csv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if row["source"] != "household_register":
                continue
            as_written = normalize(written[int(row["row_number"]) - 1])
            if as_written is not None and as_written != row["true_id_number"]:
                numbers[row["true_id_number"]] = as_written
    return numbers


def read_truth(truth_dir: Path) -> tuple[list[Finding], list[Finding]]:
    """(planted, near misses) from `truth/findings.csv`, each named by the register's number for the person."""
    planted, near = [], []
    numbers = register_numbers(truth_dir)
    with (truth_dir / "findings.csv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            finding = Finding(
                row["check_code"], numbers.get(row["true_id_number"], row["true_id_number"]), row["period_start"], row["period_end"],
                money(row["overpaid_amount"]), money(row["backpay_amount"]),
                row["needs_fuzzy_link"].strip().lower() == "true", row.get("note", ""),
            )
            (planted if row["kind"] == "planted" else near).append(finding)
    return planted, near


def read_exceptions(path: Path) -> list[Finding]:
    with path.open(encoding="utf-8-sig") as handle:
        return [
            Finding(row["check_code"], row["id_number"], row["period_start"], row["period_end"],
                    money(row["overpaid_amount"]), money(row["backpay_amount"]))
            for row in csv.DictReader(handle)
        ]


def same_result(found: Finding, planted: Finding) -> bool:
    return (
        (found.period_start, found.period_end) == (planted.period_start, planted.period_end)
        and abs(found.overpaid_amount - planted.overpaid_amount) < 0.005
        and abs(found.backpay_amount - planted.backpay_amount) < 0.005
    )


def score(found: list[Finding], planted: list[Finding], near: list[Finding], checks: list[str]) -> dict[str, CheckScore]:
    scores = {}
    for code in checks:
        result = CheckScore(code)
        truth = {f.id_number: f for f in planted if f.check_code == code}
        raised = {f.id_number: f for f in found if f.check_code == code}
        result.planted = len(truth)
        result.planted_exact_links = sum(not f.needs_fuzzy_link for f in truth.values())
        result.found = len(raised)
        for id_number, expected in truth.items():
            got = raised.get(id_number)
            if got is None:
                result.missed.append(expected)
                continue
            result.true_positive += 1
            result.true_positive_exact_links += not expected.needs_fuzzy_link
            if same_result(got, expected):
                result.amounts_exact += 1
            else:
                result.wrong_amounts.append((got, expected))
        result.false_positives = [f for i, f in raised.items() if i not in truth]
        negatives = [f for f in near if f.check_code == code]
        result.near_misses = len(negatives)
        result.raised_near_misses = [f for f in negatives if f.id_number in raised]
        result.near_misses_raised = len(result.raised_near_misses)
        scores[code] = result
    return scores


def format_table(scores: dict[str, CheckScore], title: str) -> str:
    header = (
        f"{'check':<24} {'planted':>7} {'exact':>5} {'found':>5} {'TP':>4} {'prec':>6} {'recall':>6} "
        f"{'rec@ex':>6} {'amt ok':>6} {'near':>4} {'n.raised':>8} {'amount err':>11}"
    )
    lines = [title, header, "-" * len(header)]
    for s in scores.values():
        lines.append(
            f"{s.check_code:<24} {s.planted:>7} {s.planted_exact_links:>5} {s.found:>5} {s.true_positive:>4} "
            f"{s.precision:>6.3f} {s.recall:>6.3f} {s.recall_exact_links:>6.3f} {s.amounts_exact:>6} "
            f"{s.near_misses:>4} {s.near_misses_raised:>8} {amount_error(s):>11.2f}"
        )
    return "\n".join(lines)


def amount_error(s: CheckScore) -> float:
    """Found minus planted money, over the planted findings the run raised."""
    return sum(got.overpaid_amount + got.backpay_amount - (exp.overpaid_amount + exp.backpay_amount) for got, exp in s.wrong_amounts)
