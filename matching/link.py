"""Link every source row to a person: the exact citizen-number layer.

`link.person` holds one row per person; `link.person_record` one row per
(source row, role) — the person on the row, and for dibao and
registered-poor rows also the household head — with the method and
confidence of the link and a short Chinese explanation for evidence text.
Rows without a usable number stay unlinked here (person_id NULL); fuzzy
linking fills them in `link.person_record` with method `probabilistic` and
puts uncertain pairs in `link.review`.
"""

from __future__ import annotations

import duckdb

from extracts.declarations import EXTRACTS, HOUSEHOLD_REGISTER
from extracts.schema import Extract

# Confidence and evidence wording per method. A 15-digit number upgraded to
# 18 is the same number by construction, so it is as sure as an exact match.
METHODS = {
    "valid": ("exact", 1.0, "身份证号一致"),
    "upgraded": ("upgraded", 1.0, "15位身份证号升位后一致"),
}

LINK_DDL = (
    """create or replace table link.person (
        person_id varchar primary key,
        id_number varchar,
        name varchar,
        sex varchar,
        birth_date date,
        household_no varchar,
        township varchar,
        village varchar,
        person_status varchar,
        in_register boolean
    )""",
    """create or replace table link.person_record (
        source varchar,
        source_row integer,
        role varchar,
        person_id varchar,
        method varchar,
        confidence double,
        explanation varchar
    )""",
    """create or replace table link.review (
        source_l varchar,
        source_row_l integer,
        source_r varchar,
        source_row_r integer,
        match_probability double,
        comparison_vector varchar
    )""",
)


def identity_select(extract: Extract, id_column: str, role: str) -> str:
    """One source's identity fields, in the shape every source shares."""
    names = {c.name for c in extract.columns}
    name_column = "head_name" if role == "head" else "name"

    def pick(column: str) -> str:
        return column if column in names and role == "subject" else "null"

    return (
        f"select '{extract.stem}' as source, source_row, '{role}' as role, "
        f"{id_column} as id_number, {id_column}_status as id_number_status, {name_column} as name, "
        f"{pick('sex')} as sex, cast({pick('birth_date')} as date) as birth_date, "
        f"{pick('household_no')} as household_no, {pick('township')} as township, {pick('village')} as village, "
        f"{pick('person_status')} as person_status, {EXTRACTS.index(extract)} as source_rank "
        f"from stg.{extract.stem}"
    )


def identity_rows_sql(extracts: tuple[Extract, ...]) -> str:
    selects = []
    for extract in extracts:
        for column in extract.columns_of_kind("id_number"):
            selects.append(identity_select(extract, column.name, "head" if column.name.startswith("head_") else "subject"))
    return " union all ".join(selects)


def link_people(con: duckdb.DuckDBPyConnection, extracts: tuple[Extract, ...] = EXTRACTS) -> dict[str, int]:
    """Build link.person and link.person_record from exact (and upgraded) citizen numbers."""
    con.execute("create schema if not exists link")
    for ddl in LINK_DDL:
        con.execute(ddl)
    con.execute(f"create or replace temp table identity_rows as {identity_rows_sql(extracts)}")
    # the register describes a person best; otherwise the first source in declaration order
    con.execute(
        f"""
        insert into link.person
        select
            'P' || substr(md5(id_number), 1, 15) as person_id,
            id_number,
            arg_min(name, (role <> 'subject', source_rank, source_row)),
            arg_min(sex, (sex is null, source_rank, source_row)),
            arg_min(birth_date, (birth_date is null, source_rank, source_row)),
            arg_min(household_no, (household_no is null, source_rank, source_row)),
            arg_min(township, (township is null, source_rank, source_row)),
            arg_min(village, (village is null, source_rank, source_row)),
            arg_min(person_status, (person_status is null, source_rank, source_row)),
            bool_or(source = '{HOUSEHOLD_REGISTER.stem}')
        from identity_rows
        where id_number is not null
        group by id_number
        order by id_number
        """
    )
    cases = " ".join(f"when '{status}' then '{method}'" for status, (method, _, _) in METHODS.items())
    confidences = " ".join(f"when '{status}' then {confidence}" for status, (_, confidence, _) in METHODS.items())
    explanations = " ".join(f"when '{status}' then '{text}'" for status, (_, _, text) in METHODS.items())
    con.execute(
        f"""
        insert into link.person_record
        select
            rows.source,
            rows.source_row,
            rows.role,
            person.person_id,
            case rows.id_number_status {cases} end,
            case rows.id_number_status {confidences} end,
            case rows.id_number_status {explanations} end
        from identity_rows as rows
        left join link.person as person
            on rows.id_number = person.id_number
        order by rows.source_rank, rows.source_row, rows.role
        """
    )
    con.execute("drop table identity_rows")
    persons, records, linked = con.execute(
        "select (select count(*) from link.person), count(*), count(person_id) from link.person_record"
    ).fetchall()[0]
    return {"persons": persons, "records": records, "records_linked": linked}
