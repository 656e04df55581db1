"""The cross-county death screen at national scale: the stage's own SQL against a raw join of the same Parquet.

    python -m bench.cross_screen [--recipients 45000000] [--deaths 11000000] [--counties 100] [--repeat 3]
                                 [--seed 7] [--whole] [--keep DIR [--reuse]]

Generates, with DuckDB `range` (deterministic arithmetic on the row number, shifted by `--seed`; no
random draws), a store in the export layout (province/store.py: `<store>/<county>/{paid,event,register}
.parquet` and `export.json`) of `--counties` counties:

- paid: one row per recipient for the latest month (2026-10) only — the month a screen before payment
  asks about — `--recipients` recipients (dibao shares, tekun, care subsidy), numbers unique, spread
  evenly over the counties; one recipient in a thousand is also paid tekun by the next county;
- event: `--deaths` records, half register 死亡 rows and half cremation records with a number, one in
  twenty of those about no recipient a register 迁出 instead; 1% of the recipients died in another county
  (one in fifty of them on a record under another name: not a match), 0.1% in their own county (which
  knows it), the rest are people nobody pays; death months from 2024-11 to 2026-09;
- register: the register rows among the events (the bench does not write the 45M 正常 rows a real
  register holds: the death screen does not read them).

Then, in one process, `--repeat` times each, alternating:

- **screen**: the exact-number part of `cross_deceased_paid` as the stage runs it — the same files,
  `sql/province/paid_event.sql`, `paid_after_event.sql` and `cross_deceased_paid.sql`, on the same macros
  (province/cross.py `install_macros`), over views of the Parquet files (the unnumbered cremation match
  empty: no record here lacks a number);
- **reference**: a raw DuckDB join of the two Parquet sets on the number, its rows materialised.

Prints the median (min–max) of each and their ratio. `--whole` also times `run_cross` on the same
store once (reading every export into a file-backed database in the temporary folder, the cremation
match and all three checks). `--keep DIR` writes the store there and leaves it; with `--reuse`, a store
already there is measured as it is.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import duckdb

from hecha.config import load_policy
from hecha.province.cross import PROVINCE_SQL, install_macros, run_cross
from hecha.province.store import EVENT, EXPORT_TABLES, PAID, REGISTER, SCHEMA
from hecha.storage.layers import read_sql
from hecha.storage.secret import install_keyed_hash

SECRET = bytes(range(32))  # the bench's own: keys of generated people
RUN_ID = "bench"
AS_OF = "2026-10"
EXPORTED_AT = "2026-11-01T00:00:00.000000+00:00"
SCREEN_FILES = ("line_after_event", "paid_event", "paid_after_event", "cross_deceased_paid")
MATCH_COLUMNS = ("event_county varchar, source varchar, source_row integer, record_no varchar, funeral_home varchar, "
                 "event_month date, county varchar, person_id varchar, id_number varchar, link_confidence double, "
                 "identity_evidence varchar")


def county_code(index: str) -> str:
    """SQL: the 6-digit code of county number `index` (0-based)."""
    return f"printf('%06d', 130101 + {index})"


def generated_columns(seed: int, i: str) -> dict[str, str]:
    """SQL expressions of a person's fields from their number `i` (a recipient's index; people nobody pays: ≥ recipients)."""
    given = f"(({i} * 7919 + {seed}) % 2000)"
    surname = f"(({i} * 104729 + {seed}) % 300)"
    return {
        "id_number": county_code(f"{i} % $counties") + f" || printf('%012d', {i})",
        "name": f"chr(cast(26000 + {surname} as integer)) || chr(cast(20000 + {given} as integer))",
        "pinyin": f"'s' || {surname} || 'g' || {given}",  # the same name, the same spelling
        "sex": f"case when {i} % 2 = 0 then 'M' else 'F' end",
        "birth_date": f"date '1930-01-01' + cast(({i} * 31 + {seed}) % 25000 as integer)",
    }


def subject_sql(recipients: int, counties: int) -> str:
    """SQL: the recipient record `j` of the events is about (j ≥ the recipients' deaths: someone nobody pays).

    The first 1% are recipients of another county than the record's (`j % counties`, shifted by 1–7), spread
    over the recipients; the next 0.1% recipients of the record's own county.
    """
    per_county = recipients // counties
    cross, own = recipients // 100, recipients // 1000
    return f"""
        case
            when j < {cross} then {counties} * ((j // {counties} * 97) % {per_county})
                + ((j % {counties}) + 1 + (j // {counties}) % 7) % {counties}
            when j < {cross + own} then {counties} * (((j - {cross}) // {counties} * 89) % {per_county}) + j % {counties}
            else {recipients} + j
        end"""


def paid_sql(counties: int, recipients: int, county: int, seed: int) -> str:
    person = generated_columns(seed, "people.i")
    code = county_code(str(county))
    per_county = recipients // counties
    cross, own = recipients // 100, recipients // 1000
    previous = (county - 1) % counties  # one in a thousand of its recipients this county also pays tekun
    return f"""
        with own as (
            select range as i, 'own' as kind from range({county}, {recipients}, {counties})
        ),
        twice as (
            select {counties} * q + {previous} as i, 'twice' as kind
            from (select range as q from range(7, {per_county}, 1000))
        ),
        people as (
            select * from own union all select * from twice
        ),
        own_deaths as (
            -- recipients whose death their own county records: it knows (paid.death_month)
            select distinct {subject_sql(recipients, counties)} as i, date '2025-06-01' as death_month
            from (select range as j from range({cross}, {cross + own}))
            where j % {counties} = {county}
        )
        select
            {code} as county,
            'P' || people.i as person_id,
            {person['id_number'].replace('$counties', str(counties))} as id_number,
            {person['name']} as name,
            {person['pinyin']} as pinyin,
            {person['sex']} as sex,
            {person['birth_date']} as birth_date,
            'T' || (people.i % 10) as township,
            'V' || (people.i % 100) as village,
            true as in_register,
            'normal' as person_status,
            cast(null as date) as status_date,
            own_deaths.death_month,
            cast(null as date) as move_out_month,
            date '2026-10-01' as paid_month,
            case when people.kind = 'twice' then 'tekun' when people.i % 10 < 7 then 'dibao'
                when people.i % 10 < 9 then 'tekun' else 'care_subsidy' end as programme,
            case when people.kind = 'twice' then '特困供养金' when people.i % 10 < 7 then '低保金'
                when people.i % 10 < 9 then '特困供养金' else '重度残疾人护理补贴' end as programme_label,
            'C' || people.i as case_no,
            case when people.kind = 'twice' then 700 when people.i % 10 < 7 then 300
                when people.i % 10 < 9 then 700 else 100 end as amount,
            case when people.kind = 'twice' then 700 when people.i % 10 < 7 then 600
                when people.i % 10 < 9 then 700 else 100 end as line_amount,
            case when people.kind <> 'twice' and people.i % 10 < 7 then 2 else 1 end as covered_count,
            1.0 as link_confidence,
            date '2020-01-01' + to_months(cast(people.i % 60 as integer) + case when people.kind = 'twice' then 60 else 0 end)
                as case_start_month,
            cast(row_number() over (order by people.kind, people.i) as integer) as ledger_row,
            '{RUN_ID}/{EXPORTED_AT}' as export_id
        from people
        left join own_deaths
            on people.i = own_deaths.i
    """


def event_sql(counties: int, recipients: int, deaths: int, county: int, seed: int) -> str:
    """Events of county `county`: the records j ≡ county (mod counties) of the `deaths` records."""
    cross, own = recipients // 100, recipients // 1000
    person = generated_columns(seed, "i")
    return f"""
        with records as (
            select range as j, {subject_sql(recipients, counties)} as i from range({county}, {deaths}, {counties})
        )
        select
            {county_code(str(county))} as county,
            case when j % 2 = 0 then 'household_register' else 'cremation' end as source,
            cast(j // {counties} + 1 as integer) as source_row,
            case when j % 2 = 1 then 'HH' || j end as record_no,
            {person['id_number'].replace('$counties', str(counties))} as id_number,
            -- one in fifty of the cross-county records names someone else: the number is not theirs
            case when j < {cross} and j % 50 = 0 then 'X' || {person['name']} else {person['name']} end as name,
            case when j < {cross} and j % 50 = 0 then 'x' || {person['pinyin']} else {person['pinyin']} end as pinyin,
            {person['sex']} as sex,
            case when j % 2 = 0 then {person['birth_date']} end as birth_date,
            case when j % 2 = 1 then 80 end as age_at_death,
            case when j >= {cross + own} and j % 20 = 0 then 'moved_out' else 'death' end as event_kind,
            date '2024-11-05' + to_months(cast(j % 23 as integer)) as event_date,
            'T0' as township,
            'V0' as village,
            case when j % 2 = 1 then '某县某镇某村' end as address,
            case when j % 2 = 1 then '殡仪馆' end as funeral_home,
            date '2024-11-01' + to_months(cast(j % 23 as integer)) as event_month,
            '{RUN_ID}/{EXPORTED_AT}' as export_id
        from records
    """


def write_store(store: Path, counties: int, recipients: int, deaths: int, seed: int) -> dict[str, int]:
    con = duckdb.connect()
    totals = {table.name: 0 for table in EXPORT_TABLES}
    for county in range(counties):
        code = f"{130101 + county:06d}"
        folder = store / code
        folder.mkdir(parents=True, exist_ok=True)
        con.execute(f"create or replace temp table paid_rows as {paid_sql(counties, recipients, county, seed)}")
        con.execute(f"create or replace temp table event_rows as {event_sql(counties, recipients, deaths, county, seed)}")
        con.execute("create or replace temp table register_rows as "
                    "select county, id_number, name, pinyin, sex, birth_date, township, village, "
                    "case event_kind when 'death' then 'dead' else 'moved_out' end as person_status, export_id "
                    "from event_rows where source = 'household_register'")
        rows = {}
        for table, source in ((PAID, "paid_rows"), (EVENT, "event_rows"), (REGISTER, "register_rows")):
            columns = ", ".join(f"cast({c.name} as {c.sql_type}) as {c.name}" for c in table.columns)
            con.execute(f"copy (select {columns} from {source}) to '{folder / (table.name + '.parquet')}' "
                        "(format parquet, compression zstd)")
            rows[table.name] = con.execute(f"select count(*) from {source}").fetchall()[0][0]
            totals[table.name] += rows[table.name]
        record = {"county": code, "run_id": RUN_ID, "as_of": AS_OF, "exported_at": EXPORTED_AT, "rows": rows}
        (folder / "export.json").write_text(json.dumps(record) + "\n", encoding="utf-8")
    con.close()
    return totals


def screen(store: Path) -> tuple[float, int]:
    """The stage's exact-number death screen over views of the store; seconds and findings."""
    con = duckdb.connect()
    install_keyed_hash(con, SECRET)
    install_macros(con)
    con.execute(f"create schema {SCHEMA}")
    for table in EXPORT_TABLES:
        con.execute(f"create view {table.qualified_name} as select * from read_parquet('{store}/*/{table.name}.parquet')")
    con.execute(f"create table {SCHEMA}.unnumbered_match ({MATCH_COLUMNS})")
    started = time.perf_counter()
    for name in SCREEN_FILES:
        con.execute(f"create or replace table {SCHEMA}.{name} as {read_sql(PROVINCE_SQL / f'{name}.sql')}")
    seconds = time.perf_counter() - started
    findings = con.execute(f"select count(*) from {SCHEMA}.cross_deceased_paid").fetchall()[0][0]
    con.close()
    return seconds, findings


def reference(store: Path) -> tuple[float, int]:
    """A raw join of the paid and event Parquet on the number, its rows materialised; seconds and rows."""
    con = duckdb.connect()
    started = time.perf_counter()
    con.execute(f"""
        create table joined as
        select paid.county, paid.person_id, paid.amount, event.county as event_county, event.event_month
        from read_parquet('{store}/*/paid.parquet') as paid
        inner join read_parquet('{store}/*/event.parquet') as event
            on paid.id_number = event.id_number
    """)
    seconds = time.perf_counter() - started
    rows = con.execute("select count(*) from joined").fetchall()[0][0]
    con.close()
    return seconds, rows


def whole(store: Path, work: Path) -> None:
    counties = sorted(path.name for path in store.iterdir() if (path / "export.json").is_file())
    con = duckdb.connect(str(work / "cross.duckdb"))  # a file named province.duckdb would shadow the schema
    timings: dict[str, float] = {}
    started = time.perf_counter()
    counts = run_cross(con, str(store), counties, load_policy(), SECRET, timings)
    total = time.perf_counter() - started
    con.close()
    print(f"run_cross, whole stage, once: {total:.1f} s — {counts}")
    print("  " + ", ".join(f"{step} {seconds:.1f} s" for step, seconds in timings.items()))


def summary(values: list[float]) -> str:
    return f"{statistics.median(values):.2f} s ({min(values):.2f}–{max(values):.2f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipients", type=int, default=45_000_000)
    parser.add_argument("--deaths", type=int, default=11_000_000)
    parser.add_argument("--counties", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--whole", action="store_true", help="also time run_cross on the same store, once")
    parser.add_argument("--keep", type=Path, help="write the store here and keep it")
    parser.add_argument("--reuse", action="store_true", help="with --keep: measure the store already there")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="cross-screen-") as temporary:
        work = Path(temporary)
        store = args.keep or work / "store"
        started = time.perf_counter()
        if args.reuse and args.keep and args.keep.is_dir():
            totals = {table.name: sum(json.loads(path.read_text(encoding="utf-8"))["rows"][table.name]
                                      for path in store.glob("*/export.json")) for table in EXPORT_TABLES}
        else:
            totals = write_store(store, args.counties, args.recipients, args.deaths, args.seed)
        print(f"store: {args.counties} counties, {totals['paid']:,} paid rows (2026-10), {totals['event']:,} event rows, "
              f"{totals['register']:,} register rows; written in {time.perf_counter() - started:.0f} s")
        screens, references = [], []
        for _ in range(args.repeat):
            seconds, findings = screen(store)
            screens.append(seconds)
            seconds, rows = reference(store)
            references.append(seconds)
        print(f"screen ({' + '.join(SCREEN_FILES)}): {summary(screens)}, {findings:,} findings")
        print(f"reference (raw join on the number): {summary(references)}, {rows:,} rows")
        print(f"screen / reference: {statistics.median(screens) / statistics.median(references):.2f}")
        if args.whole:
            whole(store, work)


if __name__ == "__main__":
    main()
