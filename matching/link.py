"""Link every source row to a person: the exact citizen-number layer.

`link.person` holds one row per person; `link.person_record` one row per
(source row, role) — the person on the row, and for dibao and
registered-poor rows also the household head — with the method and
confidence of the link and a short Chinese explanation for evidence text.
Rows without a usable number stay unlinked here (person_id NULL); fuzzy
linking fills them in `link.person_record` with method `probabilistic` and
puts uncertain rows in `link.review`: one line per candidate the row might
be, each with its share of the row's posterior (`confidence`; the best
candidate has the highest) and the row's `record_signature`, by which an
inspector's choice among them is remembered (`apply_link_decisions`).
"""

from __future__ import annotations

import duckdb
import polars as pl

from hecha.extracts.declarations import EXTRACTS, HOUSEHOLD_REGISTER
from hecha.extracts.schema import Extract
from hecha.matching.id_number import clean_id_number_text
from hecha.matching.names import name_pinyin
from hecha.matching.probabilistic import ONE_TO_ONE_SOURCES, Thresholds, link_records
from hecha.matching.repair import repair_id_numbers
from hecha.storage.database import setting
from hecha.storage.secret import require_keyed_hash

TRAINING_ROWS = 5_000  # about this many known matches (exact links) seed m; more adds time, not accuracy

# Confidence and evidence wording per method. A 15-digit number upgraded to
# 18 is the same number by construction, so it is as sure as an exact match.
METHODS = {
    "valid": ("exact", 1.0, "身份证号一致"),
    "upgraded": ("upgraded", 1.0, "15位身份证号升位后一致"),
}
# One slip from exactly one register person whose name, birth date and sex
# agree: nearly certain, but a slip can be undone wrongly, so not quite 1.
REPAIRED_CONFIDENCE = 0.99

