"""Labels from one place: SQL reads the extract vocabularies (stg.vocabulary) and checks/labels.py (cfg.label)."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest

from hecha.checks.labels import LABELS
from hecha.checks.runner import SQL_DIR, install_macros
from hecha.extracts.declarations import EXTRACTS
from hecha.extracts.load import create_schemas


@pytest.fixture(scope="module")
def con():
    con = duckdb.connect()
    create_schemas(con)
    install_macros(con)
    yield con
    con.close()


def value(con: duckdb.DuckDBPyConnection, expression: str):
    return con.execute(f"select {expression}").fetchall()[0][0]


@pytest.mark.parametrize(
    ("description", "expression", "expected"),
    [
        ("a category and grade", "disability_text('physical', 2)", "肢体二级"),
        ("a category outside the vocabulary reads as the last", "disability_text('unknown', 1)", "多重一级"),
        ("a grade outside 1–4 reads as the last", "disability_text('visual', 7)", "视力四级"),
        ("no grade reads as the last", "disability_text('mental', null)", "精神四级"),
        ("a safety net", "safety_net_text('tekun')", "特困"),
        ("none is a label of its own", "safety_net_text('none')", "无"),
        ("a blank safety net", "safety_net_text(null)", "（空）"),
        ("a certificate status", "certificate_status_text('cancelled')", "注销"),
        ("an unknown certificate status reads as expired", "certificate_status_text('lost')", "过期"),
        ("an event kind", "label_of('event_kind', 'moved_out')", "迁出"),
        ("a case status", "label_of('case_status', 'recurred')", "整改后复发"),
        ("an unknown code has no label", "label_of('case_status', 'nonsense')", None),
    ],
)
def test_label_macros_read_the_label_tables(con, description, expression, expected):
    assert value(con, expression) == expected, description


def test_label_table_holds_every_python_label(con):
    rows = con.execute("select kind, code, label from cfg.label order by all").fetchall()
    assert rows == sorted((kind, code, label) for kind, labels in LABELS.items() for code, label in labels.items())


def test_sql_writes_no_label_of_its_own():
    """No label of a vocabulary or of cfg.label appears as a literal in macros.sql or int.person_event."""
    labels = {label for labels in LABELS.values() for label in labels.values()}
    labels |= {label for extract in EXTRACTS for column in extract.columns_of_kind("code", "grade")
               for label in column.value_map if not label.isascii()}
    for path in (SQL_DIR / "macros.sql", SQL_DIR / "int" / "person_event.sql"):
        literals = set(re.findall(r"'([^']*)'", re.sub(r"--[^\n]*", "", Path(path).read_text(encoding="utf-8"))))
        assert literals & labels == set(), path.name
