"""Link every source row to a person: the `link` layer, built like `int` — one table per step.

The steps are SELECTs in `sql/link/` and the Python steps declared here
(pure functions in `matching/`, frames in, one frame out); the layer runner
(`storage/layers.py`) builds them in dependency order and keeps every table
in the run's database, so `hecha explain SOURCE ROW` can show how a row was
linked. In order of the data:

- `identity_row` (generated from the extract declarations): every row's identity fields; `register_row`: the register's;
- `register_person`, `exact`: the register's numbers and rows that carry one;
- `invalid_number`, `number_repair` (Python, matching/repair.py), `repaired`: an invalid number one slip from a register person;
- `outside_person`, `candidate_person`: numbers no register person holds are evidence, not identity;
- `name_pinyin`, `person_feature`, `candidate_record` → `record` → `candidate_pair` (blocking, SQL) →
  `compared_pair` → `model` → `scored_pair` → `probabilistic` (Python, matching/probabilistic.py): the rows
  left, scored against candidate persons;
- `same_invalid_number`, `inspector_decision`;
- `person`, `person_record` (one SELECT stating the precedence), `review`, `source_row`.

Person ids are `person_id_of`, keyed with the deployment secret
(storage/secret.py) installed on the connection.
"""

from __future__ import annotations

from collections.abc import Collection

import duckdb
import polars as pl

from hecha.extracts.declarations import EXTRACTS, HOUSEHOLD_REGISTER
from hecha.extracts.schema import Extract
from hecha.matching.id_number import clean_id_number_text
from hecha.matching.probabilistic import (
    Thresholds,
    compare_pairs,
    decide_records,
    describe_records,
    fit_model,
    score_pairs,
    spell_names,
)
from hecha.matching.repair import repair_id_numbers
from hecha.storage.layers import GeneratedStep, Layer, PythonStep, build_layer
from hecha.storage.secret import require_keyed_hash
from hecha.storage.tables import LINK_TABLES


# A row is known across drops by its signature (source, number as written, name), the same one
# the feedback import records: an inspector's word on a link outranks every score.
def record_signature_sql(alias: str) -> str:
    return f"substr(md5({alias}.source || '|' || coalesce({alias}.id_number_raw, '') || '|' || coalesce({alias}.name, '')), 1, 16)"


# `record_signature(row)` for the link SQL: computed for the few rows that need one, never for all.
SIGNATURE_MACRO = f"create or replace temp macro record_signature(row) as {record_signature_sql('row')}"


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
    """`link.identity_row`: every id_number column of every extract as one row shape."""
    selects = []
    for extract in extracts:
        for column in extract.columns_of_kind("id_number"):
            selects.append(identity_select(extract, column.name, "head" if column.name.startswith("head_") else "subject"))
    return " union all ".join(selects)


def clean_invalid_numbers(rows: pl.DataFrame) -> pl.DataFrame:
    """`link.invalid_number`: each row whose number fails its check, with the number as repair reads it."""
    return rows.with_columns(clean_id_number_text(rows["id_number_raw"]).alias("id_number_clean"))


def repair_numbers(rows: pl.DataFrame, register: pl.DataFrame) -> pl.DataFrame:
    """`link.number_repair`: every row whose number fails its check, and what repair made of it.

    Judged once per distinct (number, name, sex, birth date): a payee's typo
    repeats every month. An unrepairable number of a recipient is an identity
    anomaly (sql/checks/identity_anomaly.sql).
    """
    schema = {"source": pl.String, "source_row": pl.Int32, "role": pl.String, "id_number_clean": pl.String,
              "status": pl.String, "person_id": pl.String, "explanation": pl.String}
    if rows.is_empty():
        return pl.DataFrame(schema=schema)
    identity = ["id_number_raw", "name", "sex", "birth_date"]
    distinct = rows.unique(identity, keep="first", maintain_order=True)
    verdicts = repair_id_numbers(distinct, register).join(
        distinct.select("source", "source_row", "role", *identity), on=["source", "source_row", "role"]
    )
    repairs = rows.join(
        verdicts.select(*identity, "person_id", "status", "explanation"), on=identity, how="left", nulls_equal=True,
        maintain_order="left",
    )
    return repairs.select(
        "source", "source_row", "role", "id_number_clean",
        pl.col("status").fill_null("no_candidate"),
        pl.when(pl.col("status") == "repaired").then(pl.col("person_id")).alias("person_id"),
        "explanation",
    ).cast(schema)


RECORDS = "select * from link.record order by record_key, source_rank, source_row, role"
# only the persons some candidate pair or training row names: a county holds a million
PAIR_PERSONS = ("select * from link.person_feature where person_id in (select person_id from link.candidate_pair "
                "union select person_id from link.record where is_training) order by person_id")
COMPARED = "select * from link.compared_pair order by record_key, person_id"
MODEL = "select * from link.model order by comparison, level"
FREQUENCIES = ("select * from link.name_frequency where name in (select name from link.person_feature where person_id in "
               "(select person_id from link.candidate_pair)) or share = (select min(share) from link.name_frequency) order by name")

