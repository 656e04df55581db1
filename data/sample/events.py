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
from hecha.extracts.read import detect_encoding, utf8_bytes
from hecha.extracts.writer import write_extract

CREMATION_FILE = "火化新增.csv"
REGISTER_FILE = "户籍死亡.csv"


def read_drop_file(drop: Path, stem: str) -> pl.DataFrame:
    """A drop's .csv as text columns under its Chinese headers (GB18030 or UTF-8, BOM or not; UTF-8 is not re-decoded)."""
    data = (drop / f"{stem}.csv").read_bytes()
    return pl.read_csv(utf8_bytes(data, detect_encoding(data), f"{stem}.csv"), infer_schema=False)


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


# What a changed row looks like tomorrow, per extract: (header, change). The register's is a death.
def _plus(amount: float):
    def change(text: str | None) -> str | None:
        try:
            return f"{float(text) + amount:.2f}" if text is not None else None
        except ValueError:
            return text
    return change


def _years_earlier(years: int):
    def change(text: str | None) -> str | None:
        return f"{int(text[:4]) - years}{text[4:]}" if text and text[:4].isdigit() else text
    return change


ROW_CHANGES = {
    "dibao": ("户月保障金", _plus(10)),
    "tekun": ("月供养金", _plus(10)),
    "registered_poor": ("家庭人口数", lambda text: str(int(text) + 1) if text and text.isdigit() else text),
    "cremation": ("年龄", lambda text: str(int(text) + 1) if text and text.isdigit() else text),
    "disability": ("有效期至", _years_earlier(3)),
    "payments": ("金额", _plus(10)),
}
FORMATS = {"household_register": ("csv", "utf-8"), "dibao": ("csv", "utf-8"), "tekun": ("csv", "utf-8"),
           "registered_poor": ("csv", "utf-8-sig"), "cremation": ("csv", "gb18030"), "disability": ("xlsx", "utf-8"),
           "payments": ("csv", "utf-8")}


def read_any(drop: Path, stem: str) -> pl.DataFrame:
    if (drop / f"{stem}.xlsx").exists():
        from hecha.extracts.read import read_xlsx

        frame = read_xlsx(drop / f"{stem}.xlsx")
        return frame.select([pl.col(c).cast(pl.String) for c in frame.columns if c != "source_row"])
    return read_drop_file(drop, stem)


def write_any(frame: pl.DataFrame, folder: Path, stem: str) -> None:
    headers = {column.header: column.name for column in BY_STEM[stem].columns}
    fmt, encoding = FORMATS[stem]
    write_extract(stem, frame.rename({h: n for h, n in headers.items() if h in frame.columns}), folder, fmt=fmt, encoding=encoding)


def two_nights(drop: Path, folder: Path, share: float = 0.01, seed: int = 1, *, removals: str = "anywhere",
               least: int = 2) -> tuple[Path, Path]:
    """Two drops a night apart: `folder/night` and `folder/next`, the second with `share` of each file's rows changed.

    In every file, a third each (at least `least`): rows changed in place (a
    register death; an amount, age, household size or expiry date elsewhere),
    rows added at the end (copies of other rows), and rows removed
    (`removals`: from "anywhere" in the file, every row after one moving
    up; from its last rows, "end"; or "none") —
    and, in every file but the register, `least` citizen numbers mistyped
    (two digits swapped) the first night and corrected the next.
    """
    import random

    rng = random.Random(seed)
    year, _ = as_of_year_month(drop)
    night, after = copy_drop(drop, folder / "night"), copy_drop(drop, folder / "next")
    for extract in BY_STEM.values():
        stem = extract.stem
        frame = read_any(drop, stem).with_row_index("row")
        count = max(least, round(frame.height * share / 3))
        picked = rng.sample(range(frame.height), min(frame.height, 3 * count + least))
        changed, removed, fixed = picked[:count], picked[count:2 * count], picked[3 * count:]
        if removals == "end":
            tail = range(max(0, frame.height - 3 * count), frame.height)
            removed = rng.sample(tail, count)
            changed, fixed = [row for row in changed if row not in removed], [row for row in fixed if row not in removed]
        elif removals == "none":
            removed = []
        added = [rng.randrange(frame.height) for _ in range(count)]
        is_changed = pl.col("row").is_in(changed)
        if stem == "household_register":
            tomorrow = frame.with_columns(
                pl.when(is_changed).then(pl.lit("死亡")).otherwise(pl.col("人员状态")).alias("人员状态"),
                pl.when(is_changed).then(pl.lit(f"{year}-06-15")).otherwise(pl.col("变动日期")).alias("变动日期"),
            )
            tonight = frame
        else:
            header, change = ROW_CHANGES[stem]
            tomorrow = frame.with_columns(
                pl.when(is_changed).then(pl.col(header).map_elements(change, return_dtype=pl.String))
                .otherwise(pl.col(header)).alias(header))
            number = next(c.header for c in extract.id_number_columns if not c.name.startswith("head_"))
            swapped = pl.col(number).str.slice(0, 14) + pl.col(number).str.slice(15, 1) + pl.col(number).str.slice(14, 1) \
                + pl.col(number).str.slice(16)
            mistyped = pl.col("row").is_in(fixed) & (pl.col(number).str.len_chars() == 18) \
                & (pl.col(number).str.slice(14, 1) != pl.col(number).str.slice(15, 1))
            tonight = frame.with_columns(pl.when(mistyped).then(swapped).otherwise(pl.col(number)).alias(number))
        tomorrow = pl.concat([tomorrow.filter(~pl.col("row").is_in(removed)), frame.filter(pl.col("row").is_in(added))])
        for path in (night, after):
            for stale in path.glob(f"{stem}.*"):
                stale.unlink()
        write_any(tonight.drop("row"), night, stem)
        write_any(tomorrow.drop("row"), after, stem)
    return night, after
