"""The policy's bounds on a drop (`inputs:` in policy.yaml) and the checks on a drop as a whole.

What belongs here: reading the `inputs:` section into the bounds the loader
applies to each value (amounts, text length), and `check_inputs`, which runs
once the drop is loaded and its citizen numbers normalized, and refuses what
would make every finding wrong without an error: an extract without a usable
row, an as_of outside the months the payments ledger covers, a file whose
citizen numbers are too often unusable. What does not: typing and quarantine
of single values (`extracts.load`), the expectations on staged rows
(`extracts.validate`), citizen-number columns a spreadsheet stored as
numbers (refused when read, `extracts.numeric_ids`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

import duckdb

from hecha.config import add_months, load_policy
from hecha.config.schema import policy_problems, summarize
from hecha.extracts.declarations import EXTRACTS, PAYMENTS
from hecha.extracts.errors import DropError
from hecha.extracts.schema import Column


@dataclass(frozen=True)
class InputPolicy:
    """The `inputs:` section of policy.yaml, checked."""

    may_be_empty: tuple[str, ...]
    as_of_months_after_ledger: int
    max_line_amount: Decimal
    max_text_length: int
    max_address_length: int
    max_unusable_id_share: float

    def text_bound(self, column: Column) -> tuple[str, int]:
        """The policy key and the longest text `column` may hold: free-text addresses run longer than names and places."""
        key = "max_address_length" if column.name == "address" else "max_text_length"
        return key, getattr(self, key)


def read_input_policy(policy: dict | None = None) -> InputPolicy:
    """`policy["inputs"]` as bounds; a policy that departs from config/schema.py is an error naming its keys."""
    policy = load_policy() if policy is None else policy
    problems = policy_problems(policy)  # a policy built in code, not read by load_policy, is checked the same way
    if problems:
        raise ValueError(f"policy: {summarize(problems)}")
    inputs = policy["inputs"]
    return InputPolicy(
        may_be_empty=tuple(inputs["may_be_empty"]),
        as_of_months_after_ledger=inputs["as_of_months_after_ledger"],
        max_line_amount=Decimal(str(inputs["max_line_amount"])).quantize(Decimal("0.01")),
        max_text_length=inputs["max_text_length"],
        max_address_length=inputs["max_address_length"],
        max_unusable_id_share=float(inputs["max_unusable_id_share"]),
    )


def check_inputs(con: duckdb.DuckDBPyConnection, as_of: dt.date, policy: dict, *, accept_unusable_ids: bool = False) -> dict:
    """Refuse a loaded drop the findings cannot rest on; else return what was checked, for the run record.

    Runs after load and normalize (`stg.*` exist, citizen numbers carry their
    status). Raises `DropError` for an extract without a usable row (unless
    `inputs.may_be_empty` allows it), for an as_of outside the months the
    payments ledger covers, and for a file whose share of unusable citizen
    numbers is above `inputs.max_unusable_id_share` — unless
    `accept_unusable_ids` (the operator's `--accept-unusable-ids`): then such
    files are listed under `unusable_ids_accepted`, for the record, the
    report and the workbooks to state.
    """
    inputs = read_input_policy(policy)
    empty = refuse_empty_extracts(con, inputs)
    first, last = refuse_as_of_outside_ledger(con, as_of, inputs)
    shares = unusable_id_shares(con)
    accepted = refuse_unusable_ids(shares, inputs, accept=accept_unusable_ids)
    return {
        "as_of": f"{as_of:%Y-%m}",
        "ledger_first_month": f"{first:%Y-%m}",
        "ledger_last_month": f"{last:%Y-%m}",
        "empty_extracts": empty,
        "unusable_id_shares": [
            {"file": s.file, "column": s.column, "unusable": s.unusable, "non_blank": s.non_blank, "share": round(s.share, 4)}
            for s in shares
        ],
        "unusable_ids_accepted": accepted,
    }


def loaded_stems(con: duckdb.DuckDBPyConnection) -> set[str]:
    rows = con.execute(
        "select table_name from information_schema.tables where table_catalog = current_database() and table_schema = 'stg'"
    ).fetchall()
    return {name for (name,) in rows}


def source_file(con: duckdb.DuckDBPyConnection, stem: str) -> str:
    """The file name the extract was read from (the stem when the load did not record it)."""
    try:
        found = con.execute("select source_file from raw.extract_file where source = ?", [stem]).fetchall()
    except duckdb.CatalogException:
        found = []
    return found[0][0] if found else stem


def refuse_empty_extracts(con: duckdb.DuckDBPyConnection, inputs: InputPolicy) -> list[str]:
    """The extracts without a staged row that may be empty; a DropError for the first that may not.

    A file with only its header and one whose every row was quarantined are
    both empty to the checks.
    """
    present = loaded_stems(con)
    empty = []
    for extract in EXTRACTS:
        if extract.stem not in present:
            continue
        staged = con.execute(f"select count(*) from stg.{extract.stem}").fetchone()[0]
        if staged:
            continue
        if extract.stem in inputs.may_be_empty:
            empty.append(extract.stem)
            continue
        file = source_file(con, extract.stem)
        quarantined = con.execute("select count(distinct source_row) from stg.quarantine where source = ?", [extract.stem]).fetchone()[0]
        allowed = f"(inputs.may_be_empty allows it only for {', '.join(inputs.may_be_empty) or 'no extract'})"
        if quarantined:
            raise DropError(
                f"{file}: all {quarantined} {'row is' if quarantined == 1 else 'rows are'} quarantined, "
                f"so the {extract.title} extract has no usable row {allowed}; see stg.quarantine for the reasons",
                file=file,
            )
        raise DropError(f"{file}: no data rows, only the header; expected the {extract.title} rows {allowed}", file=file)
    return empty


def refuse_as_of_outside_ledger(con: duckdb.DuckDBPyConnection, as_of: dt.date, inputs: InputPolicy) -> tuple[dt.date, dt.date]:
    """The first and last month the payments ledger covers; a DropError when as_of lies outside them.

    as_of may be up to `inputs.as_of_months_after_ledger` months after the
    ledger's last month. Beyond it every case would look unpaid (new findings
    that are not real, real ones marked resolved); before its first month the
    checks would see no payment at all.
    """
    file = source_file(con, PAYMENTS.stem)
    column = PAYMENTS.column("paid_month").header
    first, last = con.execute("select min(paid_month), max(paid_month) from stg.payments").fetchone()
    if first is None:
        raise DropError(f"{file}: no paid month in the ledger, so as_of {as_of:%Y-%m} cannot be checked against it", file=file, column=column)
    month = as_of.replace(day=1)
    latest = add_months(last, inputs.as_of_months_after_ledger)
    if not first <= month <= latest:
        raise DropError(
            f"{file}: as_of {month:%Y-%m} is outside the months the ledger covers ({column} {first:%Y-%m} to {last:%Y-%m}); "
            f"expected an as_of from {first:%Y-%m} to {latest:%Y-%m} "
            f"(inputs.as_of_months_after_ledger: at most {inputs.as_of_months_after_ledger} "
            f"{'month' if inputs.as_of_months_after_ledger == 1 else 'months'} after its last)",
            file=file,
            column=column,
        )
    return first, last


@dataclass(frozen=True)
class UnusableIds:
    """How many of a file's citizen numbers (its main column, blanks not counted) normalization could not use."""

    file: str
    column: str  # the header as declared
    unusable: int
    non_blank: int

    @property
    def share(self) -> float:
        return self.unusable / self.non_blank if self.non_blank else 0.0

    def exceeds(self, bound: float) -> bool:
        # exactly, not in floating point: 1 of 50 is at a bound of 0.02, not above it
        return Fraction(self.unusable) > Fraction(str(bound)) * self.non_blank


