"""Citizen numbers a county's earlier shards have used, for a county generated shard by shard.

A large drop is made as a sequence of shards (see `generate.py`). A real
number belongs to one person, and a wrong number a clerk wrote must stay
nobody's across the whole county, so each shard consults what the shards
before it issued or wrote, and the generator adds what each shard used once
it is done. Only this bookkeeping lives here; which numbers are drawn is
`households.py`'s, `plant.py`'s, `scenarios.py`'s and `noise.py`'s business.

Memory stays flat whatever the county's size: the numbers of the county and
its neighbours (the only division codes people are issued) are bits of one
array indexed by division code, birth date and sequence number; the few
others (wrong division codes a clerk typed) sit in a set.
"""

from __future__ import annotations

from data.sample.county import COUNTY_CODE, NEIGHBOUR_COUNTIES
from data.sample.ids import is_valid

_AREAS = {code: index for index, code in enumerate((COUNTY_CODE, *(code for code, *_ in NEIGHBOUR_COUNTIES)))}
_FIRST_YEAR, _YEARS = 1880, 170  # birth years 1880–2049: every date a validator accepts, and then some
_SLOTS = len(_AREAS) * _YEARS * 12 * 31 * 1000  # area, year, month, day (31 a month), 3-digit sequence


class TakenNumbers:
    """A set of valid 18-character citizen numbers, compact for the county's and its neighbours' own."""

    def __init__(self) -> None:
        self._bits = bytearray(_SLOTS // 8 + 1)
        self._others: set[str] = set()

    def add(self, number: str) -> None:
        """Remember `number` (an invalid one is nobody's to take and is ignored)."""
        if not is_valid(number):
            return
        slot = _slot(number)
        if slot is None:
            self._others.add(number)
        else:
            self._bits[slot >> 3] |= 1 << (slot & 7)

    def __contains__(self, number: object) -> bool:
        if not isinstance(number, str) or len(number) != 18:
            return False
        slot = _slot(number)
        if slot is None:
            return number in self._others
        # a set bit stands for the valid number of those first 17 characters: `number` is it if it is valid
        return bool(self._bits[slot >> 3] >> (slot & 7) & 1) and is_valid(number)


def _slot(number: str) -> int | None:
    """The bit of a number whose division code, birth date and sequence fit the array; None for the rest.

    The check character follows from the first 17, so two valid numbers share a slot only if they are one number.
    """
    area = _AREAS.get(number[:6])
    digits = number[6:17]
    if area is None or not digits.isdigit():
        return None
    year, month, day = int(digits[:4]) - _FIRST_YEAR, int(digits[4:6]) - 1, int(digits[6:8]) - 1
    if not (0 <= year < _YEARS and 0 <= month < 12 and 0 <= day < 31):
        return None
    return (((area * _YEARS + year) * 12 + month) * 31 + day) * 1000 + int(digits[8:11])
