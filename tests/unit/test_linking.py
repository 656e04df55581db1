"""Linking rows without a usable citizen number to the right person, and never to the wrong one."""

from pathlib import Path

import numpy as np
import polars as pl
import pytest

from hecha.matching.compare import name_levels
from hecha.matching.fellegi_sunter import estimate_u, train
from hecha.matching.names import name_pinyin, normalize_names
from tests.county import TEST_SECRET, County, link_county, linked_person


PLACES = (("城关镇", "东关村"), ("城关镇", "西关村"), ("王官庄镇", "西侯营村"), ("连庄镇", "北李洼村"), ("谢炉镇", "前郝庄村"))


def villagers(county: County, count: int = 200) -> None:
    """A few villages' worth of other people, so the model has a population to learn from."""
    surnames = "王李张刘陈杨赵黄周吴徐孙马朱胡郭何高林罗"
    given = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂"
    for i in range(count):
        township, village = PLACES[i % len(PLACES)]
        person = county.person(name=surnames[(i * 3) % 20] + given[(i * 7) % len(given)] + given[(i * 11 + 1) % len(given)],
                               born=f"{1935 + i % 60}-{1 + i % 12:02d}-{1 + i % 27:02d}", sex="男女"[i % 2],
                               township=township, village=village)
        county.pay(person, programme="tekun", months=("2026-09", "2026-10"), amount=600)


def test_cremation_row_with_blank_number_same_sound_name_and_xusui_age_links_to_the_right_person(tmp_path):
    county = County(tmp_path)
    villagers(county)
    person = county.person(name="王丽", born="1948-05-20", sex="女")
    county.person(name="王丽", born="1971-02-02", sex="女")  # a namesake of another age
    # full age on 2026-03-01 is 77; the family gives 虚岁 78 and writes 莉 for 丽
    county.cremate(person, "2026-03-01", id_number=None, name="王莉", age=78)
    con = link_county(county)
    id_number, method, confidence = linked_person(con, "cremation", 1)
    assert (id_number, method) == (person.id_number, "probabilistic")
    assert confidence >= 0.95


def test_siblings_born_the_same_year_in_the_same_village_are_kept_apart(tmp_path):
    county = County(tmp_path)
    villagers(county)
    elder = county.person(name="张建国", born="1955-02-10", village="张庄村")
    younger = county.person(name="张建军", born="1955-11-28", village="张庄村", household_no=elder.household_no, relation="兄弟")
    county.cremate(younger, "2026-06-03", id_number=None, age=70, address="清河县城关镇张庄村")
    con = link_county(county)
    assert linked_person(con, "cremation", 1)[0] == younger.id_number
    register_ids = con.execute("select count(distinct person_id) from link.source_row where source = 'household_register'").fetchall()[0][0]
    assert register_ids == len(county.rows["household_register"])  # every register person stays one person


def test_outside_county_cremation_is_not_linked_to_a_register_namesake(tmp_path):
    county = County(tmp_path)
    villagers(county)
    local = county.person(name="刘树成", born="1939-12-22")
    # someone else of the same name and age, from another county, cremated here without a number
    county.cremate(local, "2026-05-05", id_number=None, age=87, address="武城县甲马营乡王庄村")
    con = link_county(county)
    assert linked_person(con, "cremation", 1)[0] is None


@pytest.mark.parametrize(
    ("description", "left", "right"),
    [
        ("bullet for middle dot", "买买提•艾力", "买买提·艾力"),
        ("katakana middle dot", "阿依古丽・吐尔逊", "阿依古丽·吐尔逊"),
        ("full-width full stop", "买买提．艾力", "买买提·艾力"),
        ("traditional characters", "張國榮", "张国荣"),
        ("full-width space inside", "王\u3000丽", "王丽"),
    ],
)
def test_name_variants_score_as_equal(description, left, right):
    names = normalize_names(pl.Series([left, right]))
    pairs = pl.DataFrame({"name_l": [names[0]], "name_r": [names[1]]}).with_columns(
        pinyin_l=name_pinyin(pl.Series([names[0]])), pinyin_r=name_pinyin(pl.Series([names[1]]))
    )
    assert name_levels(pairs).to_list() == [3]  # 姓名一致


