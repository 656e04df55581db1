"""A province's cross findings built by hand, for the publication's tests: province.finding and county run folders.

`province.finding` is made with the exact columns the cross-county stage
writes (province/cross.py, CONTRACT of the shared interfaces); county run
folders hold only what the publication reads from them (run.json,
exceptions.csv).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import duckdb

from hecha.matching.id_number import make_id_number

PROVINCE_FINDING_DDL = """
create schema if not exists province;
create or replace table province.finding (
    check_code varchar, county varchar, other_county varchar, person_key varchar, id_number varchar, name varchar,
    township varchar, village varchar, case_no varchar, period_start varchar, period_end varchar,
    overpaid_amount decimal(18, 2), backpay_amount decimal(18, 2), link_confidence double, needs_confirmation boolean,
    evidence varchar, case_key varchar
)
"""

COUNTY_A, COUNTY_B, COUNTY_C = "130501", "130502", "130503"


def citizen(number: int, area: str = COUNTY_B) -> str:
    """A valid 18-character citizen number (its check character right), distinct per `number`."""
    return make_id_number(area, dt.date(1950, 1, 1) + dt.timedelta(days=number * 37), (10 + 2 * number) % 1000)


def cross_finding(number: int, *, code: str = "cross_deceased_paid", county: str = COUNTY_A, other: str = COUNTY_B,
                  township: str = "城关镇", overpaid: str = "1200.00", months: tuple[str, str] = ("2026-07", "2026-10"),
                  evidence: str | None = None, needs_confirmation: bool = False) -> dict:
    """One row of province.finding: person `number`, paid by `county`, the event recorded in `other`."""
    id_number = citizen(number)
    return {
        "check_code": code, "county": county, "other_county": other, "person_key": f"pk{number:04d}",
        "id_number": id_number, "name": f"张{number}", "township": township, "village": "东关村",
        "case_no": f"DB{number:05d}", "period_start": months[0], "period_end": months[1],
        "overpaid_amount": overpaid, "backpay_amount": "0.00", "link_confidence": 1.0,
        "needs_confirmation": needs_confirmation,
        # the stage's evidence never prints a citizen number; this one does, to prove the outputs mask it
        "evidence": evidence or f"{other} 户籍登记死亡（2026-06），身份证号 {id_number}；死亡后仍发放 {months[0]} 至 {months[1]}",
        "case_key": f"ck{code[6:9]}{number:04d}{county}",
    }


def finding_connection(rows: list[dict]) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB holding province.finding with `rows` (and province.county_export)."""
    con = duckdb.connect()
    con.execute(PROVINCE_FINDING_DDL)
    if rows:
        con.executemany(f"insert into province.finding values ({', '.join('?' * 17)})",
                        [[row[name] for name in row] for row in rows])
    con.execute("create table province.county_export (county varchar, run_id varchar, as_of varchar, exported_at varchar)")
    return con


def county_run(out: Path, county: str, findings: dict[str, tuple[int, float]]) -> Path:
    """A county's published run folder as the publication reads it: run.json's findings, exceptions.csv's money."""
    run_dir = out / "counties" / county / f"2026-10_{county}"
    run_dir.mkdir(parents=True)
    (run_dir / "run.json").write_text(json.dumps({
        "run_id": run_dir.name, "status": "succeeded", "parameters": {"as_of": "2026-10", "county": county},
        "findings": {code: count for code, (count, _) in findings.items()},
    }), encoding="utf-8")
    lines = ["\ufeffcheck_code,id_number,name,township,village,case_no,period_start,period_end,overpaid_amount,"
             "backpay_amount,link_confidence,needs_confirmation,evidence,case_key,status"]
    for code, (count, amount) in findings.items():
        for number in range(count):  # the money spread over the findings; 2 decimals each
            share = round(amount / count, 2) if number < count - 1 else round(amount - round(amount / count, 2) * (count - 1), 2)
            lines.append(f"{code},{citizen(900 + number, county)},李{number},城关镇,东关村,DB1,2026-01,2026-10,{share:.2f},0.00,"
                         f"1.0,false,证据,key{code}{number},new")
    (run_dir / "exceptions.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return run_dir


OWN_FINDINGS = {COUNTY_A: {"deceased_paid": (2, 300.0)}, COUNTY_B: {"moved_out_paid": (1, 50.5)},
                COUNTY_C: {"should_be_tekun": (1, 0.0)}}
REASONS = {"failed": "payments.csv 第 12 行 金额: expected yuan", "late": "not finished within 3600 s"}


def counties_list(out: Path, statuses: dict[str, str] | None = None) -> list[dict]:
    """The publication's county list: A and B published, C failed, unless `statuses` says otherwise.

    A published county has a run folder under `out/counties/<code>/` holding its own findings (OWN_FINDINGS).
    """
    statuses = {COUNTY_A: "published", COUNTY_B: "published", COUNTY_C: "failed"} | (statuses or {})
    entries = []
    for code, status in sorted(statuses.items()):
        if status == "published":
            run_dir = out / "counties" / code / f"2026-10_{code}"
            if not run_dir.exists():
                county_run(out, code, OWN_FINDINGS[code])
            entries.append({"county": code, "status": status, "run_id": run_dir.name, "run_dir": str(run_dir),
                            "as_of": "2026-10", "error": None, "seconds": 12.5})
        else:
            entries.append({"county": code, "status": status, "run_id": None, "run_dir": None, "as_of": None,
                            "error": REASONS[status], "seconds": 3.0})
    return entries


def record(run_id: str) -> dict:
    return {"parameters": {"as_of": run_id.split("_")[0], "store": "store"}, "timings_seconds": {"counties": 40.0, "cross": 2.5}}


def book_rows(path: Path) -> list[dict]:
    """Every answer line of a workbook (a row with a 案件编号), as {header: value}, sheet by sheet."""
    import openpyxl

    book = openpyxl.load_workbook(path, read_only=True)
    try:
        rows = []
        for sheet in book.worksheets:
            values = list(sheet.iter_rows(values_only=True))
            for number, header in enumerate(values[:5]):
                if "案件编号" in header and "核查结论" in header:
                    rows += [dict(zip(header, row), sheet=sheet.title) for row in values[number + 1:]
                             if row[list(header).index("案件编号")]]
                    break
        return rows
    finally:
        book.close()


def answer_book(path: Path, answers: dict[str, tuple[str, str]], saved: Path) -> Path:
    """The workbook as an inspector hands it back: 核查结论 and 核查说明 typed on the lines of `answers` (by 案件编号)."""
    import openpyxl

    book = openpyxl.load_workbook(path)
    for sheet in book.worksheets:
        for number, header in enumerate(sheet.iter_rows(min_row=1, max_row=5, values_only=True), start=1):
            if "案件编号" in header and "核查结论" in header:
                columns = {name: index + 1 for index, name in enumerate(header) if name}
                for row in range(number + 1, sheet.max_row + 1):
                    key = sheet.cell(row, columns["案件编号"]).value
                    if key in answers:
                        sheet.cell(row, columns["核查结论"]).value, sheet.cell(row, columns["核查说明"]).value = answers[key]
                break
    book.save(saved)
    return saved
