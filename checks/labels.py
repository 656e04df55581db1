"""The words people read for the codes hecha itself writes, one mapping, for Python and SQL alike.

A finding's status (audit/history.py decides it), a run's status (flows/run.py
records it), how a case changed between two runs (`hecha diff`) and the kind
of a person's event are codes in the databases, run.json and exceptions.csv;
people read them through these labels only, so a workbook, the report, the
terminal and evidence text never name one thing two ways. `install_labels`
writes them to `cfg.label` (storage/tables.py `LABEL`), which SQL reads with
the `label_of(kind, code)` macro (sql/macros.sql).

What does not belong here: the labels of the extracts' vocabularies (在保 →
`active`), declared once with the extracts (extracts/declarations.py) and
read in SQL from `stg.vocabulary` (`vocabulary_label`); the headers and
answers of the workbooks (audit/feedback.py), which are input, not labels.
"""

from __future__ import annotations

import duckdb

from hecha.storage.tables import LABEL, ddl

STATUS_LABELS = {
    "new": "新发现",
    "persisting": "持续存在",
    "recurred": "整改后复发",
    "reopened": "核查依据变化重新列出",
    "suppressed": "已核不属实或已整改（依据未变）",
    "resolved": "已消除",
}
STATUS_ORDER = ("new", "persisting", "recurred", "reopened", "suppressed", "resolved")
# Listed for inspectors: every status a run finds but suppressed (resolved cases are not findings of the run).
LISTED_STATUSES = ("new", "persisting", "recurred", "reopened")

RUN_STATUS_LABELS = {
    "succeeded": "成功",
    "failed": "失败",
    "interrupted": "中断",
    "cancelled": "已取消",
    "running": "运行中",
}

# How a case changed from one run to another (`hecha diff`), in the order they are listed.
CHANGE_LABELS = {"added": "新增", "changed": "变化", "gone": "消失"}

# What happened to a person (int.person_event.event_kind).
EVENT_LABELS = {"death": "死亡", "moved_out": "迁出"}

# How a source row was linked to its person (link.person_record.method), and which identity on the row.
LINK_METHOD_LABELS = {
    "exact": "身份证号与户籍一致",
    "upgraded": "15位身份证号升位后与户籍一致",
    "repaired": "身份证号校验不通过，修复一处笔误后与户籍一致",
    "probabilistic": "概率匹配",
    "same_invalid_number": "身份证号无法修复，按相同号码和姓名归为同一人（户籍无此人）",
    "confirmed": "核查人员确认",
}
LINK_ROLE_LABELS = {"subject": "本人", "head": "户主"}

# Evidence text where a value is missing.
PLACEHOLDER_LABELS = {"blank": "（空）"}

# Every label by kind: the rows of cfg.label.
LABELS = {
    "case_status": STATUS_LABELS,
    "run_status": RUN_STATUS_LABELS,
    "case_change": CHANGE_LABELS,
    "event_kind": EVENT_LABELS,
    "placeholder": PLACEHOLDER_LABELS,
    "link_method": LINK_METHOD_LABELS,
    "link_role": LINK_ROLE_LABELS,
}

# The county's own workbook, and the township its _meta names (the feedback import reads it there).
COUNTY_BOOK = "全县"


def install_labels(con: duckdb.DuckDBPyConnection) -> None:
    """`cfg.label`: every label above as (kind, code, label), for SQL that writes text people read."""
    con.execute("create schema if not exists cfg")
    con.execute(ddl(LABEL))
    con.executemany(
        f"insert into {LABEL.qualified_name} values (?, ?, ?)",
        [[kind, code, label] for kind, labels in sorted(LABELS.items()) for code, label in sorted(labels.items())],
    )
