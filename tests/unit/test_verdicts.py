"""Verdicts that stick: a 不属实 holds while the facts the inspector judged hold, and every folder shares one set of verdicts.

Runs are published by hand (findings in, history applied, recorded), as in
test_history.py, into a nightly out folder and a campaign folder beneath it
(`<out>/campaigns/<name>/`). Evidence is worded as the sample's checks word it.
"""

import datetime as dt
import json
from types import SimpleNamespace

import duckdb
import openpyxl
import pytest

from hecha.audit.feedback import FeedbackError, import_feedback, link_decisions
from hecha.audit.history import STATE, apply_history, basis_hash_sql, basis_text_sql, open_state, record_run
from tests.feedback_books import link_workbook, review_one_cremation_row

FINDING_COLUMNS = (
    "check_code varchar, person_id varchar, id_number varchar, name varchar, township varchar, village varchar, "
    "case_no varchar, period_start date, period_end date, overpaid_amount double, backpay_amount double, evidence varchar, case_key varchar"
)
FIRST_MONTH = dt.date(2025, 6, 1)
MONTHLY = 530.0


def month_after(month: dt.date, months: int) -> dt.date:
    index = month.year * 12 + month.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def deceased(months, *, key="k1", cremation="HH202500069", death="2025-05-21", cremation_row=642, ledger_start=5193):
    """A deceased_paid finding as the sample words it: paid from 2025-06 for `months` months after a cremation."""
    end = month_after(FIRST_MONTH, months - 1)
    rows = "、".join(str(ledger_start + 700 * number) for number in range(months))
    evidence = (f"火化记录 {cremation} 死亡日期 {death}（火化第 {cremation_row} 行，身份证号一致）；"
                f"死亡后仍发放低保金（证号 DB10400022）{FIRST_MONTH:%Y-%m} 至 {end:%Y-%m} 共 {months} 个月 {MONTHLY * months:.2f} 元，"
                f"按保障人数 2 人分摊户月保障金（发放明细第 {rows} 行）")
    return ("deceased_paid", f"P{key}", f"13053419500101{key:0>4}", f"人{key}", "城关镇", "东关村", "DB10400022",
            FIRST_MONTH, end, MONTHLY * months, 0.0, evidence, key)


class Folder:
    """An out folder whose runs are published by hand; `verdicts` is the root's history a campaign reads verdicts from."""

    def __init__(self, path, tag, verdicts=None):
        self.path = path
        self.tag = tag
        self.state = path / STATE
        self.verdicts = verdicts
        self.runs = 0

    def run(self, findings, as_of="2026-10"):
        self.runs += 1
        run_id = f"{as_of}_{self.tag}{self.runs}"
        run_dir = self.path / run_id
        run_dir.mkdir(parents=True)
        con = duckdb.connect(str(run_dir / "hecha.duckdb"))
        con.execute(f"create schema chk; create table chk.finding ({FINDING_COLUMNS})")
        con.executemany(f"insert into chk.finding values ({', '.join('?' * 13)})", findings)
        apply_history(con, state=self.state, run_id=run_id, verdicts=self.verdicts)
        statuses = dict(con.execute("select case_key, status from chk.finding_status").fetchall())
        con.close()
        (run_dir / "run.json").write_text(json.dumps({"run_id": run_id, "status": "succeeded", "findings": {},
                                                      "parameters": {"as_of": as_of, "county": "130534"}}), encoding="utf-8")
        record_run(self.state, run_dir)
        return run_dir, statuses

    def workbook(self, run, rows, name="book.xlsx"):
        """The county workbook of `run` (a run folder, or the run id _meta names) as an inspector returns it."""
        book = openpyxl.Workbook()
        sheet = book.active
        sheet.title = "死亡人员仍领取"
        sheet.append(["姓名", "核查结论", "核查说明", "案件编号"])
        for key, conclusion, note in rows:
            sheet.append(["某人", conclusion, note, key])
        meta = book.create_sheet("_meta")
        for label, value in (("county", "130534"), ("run_id", run if isinstance(run, str) else run.name), ("as_of", "2026-10"),
                             ("township", "全县")):
            meta.append([label, value])
        path = self.path.parent / f"{self.tag}_{name}"
        book.save(path)
        return path


