"""The check catalogue: one entry per check code, the text inspectors read.

Each entry names its SQL file (`sql/checks/<code>.sql`) by its code and the
policy parameters it reads; descriptions may quote parameters as
`{window_months}` and are rendered from `config/policy.yaml`, so the text an
inspector reads cannot drift from the rule that ran.
"""

from __future__ import annotations

from dataclasses import dataclass

from hecha.config import flatten


@dataclass(frozen=True)
class Check:
    code: str
    name_zh: str
    description_zh: str
    policy_basis: str
    severity: str  # high: money to recover or owed; medium: eligibility; low: data quality
    params: tuple[str, ...] = ()

    def render_description(self, policy: dict) -> str:
        return self.description_zh.format(**{name: quoted(value) for name, value in flatten(policy).items()})

    def parameter_values(self, policy: dict) -> dict[str, object]:
        """The policy values this check reads, by parameter name (tables as they are written)."""
        return {name: _lookup(policy, name) for name in self.params}


def _lookup(policy: dict, dotted: str) -> object:
    value: object = policy
    for part in dotted.split("."):
        value = value[part]  # type: ignore[index]
    return value


def quoted(value: object) -> str:
    """A parameter as inspectors read it: lists as 1、2、3."""
    if isinstance(value, list):
        return "、".join(str(item) for item in value)
    return str(value)


