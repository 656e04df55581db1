"""The cross-county findings' keys: stable across runs, keyed with the province's secret, one per finding."""

import re

import duckdb

from hecha.config import load_policy
from hecha.province.cross import run_cross
from tests.county import TEST_SECRET
from tests.cross_county import Province

A, B, C = "130501", "130502", "130503"


def small_province(tmp_path) -> tuple[Province, list[str]]:
    province = Province(tmp_path / "store")
    dead = province.person(name="李秀英", sex="女", born="1940-03-02")
    province.live(A, dead)
    province.county(A).pay(dead, programme="tekun", months=("2026-01", "2026-06"), amount=600)
    province.live(B, dead, status="死亡", changed="2026-03-15")
    twice = province.person(name="吴桂芝", sex="女", born="1952-04-04")
    province.county(A).pay(twice, programme="dibao", months=("2026-01", "2026-03"), amount=500, start="2025-01")
    province.county(C).pay(twice, programme="dibao", months=("2026-01", "2026-03"), amount=500, start="2025-06")
    return province, province.write()


def findings(province: Province, counties: list[str], secret: bytes) -> list[tuple]:
    con = duckdb.connect()
    run_cross(con, str(province.store), counties, load_policy(), secret)
    return con.execute("select * from province.finding").fetchall()


def test_cross_findings_are_the_same_run_after_run(tmp_path):
    province, counties = small_province(tmp_path)
    first = findings(province, counties, TEST_SECRET)
    assert len(first) == 2
    assert findings(province, counties, TEST_SECRET) == first
    assert findings(province, list(reversed(counties)), TEST_SECRET) == first  # the order counties are listed in


def test_cross_keys_are_keyed_hashes_that_change_with_the_secret(tmp_path):
    province, counties = small_province(tmp_path)
    con = duckdb.connect()
    run_cross(con, str(province.store), counties, load_policy(), TEST_SECRET)
    keys = con.execute("select person_key, case_key, id_number from province.finding").fetchall()
    for person_key, case_key, id_number in keys:
        assert re.fullmatch(r"[0-9a-f]{64}", person_key) and re.fullmatch(r"[0-9a-f]{64}", case_key)
        assert id_number not in (person_key, case_key)
    other = {row[15] for row in findings(province, counties, bytes(range(1, 33)))}
    assert other.isdisjoint({case_key for _, case_key, _ in keys})
