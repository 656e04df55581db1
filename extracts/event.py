"""An event file between nights: one file of new deaths, read as its extract and applied to the night's rows.

An event file is a cremation export (火化记录) or household-register rows
(户籍, typically people newly recorded 死亡), in any of the formats and
header aliases a nightly drop accepts. Which of the two it is comes from its
headers. It is read, typed and quarantined by the nightly loader, in a
catalog of its own, then applied to a copy of the night's staged tables as a
nightly drop would have carried it:

- cremation rows are added after the night's last row (a cremation system
  only ever appends), numbered on from it;
- a register row replaces the night's row(s) of the same citizen number (the
  person's record, updated), or is added after the last row when the
  register does not hold the number.

The result is the staged tables a full run on the night's drop with the
event applied would have: what `hecha event` then links and screens.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb

from hecha.extracts.declarations import BY_STEM
from hecha.extracts.errors import DropError
from hecha.extracts.load import load_drop, stg_column_names
from hecha.extracts.read import SUFFIXES, Manifest, read_header
from hecha.extracts.schema import Extract
from hecha.storage.database import sql_identifier, sql_literal, use

EVENT_STEMS = ("cremation", "household_register")
EVENT_CATALOG = "event_file"


@dataclass
class EventRows:
    """What an event file brought: its extract, rows read, and where they went in the night's tables."""

    extract: Extract
    file: str
    rows_read: int
    rows_staged: int
    rows_quarantined: int
    added: int  # rows numbered after the night's last row
    replaced: int  # register rows that replaced the night's row of the same number
    first_row: int  # the source_row the first added row got


@contextmanager
def staged_as(path: Path, extract: Extract) -> Iterator[Path]:
    """A folder holding `path` under the name a drop gives `extract`'s file (the loader reads drops).

    An input error inside names the file by its own name, not the staged one.
    """
    staged = f"{extract.stem}{path.suffix.lower()}"
    with tempfile.TemporaryDirectory(prefix="hecha-event-") as folder:
        (Path(folder) / staged).symlink_to(path.resolve())
        try:
            yield Path(folder)
        except DropError as error:
            if staged == path.name:
                raise
            renamed = DropError(str(error).replace(staged, path.name), file=path.name, row=error.row, column=error.column)
            raise renamed from None


def event_extract(path: Path, manifest: Manifest) -> Extract:
    """The extract an event file holds, told by its headers: a cremation export or register rows."""
    path = Path(path)
    if not path.is_file():
        raise DropError(f"event file not found: {path}", file=str(path))
    if path.suffix.lower() not in SUFFIXES:
        raise DropError(f"{path.name}: an event file is .csv or .xlsx", file=path.name)
    problems = []
    for stem in EVENT_STEMS:
        extract = BY_STEM[stem]
        with staged_as(path, extract) as folder:
            try:
                read_header(folder, extract, manifest)
                return extract
            except DropError as error:
                problems.append(f"as {extract.title}: {error}")
    raise DropError(f"{path.name}: neither a cremation export nor register rows ({'; '.join(problems)})", file=path.name)


def load_event_file(con: duckdb.DuckDBPyConnection, path: Path, extract: Extract, manifest: Manifest, policy: dict) -> dict:
    """Read, type and quarantine the event file into the `event` catalog (in memory) on `con`; its counts.

    The connection's own catalog stays current afterwards.
    """
    home = con.execute("select current_database()").fetchall()[0][0]
    con.execute(f"attach ':memory:' as {EVENT_CATALOG}")
    with staged_as(Path(path), extract) as folder:
        try:
            use(con, EVENT_CATALOG)
            counts = load_drop(con, folder, manifest, (extract,), policy=policy)[0]
        finally:
            use(con, home)
    return counts | {"file": Path(path).name}


def tables_changed(stem: str) -> list[str]:
    """The tables `apply_event_rows` changes for an event file of extract `stem`."""
    return [f"raw.{stem}", f"stg.{stem}", "stg.quarantine"]


def apply_event_rows(con: duckdb.DuckDBPyConnection, extract: Extract, counts: dict) -> EventRows:
    """Apply the `event` catalog's rows to the current catalog's raw/stg tables, as the module says.

    The rows added, and the night's rows replaced, are listed in the temp table `changed_row` (source, source_row).
    """
    stem = extract.stem
    stg = f"stg.{sql_identifier(stem)}"
    offset = con.execute(f"select coalesce(max(source_row), 0) from raw.{sql_identifier(stem)}").fetchall()[0][0]
    con.execute(f"create or replace temp table event_row_number as select source_row, source_row + {offset} as night_row "
                f"from {EVENT_CATALOG}.raw.{sql_identifier(stem)}")
    con.execute("create or replace temp table changed_row (source varchar, source_row integer)")
    replaced = 0
    if stem == "household_register":
        column = extract.id_number_columns[0].name
        # a number the night's register holds: the event row takes the place of every night row of that number
        con.execute(
            f"""
            create or replace temp table event_row_number as
            select numbers.source_row, coalesce(night.source_row, numbers.night_row) as night_row
            from event_row_number as numbers
            left join {EVENT_CATALOG}.{stg} as event using (source_row)
            left join (select {column}, min(source_row) as source_row from {stg} where {column} is not null group by all) as night
                on event.{column} = night.{column}
            """
        )
        replaced = con.execute(f"select count(*) from event_row_number where night_row <= {offset}").fetchall()[0][0]
        con.execute(f"insert into changed_row select '{stem}', source_row from {stg} "
                    f"where {column} in (select {column} from {EVENT_CATALOG}.{stg} where {column} is not null)")
        con.execute(f"delete from {stg} where {column} in (select {column} from {EVENT_CATALOG}.{stg} where {column} is not null)")
        con.execute(f"delete from raw.{sql_identifier(stem)} where source_row in (select night_row from event_row_number)")
        con.execute(f"delete from stg.quarantine where source = ? and source_row in (select night_row from event_row_number)", [stem])
    names = stg_column_names(extract)
    file = sql_literal(counts["file"])  # the loader read it under the drop's name for the extract
    moved = {"source_row": "numbers.night_row", "source_file": file}
    shifted = ", ".join(moved.get(name, f"event.{name}") for name in names)
    con.execute(f"insert into {stg} ({', '.join(names)}) select {shifted} from {EVENT_CATALOG}.{stg} as event "
                f"inner join event_row_number as numbers using (source_row)")
    raw_names = [name for (name,) in con.execute(
        f"select column_name from (describe {EVENT_CATALOG}.raw.{sql_identifier(stem)})").fetchall()]
    raw_shifted = ", ".join(moved.get(name, f'event."{name}"') for name in raw_names)
    con.execute(f"insert into raw.{sql_identifier(stem)} ({', '.join(chr(34) + n + chr(34) for n in raw_names)}) "
                f"select {raw_shifted} from {EVENT_CATALOG}.raw.{sql_identifier(stem)} as event "
                f"inner join event_row_number as numbers using (source_row)")
    con.execute(
        f"insert into stg.quarantine select q.* replace (numbers.night_row as source_row, {file} as source_file) "
        f"from {EVENT_CATALOG}.stg.quarantine as q inner join event_row_number as numbers using (source_row)"
    )
    con.execute(f"insert into changed_row select distinct '{stem}', night_row from event_row_number")
    con.execute("drop table event_row_number")
    return EventRows(
        extract=extract, file=counts["file"], rows_read=counts["rows_read"], rows_staged=counts["rows_staged"],
        rows_quarantined=counts["rows_quarantined"], added=counts["rows_read"] - replaced, replaced=replaced,
        first_row=offset + 1,
    )