CATALOGUE: tuple[Check, ...] = (
    Check(
        code="deceased_paid",
        name_zh="死亡人员仍领取",
        description_zh=(
            "户籍登记死亡或有火化记录的人员，在死亡当月之后仍有发放记录（低保金按保障人数分摊到已死亡的保障对象）。"
            "死亡当月的发放是正确的；之后各月的金额应予追回。只计算最近 {window_months} 个月的发放明细。"
        ),
        policy_basis="《社会救助暂行办法》第十三条；《最低生活保障审核确认办法》第三十条",
        severity="high",
        params=("window_months",),
    ),
    Check(
        code="moved_out_paid",
        name_zh="迁出仍领取",
        description_zh=(
            "户籍登记已迁出本县的人员，在迁出当月之后仍有发放记录。迁出当月的发放是正确的；"
            "之后各月的金额应予追回。只计算最近 {window_months} 个月的发放明细。"
        ),
        policy_basis="《最低生活保障审核确认办法》第三十条",
        severity="high",
        params=("window_months",),
    ),
    Check(
        code="person_not_household",
        name_zh="保人不保户",
        description_zh=(
            "整户保障的低保家庭，户主户籍同户人员中有在世、在籍的成员未纳入保障，也未享受其他低保或特困供养。"
            "已死亡、已迁出的成员，单人保（重度残疾或重病成年人单独纳入）家庭的其他成员不列入。"
            "证据列出户籍同户全部成员及建档立卡系统登记的家庭人口，供入户核实；不计算金额，需重新核定。"
        ),
        policy_basis="《最低生活保障审核确认办法》（民发〔2021〕57号）第六条、第十一条",
        severity="medium",
        params=(),
    ),
    Check(
        code="should_be_tekun",
        name_zh="该吃五保吃低保",
        description_zh=(
            "低保保障对象在世在籍，年满 {tekun_min_age} 周岁、未满 {tekun_max_minor_age} 周岁或持有视为无劳动能力的残疾人证"
            "（智力、精神 {tekun_no_labour_max_grade_intellectual} 级以上，肢体 {tekun_no_labour_max_grade_physical} 级以上，"
            "视力 {tekun_no_labour_max_grade_visual} 级），户籍同户无其他在世在籍成员，未纳入特困供养，也未签订特困放弃协议。"
            "户籍无法反映户外的子女等法定赡养人，需入户核实。不计算金额。"
        ),
        policy_basis="《特困人员认定办法》（民发〔2021〕43号）第六条至第十条；国发〔2016〕14号",
        severity="medium",
        params=("tekun.min_age", "tekun.max_minor_age", "tekun.no_labour_max_grade"),
    ),
    Check(
        code="transfer_gap",
        name_zh="转特困断档",
        description_zh=(
            "低保停保后转入特困供养的人员，停保月份与特困开始月份之间，既未发放低保金也未发放特困供养金的月份。"
            "按特困名册月供养金补发；特困在停保次月开始的不列入。只计算最近 {window_months} 个月。"
        ),
        policy_basis="《社会救助暂行办法》第十四条、第十八条",
        severity="high",
        params=("window_months",),
    ),
    Check(
        code="missed_living_subsidy",
        name_zh="困难残疾人生活补贴漏发",
        description_zh=(
            "持有效残疾人证（{living_subsidy_grades} 级）的低保保障对象，在世在籍、未纳入特困供养，某月未发放困难残疾人生活补贴。"
            "从发证、纳入低保、政策实施（{living_subsidy_policy_start}）和追溯期（{backpay_lookback_months} 个月）中最晚的月份起，"
            "按每月标准补发至核查月份；只计算最近 {window_months} 个月。"
        ),
        policy_basis="《国务院关于全面建立困难残疾人生活补贴和重度残疾人护理补贴制度的意见》（国发〔2015〕52号）",
        severity="high",
        params=("living_subsidy.grades", "living_subsidy.policy_start", "living_subsidy.standards", "backpay.lookback_months",
                "window_months"),
    ),
    Check(
        code="missed_care_subsidy",
        name_zh="重度残疾人护理补贴漏发",
        description_zh=(
            "持有效 {care_subsidy_grades} 级残疾人证、在世在籍的人员，某月未发放重度残疾人护理补贴（不论是否享受低保或特困）。"
            "死亡、迁出当月之后不再符合条件，即使证件仍显示正常。从发证、政策实施（{care_subsidy_policy_start}）和追溯期"
            "（{backpay_lookback_months} 个月）中最晚的月份起，按等级标准补发；只计算最近 {window_months} 个月。"
        ),
        policy_basis="《国务院关于全面建立困难残疾人生活补贴和重度残疾人护理补贴制度的意见》（国发〔2015〕52号）",
        severity="high",
        params=("care_subsidy.grades", "care_subsidy.policy_start", "care_subsidy.standards", "backpay.lookback_months",
                "window_months"),
    ),
    Check(
        code="duplicate_benefit",
        name_zh="重复享受",
        description_zh=(
            "同一人同一月份被两个在保低保案件同时保障、同时享受低保和特困供养，或同一项目发放两次及以上。"
            "低保与特困重叠的，追回该月低保金中本人份额（特困保留）；两个低保案件重叠的，追回后纳入案件的本人份额；"
            "重复发放的，追回第一笔之外的各笔。低保在特困开始前一个月停保的不列入。只计算最近 {window_months} 个月。"
        ),
        policy_basis="《社会救助暂行办法》第十四条；《特困人员认定办法》第十三条",
        severity="high",
        params=("window_months",),
    ),
    Check(
        code="status_mismatch",
        name_zh="系统状态不一致",
        description_zh=(
            "建档立卡（防返贫监测）系统登记的兜底保障与救助名册不一致：名册所列成员中有在供特困人员的应为特困，"
            "否则有在保低保保障对象（含单人保）的应为低保，否则为无。每户一条，列在户主名下；不计算金额。"
        ),
        policy_basis="民政部、国家乡村振兴局低收入人口动态监测信息共享要求",
        severity="low",
        params=(),
    ),
    Check(
        code="invalid_certificate_paid",
        name_zh="证件失效仍领取",
        description_zh=(
            "残疾人两项补贴按已过有效期、已注销（注销当月之后）或尚未发证的月份发放，以及按 {care_subsidy_grades} 级以外等级发放护理补贴。"
            "因死亡注销的证件发放至死亡当月是正确的；死亡、迁出之后的发放列入死亡、迁出两项核查，不在此重复计算。"
        ),
        policy_basis="《国务院关于全面建立困难残疾人生活补贴和重度残疾人护理补贴制度的意见》（国发〔2015〕52号）",
        severity="high",
        params=("care_subsidy.grades", "window_months"),
    ),
    Check(
        code="identity_anomaly",
        name_zh="身份信息异常",
        description_zh=(
            "领取人（发放明细中的收款人、在保低保保障对象、在供特困人员）身份证号校验不通过且无法修复到户籍人员、户籍中也无其人；"
            "或户籍身份证号中的出生日期、性别与户籍登记不符；或年龄超过 {identity_max_age} 岁。"
            "一位之差、相邻两位颠倒、15 位旧号可修复，不列入；低保等名册的出生日期与户籍相差（农历生日）不列入。不计算金额。"
        ),
        policy_basis="GB 11643《公民身份号码》；《社会救助暂行办法》第六十六条",
        severity="low",
        params=("identity.max_age",),
    ),
)

BY_CODE = {check.code: check for check in CATALOGUE}

