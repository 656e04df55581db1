"""The vocabulary for declaring an extract: columns, kinds, vocabularies.

Only the building blocks live here; the seven declarations are in
`extracts.declarations`. Everything else about an extract (reader header
mapping, DuckDB DDL, typing SQL, the validation suite, the generator's writer,
the documentation table) is derived from these objects, never written again.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Column kinds and how each is typed in stg.
#   text      trimmed text
#   name      a person's name: stg holds `<col>` (normalized) and `<col>_raw`
#   id_number a citizen number: stg holds `<col>` (normalized 18 chars or NULL),
#             `<col>_raw` (as read) and `<col>_status` (valid/upgraded/invalid/blank)
#   code      a text vocabulary mapped to an English code; an unknown value is
#             kept as read so validation can report it (the row is not lost)
#   flag      是/否 → boolean; an unknown value cannot be typed (quarantine)
#   grade     一级..四级 → integer 1..4; an unknown value cannot be typed
#   date      YYYY-MM-DD or YYYYMMDD → DATE
#   month     YYYY-MM or YYYYMM → DATE on the 1st
#   amount    yuan, up to 2 decimals → DECIMAL(12,2)
#   integer   whole number → INTEGER
KINDS = ("text", "name", "id_number", "code", "flag", "grade", "date", "month", "amount", "integer")

STG_TYPES = {
    "text": "varchar",
    "name": "varchar",
    "id_number": "varchar",
    "code": "varchar",
    "flag": "boolean",
    "grade": "integer",
    "date": "date",
    "month": "date",
    "amount": "decimal(12,2)",
    "integer": "integer",
}

FLAG_VALUES = {"是": True, "否": False, "Y": True, "N": False, "1": True, "0": False}
GRADE_VALUES = {"一级": 1, "二级": 2, "三级": 3, "四级": 4, "1": 1, "2": 2, "3": 3, "4": 4}


@dataclass(frozen=True)
class Column:
    """One column of an extract as exported, and what it becomes in stg."""

    name: str
    header: str
    kind: str
    meaning: str
    aliases: tuple[str, ...] = ()
    vocabulary: dict[str, str] = field(default_factory=dict)
    required: bool = True  # the column must be present in the file
    nullable: bool = True  # a blank value is acceptable
    future_ok: bool = False  # a date/month after as_of is acceptable (e.g. expiry)
    minimum: float | None = None  # smallest plausible value (integer and amount kinds)
    maximum: float | None = None  # largest plausible value (integer kinds)
    embeds_id_number: bool = False  # a text column whose values begin with the holder's citizen number (残疾人证号)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"column {self.name}: unknown kind {self.kind!r}")
        if self.kind == "code" and not self.vocabulary:
            raise ValueError(f"column {self.name}: a code column needs a vocabulary")

    @property
    def headers(self) -> tuple[str, ...]:
        """Every header accepted for this column, the exported one first."""
        return tuple(dict.fromkeys((self.header, *self.aliases)))

    @property
    def value_map(self) -> dict[str, object]:
        """Source value → stg value for vocabulary-like kinds."""
        if self.kind == "code":
            return dict(self.vocabulary)
        if self.kind == "flag":
            return dict(FLAG_VALUES)
        if self.kind == "grade":
            return dict(GRADE_VALUES)
        return {}

    @property
    def stg_columns(self) -> tuple[tuple[str, str], ...]:
        """(name, DuckDB type) of the stg columns this column becomes."""
        if self.kind == "id_number":
            return ((self.name, "varchar"), (f"{self.name}_raw", "varchar"), (f"{self.name}_status", "varchar"))
        if self.kind == "name":
            return ((self.name, "varchar"), (f"{self.name}_raw", "varchar"))
        return ((self.name, STG_TYPES[self.kind]),)


@dataclass(frozen=True)
class RowRule:
    """A fact that must hold across columns of one stg row, as a SQL boolean."""

    name: str
    description: str
    sql: str


@dataclass(frozen=True)
class Extract:
    """One file of the drop: its stem, what it is, and its columns in export order."""

    stem: str
    title: str
    source_system: str
    grain: str
    columns: tuple[Column, ...]
    row_rules: tuple[RowRule, ...] = ()

    def column(self, name: str) -> Column:
        for column in self.columns:
            if column.name == name:
                return column
        raise KeyError(f"{self.stem} has no column {name!r}")

    @property
    def required_columns(self) -> tuple[Column, ...]:
        return tuple(c for c in self.columns if c.required)

    def columns_of_kind(self, *kinds: str) -> tuple[Column, ...]:
        return tuple(c for c in self.columns if c.kind in kinds)

    @property
    def id_number_columns(self) -> tuple[Column, ...]:
        """The columns holding citizen numbers, alone or inside a longer number: a spreadsheet rounds all of them alike."""
        return tuple(c for c in self.columns if c.kind == "id_number" or c.embeds_id_number)
