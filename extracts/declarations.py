"""The seven extracts of a drop, declared once (see ../shared/CONTRACT.md).

Headers and accepted aliases are Chinese, as the county systems export them;
stg column names and vocabulary codes are English. Columns that several
extracts share (township, sex, relation to the head…) are built by one
function each so they cannot drift apart.
"""

from __future__ import annotations

from hecha.extracts.schema import Column, Extract, RowRule

SEX = {"男": "M", "女": "F"}
RELATION = {
    "户主": "head",
    "配偶": "spouse",
    "子": "son",
    "女": "daughter",
    "儿媳": "daughter_in_law",
    "女婿": "son_in_law",
    "孙子": "grandson",
    "孙女": "granddaughter",
    "父亲": "father",
    "母亲": "mother",
    "兄弟": "brother",
    "姐妹": "sister",
    "其他": "other",
}
PERSON_STATUS = {"正常": "normal", "死亡": "dead", "迁出": "moved_out"}
AREA_TYPE = {"城市": "urban", "农村": "rural"}
INCLUSION = {"整户": "household", "单人": "single"}
DIBAO_STATUS = {"在保": "active", "停保": "stopped"}
TEKUN_STATUS = {"在供": "active", "终止": "stopped"}
SUPPORT_MODE = {"集中": "institutional", "分散": "home"}
HOUSEHOLD_TYPE = {"脱贫户": "lifted", "监测户": "monitored", "未脱贫户": "poor"}
HEALTH = {"健康": "healthy", "长期慢性病": "chronic_illness", "患有大病": "serious_illness", "残疾": "disabled"}
SAFETY_NET = {"低保": "dibao", "特困": "tekun", "无": "none"}
DISABILITY_CATEGORY = {
    "视力": "visual",
    "听力": "hearing",
    "言语": "speech",
    "肢体": "physical",
    "智力": "intellectual",
    "精神": "mental",
    "多重": "multiple",
}
# The category digit inside a 20-character disability certificate number.
DISABILITY_CATEGORY_DIGIT = {
    "visual": "1",
    "hearing": "2",
    "speech": "3",
    "physical": "4",
    "intellectual": "5",
    "mental": "6",
    "multiple": "7",
}
CERTIFICATE_STATUS = {"正常": "valid", "注销": "cancelled", "过期": "expired"}
PROGRAMME = {
    "低保金": "dibao",
    "特困供养金": "tekun",
    "困难残疾人生活补贴": "living_subsidy",
    "重度残疾人护理补贴": "care_subsidy",
}


def township(header: str = "乡镇(街道)") -> Column:
    return Column("township", header, "text", "township", aliases=("乡镇(街道)", "乡镇街道", "乡镇", "街道"), nullable=False)


def village(header: str = "村(社区)") -> Column:
    return Column("village", header, "text", "village / community", aliases=("村(社区)", "村社区", "行政村", "村", "社区"))


def sex() -> Column:
    return Column("sex", "性别", "code", "sex", vocabulary=SEX)


def birth_date() -> Column:
    return Column("birth_date", "出生日期", "date", "date of birth")


def relation() -> Column:
    return Column("relation", "与户主关系", "code", "relation to the household head", aliases=("与户主关系", "关系"), vocabulary=RELATION)


def id_number(header: str = "身份证号", aliases: tuple[str, ...] = ("公民身份号码", "身份证号码"), nullable: bool = False) -> Column:
    return Column("id_number", header, "id_number", "citizen number of the person on this row", aliases=aliases, nullable=nullable)


def person_name(header: str = "姓名", aliases: tuple[str, ...] = ()) -> Column:
    return Column("name", header, "name", "name of the person on this row", aliases=aliases, nullable=False)


def head_columns() -> tuple[Column, ...]:
    return (
        Column("head_name", "户主姓名", "name", "name of the household head"),
        Column("head_id_number", "户主身份证号", "id_number", "citizen number of the household head", aliases=("户主公民身份号码",)),
    )


HOUSEHOLD_REGISTER = Extract(
    stem="household_register",
    title="户籍人口",
    source_system="公安户籍 household register",
    grain="one row per registered person",
    columns=(
        Column("household_no", "户号", "text", "hukou household number", nullable=False),
        person_name(),
        id_number(),
        sex(),
        birth_date(),
        relation(),
        township(),
        village(),
        Column("person_status", "人员状态", "code", "正常 / 死亡 / 迁出", vocabulary=PERSON_STATUS, nullable=False),
        Column("change_date", "变动日期", "date", "date of death or move-out (blank when 正常)"),
    ),
)

DIBAO = Extract(
    stem="dibao",
    title="低保在册家庭成员",
    source_system="低保 minimum-living-guarantee roster",
    grain="one row per declared member of a dibao case",
    columns=(
        Column("case_no", "低保证号", "text", "case number (one per household case)", nullable=False),
        township(),
        village(),
        Column("area_type", "城乡类别", "code", "城市 / 农村", vocabulary=AREA_TYPE),
        *head_columns(),
        person_name("成员姓名"),
        id_number("成员身份证号", aliases=("成员公民身份号码",)),
        relation(),
        sex(),
        birth_date(),
        Column("is_covered", "是否保障对象", "flag", "whether this declared member is covered", nullable=False),
        Column("inclusion", "纳入方式", "code", "整户 (whole household) / 单人 (single-person inclusion)", vocabulary=INCLUSION, nullable=False),
        Column("start_month", "保障开始年月", "month", "first covered month of the case", nullable=False),
        Column("case_status", "保障状态", "code", "在保 / 停保", vocabulary=DIBAO_STATUS, nullable=False),
        Column("stop_month", "停保年月", "month", "last covered month when 停保"),
        Column("monthly_amount", "户月保障金", "amount", "monthly amount paid to the household"),
        Column("has_tekun_waiver", "特困放弃协议", "flag", "是 when the member chose dibao in writing although eligible for tekun"),
    ),
)

