"""The same drop and policy give the same results whatever DuckDB's thread count.

`arg_min`/`any_value` pick arbitrarily among ties and a double's sum depends
on the order it is added in; both can change with the number of threads.
Every shared fact, link and finding is compared row for row between a run on
one thread and a run on two.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from hecha.flows.pipeline import analyse_drop
from tests.county import TEST_SECRET

SAMPLE_DROP = Path(__file__).resolve().parents[2] / "data" / "sample" / "drop"


def tables_on(threads: int) -> dict[str, list[tuple]]:
    con = duckdb.connect()
    try:
        con.execute(f"set threads = {threads}")
        analyse_drop(con, SAMPLE_DROP, secret=TEST_SECRET)
        # views too: a fact kept as a view (int.subsidy_month) is as much a result as a table
        names = [name for (name,) in con.execute(
            "select schema_name || '.' || table_name from duckdb_tables() where schema_name in ('int', 'link', 'chk') "
            "union all select schema_name || '.' || view_name from duckdb_views() where schema_name in ('int', 'link', 'chk') "
            "order by 1"
        ).fetchall()]
        return {name: con.execute(f"select * from {name} order by all").fetchall() for name in names}
    finally:
        con.close()


def test_one_thread_and_two_give_the_same_facts_links_and_findings():
    one, two = tables_on(1), tables_on(2)
    assert one.keys() == two.keys() and "chk.finding" in one and "int.person_event" in one and "int.subsidy_month" in one
    differing = {name: len(set(one[name]) ^ set(two[name])) for name in one if one[name] != two[name]}
    assert differing == {}
