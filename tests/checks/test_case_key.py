"""case_key: the same problem keeps its key night after night while its months and amounts grow."""

from tests.county import County, run_check


def county_with_problems(folder, as_of):
    county = County(folder, as_of=as_of)
    dead = county.person(name="周德才", died="2026-05-15")
    county.pay(dead, programme="tekun", months=("2026-01", as_of), amount=900, case_no="TK0001")
    holder = county.person(name="吴秀兰", born="1962-08-01", sex="女")
    county.certificate(holder, category="肢体", grade=1, issued="2026-03-10", valid_until="2036-03-09")
    return county


def test_case_key_is_stable_across_runs_while_months_and_amounts_grow(tmp_path):
    earlier = {f.check_code: f for code in ("deceased_paid", "missed_care_subsidy")
               for f in run_check(code, county_with_problems(tmp_path / "september", "2026-09"))}
    later = {f.check_code: f for code in ("deceased_paid", "missed_care_subsidy")
             for f in run_check(code, county_with_problems(tmp_path / "october", "2026-10"))}
    for code in ("deceased_paid", "missed_care_subsidy"):
        assert earlier[code].case_key == later[code].case_key
        assert earlier[code].period_end == "2026-09" and later[code].period_end == "2026-10"
    assert (earlier["deceased_paid"].overpaid_amount, later["deceased_paid"].overpaid_amount) == (4 * 900, 5 * 900)  # Jun–Sep, Jun–Oct
    assert (earlier["missed_care_subsidy"].backpay_amount, later["missed_care_subsidy"].backpay_amount) == (7 * 100, 8 * 100)  # from Mar


def test_case_keys_differ_between_checks_and_people(tmp_path):
    county = county_with_problems(tmp_path, "2026-10")
    other = county.person(name="郑国强", died="2026-06-02")
    county.pay(other, programme="tekun", months=("2026-01", "2026-10"), amount=900, case_no="TK0002")
    keys = [f.case_key for code in ("deceased_paid", "missed_care_subsidy") for f in run_check(code, county)]
    assert len(keys) == 3 and len(set(keys)) == 3
