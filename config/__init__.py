"""Policy configuration: `policy.yaml` and the run values derived from it.

`policy.yaml` holds the national defaults with comments where provinces
differ. Parameters reach SQL as named parameters (`$window_months`), flattened
with underscores (`identity.review_threshold` → `$identity_review_threshold`).
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import yaml

POLICY_PATH = Path(__file__).with_name("policy.yaml")
MONTH_TEXT = re.compile(r"\d{4}-\d{2}")


def load_policy(path: Path = POLICY_PATH) -> dict:
    with path.open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def flatten(policy: dict, prefix: str = "") -> dict[str, object]:
    """Nested policy → `{"identity_review_threshold": 0.9, ...}` for SQL parameters."""
    flat: dict[str, object] = {}
    for key, value in policy.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat |= flatten(value, f"{name}_")
        else:
            flat[name] = value
    return flat


def parse_month(text: str) -> dt.date:
    """`YYYY-MM` or `YYYYMM` → the first day of that month."""
    cleaned = text.strip().replace("-", "")
    if len(cleaned) != 6 or not cleaned.isdigit() or not 1 <= int(cleaned[4:]) <= 12:
        raise ValueError(f"not a month (YYYY-MM): {text!r}")
    return dt.date(int(cleaned[:4]), int(cleaned[4:]), 1)


def add_months(month: dt.date, count: int) -> dt.date:
    index = month.year * 12 + month.month - 1 + count
    return dt.date(index // 12, index % 12 + 1, 1)


def run_parameters(as_of: dt.date, policy: dict) -> dict[str, object]:
    """Every named parameter a SQL file may use: the policy plus the run's months.

    Policy months (`"2016-01"`) arrive as dates on the 1st; tables of values
    (standards, per-category grades) arrive through `policy_tables`, not here.
    """
    scalars = {
        name: parse_month(value) if isinstance(value, str) and MONTH_TEXT.fullmatch(value) else value
        for name, value in flatten(policy).items()
        if not (isinstance(value, list) and value and isinstance(value[0], dict))
    }
    return scalars | {
        "as_of_month": as_of,
        "as_of_last_day": add_months(as_of, 1) - dt.timedelta(days=1),
        "window_start_month": add_months(as_of, 1 - policy["window_months"]),
        "backpay_start_month": add_months(as_of, 1 - policy["backpay"]["lookback_months"]),
    }


def policy_tables(policy: dict) -> dict[str, list[dict]]:
    """The policy's tables, as rows for `cfg.*` (checks join them like any table).

    - `subsidy_standard`: programme, grade (null: every grade), from_month, monthly_amount;
    - `no_labour_disability`: category, max_grade (the tekun criterion).
    """
    standards = [
        {"programme": programme, "grade": row.get("grade"), "from_month": parse_month(row["from"]), "monthly_amount": row["amount"]}
        for programme in ("living_subsidy", "care_subsidy")
        for row in policy[programme]["standards"]
    ]
    no_labour = [{"category": category, "max_grade": grade} for category, grade in policy["tekun"]["no_labour_max_grade"].items()]
    return {"subsidy_standard": standards, "no_labour_disability": no_labour}
