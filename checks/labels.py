"""The words every output uses for case and run statuses, and the county book's name: one table, read by the workbooks, the report and the command line.

A finding's status (audit/history.py decides it) and a run's status
(flows/run.py records it) are codes in the databases, run.json and
exceptions.csv; people read them through these labels only, so a workbook,
the report and the terminal never name one thing two ways.
"""

from __future__ import annotations

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

# The county's own workbook, and the township its _meta names (the feedback import reads it there).
COUNTY_BOOK = "全县"
