"""The expectations on each staged table, derived only from its declaration.

What belongs here: turning an `Extract` declaration into expectations (keys
present, codes in their vocabulary, dates and amounts in range, citizen numbers
well-formed, row rules), each named and shaped as Great Expectations names
and shapes it. What does not: evaluating them (`extracts.validate`, in DuckDB;
the tests run the same expectations through GX, the reference for their
meaning), typing and quarantine (`extracts.load`).

The meaning of each kind, as GX defines it and `extracts.validate` evaluates it:

- `expect_column_values_to_not_be_null`: a NULL breaks it; percent of all rows.
- `expect_column_values_to_be_in_set` and `expect_column_values_to_be_between`
  (bounds inclusive): a NULL is neither expected nor unexpected, it is left
  out, of the count and of the percent's denominator alike.
"""

from __future__ import annotations

import calendar
import datetime
import re
from dataclasses import dataclass

from hecha.extracts.schema import Column, Extract, RowRule

EARLIEST_DATE = datetime.date(1900, 1, 1)
ID_STATUS_OK = ("valid", "upgraded")

NOT_NULL = "expect_column_values_to_not_be_null"
IN_SET = "expect_column_values_to_be_in_set"
BETWEEN = "expect_column_values_to_be_between"


@dataclass(frozen=True)
class Expectation:
    """One expectation on a staged table, with GX's type name and keyword arguments.

    `column` is a stg column, or for a row rule the name of the boolean its
    `sql` computes from the columns in `reads`.
    """

    type: str
    column: str
    description: str
    value_set: tuple | None = None
    min_value: float | datetime.date | None = None
    max_value: float | datetime.date | None = None
    sql: str | None = None
    reads: frozenset[str] = frozenset()

    @property
    def kwargs(self) -> dict:
        """The keyword arguments GX's expectation of this type takes."""
        if self.type == IN_SET:
            return {"column": self.column, "value_set": list(self.value_set)}
        if self.type == BETWEEN:
            return {"column": self.column, "min_value": self.min_value, "max_value": self.max_value}
        return {"column": self.column}


def build_expectations(extract: Extract, as_of: datetime.date) -> list[Expectation]:
    """The expectations for `stg.<extract.stem>`, in report order: columns as declared, then row rules."""
    expectations = []
    for column in extract.columns:
        expectations += column_expectations(column, as_of)
    expectations += [row_rule_expectation(rule, extract) for rule in extract.row_rules]
    return expectations


def applicable_expectations(extract: Extract, as_of: datetime.date, present: set[str]) -> list[Expectation]:
    """Those expectations whose columns `stg.<stem>` has: an optional column absent from the file is skipped, with the rules that read it."""
    return [e for e in build_expectations(extract, as_of) if e.reads <= present]


def on_column(kind: str, name: str, description: str, **bounds) -> Expectation:
    return Expectation(kind, name, description, reads=frozenset({name}), **bounds)


def column_expectations(column: Column, as_of: datetime.date) -> list[Expectation]:
    """Keys present, then the value check that the column's kind implies."""
    expectations = []
    if not column.nullable:
        key = f"{column.name}_raw" if column.kind == "id_number" else column.name
        expectations.append(on_column(NOT_NULL, key, f"{column.header} 不为空"))
    if column.kind == "code":
        codes = tuple(sorted(set(column.vocabulary.values())))
        expectations.append(on_column(IN_SET, column.name, f"{column.header} 取值为 {'/'.join(column.vocabulary)}", value_set=codes))
    elif column.kind in ("date", "month"):
        expectations.append(date_expectation(column, as_of))
    elif column.kind in ("amount", "integer"):
        expectations += number_expectations(column)
    elif column.kind == "id_number":
        statuses = ID_STATUS_OK + (("blank",) if column.nullable else ())
        description = f"{column.header} 规范化后格式正确" + ("（或为空）" if column.nullable else "")
        expectations.append(on_column(IN_SET, f"{column.name}_status", description, value_set=statuses))
    return expectations


def date_expectation(column: Column, as_of: datetime.date) -> Expectation:
    """Not before 1900 and, unless the column may lie ahead (an expiry date), not after the as_of month."""
    last_day = as_of.replace(day=calendar.monthrange(as_of.year, as_of.month)[1])
    shown = "%Y-%m" if column.kind == "month" else "%Y-%m-%d"
    description = f"{column.header} 不早于 {EARLIEST_DATE.strftime(shown)}"
    maximum = None
    if not column.future_ok:
        maximum = last_day
        description += f" 且不晚于 {last_day.strftime(shown)}"
    return on_column(BETWEEN, column.name, description, min_value=EARLIEST_DATE, max_value=maximum)


def number_expectations(column: Column) -> list[Expectation]:
    """Amounts are never negative; both kinds stay within the declared minimum and maximum."""
    minimum = column.minimum
    if column.kind == "amount":
        minimum = 0 if minimum is None else max(0, minimum)
    if minimum is None and column.maximum is None:
        return []
    bounds = []
    if minimum is not None:
        bounds.append(f"不小于 {minimum:g}")
    if column.maximum is not None:
        bounds.append(f"不大于 {column.maximum:g}")
    description = f"{column.header} {' 且'.join(bounds)}"
    return [on_column(BETWEEN, column.name, description, min_value=minimum, max_value=column.maximum)]


def row_rule_expectation(rule: RowRule, extract: Extract) -> Expectation:
    """The rule must be true on every row: a NULL (a blank in a column it reads) counts as broken."""
    return Expectation(
        IN_SET,
        rule.name,
        rule.description,
        value_set=(True,),
        sql=f"coalesce(({rule.sql}), false)",
        reads=frozenset(rule_columns(rule, extract)),
    )


def rule_columns(rule: RowRule, extract: Extract) -> set[str]:
    """The stg columns of `extract` that the rule's SQL names."""
    names = {name for column in extract.columns for name, _ in column.stg_columns}
    return {name for name in names if re.search(rf"\b{re.escape(name)}\b", rule.sql)}