TEKUN = Extract(
    stem="tekun",
    title="特困供养人员",
    source_system="特困 extremely-poor support roster",
    grain="one row per supported person",
    columns=(
        Column("case_no", "供养证号", "text", "support certificate number", nullable=False),
        person_name(),
        id_number(),
        sex(),
        birth_date(),
        township(),
        village(),
        Column("support_mode", "供养方式", "code", "集中 (institution) / 分散 (at home)", vocabulary=SUPPORT_MODE),
        Column("monthly_amount", "月供养金", "amount", "monthly amount"),
        Column("start_month", "开始年月", "month", "first supported month", nullable=False),
        Column("case_status", "状态", "code", "在供 / 终止", vocabulary=TEKUN_STATUS, nullable=False),
        Column("stop_month", "终止年月", "month", "last supported month when 终止"),
    ),
)

REGISTERED_POOR = Extract(
    stem="registered_poor",
    title="建档立卡/监测对象家庭成员",
    source_system="建档立卡 / 防返贫监测 registered-poor households",
    grain="one row per household member",
    columns=(
        Column("poor_household_no", "户编号", "text", "household number in the poverty-monitoring system", nullable=False),
        *head_columns(),
        person_name("成员姓名"),
        id_number("证件号码", aliases=("身份证号", "成员身份证号")),
        relation(),
        Column("household_size", "家庭人口数", "integer", "household size recorded by that system", minimum=1, maximum=30),
        township("乡镇"),
        village("行政村"),
        Column("household_type", "户类型", "code", "脱贫户 / 监测户 / 未脱贫户", vocabulary=HOUSEHOLD_TYPE),
        Column("health", "健康状况", "code", "健康 / 长期慢性病 / 患有大病 / 残疾", vocabulary=HEALTH),
        Column("safety_net", "兜底保障", "code", "what that system believes the household receives", vocabulary=SAFETY_NET),
    ),
)

CREMATION = Extract(
    stem="cremation",
    title="火化记录",
    source_system="殡葬 cremation records",
    grain="one row per cremated body",
    columns=(
        Column("record_no", "火化编号", "text", "record number", nullable=False),
        person_name("逝者姓名", aliases=("姓名",)),
        id_number(nullable=True),
        sex(),
        Column("age_at_death", "年龄", "integer", "age at death in years (often 虚岁, one more)", minimum=0, maximum=130),
        Column("death_date", "死亡日期", "date", "date of death", nullable=False),
        Column("cremation_date", "火化日期", "date", "date of cremation", required=False),
        Column("address", "户籍地址", "text", "registered address, free text", aliases=("地址",)),
        Column("funeral_home", "殡仪馆", "text", "funeral home", required=False),
    ),
)

DISABILITY = Extract(
    stem="disability",
    title="残疾人证",
    source_system="残联 disability certificates",
    grain="one row per certificate",
    columns=(
        Column("case_no", "残疾人证号", "text", "20 characters: citizen number, category digit, grade digit", nullable=False,
               embeds_id_number=True),
        person_name(),
        id_number(),
        sex(),
        Column("disability_category", "残疾类别", "code", "视力 / 听力 / 言语 / 肢体 / 智力 / 精神 / 多重", vocabulary=DISABILITY_CATEGORY, nullable=False),
        Column("disability_grade", "残疾等级", "grade", "一级 … 四级 (一级 most severe)", nullable=False),
        Column("issue_date", "发证日期", "date", "issue date", nullable=False),
        Column("valid_until", "有效期至", "date", "last day of validity", future_ok=True),
        Column("certificate_status", "证件状态", "code", "正常 / 注销 / 过期", vocabulary=CERTIFICATE_STATUS, nullable=False),
        township(),
        village(),
    ),
    row_rules=(
        RowRule(
            "certificate_matches_holder",
            "残疾人证号 = 身份证号 + 类别码 + 等级码",
            "substr(case_no, 1, 18) = id_number"
            " and substr(case_no, 19, 1) = " + "case disability_category "
            + " ".join(f"when '{code}' then '{digit}'" for code, digit in DISABILITY_CATEGORY_DIGIT.items())
            + " end and substr(case_no, 20, 1) = cast(disability_grade as varchar)",
        ),
    ),
)

PAYMENTS = Extract(
    stem="payments",
    title="发放明细",
    source_system="发放明细 benefit payment ledger",
    grain="one row per payment line",
    columns=(
        Column("paid_month", "发放年月", "month", "month paid for", nullable=False),
        Column("programme", "项目", "code", "低保金 / 特困供养金 / 困难残疾人生活补贴 / 重度残疾人护理补贴", vocabulary=PROGRAMME, nullable=False),
        Column("case_no", "证号", "text", "低保证号, 供养证号 or 残疾人证号 the line pays against", nullable=False),
        person_name(),
        id_number(),
        Column("amount", "金额", "amount", "yuan", nullable=False),
        township(),
    ),
)

EXTRACTS: tuple[Extract, ...] = (HOUSEHOLD_REGISTER, DIBAO, TEKUN, REGISTERED_POOR, CREMATION, DISABILITY, PAYMENTS)
BY_STEM = {extract.stem: extract for extract in EXTRACTS}
