"""The declared shape of policy.yaml: every section and key, its type, and the values it may take.

What belongs here: the models a policy must fit (the national defaults, or a
county file merged over them) and the one-line text each problem becomes.
What does not: reading and merging files (`config.load_policy`), turning values
into SQL parameters (`config.run_parameters`). The models only judge a policy;
the rest of the code keeps receiving the plain dict, so a key added here is
also added to policy.yaml, and a key added there is declared here.

Values are taken as YAML gives them: a quoted `"60"` or `60.0` is not an age,
since the dict reaches DuckDB unchanged and would fail there, far from the file.
"""

from __future__ import annotations

import datetime as dt
import difflib
import math
import re
from collections.abc import Callable
from typing import Annotated, Any, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field, PlainValidator, ValidationError, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

# A copy of the extract stems, as are NoLabourMaxGrade's disability categories
# (extracts/ imports config/, not the other way round);
# tests/unit/test_policy_schema.py keeps both equal to the declarations.
EXTRACT_STEMS = ("household_register", "dibao", "tekun", "registered_poor", "cremation", "disability", "payments")

MONTH_TEXT = re.compile(r"\d{4}-(0[1-9]|1[0-2])")
MOST_PROBLEMS_SHOWN = 5


def shown(value: Any) -> str:
    """A value as the person who wrote the YAML would recognise it."""
    if value is None:
        return "nothing"
    if isinstance(value, dt.date):
        return f"the date {value.isoformat()}"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def problem(message: str) -> PydanticCustomError:
    # the text travels through the context so that braces in a shown value are never read as placeholders
    return PydanticCustomError("policy", "{message}", {"message": message})


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def integer_check(low: int, high: int | None = None, what: str = "an integer") -> Callable[[Any], int]:
    """A check for an int from `low` (to `high`): YAML's `60`, never `"60"`, `60.0` or `true`."""
    span = f"from {low} to {high}" if high is not None else f"of at least {low}"

    def check(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise problem(f"expected {what} {span}, got {shown(value)}")
        if value < low or (high is not None and value > high):
            raise problem(f"must be {'at least ' + str(low) if high is None else span}, got {value}")
        return value

    return check


def integer(low: int, high: int | None = None, what: str = "an integer") -> Any:
    return Annotated[int, PlainValidator(integer_check(low, high, what))]


def number(low: float, *, above: bool, high: float | None = None, what: str = "a number") -> Any:
    """An int or float at least `low` (or `above` it when `above`), at most `high`."""
    bound = f"{'greater than' if above else 'at least'} {low}" + (f" and at most {high}" if high is not None else "")
    expected = f"{what} {bound if above else 'of ' + bound}"

    def check(value: Any) -> float:
        if not is_number(value):
            raise problem(f"expected {expected}, got {shown(value)}")
        if value < low or (above and value == low) or (high is not None and value > high):
            raise problem(f"must be {bound}, got {value}")
        return value

    return Annotated[float, PlainValidator(check)]


def one_of(choices: tuple[str, ...], what: str) -> Any:
    def check(value: Any) -> str:
        if value not in choices or not isinstance(value, str):
            raise problem(f"expected {what} ({', '.join(choices)}), got {shown(value)}")
        return value

    return Annotated[str, PlainValidator(check)]


def check_month(value: Any) -> str:
    if not isinstance(value, str) or not MONTH_TEXT.fullmatch(value):
        raise problem(f'expected a month written "YYYY-MM" (quoted), got {shown(value)}')
    return value


check_grade = integer_check(1, 4, what="a disability grade")


def check_optional_grade(value: Any) -> int | None:
    # a standard without a grade applies to every grade
    return None if value is None else check_grade(value)


def check_time_zone(value: Any) -> str:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        if not isinstance(value, str):
            raise ValueError
        ZoneInfo(value)
    except (ValueError, ZoneInfoNotFoundError):
        raise problem(f"expected a time zone name such as Asia/Shanghai, got {shown(value)}") from None
    return value


Month = Annotated[str, PlainValidator(check_month)]
TimeZone = Annotated[str, PlainValidator(check_time_zone)]
Months = integer(1, what="a whole number of months")
MonthsAfter = integer(0, what="a whole number of months")
Age = integer(0, 120, what="an integer")
Grade = Annotated[int, PlainValidator(check_grade)]
OptionalGrade = Annotated[int | None, PlainValidator(check_optional_grade)]
Amount = number(0, above=False, what="an amount in yuan")
PositiveAmount = number(0, above=True, what="an amount in yuan")
Threshold = number(0, above=True, high=1, what="a probability")
Share = number(0, above=True, high=1, what="a share")
Characters = integer(1, what="a number of characters")
Runs = integer(1, what="a number of runs")
Days = integer(0, what="a number of days")
Seconds = integer(0, what="a number of seconds")
ExtractStem = one_of(EXTRACT_STEMS, "an extract name")


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class Backpay(Section):
    lookback_months: Months


class NoLabourMaxGrade(Section):
    """Per disability category, the least severe grade that still counts as no labour capacity."""

    visual: Grade = None
    hearing: Grade = None
    speech: Grade = None
    physical: Grade = None
    intellectual: Grade = None
    mental: Grade = None
    multiple: Grade = None


def below(field: str, other: str, label: str):
    """A validator: `field` must be below the section's `other` (declared before it), named `label` in the message."""

    def check(cls, value, info: ValidationInfo):
        bound = info.data.get(other)
        if bound is not None and value >= bound:
            raise problem(f"must be below {label} ({bound}), got {value}")
        return value

    return field_validator(field)(classmethod(check))


class Tekun(Section):
    min_age: Age
    max_minor_age: Age
    no_labour_max_grade: NoLabourMaxGrade

    # at or above min_age every age would be "unable to work"
    minors_below_elderly = below("max_minor_age", "min_age", "tekun.min_age")


class Standard(Section):
    """A monthly standard from a month on; without a grade it applies to every grade."""

    from_: Month = Field(alias="from")
    grade: OptionalGrade = None
    amount: Amount


class DisabilitySubsidy(Section):
    grades: list[Grade]
    policy_start: Month
    standards: list[Standard]

    @field_validator("grades")
    @classmethod
    def each_grade_once(cls, value: list[int]) -> list[int]:
        if not value:
            raise problem("expected at least one grade, got an empty list")
        if len(set(value)) != len(value):
            raise problem(f"must list each grade once, got {value}")
        return value

    @field_validator("standards")
    @classmethod
    def one_standard_a_month(cls, rows: list[Standard], info: ValidationInfo) -> list[Standard]:
        """Every qualifying grade has one standard in force from policy_start on.

        A month without a standard drops out of the amounts due (an inner join),
        and a grade-less row beside graded ones would count a month twice.
        """
        if not rows:
            raise problem("expected at least one standard, got an empty list")
        graded = {row.grade is not None for row in rows}
        if len(graded) > 1:
            raise problem("give every row a grade or none: a row without one applies to every grade, beside the graded rows")
        seen: set[tuple[str, int | None]] = set()
        for row in rows:
            if (row.from_, row.grade) in seen:
                which = f"grade {row.grade}" if row.grade is not None else "every grade"
                raise problem(f"two standards for {which} from {row.from_}")
            seen.add((row.from_, row.grade))
        start, grades = info.data.get("policy_start"), info.data.get("grades")
        if start is None or grades is None:
            return rows
        for grade in grades:
            starts = [row.from_ for row in rows if row.grade in (None, grade)]
            if not starts or min(starts) > start:
                first = f"; the first is from {min(starts)}" if starts else ""
                raise problem(f"no standard in force from policy_start ({start}) for grade {grade}, which grades lists{first}")
        return rows


class Identity(Section):
    review_threshold: Threshold
    link_threshold: Threshold
    stop_threshold: Threshold
    max_age: Age

    link_below_review = below("link_threshold", "review_threshold", "identity.review_threshold")
    review_below_stop = below("review_threshold", "stop_threshold", "identity.stop_threshold")


class Inputs(Section):
    may_be_empty: list[ExtractStem]
    as_of_months_after_ledger: MonthsAfter
    max_line_amount: PositiveAmount
    max_text_length: Characters
    max_address_length: Characters
    max_unusable_id_share: Share


class Retention(Section):
    run_databases: Runs
    work_days: Days


class Outcomes(Section):
    verdict_deadline_days: Days


class Incremental(Section):
    full_rebuild_days: Days
    max_slice_share: Share


class UnnumberedCremation(Section):
    same_name_confidence: Threshold
    same_sound_confidence: Threshold

    # a name heard alike is never surer than one written alike
    sound_below_name = below("same_sound_confidence", "same_name_confidence", "province.unnumbered_cremation.same_name_confidence")


class Province(Section):
    unnumbered_cremation: UnnumberedCremation
    export_wait_seconds: Seconds


class Policy(Section):
    """policy.yaml, top to bottom."""

    timezone: TimeZone
    window_months: Months
    backpay: Backpay
    tekun: Tekun
    living_subsidy: DisabilitySubsidy
    care_subsidy: DisabilitySubsidy
    identity: Identity
    inputs: Inputs
    retention: Retention
    outcomes: Outcomes
    incremental: Incremental
    province: Province


def policy_problems(policy: Any) -> list[str]:
    """Each way `policy` departs from the schema, as `key.path: what was expected, got what`."""
    try:
        Policy.model_validate(policy)
    except ValidationError as error:
        return [describe(item) for item in error.errors()]
    return []


def summarize(problems: list[str]) -> str:
    """Problems on one line: all of them, or the first few and how many more."""
    shown_problems = problems[:MOST_PROBLEMS_SHOWN]
    rest = len(problems) - len(shown_problems)
    return "; ".join(shown_problems) + (f"; and {rest} more" if rest else "")


def key_path(loc: tuple) -> str:
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path


def describe(item: dict) -> str:
    path, kind, value = key_path(item["loc"]), item["type"], item.get("input")
    if kind == "extra_forbidden":
        return f"unknown key {path}{suggestion(item['loc'])}"
    if kind == "missing":
        return f"missing key {path}"
    if kind == "policy":
        message = item["ctx"]["message"]
    elif kind in ("model_type", "model_attributes_type", "dict_type"):
        message = f"expected a mapping of keys, got {shown(value)}"
    elif kind == "list_type":
        message = f"expected a list, got {shown(value)}"
    else:
        message = item["msg"]
    return f"{path}: {message}" if path else message


def suggestion(loc: tuple) -> str:
    """` (did you mean identity.review_threshold?)` when the unknown key is a near miss of a declared one."""
    keys = declared_keys(loc[:-1])
    close = difflib.get_close_matches(str(loc[-1]), keys, n=1, cutoff=0.75)
    return f" (did you mean {key_path(loc[:-1] + (close[0],))}?)" if close else ""


def declared_keys(loc: tuple) -> list[str]:
    """The keys the model at `loc` declares (aliases where a key is a Python word)."""
    model: type[BaseModel] = Policy
    for part in loc:
        if isinstance(part, int):
            continue
        field = next((f for name, f in model.model_fields.items() if (f.alias or name) == part), None)
        if field is None:
            return []
        annotation = field.annotation
        if get_origin(annotation) is list:
            annotation = get_args(annotation)[0]
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return []
        model = annotation
    return [field.alias or name for name, field in model.model_fields.items()]