def test_same_sound_names_score_below_equal_and_above_different():
    pairs = pl.DataFrame({"name_l": ["王丽", "王丽"], "name_r": ["王莉", "赵强"]}).with_columns(
        pinyin_l=name_pinyin(pl.Series(["王丽", "王丽"])), pinyin_r=name_pinyin(pl.Series(["王莉", "赵强"]))
    )
    assert name_levels(pairs).to_list() == [2, 0]  # 姓名同音, 姓名不同


def test_em_recovers_m_and_prior_from_a_mixture_with_known_parameters():
    rng = np.random.default_rng(3)
    m_true = [np.array([0.05, 0.95]), np.array([0.1, 0.2, 0.7])]
    u_true = [np.array([0.8, 0.2]), np.array([0.7, 0.25, 0.05])]
    n, share = 40_000, 0.2
    is_match = rng.random(n) < share
    levels = np.column_stack([
        np.where(is_match, rng.choice(2, n, p=m_true[0]), rng.choice(2, n, p=u_true[0])),
        np.where(is_match, rng.choice(3, n, p=m_true[1]), rng.choice(3, n, p=u_true[1])),
    ]).astype(np.int8)
    start_u = estimate_u(levels[~is_match][:2000], [2, 3])
    model = train(levels, [2, 3], start_u, prior=0.5)
    assert model.prior == pytest.approx(share, abs=0.03)
    for fitted, true in zip(model.m, m_true):
        assert fitted == pytest.approx(true, abs=0.04)


def test_rows_sharing_an_unrepairable_number_are_one_person_outside_the_register(tmp_path):
    county = County(tmp_path)
    villagers(county)
    # two characters wrong: fails the check and is no slip from any register number
    stranger = county.person(name="赵桂香", born="1951-03-08", sex="女", registered=False, id_number="13053419510308552Y")
    county.tekun(stranger, case_no="TK0009", start="2025-01", amount=900)
    county.pay(stranger, programme="tekun", months=("2026-08", "2026-10"), amount=900, case_no="TK0009")
    con = link_county(county)
    tekun_row = linked_person(con, "tekun", 1)
    lines = con.execute("select source_row from stg.payments where name = '赵桂香' order by source_row").fetchall()
    ledger_rows = [linked_person(con, "payments", row) for (row,) in lines]
    assert tekun_row[1] == "same_invalid_number" and tekun_row[2] < 0.95
    assert ledger_rows == [tekun_row] * 3
    (in_register,) = con.execute(
        "select distinct person.in_register from link.person_record as rec inner join link.person as person using (person_id) "
        "where rec.method = 'same_invalid_number'"
    ).fetchall()
    assert in_register == (False,)


def test_register_odds_follow_each_sources_share_of_register_people():
    from hecha.matching.probabilistic import REGISTER_SHARE_BOUNDS, register_log_odds

    # cremation: 3 of 4 well-formed numbers are register people's; payments: all of them (capped); tekun: unknown
    shares = pl.DataFrame({"source": ["cremation", "payments"], "share": [0.75, 1.0]})
    records = pl.DataFrame({"record_key": [1, 2, 3], "source": ["cremation", "payments", "tekun"]})
    pairs = pl.DataFrame({"record_key": [2, 1, 1, 3]})
    odds = register_log_odds(pairs, records, shares)
    low, high = REGISTER_SHARE_BOUNDS
    assert odds == pytest.approx([np.log2(high / (1 - high)), np.log2(3), np.log2(3), np.log2(low / (1 - low))])