def unusable_id_shares(con: duckdb.DuckDBPyConnection) -> list[UnusableIds]:
    """Per loaded extract, the unusable citizen numbers of its main column (`id_number`: the person on the row).

    Unusable is the status `invalid` that `matching.normalize` gives a number
    of the wrong length or form, with a wrong check character or no real
    birth date; `valid` and `upgraded` (15 → 18 digits) are usable, `blank`
    is not counted. Raises RuntimeError when the numbers were not normalized:
    a gate that saw no status would pass every drop.
    """
    present = loaded_stems(con)
    found = []
    for extract in EXTRACTS:
        if extract.stem not in present:
            continue
        column = extract.column("id_number")
        unusable, non_blank, unjudged = con.execute(
            f"select count(*) filter (where {column.name}_status = 'invalid'), "
            f"count(*) filter (where {column.name}_status <> 'blank'), "
            f"count(*) filter (where {column.name}_status is null) "
            f"from stg.{extract.stem}"
        ).fetchone()
        if unjudged:
            raise RuntimeError(
                f"stg.{extract.stem}: {unjudged} citizen numbers have no status; "
                "check_inputs runs after matching.normalize.normalize_identities"
            )
        found.append(UnusableIds(source_file(con, extract.stem), column.header, unusable, non_blank))
    return found


def refuse_unusable_ids(shares: list[UnusableIds], inputs: InputPolicy, *, accept: bool) -> list[dict]:
    """The files above `inputs.max_unusable_id_share` the operator accepted; a DropError for the first when not accepted.

    A column re-saved in Excel/WPS in a way the reader cannot see, or another
    column exported in place of the citizen numbers, leaves most of them
    unusable: their rows link by name and place alone or not at all, and the
    findings about those people are wrong without an error.
    """
    bound = inputs.max_unusable_id_share
    accepted = []
    for found in shares:
        if not found.exceeds(bound):
            continue
        if not accept:
            raise DropError(
                f"{found.file}: {found.share:.1%} of the citizen numbers in {found.column} are unusable "
                f"({found.unusable} of {found.non_blank} given: wrong length, wrong check character or no real birth date), "
                f"above the {bound:.1%} inputs.max_unusable_id_share allows; check the export (a column re-saved in "
                "Excel/WPS, another column exported in its place) and send it again, or run with --accept-unusable-ids "
                "to accept it (the run record then says so)",
                file=found.file,
                column=found.column,
            )
        accepted.append({"file": found.file, "column": found.column, "share": round(found.share, 4), "bound": bound})
    return accepted