PYTHON_STEPS = (
    PythonStep("invalid_number", {
        "rows": "select source, source_row, role, source_rank, id_number_raw, name, sex, birth_date from link.identity_row "
                "where id_number_status = 'invalid' order by source_rank, source_row, role",
    }, clean_invalid_numbers),
    PythonStep("number_repair", {
        "rows": "select * from link.invalid_number order by source_rank, source_row, role",
        "register": "select person_id, id_number, name, sex, birth_date from link.register_person order by person_id",
    }, repair_numbers),
    PythonStep("record", {
        "rows": "select * from link.candidate_record order by source_rank, source_row, role",
        "places": "select distinct township, village from link.candidate_person order by all",
    }, describe_records),
    PythonStep("name_pinyin", {
        "names": "select distinct name from link.candidate_person where name is not null order by name",
    }, spell_names),
    PythonStep("compared_pair", {
        "pairs": "select record_key, person_id from link.candidate_pair order by record_key, person_id", "records": RECORDS,
        "persons": PAIR_PERSONS,
    }, compare_pairs),
    PythonStep("model", {
        "compared": COMPARED, "records": RECORDS, "persons": PAIR_PERSONS,
        "sample": "select * from link.person_sample order by person_id",
        "population": "select count(*) as persons from link.person_feature",
    }, fit_model),
    PythonStep("scored_pair", {
        "compared": COMPARED, "records": RECORDS, "persons": PAIR_PERSONS, "model": MODEL,
        "taken": "select * from link.taken_person order by source, person_id",
        "excluded": "select * from link.excluded_pair order by record_key, person_id",
        "shares": "select * from link.register_share order by source",
        "frequencies": FREQUENCIES,
    }, score_pairs),
    # records with a number no register person holds are decided first: the register person a
    # number turns out to be is then that person for every other record too (link.resolved_pair)
    PythonStep("number_decision", {
        "scored": "select * from link.scored_pair where record_key in (select record_key from link.record "
                  "where id_number is not null) order by record_key, person_id",
        "compared": COMPARED, "records": RECORDS, "persons": PAIR_PERSONS, "model": MODEL, "frequencies": FREQUENCIES,
    }, decide_records, parameters=("identity_link_threshold", "identity_review_threshold")),
    PythonStep("probabilistic", {
        "scored": "select * from link.resolved_pair order by record_key, person_id",
        "compared": COMPARED, "records": RECORDS, "persons": PAIR_PERSONS, "model": MODEL, "frequencies": FREQUENCIES,
    }, decide_records, parameters=("identity_link_threshold", "identity_review_threshold")),
)

# Unions and projections kept as views: materialized, each would copy millions of rows a night.
VIEWS = frozenset({"identity_row", "register_row", "settled_row", "candidate_person", "source_row"})
DECISION_SCHEMA = {"source": pl.String, "record_signature": pl.String, "person_id": pl.String, "decision": pl.String}


def link_layer(extracts: tuple[Extract, ...] = EXTRACTS, decisions: list[tuple[str, str, str, str]] = ()) -> Layer:
    """The `link` layer for these extracts, with inspectors' link decisions (source, signature, person_id, same/different)."""
    return Layer(
        schema="link",
        python_steps=(GeneratedStep("identity_row", identity_rows_sql(extracts)),
                      GeneratedStep("register_row", identity_rows_sql((HOUSEHOLD_REGISTER,))), *PYTHON_STEPS),
        given={"decision_input": pl.DataFrame(list(decisions), schema=DECISION_SCHEMA, orient="row")},
        views=VIEWS,
        setup=(SIGNATURE_MACRO,),
        declared={table.name: table for table in LINK_TABLES},
    )


def link_people(con: duckdb.DuckDBPyConnection, extracts: tuple[Extract, ...] = EXTRACTS, *, thresholds: Thresholds,
                decisions: list[tuple[str, str, str, str]] = (), timings: dict[str, float] | None = None,
                changed: Collection[str] | None = None) -> dict:
    """Build the `link` layer: every source row linked to a person; return figures for the run record.

    `changed`: the catalog already holds the `link` tables of a run on the
    same rows but for these tables (storage/layers.py `build_layer`): after a
    cremation file, what is built from the register alone stays.
    """
    require_keyed_hash(con)
    parameters = {"identity_link_threshold": thresholds.link, "identity_review_threshold": thresholds.review}
    build_layer(con, link_layer(extracts, decisions), parameters, timings, changed=changed)
    return link_figures(con)


def link_figures(con: duckdb.DuckDBPyConnection) -> dict:
    def count(sql: str) -> dict:
        return dict(con.execute(sql).fetchall())

    persons, records, linked = con.execute(
        "select (select count(*) from link.person), count(*), count(person_id) from link.person_record"
    ).fetchall()[0]
    model = con.execute("select any_value(prior order by comparison, level), any_value(em_iterations order by comparison, level) "
                        "from link.model").fetchall()[0]
    return {
        "persons": persons, "records": records, "records_linked": linked,
        "methods": count("select coalesce(method, 'unlinked'), count(*) from link.person_record group by all order by 1"),
        "repair": count("select status, count(*) from link.number_repair group by status order by status"),
        "probabilistic": {
            "records": con.execute("select count(*) from link.record where not is_training").fetchall()[0][0],
            "candidate_pairs": con.execute("select count(*) from link.scored_pair").fetchall()[0][0],
            "training_pairs": con.execute("select count(*) from link.compared_pair").fetchall()[0][0],
            "em_iterations": model[1],
            "prior": None if model[0] is None else round(model[0], 6),
            "decisions": count("select decision, count(*) from link.probabilistic where candidate_rank = 1 group by 1 order by 1"),
            "competing_candidates": con.execute("select count(*) from link.probabilistic where candidate_rank > 1").fetchall()[0][0],
        },
        "numbers_outside_register": con.execute("select count(*) from link.outside_person").fetchall()[0][0],
        "numbers_resolved_to_register": con.execute("select count(*) from link.number_resolution").fetchall()[0][0],
        "same_invalid_number": con.execute("select count(*) from link.same_invalid_number").fetchall()[0][0],
        "inspector_decisions": count("select decision, count(*) from link.inspector_decision group by 1 order by 1"),
    }