def test_inspectors_link_decisions_outrank_the_score(tmp_path):
    import duckdb

    from hecha.flows.pipeline import link_drop
    from hecha.matching.link import record_signature_sql

    county = County(tmp_path)
    villagers(county)
    person = county.person(name="王丽", born="1948-05-20", sex="女")
    other = county.person(name="王莉", born="1961-06-02", sex="女", village="西关村")
    county.cremate(person, "2026-03-01", id_number=None, name="王莉", age=78)
    drop = county.write()
    (signature,), = duckdb.sql(f"select {record_signature_sql('row')} from (select 'cremation' as source, "
                               "null as id_number_raw, '王莉' as name) as row").fetchall()
    ids = duckdb.connect()
    link_drop(ids, drop, secret=TEST_SECRET)
    person_id, other_id = (
        ids.execute("select person_id from link.person where id_number = ?", [number]).fetchall()[0][0]
        for number in (person.id_number, other.id_number)
    )
    assert linked_person(ids, "cremation", 1)[:2] == (person.id_number, "probabilistic")

    rejected = duckdb.connect()
    link_drop(rejected, drop, decisions=[("cremation", signature, person_id, "different")], secret=TEST_SECRET)
    assert linked_person(rejected, "cremation", 1) == (None, None, None)

    confirmed = duckdb.connect()
    link_drop(confirmed, drop, decisions=[("cremation", signature, other_id, "same")], secret=TEST_SECRET)
    assert linked_person(confirmed, "cremation", 1) == (other.id_number, "confirmed", 1.0)


def test_resolve_lists_every_competing_candidate_of_an_uncertain_row_with_its_share():
    from hecha.matching.probabilistic import Thresholds, resolve

    weights = {
        1: {"a": 10.0, "b": 10.0, "c": -20.0},  # namesakes, and someone thirty bits behind
        2: {"d": 12.0, "e": 2.0},  # a clear best: linked, the other is no choice
        3: {"f": 6.0, "g": 3.0},  # a link to confirm, with a runner-up
    }
    pairs = [(record, person, weight) for record, candidates in weights.items() for person, weight in candidates.items()]
    scored = pl.DataFrame(pairs, schema=["record_key", "person_id", "match_weight"], orient="row").with_columns(
        (1 / (1 + pl.lit(2.0).pow(-pl.col("match_weight")))).alias("probability"), pl.int_range(0, len(pairs)).alias("pair_index")
    )
    records = pl.DataFrame({"record_key": [1, 2, 3], "source": ["payments"] * 3, "one_to_one": [False] * 3})
    decided = resolve(scored, records, Thresholds(link=0.8, review=0.95))

    def share(record, person):  # 2^w / (1 + Σ 2^w_k): "none of them" is the 1
        return 2 ** weights[record][person] / (1 + sum(2**w for w in weights[record].values()))

    listed = [(row["record_key"], row["person_id"], row["candidate_rank"], row["decision"]) for row in decided.iter_rows(named=True)]
    assert listed == [(1, "a", 1, "review_only"), (1, "b", 2, "review_only"), (2, "d", 1, "linked"),
                      (3, "f", 1, "linked_to_confirm"), (3, "g", 2, "review_only")]
    assert decided["confidence"].to_list() == pytest.approx([share(r, p) for r, p, _, _ in listed])
    assert share(1, "a") == pytest.approx(0.5, abs=0.001)  # two equally good candidates get 0.5 each


def test_linking_leaves_the_connection_settings_as_it_found_them(tmp_path):
    """No stage changes a setting that the stages after it would inherit."""
    import duckdb

    from hecha.flows.pipeline import link_drop

    con = duckdb.connect()
    before = con.execute("select name, value from duckdb_settings() order by name").fetchall()
    link_drop(con, Path(__file__).resolve().parents[2] / "data" / "sample" / "drop", secret=TEST_SECRET)
    assert con.execute("select name, value from duckdb_settings() order by name").fetchall() == before


def test_one_to_one_is_per_source_a_supported_person_can_also_be_cremated(tmp_path):
    """A body is cremated once and a person supported once; the tekun row and the cremation row are both theirs."""
    county = County(tmp_path)
    villagers(county)
    person = county.person(name="王淑花", born="1957-08-21", sex="女", village="西关村")
    county.tekun(person, case_no="TK0200")
    county.rows["tekun"][-1]["id_number"] = None  # the roster lost the number
    county.cremate(person, "2025-01-24", id_number=None, age=68, address="清河县城关镇西关村")
    con = link_county(county)
    assert linked_person(con, "tekun", 1)[:2] == (person.id_number, "probabilistic")
    assert linked_person(con, "cremation", 1)[:2] == (person.id_number, "probabilistic")
