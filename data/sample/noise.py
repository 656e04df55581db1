"""The noise real extracts carry, applied to rows after the truth is fixed.

Citizen numbers mistyped or transposed, 15-digit first-generation forms,
lower-case x, full-width digits, stray spaces, blank cremation numbers;
names in traditional characters, with a same-sound character, with another
middle dot; 虚岁 ages in cremation rows; trailing spaces in vocabulary values.
Every change is recorded on the row (`Row.labels`) so the truth can say which
rows an exact-match linker cannot use. Rates are per row at noise=1 and scale
linearly (noise=2 doubles each, capped at 1). Which rows get noise never
changes amounts, months or case numbers.

Some damage leaves a number that is well formed and belongs to nobody, so an
exact-number linker gets the row wrong with certainty instead of failing to
read it (`WRONG_NUMBER_KINDS`): a mistyped 15-digit number (it still upgrades
to a valid 18-digit one), a wrong division code with the check character
recomputed (as systems that build the number from a form do), two slips that
happen to pass MOD 11-2. They have their own scale (`number_scale`) and their
own random stream, so choosing their rate leaves every other change as it was.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Collection, Container
from dataclasses import dataclass, fields, replace

from opencc import OpenCC

from data.sample.county import COUNTY_CODE, HOMOPHONES, NEIGHBOUR_COUNTIES
from data.sample.ids import check_char, normalize, to_15
from data.sample.rows import Row
from hecha.extracts.declarations import BY_STEM

DOT_VARIANTS = ("•", "・", "．", "-")
UNTYPEABLE_DATES = ("{y}-02-30", "{y}-13-01", "{y}年3月", "{y}-06-31")
_FULL_WIDTH = str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")
_CHECK_CHARS = "0123456789X"
WRONG_NUMBER_KINDS = ("id_15_typo", "id_division", "id_two_slip")
_DIVISION_CODES = (COUNTY_CODE, *(code for code, *_ in NEIGHBOUR_COUNTIES))
# Where the register's own number may be damaged: the division code and the first two
# sequence digits. Its birth-date and sex digits stay, or the register would contradict
# itself and identity_anomaly would gain findings no scenario planted.
_REGISTER_SAFE_18 = (0, 1, 2, 3, 4, 5, 14, 15, 17)
_REGISTER_SAFE_15 = (0, 1, 2, 3, 4, 5, 12, 13)


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
    # numbers that are valid and nobody's (WRONG_NUMBER_KINDS), on rows no other id damage took
    id_15_typo: float = 0.0  # of 15-digit numbers: one digit mistyped, so the upgrade is someone else's form
    id_division: float = 0.0  # another division code (one digit off, or a neighbouring county's), check recomputed
    id_two_slip: float = 0.0  # two slips (two substitutions, or one and a swap) that pass MOD 11-2

    def scaled(self, factor: float, number_factor: float | None = None) -> "Rates":
        """Every rate times `factor`, the wrong-number kinds times `number_factor` (default: `factor`), capped at 1."""
        number_factor = factor if number_factor is None else number_factor
        return replace(self, **{
            f.name: min(1.0, getattr(self, f.name) * (number_factor if f.name in WRONG_NUMBER_KINDS else factor))
            for f in fields(self)
        })


_ROSTER = Rates(
    id_blank=0.002, id_typo=0.006, id_transposed=0.004, id_15=0.05, id_lower_x=0.3, id_fullwidth=0.005, id_space=0.01,
    name_traditional=0.02, name_homophone=0.01, name_dot_variant=0.4, vocab_trailing_space=0.01,
    id_15_typo=0.07, id_division=0.003, id_two_slip=0.002,
)
RATES = {
    # the register is the reference: formatting and old numbers, and rarely a wrong number
    # (then the register person's own number is wrong, its birth and sex digits kept)
    "household_register": Rates(id_15=0.02, id_lower_x=0.1, id_fullwidth=0.002, id_space=0.003, name_dot_variant=0.03,
                                vocab_trailing_space=0.005, date_untypeable=0.0005,
                                id_15_typo=0.01, id_division=0.0005, id_two_slip=0.0002),
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
    def __init__(self, rng: random.Random, rates: Rates, converter: OpenCC, *, number_rng: random.Random | None = None,
                 issued: Collection[str] = (), taken: Container[str] = (), made: dict[str, str] | None = None,
                 latest_birth: dt.date = dt.date.max, register: bool = False) -> None:
        self.rng = rng
        self.rates = rates
        self.converter = converter
        # the wrong-number kinds draw from their own stream: their rates leave every other change alone
        self.number_rng = rng if number_rng is None else number_rng
        self.issued = issued  # every true number: a wrong number must be nobody's
        self.taken = taken  # and every number the county's earlier shards issued or wrote
        self.made = {} if made is None else made  # wrong number → the true number it was written for
        self.latest_birth = latest_birth  # a wrong number's birth date is still a date a validator accepts
        self.register = register

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
        if forced is None:
            kind = self._wrong_number_kind(kind)
        text = number
        if kind == "id_blank":
            return None, [kind]
        if kind == "id_typo":
            text = self._typo(text)
        elif kind == "id_transposed":
            text = self._transpose(text)
        elif kind == "id_15":
            text = to_15(text)
        elif kind in WRONG_NUMBER_KINDS:
            wrong = self._wrong_number(number, kind)
            if wrong is None:
                kind = "id_15" if kind == "id_15_typo" else None  # every form it could take is someone's
                text = to_15(number) if kind else number
            else:
                text = wrong
        labels = [kind] if kind else []
        # the main stream draws as it would for the number a wrong-number kind replaced
        # (its check character may differ), so number_scale changes no other noise
        replaced = number if kind in ("id_division", "id_two_slip") else text
        draw = rng.random() if replaced.endswith("X") else None
        if text.endswith("X"):
            draw = self.number_rng.random() if draw is None else draw
            if draw < rates.id_lower_x:
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

    # -- numbers that are valid and nobody's ------------------------------------------------
    def _wrong_number_kind(self, kind: str | None) -> str | None:
        """The kind after the wrong-number draw: one draw a call, whatever the rates, so the stream stays aligned."""
        draw, rates = self.number_rng.random(), self.rates
        if kind == "id_15":
            return "id_15_typo" if draw < rates.id_15_typo else kind
        if kind is None:
            if draw < rates.id_division:
                return "id_division"
            if draw < rates.id_division + rates.id_two_slip:
                return "id_two_slip"
        return kind

    def _wrong_number(self, number: str, kind: str) -> str | None:
        """`number` as `kind` writes it, drawn again until it reads as a plausible number of nobody.

        Nobody: no issued number, nor a wrong number already written for another person
        (the same person may get the same one twice), nor a number an earlier shard took.
        None after 1,000 draws: every form is taken.
        """
        damage = {"id_15_typo": self._typo_15, "id_division": self._division, "id_two_slip": self._two_slips}[kind]
        for _ in range(1000):
            text = damage(number)
            upgraded = normalize(text)
            if (upgraded is not None and upgraded != number and upgraded not in self.issued and upgraded not in self.taken
                    and self.made.get(upgraded, number) == number and self._plausible_birth(upgraded)):
                self.made[upgraded] = number
                return text
        return None

    def _plausible_birth(self, id18: str) -> bool:
        try:
            birth = dt.date(int(id18[6:10]), int(id18[10:12]), int(id18[12:14]))
        except ValueError:
            return False
        return dt.date(1900, 1, 1) <= birth <= self.latest_birth

    def _typo_15(self, number: str) -> str:
        """The 15-digit form with one digit mistyped (upgraded, it gains a check character that fits)."""
        text = to_15(number)
        position = self.number_rng.choice(_REGISTER_SAFE_15) if self.register else self.number_rng.randrange(15)
        return text[:position] + self.number_rng.choice([c for c in "0123456789" if c != text[position]]) + text[position + 1:]

    def _division(self, number: str) -> str:
        """Another division code, check character recomputed: a neighbouring county's, or one digit off."""
        rng, area = self.number_rng, number[:6]
        if rng.random() < 0.5:
            area = rng.choice([code for code in _DIVISION_CODES if code != area])
        else:
            # the province (the first two digits) is printed on the form; the city and county are typed
            position = rng.randrange(2, 6)
            area = area[:position] + rng.choice([c for c in "0123456789" if c != area[position]]) + area[position + 1:]
        first17 = area + number[6:17]
        return first17 + check_char(first17)

    def _two_slips(self, number: str) -> str:
        """Two slips, two substitutions or a substitution and an adjacent swap; the caller keeps drawing until it passes."""
        rng = self.number_rng
        positions = _REGISTER_SAFE_18 if self.register else tuple(range(18))
        swaps = [i for i in positions if i + 1 in positions and number[i] != number[i + 1] and i + 1 != 17]
        if rng.random() < 0.5 or not swaps:
            first, second = rng.sample(positions, 2)
            return self._substitute(self._substitute(number, first), second)
        i = rng.choice(swaps)
        text = number[:i] + number[i + 1] + number[i] + number[i + 2:]
        return self._substitute(text, rng.choice([p for p in positions if p not in (i, i + 1)]))

    def _substitute(self, text: str, position: int) -> str:
        pool = _CHECK_CHARS if position == 17 else "0123456789"
        return text[:position] + self.number_rng.choice([c for c in pool if c != text[position]]) + text[position + 1:]

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