def dispositions(state):
    with open_state(state, read_only=True) as con:
        return con.execute("select case_key, conclusion, run_id from audit.disposition order by recorded_at, case_key").fetchall()


@pytest.fixture
def nightly(tmp_path):
    return Folder(tmp_path / "out", "n")


@pytest.fixture
def campaign(tmp_path, nightly):
    return Folder(tmp_path / "out" / "campaigns" / "2026春季专项", "c", verdicts=nightly.state)


def test_not_true_survives_three_more_months_of_payment(nightly):
    run_dir, _ = nightly.run([deceased(5)])
    import_feedback(nightly.workbook(run_dir, [("k1", "不属实", "本人健在，火化记录为同名者")]), nightly.path, inspector="张科员")
    later = [nightly.run([deceased(months, cremation_row=642 + months, ledger_start=5193 + months)])[1] for months in (6, 7, 8)]
    assert later == [{"k1": "suppressed"}] * 3


@pytest.mark.parametrize("description, changed", [
    ("another cremation record is linked", {"cremation": "HH202500070", "cremation_row": 643}),
    ("the death date changes", {"death": "2025-05-20"}),
])
def test_not_true_reopens_when_the_basis_changes(nightly, description, changed):
    run_dir, _ = nightly.run([deceased(5)])
    import_feedback(nightly.workbook(run_dir, [("k1", "不属实", None)]), nightly.path, inspector="张科员")
    assert nightly.run([deceased(6)])[1] == {"k1": "suppressed"}
    assert nightly.run([deceased(7, **changed)])[1] == {"k1": "reopened"}, description


def test_reopened_case_marked_not_true_again_is_suppressed_again(nightly):
    run_dir, _ = nightly.run([deceased(5)])
    import_feedback(nightly.workbook(run_dir, [("k1", "不属实", "同名不同人")]), nightly.path, inspector="张科员")
    reopened_dir, statuses = nightly.run([deceased(6, death="2025-05-20")])
    assert statuses == {"k1": "reopened"}
    # the same words again, but about new facts: recorded, not "already recorded"
    result = import_feedback(nightly.workbook(reopened_dir, [("k1", "不属实", "同名不同人")], name="again.xlsx"), nightly.path)
    assert result.dispositions == {"不属实": 1} and result.unchanged == 0
    assert nightly.run([deceased(7, death="2025-05-20")])[1] == {"k1": "suppressed"}


def test_rectified_case_paid_again_recurs(nightly):
    """已整改 says the payments stopped: one more month paid is the problem back, not a longer period of the same."""
    run_dir, _ = nightly.run([deceased(5)])
    import_feedback(nightly.workbook(run_dir, [("k1", "已整改", "已停发")]), nightly.path, inspector="李科员")
    assert nightly.run([deceased(5, ledger_start=9000)])[1] == {"k1": "suppressed"}
    assert nightly.run([deceased(6)])[1] == {"k1": "recurred"}


def test_verdict_from_a_nightly_workbook_suppresses_the_case_in_a_campaign(nightly, campaign):
    run_dir, _ = nightly.run([deceased(5), deceased(5, key="k2")])
    import_feedback(nightly.workbook(run_dir, [("k1", "不属实", "同名不同人")]), nightly.path, inspector="张科员")
    _, first = campaign.run([deceased(6), deceased(6, key="k2")])
    assert first == {"k1": "suppressed", "k2": "new"}  # the campaign's own statuses, the shared verdicts
    _, second = campaign.run([deceased(7), deceased(7, key="k2")])
    assert second == {"k1": "suppressed", "k2": "persisting"}


def test_verdict_from_a_campaign_workbook_is_recorded_in_the_root_history(nightly, campaign):
    nightly.run([deceased(5)])
    campaign_dir, _ = campaign.run([deceased(5)])
    result = import_feedback(campaign.workbook(campaign_dir, [("k1", "不属实", "同名不同人")]), campaign.path, inspector="王科员")
    assert result.dispositions == {"不属实": 1}
    assert dispositions(nightly.state) == [("k1", "不属实", campaign_dir.name)]
    assert dispositions(campaign.state) == []
    assert nightly.run([deceased(6)])[1] == {"k1": "suppressed"}
    assert campaign.run([deceased(6)])[1] == {"k1": "suppressed"}


