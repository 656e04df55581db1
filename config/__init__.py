"""Policy configuration: `policy.yaml`, a county's file over it, and the run values derived from them.

`policy.yaml` holds the national defaults with comments where provinces
differ; a county file holds only what the county changes, and is merged over
them. Either way the result is checked against `config.schema` before anything
runs. Parameters reach SQL as named parameters (`$window_months`), flattened
with underscores (`identity.review_threshold` → `$identity_review_threshold`).
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import re
from pathlib import Path

import yaml

from hecha.config.schema import policy_problems, summarize

POLICY_PATH = Path(__file__).with_name("policy.yaml")
MONTH_TEXT = re.compile(r"\d{4}-\d{2}")


class PolicyError(ValueError):
    """A policy file hecha cannot run on; the message is one line naming the file, the key and what was expected."""


def load_policy(path: Path | None = None) -> dict:
    """The policy to run on: the national defaults, or a county file merged over them, checked.

    Mappings merge key by key; a list or a value in the county file replaces
    the default (`care_subsidy.grades: [1, 2, 3]` is the whole list). A path
    naming the shipped policy.yaml means the defaults. Raises `PolicyError`.
    """
    defaults = read_policy_file(POLICY_PATH)
    check_policy(defaults, POLICY_PATH)
    if path is None or is_shipped(Path(path)):
        return defaults
    overrides = read_policy_file(Path(path))
    policy = merge_policy(defaults, overrides)
    check_policy(policy, Path(path))
    return policy


def policy_source(path: Path | None = None) -> dict:
    """`{"file", "sha256"}` of the policy a run used, for its record: the county file, or the shipped one."""
    source = POLICY_PATH if path is None else Path(path)
    try:
        content = source.read_bytes()
    except OSError as error:
        raise PolicyError(f"{source}: {unreadable(error)}") from None
    return {"file": str(source.resolve()), "sha256": hashlib.sha256(content).hexdigest()}


def is_shipped(path: Path) -> bool:
    return path.resolve() == POLICY_PATH.resolve()


class UniqueKeyLoader(yaml.SafeLoader):
    """YAML's safe loader, refusing a key written twice in one mapping (YAML would keep the last silently)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        seen = set()
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=deep)
            try:
                duplicate = key in seen
                seen.add(key)
            except TypeError:  # an unhashable key: the base loader says so
                continue
            if duplicate:
                raise yaml.constructor.ConstructorError(None, None, f"key {key!r} appears twice in one mapping", key_node.start_mark)
        return super().construct_mapping(node, deep=deep)


def read_policy_file(path: Path) -> dict:
    """A policy file's mapping; an empty file is an empty mapping. Raises `PolicyError`."""
    try:
        content = path.read_bytes()
    except OSError as error:
        raise PolicyError(f"{path}: {unreadable(error)}") from None
    try:
        text = content.decode("utf-8-sig")  # an editor's byte-order mark is harmless
    except UnicodeDecodeError as error:
        # a file saved as GBK, the usual other encoding of Chinese text
        line = content[: error.start].count(b"\n") + 1
        raise PolicyError(f"{path}: line {line}: not UTF-8 text; save the file as UTF-8") from None
    try:
        policy = yaml.load(text, Loader=UniqueKeyLoader)  # a SafeLoader
    except yaml.MarkedYAMLError as error:
        raise PolicyError(f"{path}: {yaml_problem(error)}") from None
    except yaml.YAMLError as error:
        raise PolicyError(f"{path}: not valid YAML ({one_line(str(error))})") from None
    if policy is None:
        return {}
    if not isinstance(policy, dict):
        raise PolicyError(f"{path}: expected a mapping of policy sections (window_months:, tekun:, ...), got {type(policy).__name__}")
    return policy


def unreadable(error: OSError) -> str:
    if isinstance(error, FileNotFoundError):
        return "no such policy file"
    return f"cannot be read ({error.strerror or error})"


def yaml_problem(error: yaml.MarkedYAMLError) -> str:
    """`line 4, column 3: mapping values are not allowed here`, the line counted from 1."""
    mark = error.problem_mark or error.context_mark
    where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
    what = error.problem or error.context or "not valid YAML"
    return one_line(f"{where}{what}")


def one_line(text: str) -> str:
    return " ".join(text.split())


def merge_policy(defaults: dict, overrides: dict) -> dict:
    """`overrides` over `defaults`: mappings merge key by key, anything else replaces."""
    merged = copy.deepcopy(defaults)
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge_policy(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def check_policy(policy: dict, path: Path) -> None:
    """Raise `PolicyError` naming `path` and every key that departs from `config.schema`."""
    problems = policy_problems(policy)
    if problems:
        raise PolicyError(f"{path}: {summarize(problems)}")


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
