"""How one source row was linked, read back from the `link` tables a run kept.

`hecha explain SOURCE ROW` prints, for each identity on the row (the person,
and for dibao and registered-poor rows the household head): what the row
says, what became of its number (exact, upgraded, repaired, a number no
register person holds), the candidates the probabilistic layer compared it
with — each comparison's level and weight, the pair's probability and its
share of the row's posterior — and the step that decided. Citizen numbers
are masked as in the workbooks.
"""

from __future__ import annotations

import math

import duckdb

from hecha.checks.labels import LINK_METHOD_LABELS, LINK_ROLE_LABELS
from hecha.matching.compare import COMPARISONS
from hecha.storage.masking import mask_id_number

MAX_CANDIDATES = 10


def fetch_dicts(con: duckdb.DuckDBPyConnection, sql: str, parameters: list) -> list[dict]:
    cursor = con.execute(sql, parameters)
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


def text(value: object) -> str:
    return "—" if value is None or value == "" else str(value)


def vocabulary_label(con: duckdb.DuckDBPyConnection, column: str, code: str | None) -> str | None:
    """A code as the extract declarations word it (stg.vocabulary of the run)."""
    found = con.execute("select label from stg.vocabulary where column_name = ? and code = ?", [column, code]).fetchall()
    return found[0][0] if found else code


def describe_identity(con: duckdb.DuckDBPyConnection, row: dict) -> str:
    fields = [
        ("姓名", row["name"]), ("身份证号", mask_id_number(row["id_number_raw"]) if row["id_number_raw"] else None),
        ("性别", vocabulary_label(con, "sex", row["sex"])), ("出生日期", row["birth_date"]),
        ("乡镇", row["township"]), ("村", row["village"]), ("死亡日期", row["death_date"]), ("年龄", row["age_at_death"]),
    ]
    return "  ".join(f"{label} {text(value)}" for label, value in fields if value is not None and value != "")


def number_story(con: duckdb.DuckDBPyConnection, row: dict) -> str:
    status = row["id_number_status"]
    key = [row["source"], row["source_row"], row["role"]]
    if status == "blank":
        return "身份证号：空"
    if status == "invalid":
        repair = fetch_dicts(con, "select status, explanation from link.number_repair where source = ? and source_row = ? and role = ?", key)
        verdict = repair[0] if repair else {"status": "no_candidate", "explanation": None}
        return f"身份证号：校验不通过；修复 {verdict['status']}" + (f"（{verdict['explanation']}）" if verdict["explanation"] else "")
    in_register = con.execute("select count(*) from link.register_person where id_number = ?", [row["id_number"]]).fetchall()[0][0]
    form = "有效" if status == "valid" else "15位升位为18位"
    if in_register:
        return f"身份证号：{form}，户籍有此号码"
    resolution = fetch_dicts(con, "select decision, confidence from link.number_resolution where id_number = ?", [row["id_number"]])
    told = (f"；证据指向户籍中的一人（{resolution[0]['decision']}，{resolution[0]['confidence']:.3f}），此号码的各行随之"
            if resolution else "；县内无足够相似之人，按此号码自成一人")
    return f"身份证号：{form}，但户籍无此号码 — 视为证据而非身份，进入概率匹配{told}"


