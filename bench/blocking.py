"""Blocking: how many candidate pairs, and how often the true person is among them.

    python -m bench.blocking [--households 18750] [--noise 1 2] [--seed N]

Generates a drop, links it, then takes the rows the probabilistic layer had
to decide (method probabilistic, or left unlinked) and blocks them again with
the linker's own functions. Prints, per source: rows, candidate pairs, and
blocking recall — the share of rows whose true register person is among
their candidates (rows of people with no register record cannot be found
and are counted apart) — plus what each blocking rule contributes alone.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import duckdb
import polars as pl

from data.sample.generate import generate_drop
from hecha.extracts.declarations import EXTRACTS, HOUSEHOLD_REGISTER
from hecha.flows.pipeline import link_drop
from hecha.matching.link import identity_rows_sql, person_features, record_features
from hecha.matching.probabilistic import BLOCKING_RULES, blocking_keys, candidate_pairs


def decided_rows(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """The rows the probabilistic layer saw, with the features it compared."""
    con.execute(f"create or replace temp table identity_rows as {identity_rows_sql(EXTRACTS)}")
    rows = con.sql(
        f"""
        select ids.source, ids.source_row, ids.role, null::varchar as person_id, ids.id_number_raw, ids.name, ids.sex,
            ids.birth_date, ids.township, ids.village, ids.age_at_death, ids.death_date, ids.address,
            head.household_no as head_household_no
        from identity_rows as ids
        inner join link.person_record as rec using (source, source_row, role)
        left join link.person as head on ids.head_id_number = head.id_number
        where ids.source <> '{HOUSEHOLD_REGISTER.stem}' and ids.role = 'subject' and ids.name is not null
            and (rec.method = 'probabilistic' or rec.person_id is null)
        order by ids.source_rank, ids.source_row
        """
    ).pl()
    return rows


def measure(folder: Path) -> str:
    con = duckdb.connect()
    link_drop(con, folder / "drop")
    persons = person_features(con)
    rows = decided_rows(con)
    records = record_features(rows, persons).drop("person_id").with_row_index("record_key")
    records = records.with_columns(pl.col("record_key").cast(pl.Int64))
    truth = pl.read_csv(folder / "truth" / "records.csv", infer_schema=False).select(
        pl.col("source"), pl.col("row_number").cast(pl.Int32).alias("source_row"), pl.col("true_id_number")
    )
    # the true person as the linker knows persons (null: someone with no record it could find)
    records = records.join(truth, on=["source", "source_row"], how="left").join(
        persons.select(pl.col("person_id").alias("true_person_id"), pl.col("id_number").alias("true_id_number")),
        on="true_id_number", how="left",
    )
    findable = records.filter(pl.col("true_person_id").is_not_null())
    pairs = candidate_pairs(records.drop("true_person_id", "true_id_number"), persons)
    truths = findable.select("record_key", pl.col("true_person_id").alias("person_id"))
    hit = pairs.join(truths, on=["record_key", "person_id"])
    lines = [f"{'source':<16} {'rows':>6} {'findable':>8} {'pairs':>9} {'pairs/row':>9} {'recall':>7}"]
    for source in sorted(records["source"].unique()):
        keys = records.filter(pl.col("source") == source)["record_key"]
        found = findable.filter(pl.col("source") == source)
        n_pairs = pairs.filter(pl.col("record_key").is_in(keys.to_list())).height
        hits = hit.filter(pl.col("record_key").is_in(found["record_key"].to_list()))["record_key"].n_unique()
        lines.append(
            f"{source:<16} {keys.len():>6} {found.height:>8} {n_pairs:>9} {n_pairs / max(keys.len(), 1):>9.1f} "
            f"{hits / max(found.height, 1):>7.4f}"
        )
    total_hits = hit["record_key"].n_unique()
    lines.append(f"{'all':<16} {records.height:>6} {findable.height:>8} {pairs.height:>9} "
                 f"{pairs.height / max(records.height, 1):>9.1f} {total_hits / max(findable.height, 1):>7.4f}")
    lines.append("each rule alone: pairs, recall")
    keyed_records = blocking_keys(records.explode("birth_year"))
    keyed_persons = blocking_keys(persons.rename({"id_number": "id_text"}))
    for rule in BLOCKING_RULES:
        left = keyed_records.select("record_key", *rule).drop_nulls().unique()
        rule_pairs = left.join(keyed_persons.select("person_id", *rule).drop_nulls(), on=list(rule)).select("record_key", "person_id").unique()
        rule_hits = rule_pairs.join(truths, on=["record_key", "person_id"])
        lines.append(f"  {' + '.join(rule):<32} {rule_pairs.height:>9} {rule_hits['record_key'].n_unique() / max(findable.height, 1):>7.4f}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--households", type=int, default=18_750)  # ~60k persons
    parser.add_argument("--noise", type=float, nargs="+", default=[1.0, 2.0])
    parser.add_argument("--seed", type=int, default=20261123)
    args = parser.parse_args()
    for noise in args.noise:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            generate_drop(folder, seed=args.seed, households=args.households, noise=noise)
            print(f"\nblocking, {args.households} households, noise {noise:g}, seed {args.seed}")
            print(measure(folder))


if __name__ == "__main__":
    main()
