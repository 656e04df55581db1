"""The verdicts a batch line can get and the reasons behind them, declared once.

A line is blocked (拦截) when paying it is wrong on evidence the night holds,
held (暂缓) when a person must look first, and passed (通过) otherwise. The
SQL (sql/screen/) writes the codes; the workbooks, the summary and the case
history read the labels from here. Order is precedence: a line's verdict is
its most severe reason's, and its `reason_code` the first reason of that
verdict in this order.
"""

from __future__ import annotations

from dataclasses import dataclass

VERDICTS = {"block": "拦截", "hold": "暂缓", "pass": "通过"}


@dataclass(frozen=True)
class Reason:
    code: str
    verdict: str  # `block` or `hold`
    label: str  # what the officer reads
    meaning: str  # the rule, one sentence


REASONS: tuple[Reason, ...] = (
    Reason("dead", "block", "受益人已死亡", "the beneficiary died before the batch month (for 低保金: every covered member of the case)"),
    Reason("moved_out", "block", "受益人已迁出", "the beneficiary moved out of the county before the batch month (低保金: every covered member)"),
    Reason("case_stopped", "block", "已停保或终止供养", "the dibao case stopped (停保) or the tekun support ended (终止) before the batch month"),
    Reason("certificate_invalid", "block", "残疾人证失效", "the disability certificate is not valid in the batch month, or its grade does not qualify for the subsidy"),
    Reason("repeated_line", "block", "重复发放", "an earlier line of the batch, or the ledger, already pays the person the same 项目 for the month"),
    Reason("other_programme", "block", "重复享受", "every covered member of the dibao case is supported by tekun, or covered by an earlier-started dibao case, in the month"),
    Reason("unreadable", "hold", "发放行无法读取", "the line's month, 项目, 证号 or amount could not be read"),
    Reason("uncertain_identity", "hold", "身份待确认", "the payee is linked to nobody, or below the review threshold"),
    Reason("unknown_case", "hold", "证号不在册", "the 证号 is on no roster of the line's 项目"),
    Reason("uncertain_event", "hold", "死亡或迁出待确认", "a death or move-out would block the line, but rests on a link below the review threshold"),
    Reason("member_departed", "hold", "部分保障成员已死亡或迁出", "some, not all, covered members of the dibao case died or moved out before the month: the amount needs recalculating"),
    Reason("over_age", "hold", "年龄超过上限", "the beneficiary would be older than `identity.max_age` in the month"),
)

BY_CODE = {reason.code: reason for reason in REASONS}


def reason_label(code: str) -> str:
    return BY_CODE[code].label