def test_campaign_workbook_imported_with_the_root_folder_finds_its_campaign(nightly, campaign):
    """`hecha feedback import BOOK --out out` for a campaign's workbook: the run is found under out/campaigns/."""
    nightly.run([deceased(5)])
    campaign_dir, _ = campaign.run([deceased(5), deceased(5, key="k2")])
    import_feedback(campaign.workbook(campaign_dir, [("k2", "已整改", None)]), nightly.path, inspector="王科员")
    assert dispositions(nightly.state) == [("k2", "已整改", campaign_dir.name)]


def test_campaign_workbook_is_validated_against_its_campaign_run(nightly, campaign):
    nightly.run([deceased(5), deceased(5, key="k2")])
    campaign_dir, _ = campaign.run([deceased(5)])
    with pytest.raises(FeedbackError, match=f"'k2' is not a finding of run {campaign_dir.name}"):
        import_feedback(campaign.workbook(campaign_dir, [("k2", "不属实", None)]), campaign.path)
    assert dispositions(nightly.state) == []


def test_workbook_naming_a_run_as_a_path_is_refused(nightly):
    run_dir, _ = nightly.run([deceased(5)])
    book = nightly.workbook(f"campaigns/../{run_dir.name}", [("k1", "属实", None)])
    with pytest.raises(FeedbackError, match="has not published"):
        import_feedback(book, nightly.path)


def test_campaign_link_decisions_are_recorded_in_the_root_and_read_by_every_folder(nightly, campaign):
    campaign_dir, _ = campaign.run([deceased(5)])
    review_one_cremation_row(campaign_dir)
    path = link_workbook(campaign.path / "links.xlsx", campaign_dir.name, "全县", [["王莉", "不是同一人", "年龄不符", "cremation:7:Pabc"]])
    assert import_feedback(path, campaign.path, inspector="张科员").link_decisions == {"different": 1}
    decided = [("cremation", "sig7", "Pabc", "different")]
    assert link_decisions(nightly.state) == decided
    assert link_decisions(campaign.state) == decided  # what a campaign's link stage reads (run.state)


def test_apply_history_stage_reads_verdicts_from_the_root(nightly, campaign):
    from hecha.flows.stages import apply_history as apply_history_stage

    run_dir, _ = nightly.run([deceased(5)])
    import_feedback(nightly.workbook(run_dir, [("k1", "不属实", None)]), nightly.path, inspector="张科员")
    campaign.path.mkdir(parents=True)
    con = duckdb.connect()
    con.execute(f"create schema chk; create table chk.finding ({FINDING_COLUMNS})")
    con.executemany(f"insert into chk.finding values ({', '.join('?' * 13)})", [deceased(6)])
    run = SimpleNamespace(con=con, out=campaign.path, state=campaign.state, run_id="2026-10_c9",
                          record={"parameters": {"checks": None, "townships": None}}, stage=lambda name: Untimed())
    apply_history_stage(run)
    assert con.execute("select status from chk.finding_status").fetchall() == [("suppressed",)]


