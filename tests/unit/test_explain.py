"""`hecha explain SOURCE ROW`: how one row was linked, read from the run's link tables, numbers masked."""

from __future__ import annotations

import pytest

from hecha.flows.cli import main
from tests.county import County
from tests.unit.test_linking import villagers
from tests.unit.test_numbers_of_nobody import fifteen_digit_typo


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    county = County(tmp_path_factory.mktemp("county"))
    villagers(county)
    widow = county.person(name="王丽", born="1948-05-20", sex="女")
    county.person(name="王丽", born="1971-02-02", sex="女")  # a namesake of another age
    county.cremate(widow, "2026-03-01", id_number=None, name="王莉", age=78)
    person = county.person(name="郭玉兰", born="1946-08-19", sex="女", village="西关村")
    county.tekun(person, case_no="TK0100")
    county.rows["tekun"][-1]["id_number"] = fifteen_digit_typo(person.id_number)
    head = county.person(name="李建设", born="1960-04-04", village="西关村")
    county.dibao_case("DB0001", head, [(head, True)])  # every roster a run requires holds a row
    county.certificate(head)
    out = county.folder / "out"
    assert main(["run", "--drop", str(county.write()), "--out", str(out)]) == 0
    return out, widow, person


def test_explain_shows_the_candidates_their_comparisons_and_the_step_that_decided(published, capsys):
    out, widow, _ = published
    assert main(["explain", "cremation", "1", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "cremation 第 1 行" in text and "身份证号：空" in text
    assert "候选人" in text and "姓名同音" in text and "死亡年龄为虚岁" in text
    first, second = text.index("1. 王丽"), text.index("2. 王丽")  # both namesakes, the right one first
    assert "1948-05-20" in text[first:second] and "1971-02-02" in text[second:]
    assert "结果：户籍人员 王丽" in text and "概率匹配" in text
    assert widow.id_number not in text and widow.id_number[:6] + "********" + widow.id_number[-4:] in text


def test_explain_says_a_number_of_nobody_was_treated_as_evidence(published, capsys):
    out, _, person = published
    assert main(["explain", "tekun", "1", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "户籍无此号码" in text and "视为证据而非身份" in text
    assert "身份证号仅差一位" in text
    assert f"结果：户籍人员 郭玉兰 {person.id_number[:6]}********{person.id_number[-4:]}" in text


def test_explain_refuses_an_unknown_extract_or_row_in_one_line(published, capsys):
    out, _, _ = published
    assert main(["explain", "crematorium", "1", "--out", str(out)]) == 2
    assert capsys.readouterr().err.count("\n") == 1
    assert main(["explain", "cremation", "999", "--out", str(out)]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "999" in error
