"""Citizen identity numbers (公民身份号码, GB 11643): cleaning, checking, upgrading.

What belongs here: turning the citizen numbers an extract holds into one
normalized 18-character form with a status, and reading the birth date and sex
that the number itself carries. Everything is a polars expression over whole
columns, because the pipeline normalizes millions of values a night; the
scalar helpers (`check_character`, `upgrade_15_to_18`, `make_id_number`) exist
for tests and the sample generator, not for per-row use.

What does not: deciding which person a number belongs to (blocking, scoring and
clustering elsewhere in `matching/`), and reading files.
"""

import datetime

import polars as pl

ID_STATUSES = ("valid", "upgraded", "invalid", "blank")

# ISO 7064 MOD 11-2 as GB 11643 states it: weight of each of the first 17
# positions, and the check character for each remainder of the weighted sum.
CHECK_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARACTERS = "10X98765432"

# Numbers typed on a Chinese input method arrive in full-width forms.
FULL_WIDTH_TO_ASCII = {chr(0xFF10 + digit): str(digit) for digit in range(10)} | {
    "Ｘ": "X",
    "ｘ": "X",
}
# What people put between the groups of a number they copy by hand (130534-19691008-0213,
# 1305 3419 6910 0802 13): white space, hyphens and dashes (ASCII, Unicode, full-width),
# underscores, dots and middle dots, slashes. A regex character class, for polars and `re` alike.
ID_SEPARATORS = r"[-\s‐‑‒–—―−－﹣_＿.．·・/／]"

# A year outside this range is a typing error, not a living or recently
# deceased beneficiary.
_EARLIEST_BIRTH_YEAR = 1880
_LATEST_BIRTH_YEAR = 2030


def check_character(first17: str) -> str:
    """Return the GB 11643 check character for the first 17 digits of a number."""
    if len(first17) != 17 or not first17.isascii() or not first17.isdigit():
        raise ValueError(f"check_character expects 17 ASCII digits, got {first17!r}")
    weighted_sum = sum(int(digit) * weight for digit, weight in zip(first17, CHECK_WEIGHTS))
    return CHECK_CHARACTERS[weighted_sum % 11]


def upgrade_15_to_18(number15: str) -> str:
    """Return the 18-character form of a first-generation 15-digit number.

    First-generation cards (issued until 1999) hold a two-digit year, always of
    the 1900s, and no check character: insert "19" before the year and append
    the check character.
    """
    if len(number15) != 15 or not number15.isascii() or not number15.isdigit():
        raise ValueError(f"upgrade_15_to_18 expects 15 ASCII digits, got {number15!r}")
    first17 = number15[:6] + "19" + number15[6:]
    return first17 + check_character(first17)


def make_id_number(area: str, birth: datetime.date, sequence: int) -> str:
    """Build a valid 18-character number; an odd sequence is a man, an even one a woman."""
    if len(area) != 6 or not area.isascii() or not area.isdigit():
        raise ValueError(f"make_id_number expects a 6-digit area code, got {area!r}")
    if not 0 <= sequence <= 999:
        raise ValueError(f"make_id_number expects a sequence in 0..999, got {sequence}")
    first17 = f"{area}{birth:%Y%m%d}{sequence:03d}"
    return first17 + check_character(first17)


def birth_date_from_id(id_number: pl.Expr) -> pl.Expr:
    """Birth date held in characters 7-14 (YYYYMMDD); null when it is no real date."""
    return id_number.str.slice(6, 8).str.to_date("%Y%m%d", strict=False)


def sex_from_id(id_number: pl.Expr) -> pl.Expr:
    """"M" when the 17th character (end of the sequence code) is odd, "F" when even."""
    parity = id_number.str.slice(16, 1).cast(pl.Int8, strict=False) % 2
    return parity.replace_strict({1: "M", 0: "F"}, return_dtype=pl.String)


def _check_character_expr(first17: pl.Expr) -> pl.Expr:
    """Vectorized `check_character`: one slice per position, weighted and summed."""
    weighted = [
        first17.str.slice(position, 1).cast(pl.Int32, strict=False) * weight
        for position, weight in enumerate(CHECK_WEIGHTS)
    ]
    # ignore_nulls=False: a non-digit position must give no check character,
    # not a sum that silently counted it as zero.
    remainder = pl.sum_horizontal(weighted, ignore_nulls=False) % 11
    return remainder.replace_strict(dict(enumerate(CHECK_CHARACTERS)), return_dtype=pl.String)


def clean_id_number_text(raw: pl.Series) -> pl.Series:
    """Return the text a number is judged on: no spaces or separators, ASCII digits, upper-case X.

    Same length and order as `raw`; null stays null. Nothing is checked here:
    `normalize_id_numbers` decides what the text is, and the number repair in
    `matching/repair.py` edits it.
    """
    return (
        raw.cast(pl.String)
        .str.replace_all(ID_SEPARATORS, "")  # \s is Unicode-aware: covers U+3000 too
        .str.replace_many(FULL_WIDTH_TO_ASCII)
        .str.to_uppercase()
    )


def normalize_id_numbers(raw: pl.Series) -> pl.DataFrame:
    """Normalize citizen numbers to 18 characters, with a status from ID_STATUSES.

    Returns one row per input value, in input order: `id_number_raw` (as
    given), `id_number` (null unless valid or upgraded) and `id_number_status`.
    A number is valid only when its check character is right and it embeds a
    real calendar date; a 15-digit number with a real date is upgraded.
    """
    cleaned = pl.col("id_number_clean")
    is_18 = cleaned.str.contains(r"^[0-9]{17}[0-9X]$")
    is_15 = cleaned.str.contains(r"^[0-9]{15}$")
    first17 = (
        pl.when(is_18)
        .then(cleaned.str.slice(0, 17))
        .when(is_15)
        .then(pl.concat_str(cleaned.str.slice(0, 6), pl.lit("19"), cleaned.str.slice(6)))
    )
    birth_year = birth_date_from_id(pl.col("id_number_candidate")).dt.year()
    has_real_birth_date = birth_year.is_between(_EARLIEST_BIRTH_YEAR, _LATEST_BIRTH_YEAR).fill_null(False)
    has_right_check = cleaned.str.slice(17, 1) == pl.col("id_number_candidate").str.slice(17, 1)
    status = (
        pl.when(cleaned.is_null() | (cleaned == ""))
        .then(pl.lit("blank"))
        .when(is_18 & has_right_check & has_real_birth_date)
        .then(pl.lit("valid"))
        .when(is_15 & has_real_birth_date)
        .then(pl.lit("upgraded"))
        .otherwise(pl.lit("invalid"))
    )
    return (
        raw.alias("id_number_raw")
        .to_frame()
        .with_columns(id_number_clean=clean_id_number_text(raw))
        .with_columns(id_number_first17=first17)
        .with_columns(
            id_number_candidate=pl.concat_str(
                pl.col("id_number_first17"), _check_character_expr(pl.col("id_number_first17"))
            )
        )
        .with_columns(id_number_status=status)
        .select(
            "id_number_raw",
            pl.when(pl.col("id_number_status").is_in(["valid", "upgraded"]))
            .then(pl.col("id_number_candidate"))
            .alias("id_number"),
            "id_number_status",
        )
    )
