"""The cross-county checks' catalogue entries: one per code, each with its SQL file and the policy it reads."""

from hecha.checks.catalogue import BY_CODE, CROSS_BY_CODE, CROSS_CATALOGUE, describe_check
from hecha.config import load_policy
from hecha.storage.layers import SQL_DIR


def test_cross_catalogue_lists_the_three_province_checks_beside_the_county_ones():
    assert set(CROSS_BY_CODE) == {"cross_deceased_paid", "cross_moved_out_paid", "cross_duplicate_benefit"}
    assert not set(CROSS_BY_CODE) & set(BY_CODE)  # a county run never runs them


def test_every_cross_check_has_its_sql_file_and_reads_policy_that_exists():
    policy = load_policy()
    for check in CROSS_CATALOGUE:
        assert (SQL_DIR / "province" / f"{check.code}.sql").is_file()
        assert set(check.parameter_values(policy)) == set(check.params)
        text = "\n".join(describe_check(check, policy))
        assert check.name_zh in text and "{" not in text