def candidate_lines(con: duckdb.DuckDBPyConnection, record_key: int) -> list[str]:
    model = {(row["comparison"], row["level"]): row for row in fetch_dicts(con, "select * from link.model", [])}
    prior = next(iter(model.values()))["prior"] if model else 0.5
    levels = ", ".join(f"pair.{comparison.name}_level" for comparison in COMPARISONS)
    candidates = fetch_dicts(con, f"""
        select pair.person_id, person.name, person.id_number, person.birth_date, person.township, person.village,
            person.in_register, scored.match_weight, scored.probability, decided.confidence, decided.decision,
            frequency.share as name_share, {levels}
        from link.compared_pair as pair
        inner join link.person_feature as person on pair.person_id = person.person_id
        left join link.scored_pair as scored on pair.record_key = scored.record_key and pair.person_id = scored.person_id
        left join link.probabilistic as decided on pair.record_key = decided.record_key and pair.person_id = decided.person_id
        left join link.name_frequency as frequency on person.name = frequency.name
        where pair.record_key = ?
        order by scored.match_weight desc nulls last, pair.person_id
        limit {MAX_CANDIDATES}
    """, [record_key])
    if not candidates:
        return ["  候选人：无（没有与之同属一个分块的人）"]
    lines = [f"  候选人（按匹配权重，先验 {math.log2(prior / (1 - prior)):+.1f} 位，即全县约 {1 / prior:,.0f} 人中的一人）："]
    for rank, candidate in enumerate(candidates, start=1):
        where = "户籍" if candidate["in_register"] else "户籍外"
        scored = ("已排除（同类一人一条记录已被占用，或核查人员否定）" if candidate["match_weight"] is None else
                  f"权重 {candidate['match_weight']:+.1f}  概率 {candidate['probability']:.4f}")
        share = "" if candidate["confidence"] is None else f"  份额 {candidate['confidence']:.3f}  {candidate['decision']}"
        lines.append(f"  {rank}. {text(candidate['name'])} {mask_id_number(candidate['id_number'])} 出生 {text(candidate['birth_date'])} "
                     f"{text(candidate['township'])}{text(candidate['village'])}（{where}） {scored}{share}")
        parts = []
        for comparison in COMPARISONS:
            level = candidate[f"{comparison.name}_level"]
            if level is None:
                continue
            entry = model.get((comparison.name, level))
            weight = entry["weight"] if entry else 0.0
            if comparison.name == "name" and level == 3 and candidate["name_share"] and entry:
                weight = math.log2(entry["m_probability"]) - math.log2(candidate["name_share"])  # a common name weighs less
            parts.append(f"{comparison.labels[level]}({weight:+.1f})")
        lines.append("     " + "、".join(parts))
    return lines


def explain_row(con: duckdb.DuckDBPyConnection, source: str, source_row: int) -> str:
    """How row `source_row` of `source` was linked, in words (numbers masked)."""
    identities = fetch_dicts(con, "select * from link.identity_row where source = ? and source_row = ? order by role desc",
                             [source, source_row])
    if not identities:
        quarantined = con.execute("select count(*) from stg.quarantine where source = ? and source_row = ?",
                                  [source, source_row]).fetchall()[0][0]
        if quarantined:
            return f"{source} 第 {source_row} 行：已隔离（未入库），不参与匹配"
        raise LookupError(f"{source}: no row {source_row} in this run")
    lines = [f"{source} 第 {source_row} 行"]
    for row in identities:
        key = [source, source_row, row["role"]]
        lines.append(f"[{LINK_ROLE_LABELS.get(row['role'], row['role'])}] {describe_identity(con, row)}")
        lines.append("  " + number_story(con, row))
        record = fetch_dicts(con, "select record_key, is_training from link.record where source = ? and source_row = ? and role = ?", key)
        if record and not record[0]["is_training"]:
            same = con.execute("select count(*) from link.record where record_key = ?", [record[0]["record_key"]]).fetchall()[0][0]
            lines.append(f"  概率匹配记录 {record[0]['record_key']}（与之完全相同的行共 {same} 行，一并判断）")
            lines += candidate_lines(con, record[0]["record_key"])
        decided = fetch_dicts(con, "select * from link.person_record where source = ? and source_row = ? and role = ?", key)[0]
        if decided["person_id"] is None:
            lines.append(f"  结果：未关联到任何人{('（' + decided['explanation'] + '）') if decided['explanation'] else ''}")
            continue
        person = fetch_dicts(con, "select * from link.person where person_id = ?", [decided["person_id"]])[0]
        where = "户籍人员" if person["in_register"] else "户籍外人员"
        lines.append(f"  结果：{where} {text(person['name'])} {mask_id_number(person['id_number'])}（{decided['person_id']}）"
                     f" — {LINK_METHOD_LABELS.get(decided['method'], decided['method'])}，置信度 {decided['confidence']:.3f}")
        lines.append(f"  依据：{text(decided['explanation'])}")
    return "\n".join(lines)
