"""The noise real extracts carry, applied to rows after the truth is fixed.

Citizen numbers mistyped or transposed, 15-digit first-generation forms,
lower-case x, full-width digits, stray spaces, blank cremation numbers;
names in traditional characters, with a same-sound character, with another
middle dot; 虚岁 ages in cremation rows; trailing spaces in vocabulary values.
Every change is recorded on the row (`Row.labels`) so the truth can say which
rows an exact-match linker cannot use. Rates are per row at noise=1 and scale
linearly (noise=2 doubles each, capped at 1). Which rows get noise never
changes amounts, months or case numbers.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, fields, replace

from opencc import OpenCC

from data.sample.county import HOMOPHONES
from data.sample.ids import to_15
from data.sample.rows import Row
from hecha.extracts.declarations import BY_STEM

DOT_VARIANTS = ("•", "・", "．", "-")
UNTYPEABLE_DATES = ("{y}-02-30", "{y}-13-01", "{y}年3月", "{y}-06-31")
_FULL_WIDTH = str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")
_CHECK_CHARS = "0123456789X"


@dataclass(frozen=True)
class Rates:
    """Per-row probabilities at noise=1 (conditional ones say on what)."""

    id_blank: float = 0.0
    id_typo: float = 0.0  # one character changed
    id_transposed: float = 0.0  # two adjacent digits swapped
    id_15: float = 0.0  # of people born before 1970: the 15-digit first-generation number
    id_lower_x: float = 0.0  # of numbers ending in X
    id_fullwidth: float = 0.0
    id_space: float = 0.0
    name_traditional: float = 0.0
    name_homophone: float = 0.0
    name_dot_variant: float = 0.0  # of names with a middle dot
    vocab_trailing_space: float = 0.0
    age_xusui: float = 0.0  # cremation ages given as 虚岁, full age + 1
    date_untypeable: float = 0.0  # a birth date no calendar has (the loader must quarantine the row)

    def scaled(self, factor: float) -> "Rates":
        return replace(self, **{f.name: min(1.0, getattr(self, f.name) * factor) for f in fields(self)})


_ROSTER = Rates(
    id_blank=0.002, id_typo=0.006, id_transposed=0.004, id_15=0.05, id_lower_x=0.3, id_fullwidth=0.005, id_space=0.01,
    name_traditional=0.02, name_homophone=0.01, name_dot_variant=0.4, vocab_trailing_space=0.01,
)
RATES = {
    # the register is the reference: formatting and old numbers only
    "household_register": Rates(id_15=0.02, id_lower_x=0.1, id_fullwidth=0.002, id_space=0.003, name_dot_variant=0.03,
                                vocab_trailing_space=0.005, date_untypeable=0.0005),
    "dibao": _ROSTER,
    "tekun": _ROSTER,
    "registered_poor": _ROSTER,
    "disability": _ROSTER,
    # ledger lines repeat the payee record every month, typos included
    "payments": replace(_ROSTER, id_blank=0.0, id_15=0.03, vocab_trailing_space=0.005),
    # names as the family gives them, numbers often missing
    "cremation": replace(_ROSTER, id_blank=0.15, id_typo=0.02, id_transposed=0.01, id_fullwidth=0.01, id_space=0.02,
                         name_homophone=0.03, name_dot_variant=0.5, age_xusui=0.75),
}


class _Noise:
    def __init__(self, rng: random.Random, rates: Rates, converter: OpenCC) -> None:
        self.rng = rng
        self.rates = rates
        self.converter = converter

    def id_number(self, number: str, born: int, forced: str | None = None) -> tuple[str | None, list[str]]:
        rng, rates = self.rng, self.rates
        if forced == "clean":
            return number, []  # a number planted as written (an unrepairable one): left exactly so
        kind = forced
        if kind is None:
            draw = rng.random()
            bound = 0.0
            for label in ("id_blank", "id_typo", "id_transposed"):
                bound += getattr(rates, label)
                if draw < bound:
                    kind = label
                    break
        if kind is None and born < 1970 and rng.random() < rates.id_15:
            kind = "id_15"
        text = number
        if kind == "id_blank":
            return None, [kind]
        if kind == "id_typo":
            text = self._typo(text)
        elif kind == "id_transposed":
            text = self._transpose(text)
        elif kind == "id_15":
            text = to_15(text)
        labels = [kind] if kind else []
        if text.endswith("X") and rng.random() < rates.id_lower_x:
            text = text[:-1] + "x"
            labels.append("id_lower_x")
        if rng.random() < rates.id_fullwidth:
            text = text.translate(_FULL_WIDTH)
            labels.append("id_fullwidth")
        if rng.random() < rates.id_space:
            where = rng.choice((0, 6, 14, len(text)))
            text = text[:where] + " " + text[where:]
            labels.append("id_space")
        return text, labels

    def _typo(self, text: str) -> str:
        position = self.rng.randrange(len(text))
        pool = _CHECK_CHARS if position == len(text) - 1 else "0123456789"
        return text[:position] + self.rng.choice([c for c in pool if c != text[position]]) + text[position + 1:]

    def _transpose(self, text: str) -> str:
        positions = [i for i in range(len(text) - 1) if text[i] != text[i + 1] and text[i + 1] != "X"]
        i = self.rng.choice(positions)
        return text[:i] + text[i + 1] + text[i] + text[i + 2:]

    def name(self, name: str) -> tuple[str, list[str]]:
        rng, rates = self.rng, self.rates
        labels = []
        if "·" in name and rng.random() < rates.name_dot_variant:
            name = name.replace("·", rng.choice(DOT_VARIANTS))
            labels.append("name_dot_variant")
        if rng.random() < rates.name_traditional:
            converted = self.converter.convert(name)
            if converted != name:
                name = converted
                labels.append("name_traditional")
        elif rng.random() < rates.name_homophone:
            # a given-name character (the surname is rarely misheard)
            positions = [i for i in range(1, len(name)) if name[i] in HOMOPHONES]
            if positions:
                i = rng.choice(positions)
                name = name[:i] + HOMOPHONES[name[i]] + name[i + 1:]
                labels.append("name_homophone")
        return name, labels


def _person_fields(noise: _Noise, row: Row, forced: str | None) -> list[str]:
    values = row.values
    p = row.person
    labels = []
    if values.get("id_number") is not None:
        values["id_number"], id_labels = noise.id_number(values["id_number"], p.birth.year, forced)
        labels += id_labels
    values["name"], name_labels = noise.name(values["name"])
    return labels + name_labels


def _head_fields(noise: _Noise, row: Row) -> list[str]:
    values = row.values
    labels = []
    if row.head is None:
        return labels
    values["head_id_number"], id_labels = noise.id_number(values["head_id_number"], row.head.birth.year)
    values["head_name"], name_labels = noise.name(values["head_name"])
    return ["head_" + label for label in id_labels + name_labels]


def _may_lose_register_row(row: Row) -> bool:
    person = row.person
    return (not person.scenario and not person.on_roster and person.death is None and person.move_out is None
            and "birth_date" in row.values)


def apply_noise(rows: dict[str, list[Row]], *, seed: int, scale: float) -> None:
    """Damage the rows in place, as county systems do, and label each change on its row."""
    converter = OpenCC("s2t")
    for stem, stem_rows in rows.items():
        rates = RATES[stem].scaled(scale)
        noise = _Noise(random.Random(f"{seed}:noise:{stem}"), rates, converter)
        vocab_columns = [c.name for c in BY_STEM[stem].columns if c.kind in ("code", "flag", "grade")]
        streams: dict[str, tuple[str | None, str, list[str]]] = {}
        for row in stem_rows:
            # planted damage (a blank cremation number) is noise too: noise=0 gives a clean drop
            forced = row.person.force_noise.get(stem) if scale > 0 else None
            if stem == "payments":
                # one payee record per stream: the same typo every month
                cached = streams.get(row.stream)
                if cached is None:
                    labels = _person_fields(noise, row, forced)
                    cached = streams[row.stream] = (row.values["id_number"], row.values["name"], labels)
                row.values["id_number"], row.values["name"] = cached[0], cached[1]
                row.labels = list(cached[2])
            else:
                row.labels = _person_fields(noise, row, forced) + _head_fields(noise, row)
            if stem == "cremation" and noise.rng.random() < rates.age_xusui:
                row.values["age_at_death"] = str(int(row.values["age_at_death"]) + 1)
                row.labels.append("age_xusui")
            if noise.rng.random() < rates.date_untypeable and _may_lose_register_row(row):
                # only people no finding rests on: a quarantined row is out of every check
                row.values["birth_date"] = noise.rng.choice(UNTYPEABLE_DATES).format(y=row.person.birth.year)
                row.labels.append("date_untypeable")
            if noise.rng.random() < rates.vocab_trailing_space:
                filled = [c for c in vocab_columns if row.values.get(c)]
                if filled:
                    column = noise.rng.choice(filled)
                    row.values[column] = row.values[column] + " "
                    row.labels.append("vocab_trailing_space")

