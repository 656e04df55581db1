"""Blocking: how many candidate pairs, and how often the true person is among them.

    python -m bench.blocking [--households 18750] [--noise 1 2] [--seed N]

Generates a drop, links it, then reads the linker's own blocking from the
tables it keeps: the rows the probabilistic layer had to decide (link.record,
role 'subject', training rows left out) and the candidate pairs of their
records (link.candidate_pair). Each row's true person comes from
truth/records.csv: the register person holding the true number.

Prints, per source: rows, records (identical rows share one), rows that
cannot be found and are counted apart — their person has no register record
(`no register`), or the register writes a wrong number for them (`reg no.
wrong`: the true number is no register person's) — findable rows, candidate
pairs of the source's records, pairs per row, and blocking recall: the share
of findable rows whose true register person is among their record's
candidates. Then, per blocking rule: the pairs it found (a pair counts for
every rule that found it) and the recall of that rule alone.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import duckdb
import polars as pl

from data.sample.generate import generate_drop
from hecha.extracts.declarations import HOUSEHOLD_REGISTER
from hecha.flows.pipeline import link_drop

RULES = (
    "pinyin_birth_year",
    "surname_birth_date",
    "surname_sex_village_birth_year",
    "pinyin_township",
    "id_head",
    "id_tail",
)


def truth_rows(con: duckdb.DuckDBPyConnection, truth_csv: Path) -> None:
    """`bench_row`: each row the probabilistic layer decided, its record, and its true register person (or why none)."""
    truth = pl.read_csv(truth_csv, infer_schema=False).select(
        pl.col("source"), pl.col("row_number").cast(pl.Int32).alias("source_row"), pl.col("true_id_number")
    )
    con.register("truth", truth)
    con.execute(
        f"""
        create or replace temp table bench_row as
        select
            rec.source, rec.source_rank, rec.source_row, rec.record_key, person.person_id as true_person_id,
            case
                when person.person_id is not null then 'findable'
                when truth.true_id_number in (
                    select true_id_number from truth where source = '{HOUSEHOLD_REGISTER.stem}'
                ) then 'register_number_wrong'
                else 'no_register'
            end as kind
        from link.record as rec
        left join truth
            on rec.source = truth.source and rec.source_row = truth.source_row
        left join link.person as person
            on person.id_number = truth.true_id_number and person.in_register
        where not rec.is_training and rec.role = 'subject'
        """
    )
    con.execute(
        """
        create or replace temp table bench_pair as
        select pair.record_key, pair.person_id, string_split(pair.rules, ',') as rules
        from link.candidate_pair as pair
        where pair.record_key in (select record_key from bench_row)
        """
    )


def measure(folder: Path) -> str:
    con = duckdb.connect()
    link_drop(con, folder / "drop")
    truth_rows(con, folder / "truth" / "records.csv")
    # each row with the rules that found its true person (null: not among its record's candidates)
    con.execute(
        """
        create or replace temp table bench_hit as
        select r.*, pair.rules as true_rules
        from bench_row as r
        left join bench_pair as pair
            on r.record_key = pair.record_key and r.true_person_id = pair.person_id
        """
    )
    per_source = con.sql(
        """
        with pairs as (
            select record_key, count(*) as pairs from bench_pair group by record_key
        ),
        sources as (
            select distinct source, record_key from bench_row
        )
        select
            hit.source,
            count(*) as rows,
            count(distinct hit.record_key) as records,
            count(*) filter (where kind = 'no_register') as no_register,
            count(*) filter (where kind = 'register_number_wrong') as number_wrong,
            count(*) filter (where kind = 'findable') as findable,
            (select coalesce(sum(pairs.pairs), 0) from sources inner join pairs using (record_key)
             where sources.source = hit.source)::bigint as pairs,
            count(*) filter (where true_rules is not null) as hits
        from bench_hit as hit
        group by hit.source
        order by min(hit.source_rank)
        """
    ).fetchall()
    lines = [
        f"{'source':<16} {'rows':>6} {'records':>7} {'no register':>11} {'reg no. wrong':>13} {'findable':>8} "
        f"{'pairs':>9} {'pairs/row':>9} {'recall':>7}"
    ]

    def line(name: str, rows: int, records: int, no_register: int, wrong: int, findable: int, pairs: int, hits: int) -> str:
        return (
            f"{name:<16} {rows:>6} {records:>7} {no_register:>11} {wrong:>13} {findable:>8} {pairs:>9} "
            f"{pairs / max(rows, 1):>9.2f} {hits / max(findable, 1):>7.4f}"
        )

    for row in per_source:
        lines.append(line(*row))
    total = [sum(row[k] for row in per_source) for k in range(1, 8)]
    lines.append(line("all", *total))
    findable = total[4]
    lines.append(f"{'each rule alone':<66} {'pairs':>9} {'':>9} {'recall':>7}")
    for rule in RULES:
        pairs, hits = con.execute(
            """
            select
                (select count(*) from bench_pair where list_contains(rules, $rule)),
                (select count(*) from bench_hit where list_contains(true_rules, $rule))
            """,
            {"rule": rule},
        ).fetchall()[0]
        lines.append(f"  {rule:<64} {pairs:>9} {'':>9} {hits / max(findable, 1):>7.4f}")
    unknown = con.execute(
        "select distinct unnest(rules) as rule from bench_pair except select unnest($rules::varchar[])",
        {"rules": list(RULES)},
    ).fetchall()
    if unknown:
        lines.append(f"  (rules not measured here: {', '.join(sorted(r[0] for r in unknown))})")
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
