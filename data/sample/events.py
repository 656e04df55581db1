"""Death files between nights, written from a drop: the event a county system would send, and the drop that carries it.

    cremation_event(drop, folder, count, seed)       -> (event file, full drop)
    register_death_event(drop, folder, count, seed)  -> (event file, full drop)

The event file is what arrives between nights; the full drop is `drop` with
the event applied to its file as the next drop would carry it (cremation
rows appended; register rows changed in place). A full run on the full drop
is what an event run must equal (tests/integration/test_event.py,
bench/event.py).

Cremation events: paid register persons (their numbers are on the ledger)
who died in March–August of the as_of year; every seventh row without a
citizen number (linked on name, sex, age and address); one death in the
as_of month itself, paid for that month (a near miss); a namesake of a paid
person who is nobody in the register (a near miss); one row whose date
cannot be read (quarantined).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import polars as pl
import yaml

from hecha.extracts.declarations import BY_STEM
from hecha.extracts.writer import write_extract

CREMATION_FILE = "火化新增.csv"
REGISTER_FILE = "户籍死亡.csv"


def read_drop_file(drop: Path, stem: str) -> pl.DataFrame:
    """A drop's .csv as text columns under its Chinese headers (GB18030 or UTF-8, BOM or not)."""
    data = (drop / f"{stem}.csv").read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("gb18030")
    return pl.read_csv(text.encode("utf-8"), infer_schema=False)


def paid_register_persons(drop: Path, count: int, seed: int) -> pl.DataFrame:
    """`count` register persons alive and paid, with their row index ("row"), in register order."""
    paid = read_drop_file(drop, "payments")["身份证号"].drop_nulls().unique()
    register = read_drop_file(drop, "household_register").with_row_index("row")
    alive = register.filter((pl.col("人员状态") == "正常") & pl.col("身份证号").is_in(paid.implode()))
    return alive.sample(n=min(count, alive.height), seed=seed).sort("row")


def as_of_year_month(drop: Path) -> tuple[int, int]:
    as_of = str(yaml.safe_load((drop / "manifest.yaml").read_text(encoding="utf-8"))["as_of"])
    return int(as_of[:4]), int(as_of[5:7])


def cremation_event(drop: Path, folder: Path, count: int = 24, seed: int = 3) -> tuple[Path, Path]:
    """`count` cremation rows (the module says which) as `folder/火化新增.csv`, and `folder/full_drop`."""
    year, as_of_month = as_of_year_month(drop)
    persons = paid_register_persons(drop, count - 2, seed).rows(named=True)
    rows = []
    for i, person in enumerate(persons):
        month = f"{year}-{as_of_month:02d}" if i == 5 else f"{year}-{3 + i % 6:02d}"
        rows.append({
            "record_no": f"EV{year}{i:05d}", "name": person["姓名"], "id_number": None if i % 7 == 3 else person["身份证号"],
            "sex": person["性别"], "age_at_death": str(year - int(person["出生日期"][:4])), "death_date": f"{month}-1{i % 9}",
            "cremation_date": None, "address": f"{person['乡镇(街道)']}{person['村(社区)']}", "funeral_home": "清河县殡仪馆",
        })
    namesake, unreadable = persons[0], persons[1]
    rows.append({"record_no": f"EV{year}N0001", "name": namesake["姓名"], "id_number": None, "sex": namesake["性别"],
                 "age_at_death": "97", "death_date": f"{year}-05-02", "cremation_date": None, "address": "外县某村",
                 "funeral_home": "外县殡仪馆"})
    rows.append({"record_no": f"EV{year}Q0001", "name": unreadable["姓名"], "id_number": unreadable["身份证号"],
                 "sex": unreadable["性别"], "age_at_death": "60", "death_date": f"{year}-13-45", "cremation_date": None,
                 "address": None, "funeral_home": None})
    frame = pl.DataFrame(rows, schema={key: pl.String for key in rows[0]})
    folder.mkdir(parents=True, exist_ok=True)
    event = write_extract("cremation", frame, folder / "export", encoding="gb18030").rename(folder / CREMATION_FILE)
    (folder / "export").rmdir()
    full = copy_drop(drop, folder / "full_drop")
    headers = {column.header: column.name for column in BY_STEM["cremation"].columns}
    night_rows = read_drop_file(drop, "cremation").rename(headers)
    write_extract("cremation", pl.concat([night_rows, frame], how="diagonal"), full, encoding="gb18030")
    return event, full


def register_death_event(drop: Path, folder: Path, count: int = 12, seed: int = 4) -> tuple[Path, Path]:
    """Register rows of `count` paid persons now 死亡 on the 15th of June, and the drop with those rows changed."""
    year, _ = as_of_year_month(drop)
    chosen = paid_register_persons(drop, count, seed)["row"]
    register = read_drop_file(drop, "household_register").with_row_index("row")
    dead = pl.col("row").is_in(chosen.implode())
    changed = register.with_columns(
        pl.when(dead).then(pl.lit("死亡")).otherwise(pl.col("人员状态")).alias("人员状态"),
        pl.when(dead).then(pl.lit(f"{year}-06-15")).otherwise(pl.col("变动日期")).alias("变动日期"),
    )
    folder.mkdir(parents=True, exist_ok=True)
    event = folder / REGISTER_FILE
    changed.filter(dead).drop("row").write_csv(event)
    full = copy_drop(drop, folder / "full_drop")
    changed.drop("row").write_csv(full / "household_register.csv")
    return event, full


def copy_drop(drop: Path, target: Path) -> Path:
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(drop, target)
    return target