class Untimed:
    """A stage timer that times nothing (Run.stage's stand-in)."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_history_without_basis_is_migrated_from_the_evidence_it_stored(nightly):
    """A history written before dispositions kept their basis: the basis is worked out from the stored evidence."""
    run_dir, _ = nightly.run([deceased(5)])
    import_feedback(nightly.workbook(run_dir, [("k1", "不属实", None)]), nightly.path, inspector="张科员")
    con = duckdb.connect()
    con.execute(f"attach '{nightly.state}' as history")
    con.execute("alter table history.audit.disposition drop column basis_hash")
    con.execute("alter table history.audit.case_run drop column basis_hash")
    con.close()
    (run_dir / "hecha.duckdb").unlink()  # retention removed the run's database: the case's stored evidence is what is left
    with open_state(nightly.state) as con:
        (basis,) = con.execute("select basis_hash from audit.disposition").fetchall()[0]
        (expected,) = con.execute(f"select {basis_hash_sql('evidence')} from audit.case").fetchall()[0]
    assert basis == expected
    assert nightly.run([deceased(6)])[1] == {"k1": "suppressed"}


def test_legacy_verdict_without_basis_still_suppresses_unchanged_evidence(nightly):
    run_dir, _ = nightly.run([deceased(5)])
    import_feedback(nightly.workbook(run_dir, [("k1", "不属实", None)]), nightly.path, inspector="张科员")
    with open_state(nightly.state) as con:
        con.execute("update audit.disposition set basis_hash = null")
    assert nightly.run([deceased(5, ledger_start=1)])[1] == {"k1": "suppressed"}
    assert nightly.run([deceased(6)])[1] == {"k1": "reopened"}  # unknown basis: the evidence decides, as before


# Each check's wording from the sample drop (data/sample, the published chk.finding.evidence), before and after.
# Same basis: only money, months, periods, row numbers, link scores or ages on the run's date moved.
SAME_BASIS = [
    ("deceased_paid: one more month paid",
     "户籍登记死亡，变动日期 2025-04-25（户籍第 10275 行，身份证号一致）；死亡后仍发放低保金（证号 DB10400018）2025-05 至 2025-09 共 5 个月 2600.00 元（发放明细第 4480、5190、5903、6611、7317 行）",
     "户籍登记死亡，变动日期 2025-04-25（户籍第 10301 行，身份证号一致）；死亡后仍发放低保金（证号 DB10400018）2025-05 至 2025-10 共 6 个月 3120.00 元（发放明细第 4480、5190、5903、6611、7317、8020 行）"),
    ("deceased_paid: the probabilistic link refitted",
     "火化记录 HH202500091 死亡日期 2025-06-25（火化第 664 行，概率匹配 1.000：姓名一致(+13.9)、死亡年龄为虚岁（多一岁）(+6.7)、户籍尚未登记死亡(-4.2)）；死亡后仍发放特困供养金（证号 TK10500002）2025-07 至 2025-08 共 2 个月 1760.00 元（发放明细第 6104、6815 行）",
     "火化记录 HH202500091 死亡日期 2025-06-25（火化第 670 行，概率匹配 0.998：姓名一致(+13.1)、死亡年龄为虚岁（多一岁）(+6.5)、户籍尚未登记死亡(-4.0)）；死亡后仍发放特困供养金（证号 TK10500002）2025-07 至 2025-09 共 3 个月 2640.00 元（发放明细第 6104、6815、7520 行）"),
    ("moved_out_paid: two more months",
     "户籍登记迁出，变动日期 2026-04-24（户籍第 5293 行，身份证号一致）；迁出后仍发放低保金（证号 DB10100003）2026-05 至 2026-06 共 2 个月 1080.00 元，按保障人数 3 人分摊户月保障金（发放明细第 12828、13521 行）",
     "户籍登记迁出，变动日期 2026-04-24（户籍第 5293 行，身份证号一致）；迁出后仍发放低保金（证号 DB10100003）2026-05 至 2026-08 共 4 个月 2160.00 元，按保障人数 3 人分摊户月保障金（发放明细第 12828、13521、14200、14890 行）"),
    ("duplicate_benefit: the overlap goes on",
     "低保证号 DB10200041 与特困供养证号 TK10200018 2026-03 至 2026-10 共 8 个月重复；应追回 4320.00 元（8 笔，低保金按保障人数分摊的本人份额；低保与特困重叠的追回低保，两案重叠的追回后纳入案件）",
     "低保证号 DB10200041 与特困供养证号 TK10200018 2026-03 至 2026-11 共 9 个月重复；应追回 4860.00 元（9 笔，低保金按保障人数分摊的本人份额；低保与特困重叠的追回低保，两案重叠的追回后纳入案件）"),
    ("invalid_certificate_paid: one more line",
     "残疾人证 13053420091107128863（精神三级，2021-06起有效，有效至 2031-06，证件状态正常，残疾人证第 65 行）3级不符合护理补贴条件仍发放重度残疾人护理补贴 2026-06 至 2026-10 共 5 笔 400.00 元（发放明细第 13943、14636、15321、16007、16691 行）",
     "残疾人证 13053420091107128863（精神三级，2021-06起有效，有效至 2031-06，证件状态正常，残疾人证第 66 行）3级不符合护理补贴条件仍发放重度残疾人护理补贴 2026-06 至 2026-11 共 6 笔 480.00 元（发放明细第 13943、14636、15321、16007、16691、17380 行）"),
    ("missed_care_subsidy: the look-back window slides",
     "持残疾人证 13053419571210594742（肢体二级，发证 2024-09-07，有效期至 2034-09-06，证件状态正常，残疾人证第 409 行）；2026-02 至 2026-07 共 6 个月未发放重度残疾人护理补贴，按等级标准应补发 480.00 元",
     "持残疾人证 13053419571210594742（肢体二级，发证 2024-09-07，有效期至 2034-09-06，证件状态正常，残疾人证第 409 行）；2026-03 至 2026-08 共 5 个月（2026-03、2026-04、2026-06、2026-07、2026-08）未发放重度残疾人护理补贴，按等级标准应补发 400.00 元"),
    ("missed_living_subsidy: one more month missed",
     "持残疾人证 13053219741217644024（听力四级，发证 2017-10-19，有效期至 2027-10-18，证件状态正常，残疾人证第 317 行），低保证号 DB10100036 保障对象（2024-08 起）；2026-07 至 2026-09 共 3 个月未发放困难残疾人生活补贴，按标准应补发 240.00 元",
     "持残疾人证 13053219741217644024（听力四级，发证 2017-10-19，有效期至 2027-10-18，证件状态正常，残疾人证第 317 行），低保证号 DB10100036 保障对象（2024-08 起）；2026-07 至 2026-10 共 4 个月未发放困难残疾人生活补贴，按标准应补发 320.00 元"),
    ("transfer_gap: the monthly rate raised",
     "低保证号 DB20100020 于 2025-06 停保（低保第 1202 行），特困供养证号 TK20100003 自 2025-10 开始供养（特困第 154 行）；2025-07 至 2025-09 共 3 个月两项均未发放，按月供养金 900.00 元应补发 2700.00 元",
     "低保证号 DB20100020 于 2025-06 停保（低保第 1210 行），特困供养证号 TK20100003 自 2025-10 开始供养（特困第 155 行）；2025-07 至 2025-09 共 3 个月两项均未发放，按月供养金 950.00 元应补发 2850.00 元"),
    ("should_be_tekun: a year older",
     "闫金明 为低保证号 DB10300010 保障对象（低保第 733 行），年满 60 周岁（按户籍出生日期现 92 周岁）；户籍户号 10300400014（户籍第 8958 行）无其他在世在籍成员；不在特困供养名册，低保名册未登记特困放弃协议。",
     "闫金明 为低保证号 DB10300010 保障对象（低保第 740 行），年满 60 周岁（按户籍出生日期现 93 周岁）；户籍户号 10300400014（户籍第 9001 行）无其他在世在籍成员；不在特困供养名册，低保名册未登记特困放弃协议。"),
    ("identity_anomaly: a year older, more lines",
     "董占忠（户籍第 13712 行）领取救助（发放明细第 10365 行 等 25 行）：按户籍登记出生日期计算已 112 岁，超过 110 岁。请核实身份信息",
     "董占忠（户籍第 13800 行）领取救助（发放明细第 10400 行 等 26 行）：按户籍登记出生日期计算已 113 岁，超过 110 岁。请核实身份信息"),
    ("person_not_household: the monthly standard raised",
     "低保证号 DB20000041 为整户保障，保障 3 人（户月保障金 1620.00 元），董明涛 是户主户籍同户人员、在世在籍，未纳入保障，也未享受其他低保或特困；户籍户号 20001100008 共登记 4 人：董宏峰（户主，本案保障对象）、董明涛（子，未纳入本案保障）。",
     "低保证号 DB20000041 为整户保障，保障 3 人（户月保障金 1710.00 元），董明涛 是户主户籍同户人员、在世在籍，未纳入保障，也未享受其他低保或特困；户籍户号 20001100008 共登记 4 人：董宏峰（户主，本案保障对象）、董明涛（子，未纳入本案保障）。"),
    ("status_mismatch: the rows moved",
     "建档立卡户编号 130534201000031（户主 贾彩燕，建档立卡第 1106 行）兜底保障登记为特困，救助名册显示应为低保：贾彩燕（低保证号 DB20100025 保障对象）。请核实后更正其中一个系统",
     "建档立卡户编号 130534201000031（户主 贾彩燕，建档立卡第 1120 行）兜底保障登记为特困，救助名册显示应为低保：贾彩燕（低保证号 DB20100025 保障对象）。请核实后更正其中一个系统"),
]
# Another basis: a fact the inspector judged changed.
OTHER_BASIS = [
    ("deceased_paid: another cremation record",
     "火化记录 HH202500069 死亡日期 2025-05-21（火化第 642 行，身份证号一致）；死亡后仍发放低保金（证号 DB10400022）2025-06 至 2026-10 共 17 个月 9040.00 元",
     "火化记录 HH202500070 死亡日期 2025-05-21（火化第 642 行，身份证号一致）；死亡后仍发放低保金（证号 DB10400022）2025-06 至 2026-10 共 17 个月 9040.00 元"),
    ("deceased_paid: the registry records the death too",
     "火化记录 HH202500069 死亡日期 2025-05-21（火化第 642 行，身份证号一致）；死亡后仍发放低保金（证号 DB10400022）2025-06 至 2026-10 共 17 个月 9040.00 元",
     "户籍登记死亡，变动日期 2025-05-21（户籍第 8637 行，身份证号一致）；火化记录 HH202500069 死亡日期 2025-05-21（火化第 642 行，身份证号一致）；死亡后仍发放低保金（证号 DB10400022）2025-06 至 2026-10 共 17 个月 9040.00 元"),
    ("deceased_paid: linked by the number instead of by name",
     "火化记录 HH202500091 死亡日期 2025-06-25（火化第 664 行，概率匹配 1.000：姓名一致(+13.9)）；死亡后仍发放特困供养金（证号 TK10500002）2025-07 至 2025-08 共 2 个月 1760.00 元",
     "火化记录 HH202500091 死亡日期 2025-06-25（火化第 664 行，身份证号一致）；死亡后仍发放特困供养金（证号 TK10500002）2025-07 至 2025-08 共 2 个月 1760.00 元"),
    ("moved_out_paid: another move date",
     "户籍登记迁出，变动日期 2026-04-24（户籍第 5293 行，身份证号一致）；迁出后仍发放低保金（证号 DB10100003）2026-05 至 2026-06 共 2 个月 1080.00 元",
     "户籍登记迁出，变动日期 2026-05-24（户籍第 5293 行，身份证号一致）；迁出后仍发放低保金（证号 DB10100003）2026-06 至 2026-06 共 1 个月 540.00 元"),
    ("duplicate_benefit: another case overlaps",
     "低保证号 DB10200041 与特困供养证号 TK10200018 2026-03 至 2026-10 共 8 个月重复；应追回 4320.00 元（8 笔）",
     "低保证号 DB10200041 与特困供养证号 TK10200019 2026-03 至 2026-10 共 8 个月重复；应追回 4320.00 元（8 笔）"),
    ("invalid_certificate_paid: the certificate cancelled",
     "残疾人证 13053419870311612X42（肢体二级，2023-05起有效，有效至 2025-12，证件状态过期，残疾人证第 123 行）有效期满之后仍发放重度残疾人护理补贴 2026-01 至 2026-02 共 2 笔 160.00 元",
     "残疾人证 13053419870311612X42（肢体二级，2023-05起有效，有效至 2025-12，证件状态注销，残疾人证第 123 行）注销之后仍发放重度残疾人护理补贴 2026-01 至 2026-02 共 2 笔 160.00 元"),
    ("missed_care_subsidy: another grade",
     "持残疾人证 13053419571210594742（肢体二级，发证 2024-09-07，有效期至 2034-09-06，证件状态正常，残疾人证第 409 行）；2026-02 至 2026-07 共 6 个月未发放重度残疾人护理补贴，按等级标准应补发 480.00 元",
     "持残疾人证 13053419571210594742（肢体一级，发证 2024-09-07，有效期至 2034-09-06，证件状态正常，残疾人证第 409 行）；2026-02 至 2026-07 共 6 个月未发放重度残疾人护理补贴，按等级标准应补发 600.00 元"),
    ("transfer_gap: another stop month",
     "低保证号 DB20100020 于 2025-06 停保（低保第 1202 行），特困供养证号 TK20100003 自 2025-10 开始供养（特困第 154 行）；2025-07 至 2025-09 共 3 个月两项均未发放",
     "低保证号 DB20100020 于 2025-07 停保（低保第 1202 行），特困供养证号 TK20100003 自 2025-10 开始供养（特困第 154 行）；2025-08 至 2025-09 共 2 个月两项均未发放"),
    ("should_be_tekun: a member came back",
     "闫金明 为低保证号 DB10300010 保障对象（低保第 733 行），年满 60 周岁（按户籍出生日期现 92 周岁）；户籍户号 10300400014（户籍第 8958 行）无其他在世在籍成员；",
     "闫金明 为低保证号 DB10300010 保障对象（低保第 733 行），年满 60 周岁（按户籍出生日期现 92 周岁）；户籍户号 10300400014（户籍第 8958 行）无其他在世在籍成员（周艳萍（配偶，迁出 2025-07））；"),
    ("identity_anomaly: another anomaly",
     "张兰（户籍第 4692 行）领取救助（发放明细第 10298 行 等 25 行）：身份证号第十七位表示女性，户籍登记为男性。请核实身份信息",
     "张兰（户籍第 4692 行）领取救助（发放明细第 10298 行 等 25 行）：户籍身份证号码所含出生日期与户籍登记出生日期不一致（相差 339 天，年龄相差 1 岁）。请核实身份信息"),
    ("identity_anomaly: the birth dates differ by another number of days",
     "高福（户籍第 6595 行）领取救助：户籍身份证号码所含出生日期与户籍登记出生日期不一致（相差 339 天，年龄相差 1 岁）。",
     "高福（户籍第 6595 行）领取救助：户籍身份证号码所含出生日期与户籍登记出生日期不一致（相差 30 天）。"),
    ("person_not_household: another number covered",
     "低保证号 DB20000041 为整户保障，保障 3 人（户月保障金 1620.00 元），董明涛 是户主户籍同户人员",
     "低保证号 DB20000041 为整户保障，保障 4 人（户月保障金 1620.00 元），董明涛 是户主户籍同户人员"),
    ("status_mismatch: registered otherwise",
     "建档立卡户编号 130534201000031（户主 贾彩燕，建档立卡第 1106 行）兜底保障登记为特困，救助名册显示应为低保：贾彩燕（低保证号 DB20100025 保障对象）。",
     "建档立卡户编号 130534201000031（户主 贾彩燕，建档立卡第 1106 行）兜底保障登记为无，救助名册显示应为低保：贾彩燕（低保证号 DB20100025 保障对象）。"),
]


def basis_of(text):
    con = duckdb.connect()
    try:
        return con.execute(f"select {basis_hash_sql('evidence')}, {basis_text_sql('evidence')} from (select ? as evidence)",
                           [text]).fetchall()[0]
    finally:
        con.close()


@pytest.mark.parametrize("description, before, after", SAME_BASIS, ids=[case[0] for case in SAME_BASIS])
def test_basis_ignores_money_months_periods_and_rows(description, before, after):
    (hash_before, text_before), (hash_after, text_after) = basis_of(before), basis_of(after)
    assert hash_before == hash_after, f"{description}:\n{text_before}\n{text_after}"


@pytest.mark.parametrize("description, before, after", OTHER_BASIS, ids=[case[0] for case in OTHER_BASIS])
def test_basis_keeps_the_facts_judged(description, before, after):
    (hash_before, text_before), (hash_after, text_after) = basis_of(before), basis_of(after)
    assert hash_before != hash_after, f"{description}:\n{text_before}\n{text_after}"


def test_basis_text_keeps_the_facts_readable():
    _, text = basis_of(SAME_BASIS[0][1])
    assert text == "户籍登记死亡，变动日期 2025-04-25（户籍第…行，身份证号一致）；死亡后仍发放低保金（证号 DB10400018）…（发放明细第…行）"
