"""Next month's payment batch from a generated county, and the scorer of a screened batch.

A county of 1,000 households (a second or so) gets its batch: the files are
byte-identical for the same seed; every scenario is there with its verdict;
the carried lines are the as-of month's ledger, in order; the batch month
rolls the year after a December; near misses pass; the batch drop differs
from the drop only by the events summary.json lists; the verdicts agree with
the generator's persons and findings; and bench/screen_quality counts a
false block, a missed block and a blocked near miss.
"""

from __future__ import annotations

import csv
import hashlib
import json
from pathlib import Path

import pytest

from bench.screen_quality import score
from data.sample.batch import INSERTED, SCENARIOS, make_batch
from data.sample.events import read_any
from data.sample.generate import generate_drop
from data.sample.model import month_compact, month_of, parse_month

HOUSEHOLDS, SEED, BATCH_SEED = 1000, 2, 3


def _read(path: Path, encoding: str = "utf-8-sig") -> list[dict[str, str]]:
    with path.open(encoding=encoding, newline="") as handle:
        return list(csv.DictReader(handle))


def _digest(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("batch")
    generate_drop(out, seed=SEED, households=HOUSEHOLDS)
    make_batch(out, seed=BATCH_SEED)
    return out


@pytest.fixture(scope="module")
def summary(sample: Path) -> dict:
    return json.loads((sample / "batch" / "summary.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def truth(sample: Path) -> list[dict[str, str]]:
    return _read(sample / "batch" / "truth.csv", "utf-8")


@pytest.fixture(scope="module")
def lines(sample: Path, summary: dict) -> list[dict[str, str]]:
    return _read(sample / "batch" / summary["file"], "utf-8")


def test_same_arguments_same_bytes(sample: Path, tmp_path: Path):
    first = _digest(sample / "batch")
    make_batch(sample, seed=BATCH_SEED)
    assert _digest(sample / "batch") == first
    make_batch(sample, seed=BATCH_SEED + 1)
    assert _digest(sample / "batch") != first
    make_batch(sample, seed=BATCH_SEED)  # leave the module's batch as it was


def test_every_scenario_is_there_with_its_verdict(truth, summary):
    by_scenario: dict[str, set[tuple[str, str, str]]] = {}
    for row in truth:
        by_scenario.setdefault(row["scenario"], set()).add((row["kind"], row["expected"], row["reason_code"]))
    # made when the first of each pair runs short: tekun that ended before as_of with the person living (the
    # generator ends tekun only at a death or move-out), certificates that expired in as_of itself
    pairs = (("tekun_ended", "tekun_ended_recorded_late"), ("certificate_renewed", "certificate_renewed_resumed"))
    standing_in = {**dict(pairs), **{b: a for a, b in pairs}}
    for scenario, (kind, expected, reason, _) in SCENARIOS.items():
        if scenario not in by_scenario and standing_in.get(scenario) in by_scenario:
            continue
        assert by_scenario.get(scenario) == {(kind, expected, reason)}, scenario
    counts = {scenario: sum(row["scenario"] == scenario for row in truth) for scenario in SCENARIOS}
    assert counts["dead_register"] == summary["per_scenario"] == 3
    assert counts["repeated_same"] == counts["repeated_other_amount"] == counts["nobody"] == 3
    assert {row["expected"] for row in truth} == {"block", "hold", "pass"}
    # carried lines that are findings at as_of stay findings in M
    assert any(row["scenario"] == "carried_member_departed" and row["expected"] == "hold" for row in truth)


def test_one_truth_row_per_line_and_the_month_after_as_of(lines, truth, summary):
    assert len(lines) == len(truth) == summary["lines"]
    assert [int(row["line"]) for row in truth] == list(range(1, len(lines) + 1))
    assert summary["as_of"] == "2026-10" and summary["month"] == "2026-11" and summary["file"] == "发放名册_202611.csv"
    assert {line["发放年月"] for line in lines} == {"202611"}
    assert sum(summary["kind"].values()) == len(lines)


def test_carried_lines_are_the_as_of_ledger_in_order(sample, lines, truth, summary):
    ledger = _read(sample / "drop" / "payments.csv", "utf-8")
    as_of = [dict(row, 发放年月="202611") for row in ledger if row["发放年月"].strip() == "202610"]
    carried = [line for line, row in zip(lines, truth) if row["scenario"] not in INSERTED]
    assert carried == as_of
    assert summary["base_lines"] == len(as_of)
    assert len(lines) - len(carried) == sum(row["scenario"] in INSERTED for row in truth) > 20


def test_repeats_follow_their_line(lines, truth):
    for scenario in ("repeated_same", "repeated_other_amount"):
        for index, row in enumerate(truth):
            if row["scenario"] != scenario:
                continue
            line = lines[index]
            earlier = [other for other in lines[:index] if other["证号"] == line["证号"] and other["身份证号"] == line["身份证号"]]
            assert earlier, (scenario, index)
            assert (earlier[0]["金额"] == line["金额"]) == (scenario == "repeated_same")


def test_near_misses_pass(truth):
    near = [row for row in truth if row["kind"] == "near_miss"]
    assert len(near) >= 10
    assert {row["expected"] for row in near} == {"pass"} and {row["reason_code"] for row in near} == {""}
    assert {row["scenario"] for row in near} >= {"death_in_month", "death_in_month_cremation", "move_out_in_month",
                                                  "namesake_dead", "not_covered_member_died"}


def test_nobody_is_nobody(sample, lines, truth):
    numbers = {row["true_id_number"] for row in _read(sample / "truth" / "persons.csv", "utf-8")}
    written = {(row.get("身份证号") or "").strip() for row in _read(sample / "drop" / "payments.csv", "utf-8")}
    for line, row in zip(lines, truth):
        if row["scenario"] == "nobody":
            assert row["true_id_number"] == "" and row["expected"] == "hold"
            assert line["身份证号"] not in numbers and line["身份证号"] not in written


def test_verdicts_agree_with_the_generator_truth(sample, truth):
    persons = {row["true_id_number"]: row for row in _read(sample / "truth" / "persons.csv", "utf-8")}
    month = parse_month("2026-11")

    def before(text: str) -> bool:
        return bool(text) and parse_month(text[:7]) < month

    for row in truth:
        person = persons.get(row["true_id_number"])
        if row["scenario"] == "dead_register":
            assert before(person["death_date"]) and person["register_status"] == "死亡"
        elif row["scenario"] == "dead_cremation_no_number":
            assert before(person["death_date"]) and person["register_status"] != "死亡" and person["cremated"] == "true"
        elif row["scenario"] == "moved_out":
            assert before(person["move_out_date"])
        elif row["kind"] == "near_miss" and row["scenario"] != "not_covered_member_died":
            assert not before(person["death_date"]) and not before(person["move_out_date"])
    # a tekun support the generator's truth finds paid after death or move-out up to as_of is blocked in M
    findings = _read(sample / "truth" / "findings.csv", "utf-8")
    carried = {(row["scenario"], row["true_id_number"]): row for row in truth}
    for finding in findings:
        if (finding["check_code"] in ("deceased_paid", "moved_out_paid") and finding["kind"] == "planted"
                and finding["period_end"] == "2026-10" and finding["case_no"].startswith("TK")):
            blocked = [row for row in truth if row["true_id_number"] == finding["true_id_number"] and row["expected"] == "block"]
            assert blocked, finding


def test_the_batch_drop_differs_only_by_the_events_it_lists(sample, summary):
    drop, batch_drop = sample / "drop", sample / "batch" / "drop"
    added = summary["added"]
    assert sorted(p.name for p in drop.iterdir()) == sorted(p.name for p in batch_drop.iterdir())
    for name in ("dibao.csv", "registered_poor.csv", "payments.csv", "manifest.yaml"):
        assert (drop / name).read_bytes() == (batch_drop / name).read_bytes(), name
    month = parse_month("2026-11")

    def in_month(text: str | None) -> bool:
        digits = "".join(ch for ch in text or "" if ch.isdigit())
        return len(digits) >= 6 and parse_month(digits[:6]) == month

    before, after = read_any(drop, "household_register"), read_any(batch_drop, "household_register")
    assert before.height == after.height
    changed = [i + 1 for i, (a, b) in enumerate(zip(before.iter_rows(), after.iter_rows())) if a != b]
    assert changed == [event["row"] for event in added["register"]] and len(changed) >= 6
    for event in added["register"]:
        row = after.row(event["row"] - 1, named=True)
        assert (row["人员状态"], row["变动日期"]) == (event["status"], event["date"]) and in_month(event["date"])
        assert before.row(event["row"] - 1, named=True)["人员状态"] == "正常"
    for stem, key, date in (("cremation", "火化编号", "死亡日期"), ("disability", "残疾人证号", "发证日期"),
                            ("tekun", "供养证号", "开始年月")):
        before, after = read_any(drop, stem), read_any(batch_drop, stem)
        new = after.slice(before.height)
        assert new[key].to_list() == added[stem], stem
        assert all(in_month(text) for text in new[date].to_list()), stem
        old = after.slice(0, before.height)
        if stem == "tekun":  # supports ended in as_of, recorded after the drop
            ended = set(added["tekun_ended"])
            for a, b in zip(before.iter_rows(named=True), old.iter_rows(named=True)):
                if a["供养证号"] in ended:
                    assert (b["状态"], b["终止年月"]) == ("终止", "2026-10") and a["状态"] == "在供"
                else:
                    assert a == b
        else:
            assert old.equals(before), stem
    assert len(added["cremation"]) >= 3 and len(added["tekun"]) >= 3


def test_december_rolls_the_year(tmp_path: Path):
    generate_drop(tmp_path, seed=2, households=300, as_of="2025-12")
    summary = make_batch(tmp_path, seed=1)
    assert summary["month"] == "2026-01" and summary["file"] == "发放名册_202601.csv"
    lines = _read(tmp_path / "batch" / "发放名册_202601.csv", "utf-8")
    assert {line["发放年月"] for line in lines} == {month_compact(month_of(__import__("datetime").date(2026, 1, 1)))}
    for event in summary["added"]["register"]:
        assert event["date"].startswith("2026-01-")


# -- the scorer -----------------------------------------------------------------------------

def _verdicts(folder: Path, truth: list[dict[str, str]], changes: dict[int, tuple[str, str]]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "verdicts.csv").open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["source_row", "paid_month", "verdict", "reason_code", "reason"])
        for row in truth:
            verdict, code = changes.get(int(row["line"]), (row["expected"], row["reason_code"]))
            writer.writerow([row["line"], "2026-11-01", verdict, code, ""])
    return folder


def test_scorer_counts_a_perfect_screen(sample, truth, tmp_path):
    result = score(_verdicts(tmp_path / "perfect", truth, {}), sample / "batch" / "truth.csv")
    blocks = sum(row["expected"] == "block" for row in truth)
    assert result["blocked"] == {"true_positive": blocks, "false_positive": 0, "false_negative": 0, "precision": 1.0, "recall": 1.0}
    assert result["near_misses"]["blocked"] == result["near_misses"]["held"] == 0
    assert result["held"]["held"] == result["held"]["lines"] == sum(row["expected"] == "hold" for row in truth)
    assert result["confusion"]["pass"] == {"block": 0, "hold": 0, "pass": sum(row["expected"] == "pass" for row in truth),
                                           "missing": 0}
    assert all(c["truth"] == c["hecha"] == c["agree"] for c in result["reasons"].values())


def test_scorer_counts_false_blocks_misses_and_near_misses(sample, truth, tmp_path):
    rows = {row["scenario"]: int(row["line"]) for row in reversed(truth)}
    false_block = rows["carried"]  # a plain carried line hecha blocks
    missed = rows["dead_register"]  # a dead payee hecha lets through
    near = rows["death_in_month"]  # a death in M itself hecha blocks
    held_nobody = rows["nobody"]  # a hold hecha blocks
    changes = {false_block: ("block", "dead"), missed: ("pass", ""), near: ("block", "dead"), held_nobody: ("block", "dead")}
    result = score(_verdicts(tmp_path / "flawed", truth, changes), sample / "batch" / "truth.csv")
    blocks = sum(row["expected"] == "block" for row in truth)
    b = result["blocked"]
    assert (b["true_positive"], b["false_positive"], b["false_negative"]) == (blocks - 1, 3, 1)
    assert b["precision"] == round((blocks - 1) / (blocks + 2), 4) and b["recall"] == round((blocks - 1) / blocks, 4)
    assert result["blocked_recall_by_reason"]["dead"]["blocked"] == result["blocked_recall_by_reason"]["dead"]["lines"] - 1
    assert result["blocked_precision_by_reason"]["dead"]["blocked"] - result["blocked_precision_by_reason"]["dead"]["truth_block"] == 3
    assert result["near_misses"]["blocked"] == 1 and result["near_misses"]["by_scenario"]["death_in_month"]["blocked"] == 1
    assert result["held"]["blocked"] == 1 and result["held"]["held"] == result["held"]["lines"] - 1
    assert result["confusion"]["pass"]["block"] == 2 and result["confusion"]["block"]["pass"] == 1
    assert result["confusion"]["hold"]["block"] == 1


def test_scorer_counts_missing_lines(sample, truth, tmp_path):
    folder = _verdicts(tmp_path / "short", truth[:-2], {})
    result = score(folder, sample / "batch" / "truth.csv")
    assert result["lines"]["missing"] == 2 and result["lines"]["hecha"] == len(truth) - 2
    assert sum(row["missing"] for row in result["confusion"].values()) == 2
