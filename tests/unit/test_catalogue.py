"""The check catalogue: one entry, one SQL file and configured parameters per contract code."""

import re
from pathlib import Path

import yaml

from hecha.checks.catalogue import BY_CODE, CATALOGUE, describe_catalogue
from hecha.storage.layers import PARAMETER, SQL_DIR, read_sql
from hecha.config import load_policy, parse_month, run_parameters
from hecha.flows.cli import main

CONTRACT = Path(__file__).resolve().parents[2].parent / "shared" / "CONTRACT.md"


def contract_codes() -> set[str]:
    table = CONTRACT.read_text(encoding="utf-8").split("| check_code | 名称 |")[-1]
    return set(re.findall(r"^\| `([a-z_]+)` \|", table, flags=re.MULTILINE))


def test_catalogue_has_every_contract_check_and_nothing_else():
    assert contract_codes() == set(BY_CODE)
    assert len(contract_codes()) == 11


def test_every_check_has_one_sql_file_named_by_its_code():
    files = {path.stem for path in (SQL_DIR / "checks").glob("*.sql")}
    assert files == set(BY_CODE)


def test_every_parameter_a_sql_file_uses_comes_from_the_policy_or_the_run():
    parameters = run_parameters(parse_month("2026-10"), load_policy())
    for path in sorted(SQL_DIR.rglob("*.sql")):
        used = set(PARAMETER.findall(read_sql(path)))
        assert used <= set(parameters), f"{path.name}: {used - set(parameters)}"


def test_every_catalogue_parameter_is_in_policy_yaml():
    policy = load_policy()
    for check in CATALOGUE:
        values = check.parameter_values(policy)
        assert set(values) == set(check.params)


def sql_without_comments_and_strings(text: str) -> str:
    text = re.sub(r"--[^\n]*", "", text)
    return re.sub(r"'(?:[^']|'')*'", "''", text)


def test_no_policy_literals_in_check_sql():
    # ages, grades, amounts and dates come as named parameters or cfg tables; 0 and 1 are arithmetic
    for path in sorted([*(SQL_DIR / "checks").glob("*.sql"), *(SQL_DIR / "int").glob("*.sql")]):
        code = sql_without_comments_and_strings(read_sql(path))
        literals = re.findall(r"(?<![\w.$])\d+(?:\.\d+)?(?![\w.])", code)
        assert set(literals) <= {"0", "1", "1.0"}, f"{path.name}: {sorted(set(literals))}"


def test_descriptions_quote_the_policy_that_runs(tmp_path):
    policy = load_policy()
    policy["tekun"]["min_age"] = 65
    policy["care_subsidy"]["grades"] = [1, 2, 3]
    text = describe_catalogue(policy, ["should_be_tekun", "missed_care_subsidy"])
    assert "年满 65 周岁" in text
    assert "1、2、3 级残疾人证" in text
    assert "deceased_paid" not in text


def test_hecha_checks_lists_the_whole_catalogue(capsys, tmp_path):
    assert main(["checks"]) == 0
    out = capsys.readouterr().out
    for check in CATALOGUE:
        assert f"{check.code}  {check.name_zh}" in out
    policy = tmp_path / "policy.yaml"
    changed = load_policy()
    changed["identity"]["max_age"] = 105
    policy.write_text(yaml.safe_dump(changed, allow_unicode=True), encoding="utf-8")
    assert main(["checks", "identity_anomaly", "--policy", str(policy)]) == 0
    assert "超过 105 岁" in capsys.readouterr().out


def test_hecha_checks_refuses_an_unknown_code(capsys):
    assert main(["checks", "no_such_check"]) == 2
    assert "no_such_check" in capsys.readouterr().err