# The province's own checks, over every county's export (province/cross.py, sql/province/<code>.sql). Kept
# beside the county catalogue, not in it: a county run never runs them, and the contract's eleven stay eleven.
CROSS_CATALOGUE: tuple[Check, ...] = (
    Check(
        code="cross_deceased_paid",
        name_zh="跨县死亡仍领取",
        description_zh=(
            "本县发放的人员，在外县户籍登记死亡或有外县火化记录（按身份证号且姓名一致或同音；火化记录无可用身份证号的，"
            "按姓名、性别、死亡年龄和户籍地址中的本县乡镇、村，且全省户籍地址相符者仅一人），本县自己的数据并无其死亡记录，"
            "死亡当月之后仍有发放。死亡当月的发放是正确的；之后各月的金额应予追回（低保金按保障人数分摊到本人）。"
            "只计算各县最近 {window_months} 个月的发放明细。"
        ),
        policy_basis="《社会救助暂行办法》第十三条；《最低生活保障审核确认办法》第三十条",
        severity="high",
        params=("window_months", "province.unnumbered_cremation"),
    ),
    Check(
        code="cross_moved_out_paid",
        name_zh="跨县迁出仍领取",
        description_zh=(
            "本县发放的人员，外县户籍登记已迁出，全省各县（含本县）户籍均无其正常或死亡登记（已迁出本省），"
            "本县自己的数据并无其迁出记录，迁出当月之后仍有发放。迁出当月的发放是正确的；之后各月的金额应予追回。"
            "只计算各县最近 {window_months} 个月的发放明细。"
        ),
        policy_basis="《最低生活保障审核确认办法》第三十条",
        severity="high",
        params=("window_months",),
    ),
    Check(
        code="cross_duplicate_benefit",
        name_zh="跨县重复享受",
        description_zh=(
            "同一人（身份证号相同且姓名一致或同音）同一月份由两个县发放：两个低保案件、低保与特困，或同一项目两次。"
            "低保与特困重叠的，特困保留，追回低保所在县该月低保金中本人份额；其他的，以保障开始月份较晚的一方为重复，"
            "同月开始的以户籍不在该县的一方、再以县代码较大的一方为重复，追回重复一方的发放。"
            "本县自己的重复发放由本县重复享受核查列出，不在此重复计算。"
        ),
        policy_basis="《社会救助暂行办法》第十四条；《特困人员认定办法》第十三条",
        severity="high",
        params=("window_months",),
    ),
)

CROSS_BY_CODE = {check.code: check for check in CROSS_CATALOGUE}


SEVERITY_ZH = {"high": "高（涉及追回或补发资金）", "medium": "中（资格认定）", "low": "低（数据质量）"}


def format_parameter(value: object) -> str:
    if isinstance(value, list) and value and isinstance(value[0], dict):
        return "；".join("，".join(f"{k} {v}" for k, v in row.items()) for row in value)
    if isinstance(value, dict):
        return "，".join(f"{k} {v}" for k, v in value.items())
    return quoted(value)


def describe_check(check: Check, policy: dict) -> list[str]:
    """The catalogue entry as inspectors read it (the workbooks and `hecha checks` use this text)."""
    lines = [
        f"{check.code}  {check.name_zh}",
        f"  {check.render_description(policy)}",
        f"  依据：{check.policy_basis}",
        f"  级别：{SEVERITY_ZH[check.severity]}",
    ]
    values = check.parameter_values(policy)
    if values:
        lines.append("  参数：" + "；".join(f"{name} = {format_parameter(value)}" for name, value in values.items()))
    return lines


def describe_catalogue(policy: dict, codes: list[str] | None = None) -> str:
    checks = [check for check in CATALOGUE if not codes or check.code in codes]
    return "\n\n".join("\n".join(describe_check(check, policy)) for check in checks) + "\n"


def render_catalogue_docs(policy: dict) -> str:
    """docs/checks.md: the catalogue with the default policy (`python -m hecha.checks.catalogue > docs/checks.md`)."""
    lines = [
        "# Check catalogue",
        "",
        "Rendered from `checks/catalogue.py` with `config/policy.yaml` (`python -m hecha.checks.catalogue > docs/checks.md`);",
        "`hecha checks` prints the same text. The rules are in `../shared/POLICY.md`; each check is",
        "`sql/checks/<code>.sql`.",
        "",
    ]
    for check in (*CATALOGUE, *CROSS_CATALOGUE):
        if check is CROSS_CATALOGUE[0]:
            lines += ["# Across counties", "",
                      "A province's cross-county stage (`hecha province`) runs these over every county's export;",
                      "each is `sql/province/<code>.sql`.", ""]
        lines += [f"## `{check.code}` {check.name_zh}", "", check.render_description(policy), "",
                  f"- 依据：{check.policy_basis}", f"- 级别：{SEVERITY_ZH[check.severity]}"]
        for name, value in check.parameter_values(policy).items():
            lines.append(f"- `{name}` = {format_parameter(value)}")
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    from hecha.config import load_policy

    print(render_catalogue_docs(load_policy()), end="")