LINK_DDL = (
    """create or replace table link.person (
        person_id varchar,
        id_number varchar,
        name varchar,
        sex varchar,
        birth_date date,
        household_no varchar,
        township varchar,
        village varchar,
        person_status varchar,
        status_date date,
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
        source varchar,
        source_row integer,
        role varchar,
        person_id varchar,
        register_row integer,
        match_probability double,
        confidence double,
        decision varchar,
        comparison_vector varchar,
        explanation varchar,
        record_signature varchar  -- how an inspector's decision on this row is remembered (apply_link_decisions)
    )""",
    """create or replace table link.number_repair (
        source varchar,
        source_row integer,
        role varchar,
        id_number_clean varchar,
        status varchar,
        explanation varchar
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
        f"{id_column} as id_number, {id_column}_raw as id_number_raw, {id_column}_status as id_number_status, "
        f"{name_column} as name, "
        f"{pick('sex')} as sex, cast({pick('birth_date')} as date) as birth_date, "
        f"{pick('household_no')} as household_no, {pick('township')} as township, {pick('village')} as village, "
        f"{pick('person_status')} as person_status, cast({pick('change_date')} as date) as change_date, "
        f"cast({pick('age_at_death')} as integer) as age_at_death, "
        f"cast({pick('death_date')} as date) as death_date, cast({pick('address')} as varchar) as address, "
        f"cast({pick('head_id_number')} as varchar) as head_id_number, {EXTRACTS.index(extract)} as source_rank "
        f"from stg.{extract.stem}"
    )
def identity_rows_sql(extracts: tuple[Extract, ...]) -> str:
    selects = []
    for extract in extracts:
        for column in extract.columns_of_kind("id_number"):
            selects.append(identity_select(extract, column.name, "head" if column.name.startswith("head_") else "subject"))
    return " union all ".join(selects)


def link_people(con: duckdb.DuckDBPyConnection, extracts: tuple[Extract, ...] = EXTRACTS, *, thresholds: Thresholds,
                decisions: list[tuple[str, str, str, str]] = ()) -> dict:
    """Link every source row: exact (and upgraded) citizen numbers, then probabilistic links for the rest.

    Person ids are `person_id_of`, keyed with the deployment secret (storage/secret.py) installed on `con`.
    """
    require_keyed_hash(con)
    # link tables have no meaningful row order (every reader that needs one sorts), and DuckDB
    # builds them faster when it need not keep one; the setting ends with this stage
    with setting(con, "preserve_insertion_order", False):
        return link_all_rows(con, extracts, thresholds=thresholds, decisions=decisions)


def link_all_rows(con: duckdb.DuckDBPyConnection, extracts: tuple[Extract, ...], *, thresholds: Thresholds,
                  decisions: list[tuple[str, str, str, str]]) -> dict:
    con.execute("create schema if not exists link")
    for ddl in LINK_DDL:
        con.execute(ddl)
    con.execute(f"create or replace temp table identity_rows as {identity_rows_sql(extracts)}")
    # A person is described by one row: the register's, else the first row of
    # the first source in declaration order (a row about the person, not a head column).
    described = (
        "{'name': name, 'sex': sex, 'birth_date': birth_date, 'household_no': household_no, 'township': township, "
        "'village': village, 'person_status': person_status, 'change_date': change_date}"
    )
    con.execute(
        f"""
        insert into link.person
        with register as (
            select id_number, arg_min({described}, source_row) as row
            from identity_rows
            where source = '{HOUSEHOLD_REGISTER.stem}' and id_number is not null
            group by id_number
        ),
        elsewhere as (
            select
                id_number,
                arg_min({described}, (role <> 'subject')::bigint * 1000000000000 + source_rank::bigint * 1000000000 + source_row)
                    as row
            from identity_rows as ids
            where id_number is not null
                and source <> '{HOUSEHOLD_REGISTER.stem}'
                and not exists (select 1 from register where register.id_number = ids.id_number)
            group by id_number
        ),
        persons as (
            select *, true as in_register from register
            union all
            select *, false as in_register from elsewhere
        )
        select
            person_id_of(id_number),
            id_number,
            row.name, row.sex, row.birth_date, row.household_no, row.township, row.village,
            row.person_status, row.change_date,
            in_register
        from persons
        """
    )
    cases = " ".join(f"when '{status}' then '{method}'" for status, (method, _, _) in METHODS.items())
    confidences = " ".join(f"when '{status}' then {confidence}" for status, (_, confidence, _) in METHODS.items())
    explanations = " ".join(f"when '{status}' then '{text}'" for status, (_, _, text) in METHODS.items())
    con.execute(
        f"""
        insert into link.person_record
        select
            source,
            source_row,
            role,
            person_id_of(id_number),  -- every usable number is a person of link.person
            case id_number_status {cases} end,
            case id_number_status {confidences} end,
            case id_number_status {explanations} end
        from identity_rows
        """
    )
    persons = person_features(con)  # read once: repair and the probabilistic layer both compare against them
    figures = {"repair": repair_invalid_numbers(con, persons),
               "probabilistic": link_remaining(con, persons, thresholds, decisions)}
    figures["same_invalid_number"] = link_same_invalid_numbers(con)
    figures["inspector_decisions"] = apply_link_decisions(con, decisions)
    con.execute("drop table identity_rows")
    con.execute(SOURCE_ROW_SQL)
    persons, records, linked = con.execute(
        "select (select count(*) from link.person), count(*), count(person_id) from link.person_record"
    ).fetchall()[0]
    methods = con.execute("select coalesce(method, 'unlinked'), count(*) from link.person_record group by all order by 1").fetchall()
    return {"persons": persons, "records": records, "records_linked": linked, "methods": dict(methods)} | figures


# One line per data row of every extract: who it is, how we know, how sure.
# Quarantined rows are listed too (unlinked): every row read is accounted for.
SOURCE_ROW_SQL = """
create or replace view link.source_row as
select source, source_row as row_number, person_id, method, confidence
from link.person_record
where role = 'subject'
union all
select distinct source, source_row, null, 'quarantined', null
from stg.quarantine
"""


def repair_invalid_numbers(con: duckdb.DuckDBPyConnection, persons: pl.DataFrame) -> dict[str, int]:
    """Rows whose number fails its check, one typing slip from exactly one agreeing register person.

    Judged once per distinct (number, name, sex, birth date): a payee's typo repeats every month.
    """
    rows = con.sql(
        "select source, source_row, role, id_number_raw, name, sex, birth_date from identity_rows "
        "where id_number_status = 'invalid' order by source_rank, source_row, role"
    ).pl()
    if rows.is_empty():
        return {}
    identity = ["id_number_raw", "name", "sex", "birth_date"]
    distinct = rows.unique(identity, keep="first", maintain_order=True)
    register = persons.filter(pl.col("in_register")).select("person_id", "id_number", "name", "sex", "birth_date")
    verdicts = repair_id_numbers(distinct, register).join(
        distinct.select("source", "source_row", "role", *identity), on=["source", "source_row", "role"]
    )
    repairs = rows.join(
        verdicts.select(*identity, "person_id", "status", "explanation"), on=identity, how="left", nulls_equal=True
    )
    # every invalid number and what repair made of it: an unrepairable number
    # of a recipient is an identity anomaly (sql/checks/identity_anomaly.sql)
    outcome = repairs.select(
        "source", "source_row", "role", clean_id_number_text(repairs["id_number_raw"]).alias("id_number_clean"),
        pl.col("status").fill_null("no_candidate"), "explanation",
    )
    con.register("repair_outcome", outcome.to_arrow())
    try:
        con.execute("insert into link.number_repair select * from repair_outcome")
    finally:
        con.unregister("repair_outcome")
    con.register("repairs", repairs.filter(pl.col("status") == "repaired").to_arrow())
    try:
        con.execute(
            f"""
            update link.person_record as rec
            set person_id = repairs.person_id, method = 'repaired', confidence = {REPAIRED_CONFIDENCE},
                explanation = repairs.explanation
            from repairs
            where rec.source = repairs.source and rec.source_row = repairs.source_row and rec.role = repairs.role
            """
        )
    finally:
        con.unregister("repairs")
    return dict(repairs.group_by("status").len().sort("status").iter_rows())


# An inspector's word on a link outranks every score. A row is known across
# drops by its signature (source, number as written, name), the same one
# reports/feedback.py records.
def record_signature_sql(alias: str) -> str:
    return f"substr(md5({alias}.source || '|' || coalesce({alias}.id_number_raw, '') || '|' || coalesce({alias}.name, '')), 1, 16)"


CONFIRMED_TEXT = "核查人员确认为同一人"
REJECTED_TEXT = "核查人员确认不是同一人"


def apply_link_decisions(con: duckdb.DuckDBPyConnection, decisions: list[tuple[str, str, str, str]]) -> dict[str, int]:
    """Confirmed links are made (method `confirmed`, confidence 1); rejected ones are undone and kept out of review.

    A row an inspector chose a candidate for leaves review with all its
    candidates (the others were recorded `different` with the choice). A
    rejected candidate was already left out of the probabilistic layer's
    choice (`link_remaining`); here it is undone wherever another layer made it.
    """
    if not decisions:
        return {}
    frame = pl.DataFrame(list(decisions), schema=["source", "record_signature", "person_id", "decision"], orient="row")
    con.register("decisions", frame.to_arrow())
    try:
        con.execute(
            f"""
            create or replace temp table decided_rows as
            select ids.source, ids.source_row, ids.role, decisions.person_id, decisions.decision
            from identity_rows as ids
            inner join decisions
                on ids.source = decisions.source
                and {record_signature_sql('ids')} = decisions.record_signature
            where ids.role = 'subject'
                and decisions.person_id in (select person_id from link.person)
            """
        )
    finally:
        con.unregister("decisions")
    con.execute(
        f"""
        update link.person_record as rec
        set person_id = decided.person_id, method = 'confirmed', confidence = 1.0, explanation = '{CONFIRMED_TEXT}'
        from decided_rows as decided
        where decided.decision = 'same'
            and rec.source = decided.source and rec.source_row = decided.source_row and rec.role = decided.role
        """
    )
    con.execute(
        f"""
        update link.person_record as rec
        set person_id = null, method = null, confidence = null, explanation = '{REJECTED_TEXT}'
        from decided_rows as decided
        where decided.decision = 'different'
            and rec.source = decided.source and rec.source_row = decided.source_row and rec.role = decided.role
            and rec.person_id = decided.person_id
        """
    )
    con.execute(
        """
        delete from link.review as review
        using decided_rows as decided
        where review.source = decided.source and review.source_row = decided.source_row
            and (decided.decision = 'same' or review.person_id = decided.person_id)
        """
    )
    counts = dict(con.execute("select decision, count(*) from decided_rows group by decision order by decision").fetchall())
    con.execute("drop table decided_rows")
    return counts


# Rows left unlinked whose number fails its check and is no slip from a register
# number: someone the register does not know (an identity anomaly). Rows with the
# same written number and name — a payee's monthly lines, their roster row — are
# one such person; the link is not to a register person, so it is not a fact.
SAME_INVALID_NUMBER_CONFIDENCE = 0.9
SAME_INVALID_NUMBER_TEXT = "身份证号校验不通过且无法修复、户籍无此人，按相同号码和姓名归为同一人"


def link_same_invalid_numbers(con: duckdb.DuckDBPyConnection) -> int:
    """Give rows sharing an unrepairable number and a name one person outside the register."""
    con.execute(
        """
        create or replace temp table same_invalid_number as
        select
            rec.source,
            rec.source_row,
            rec.role,
            person_id_of(repair.id_number_clean || '|' || ids.name) as person_id,
            repair.id_number_clean,
            ids.name, ids.sex, ids.birth_date, ids.household_no, ids.township, ids.village,
            ids.source_rank
        from link.person_record as rec
        inner join link.number_repair as repair using (source, source_row, role)
        inner join identity_rows as ids using (source, source_row, role)
        where rec.person_id is null
            and repair.status in ('no_candidate', 'not_18')
            and ids.name is not null
        """
    )
    con.execute(
        """
        insert into link.person
        select
            person_id,
            arg_min(id_number_clean, source_rank::bigint * 1000000000 + source_row),
            arg_min(name, source_rank::bigint * 1000000000 + source_row),
            arg_min(sex, source_rank::bigint * 1000000000 + source_row),
            arg_min(birth_date, source_rank::bigint * 1000000000 + source_row),
            arg_min(household_no, source_rank::bigint * 1000000000 + source_row),
            arg_min(township, source_rank::bigint * 1000000000 + source_row),
            arg_min(village, source_rank::bigint * 1000000000 + source_row),
            null, null, false
        from same_invalid_number
        group by person_id
        """
    )
    con.execute(
        f"""
        update link.person_record as rec
        set person_id = same.person_id, method = 'same_invalid_number', confidence = {SAME_INVALID_NUMBER_CONFIDENCE},
            explanation = '{SAME_INVALID_NUMBER_TEXT}'
        from same_invalid_number as same
        where rec.source = same.source and rec.source_row = same.source_row and rec.role = same.role
        """
    )
    linked = con.execute("select count(*) from same_invalid_number").fetchall()[0][0]
    con.execute("drop table same_invalid_number")
    return linked


FEATURES = ("name", "pinyin", "surname", "sex", "birth_date", "birth_year", "age_at_death", "death_date",
            "township", "village", "household_no", "id_text")


def person_features(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    persons = con.sql(
        "select person_id, id_number, name, sex, birth_date, township, village, household_no, person_status, status_date, in_register "
        "from link.person order by person_id"  # a fixed order: random pairs for u are drawn by position
    ).pl()
    return persons.with_columns(
        name_pinyin(persons["name"]).alias("pinyin"),
        pl.col("name").str.slice(0, 1).alias("surname"),
        pl.col("birth_date").dt.year().alias("birth_year"),
    )


def place_in_address(addresses: pl.Series, places: pl.Series) -> pl.Series:
    """The longest known place name found inside each free-text address (cremation 户籍地址)."""
    unique = pl.DataFrame({"address": addresses.drop_nulls().unique()})
    names = pl.DataFrame({"place": places.drop_nulls().unique()})
    found = (
        unique.join(names, how="cross")
        .filter(pl.col("address").str.contains(pl.col("place"), literal=True))
        .sort([pl.col("place").str.len_chars(), pl.col("place")], descending=[True, False])
        .unique("address", keep="first", maintain_order=True)
    )
    return pl.DataFrame({"address": addresses}).join(found, on="address", how="left", maintain_order="left")["place"]


def record_features(rows: pl.DataFrame, persons: pl.DataFrame) -> pl.DataFrame:
    """What a row says about its person, in the columns comparisons and blocking read."""
    # an age at death (often 虚岁) puts the birth in one of three years
    from_age = pl.concat_list([pl.col("death_date").dt.year() - pl.col("age_at_death") + k for k in (-1, 0, 1)])
    rows = rows.with_columns(
        pl.coalesce(pl.col("township"), place_in_address(rows["address"], persons["township"])).alias("township"),
        pl.coalesce(pl.col("village"), place_in_address(rows["address"], persons["village"])).alias("village"),
    )
    return rows.with_columns(
        name_pinyin(rows["name"]).alias("pinyin"),
        pl.col("name").str.slice(0, 1).alias("surname"),
        # an address naming no township or village of the county is someone from elsewhere
        (pl.col("address").is_not_null() & pl.col("township").is_null() & pl.col("village").is_null()).alias("outside_county"),
        pl.when(pl.col("birth_date").is_not_null()).then(pl.concat_list(pl.col("birth_date").dt.year()))
        .otherwise(from_age).alias("birth_year"),
        clean_id_number_text(rows["id_number_raw"]).alias("id_text"),
        pl.col("head_household_no").alias("household_no"),
        pl.col("source").is_in(ONE_TO_ONE_SOURCES).alias("one_to_one"),
    )


def rejected_pairs(keyed: pl.DataFrame, decisions: list[tuple[str, str, str, str]]) -> pl.DataFrame:
    """(record_key, person_id) an inspector rejected for some row of the record (identical rows are one record)."""
    rejected = pl.DataFrame(
        [(source, signature, person_id) for source, signature, person_id, decision in decisions if decision == "different"],
        schema={"source": pl.String, "record_signature": pl.String, "person_id": pl.String}, orient="row",
    )
    return keyed.select("record_key", "source", "record_signature").join(rejected, on=["source", "record_signature"]).select(
        "record_key", "person_id"
    ).unique()


def link_remaining(con: duckdb.DuckDBPyConnection, persons: pl.DataFrame, thresholds: Thresholds,
                   decisions: list[tuple[str, str, str, str]] = ()) -> dict:
    """Probabilistic links for rows exact numbers left unlinked (the register itself is the reference).

    Only those rows, and an evenly spread sample of rows exact numbers did
    link (the known matches that seed the model), leave the database.
    Candidates an inspector rejected for a row (`decisions` marked
    `different`) are no candidates of its record.
    """
    rows_about_people = f"""
        from identity_rows as ids
        inner join link.person_record as rec using (source, source_row, role)
        left join link.person as head on ids.head_id_number = head.id_number
        where ids.source <> '{HOUSEHOLD_REGISTER.stem}' and ids.role = 'subject' and ids.name is not null
    """
    stride = max(1, con.execute("select count(*) from identity_rows").fetchall()[0][0] // TRAINING_ROWS)
    rows = con.sql(
        f"""
        select ids.source, ids.source_row, ids.role, rec.person_id, ids.id_number_raw, ids.name, ids.sex, ids.birth_date,
            ids.township, ids.village, ids.age_at_death, ids.death_date, ids.address, head.household_no as head_household_no,
            {record_signature_sql('ids')} as record_signature
        {rows_about_people}
            and (rec.person_id is null or (ids.source_row * 7 + ids.source_rank) % {stride} = 0)
        order by ids.source_rank, ids.source_row
        """
    ).pl()
    features = record_features(rows, persons)
    unlinked = features.filter(pl.col("person_id").is_null())
    # identical rows (a payee's 24 monthly lines) are one record to compare
    keyed = unlinked.with_columns(pl.struct(*FEATURES, "source").rank("dense").cast(pl.Int64).alias("record_key"))
    records = keyed.unique("record_key", keep="first", maintain_order=True)
    training = (
        features.filter(pl.col("person_id").is_not_null())
        .with_row_index("record_key", offset=records.height + 1)
        .with_columns(pl.col("record_key").cast(pl.Int64))
    )
    links, figures = link_records(records, persons, training, thresholds, rejected_pairs(keyed, decisions))
    if links.is_empty():
        return figures
    linked = keyed.select("source", "source_row", "role", "record_key").join(links, on="record_key")
    con.register("probabilistic_links", linked.to_arrow())
    try:
        con.execute(
            """
            update link.person_record as rec
            set person_id = links.person_id, method = 'probabilistic', confidence = links.confidence,
                explanation = links.explanation
            from probabilistic_links as links
            where rec.source = links.source and rec.source_row = links.source_row and rec.role = links.role
                and links.decision in ('linked', 'linked_to_confirm')
            """
        )
        con.execute(
            f"""
            insert into link.review
            select links.source, links.source_row, links.role, links.person_id, register.source_row,
                links.probability, links.confidence, links.decision, links.comparison_vector, links.explanation,
                {record_signature_sql('ids')}
            from probabilistic_links as links
            left join link.person_record as register
                on register.person_id = links.person_id
                and register.source = 'household_register'
                and register.role = 'subject'
            left join identity_rows as ids
                on ids.source = links.source
                and ids.source_row = links.source_row
                and ids.role = links.role
            where links.decision in ('linked_to_confirm', 'review_only')
            order by links.source, links.source_row, links.candidate_rank
            """
        )
    finally:
        con.unregister("probabilistic_links")
    return figures