def apply_noise(rows: dict[str, list[Row]], *, seed: int | str, scale: float, number_scale: float | None = None,
                issued: Collection[str] = (), taken: Container[str] = (), latest_birth: dt.date = dt.date.max) -> list[str]:
    """Damage the rows in place, as county systems do, and label each change on its row; return the wrong numbers written.

    `number_scale` scales the wrong-number kinds alone (default: `scale`); `issued`
    holds every true number, which no wrong number may equal, nor one of `taken`
    (what a county's earlier shards issued or wrote); `latest_birth` bounds
    the birth date a wrong number may carry (the drop's last day). The wrong
    numbers come back in their 18-character form, for the shards after this one to avoid.
    """
    converter = OpenCC("s2t")
    made: dict[str, str] = {}  # a wrong number is written for one person only
    for stem, stem_rows in rows.items():
        rates = RATES[stem].scaled(scale, number_scale)
        noise = _Noise(random.Random(f"{seed}:noise:{stem}"), rates, converter,
                       number_rng=random.Random(f"{seed}:wrong-number:{stem}"), issued=issued, taken=taken, made=made,
                       latest_birth=latest_birth, register=stem == "household_register")
        vocab_columns = [c.name for c in BY_STEM[stem].columns if c.kind in ("code", "flag", "grade")]
        streams: dict[str, tuple[str | None, str, list[str]]] = {}
        for row in stem_rows:
            # planted damage (a blank cremation number) is noise too: noise=0 gives a clean drop;
            # a number planted as written (forced "clean") stays so whatever the scales
            planted = row.person.force_noise.get(stem)
            forced = planted if scale > 0 or planted == "clean" else None
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
    return list(made)
