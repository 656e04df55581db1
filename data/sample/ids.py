"""Citizen numbers for the generator: issue, shorten to 15 digits, normalize.

A small private copy on purpose: the generator must not depend on
`matching.id_number`, whose behaviour it is used to test. Only GB 11643
arithmetic lives here; which rows get which damaged form is `noise.py`'s job.
"""

from __future__ import annotations

import datetime as dt

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"
_FULL_WIDTH = str.maketrans("０１２３４５６７８９Ｘｘ", "0123456789XX")
_BLANKS = (" ", "\u3000", "\t")


def check_char(first17: str) -> str:
    """ISO 7064 MOD 11-2 check character of the first 17 digits."""
    return _CHECK[sum(int(c) * w for c, w in zip(first17, _WEIGHTS)) % 11]


def make_id_number(area: str, birth: dt.date, sequence: int) -> str:
    """The 18-character number for a division code, birth date and 3-digit sequence."""
    first17 = f"{area}{birth:%Y%m%d}{sequence:03d}"
    return first17 + check_char(first17)


def to_15(id18: str) -> str:
    """The first-generation 15-digit form: no century, no check character."""
    return id18[:6] + id18[8:17]


def is_valid(id18: str) -> bool:
    return len(id18) == 18 and id18[:17].isdigit() and check_char(id18[:17]) == id18[17]


def normalize(text: str | None) -> str | None:
    """The 18-character number a raw cell stands for, or None when it cannot be read.

    Spaces, full-width characters and a lower-case x are formatting; a 15-digit
    number is upgraded (19xx century, check character recomputed). A number
    failing its check (a typo) does not normalize.
    """
    if text is None:
        return None
    value = text.translate(_FULL_WIDTH)
    for blank in _BLANKS:
        value = value.replace(blank, "")
    value = value.upper()
    if len(value) == 15 and value.isdigit():
        first17 = value[:6] + "19" + value[6:]
        return first17 + check_char(first17)
    return value if is_valid(value) else None
