"""Citizen-number repair (matching/repair.py).

Every typed number below is a register number with one slip made by hand
(`substitute`, `transpose`), so the expected repair, position and characters
are read off the slip itself. GB 11643's check catches every single slip, so
each typed number is invalid, as the rows `repair_id_numbers` gets are.
"""

import datetime
import random
import time

import polars as pl
import pytest

from hecha.matching.id_number import check_character, make_id_number
from hecha.matching.repair import REPAIR_STATUSES, repair_id_numbers


def substitute(number: str, position: int, character: str) -> str:
    """`number` with `character` typed at `position` (counted from 1, as the explanation counts)."""
    assert number[position - 1] != character, "a substitution must change the character"
    return number[: position - 1] + character + number[position:]


def transpose(number: str, position: int) -> str:
    """`number` with the characters at `position` and `position + 1` (from 1) swapped."""
    first, second = number[position - 1], number[position]
    assert first != second, "swapping equal characters changes nothing"
    return number[: position - 1] + second + first + number[position + 1 :]


WANG_LI_BIRTH = datetime.date(1985, 3, 12)
# Sequence 024: even, a woman. Characters 11-12 are the month "03".
WANG_LI = make_id_number("110105", WANG_LI_BIRTH, 24)
# GB 11643's own example: born 1949-12-31, sequence 002 (a woman), check X.
ZHAO_MIN = "11010519491231002X"
ZHAO_MIN_BIRTH = datetime.date(1949, 12, 31)
LI_JIANGUO = make_id_number("110108", datetime.date(1962, 7, 1), 131)
ABDU = make_id_number("653101", datetime.date(1970, 5, 5), 17)

REGISTER = pl.DataFrame(
    {
        "person_id": ["P-wangli", "P-zhaomin", "P-lijianguo", "P-abdu"],
        "id_number": [WANG_LI, ZHAO_MIN, LI_JIANGUO, ABDU],
        "name": ["王丽", "赵敏", "李建国", "阿不都热合曼"],
        "sex": ["F", "F", "M", "M"],
        "birth_date": [WANG_LI_BIRTH, ZHAO_MIN_BIRTH, datetime.date(1962, 7, 1), datetime.date(1970, 5, 5)],
    }
)

# Month "03" typed "08": the typed number still holds a real date, only its check fails.
WANG_LI_MONTH_TYPO = substitute(WANG_LI, 12, "8")
# Sequence "024" typed "204": positions 15 and 16 swapped; still even, still a woman.
WANG_LI_SEQUENCE_SWAP = transpose(WANG_LI, 15)
WANG_LI_WRONG_CHECK = substitute(WANG_LI, 18, "7" if WANG_LI[17] != "7" else "5")
# Year 1949 typed 1994: positions 9 and 10 swapped.
ZHAO_MIN_YEAR_SWAP = transpose(ZHAO_MIN, 9)
FULL_WIDTH = {str(digit): chr(0xFF10 + digit) for digit in range(10)} | {"X": "Ｘ"}

ALL_AGREE = "姓名、出生日期、性别一致"


def wang_li_month_typo_repaired(agreement: str) -> dict:
    return {
        "person_id": "P-wangli",
        "repaired_id_number": WANG_LI,
        "status": "repaired",
        "candidate_count": 1,
        "explanation": f"身份证号第12位录入错误，修复为户籍人员（{agreement}）",  # a birth-date digit: not named
    }


def wang_li_month_typo_refused(reason: str) -> dict:
    return {
        "person_id": None,
        "repaired_id_number": None,
        "status": "disagrees",
        "candidate_count": 1,
        "explanation": f"相近号码的户籍人员与本行不一致（第12位录入错误：王丽 {WANG_LI}，{reason}），不自动修复",
    }


# (description, row: (id_number_raw, name, sex, birth_date), expected)
CASES = [
    (
        "single digit substituted in the month",
        (WANG_LI_MONTH_TYPO, "王丽", "F", WANG_LI_BIRTH),
        wang_li_month_typo_repaired(ALL_AGREE),
    ),
    (
        "adjacent digits swapped in the sequence code",
        (WANG_LI_SEQUENCE_SWAP, "王丽", "F", WANG_LI_BIRTH),
        {
            "person_id": "P-wangli",
            "repaired_id_number": WANG_LI,
            "status": "repaired",
            "candidate_count": 1,
            "explanation": f"身份证号第15、16位颠倒，修复为户籍人员（{ALL_AGREE}）",
        },
    ),
    (
        "wrong check character",
        (WANG_LI_WRONG_CHECK, "王丽", "F", WANG_LI_BIRTH),
        {
            "person_id": "P-wangli",
            "repaired_id_number": WANG_LI,
            "status": "repaired",
            "candidate_count": 1,
            "explanation": f"身份证号第18位录入错误（{WANG_LI_WRONG_CHECK[17]}→{WANG_LI[17]}），修复为户籍人员（{ALL_AGREE}）",
        },
    ),
    (
        "same-sound given name and a lunar birthday 30 days early",
        (WANG_LI_MONTH_TYPO, "王莉", "F", WANG_LI_BIRTH - datetime.timedelta(days=30)),
        wang_li_month_typo_repaired("性别一致，姓名同音（王莉/王丽），出生日期相差30天"),
    ),
    (
        "birthday 50 days late is still within the lunar tolerance",
        (WANG_LI_MONTH_TYPO, "王丽", "F", WANG_LI_BIRTH + datetime.timedelta(days=50)),
        wang_li_month_typo_repaired("姓名、性别一致，出生日期相差50天"),
    ),
    (
        "birthday 80 days off is too far",
        (WANG_LI_MONTH_TYPO, "王丽", "F", WANG_LI_BIRTH - datetime.timedelta(days=80)),
        wang_li_month_typo_refused("出生日期相差80天"),
    ),
    (
        "payment row without sex or birth date repairs on the name alone",
        (WANG_LI_MONTH_TYPO, "王丽", None, None),
        wang_li_month_typo_repaired("姓名一致，无出生日期、性别可比"),
    ),
    (
        "payment row with another name is refused",
        (WANG_LI_MONTH_TYPO, "张伟", None, None),
        wang_li_month_typo_refused("姓名不一致（张伟/王丽）"),
    ),
    (
        "name disagrees although sex and birth date agree",
        (WANG_LI_MONTH_TYPO, "张伟", "F", WANG_LI_BIRTH),
        wang_li_month_typo_refused("姓名不一致（张伟/王丽）"),
    ),
    (
        "row without a name is refused: the name must always agree",
        (WANG_LI_MONTH_TYPO, None, "F", WANG_LI_BIRTH),
        wang_li_month_typo_refused("本行无姓名可比"),
    ),
    (
        "sex disagrees",
        (WANG_LI_MONTH_TYPO, "王丽", "M", WANG_LI_BIRTH),
        wang_li_month_typo_refused("性别不一致（男/女）"),
    ),
    (
        # 阿不都热合买 / 阿不都热合曼: 6 characters, 1 differs, Indel 1 - 2/12 = 0.83;
        # 买 mai and 曼 man do not sound alike.
        "long transliterated name one character off is similar enough",
        (substitute(ABDU, 3, "2"), "阿不都热合买", "M", datetime.date(1970, 5, 5)),
        {
            "person_id": "P-abdu",
            "repaired_id_number": ABDU,
            "status": "repaired",
            "candidate_count": 1,
            "explanation": "身份证号第3位录入错误（2→3），修复为户籍人员（出生日期、性别一致，姓名相近（阿不都热合买/阿不都热合曼））",
        },
    ),
    (
        # 李建华 / 李建国: 3 characters, 1 differs, Indel 1 - 2/6 = 0.67 < 0.8; hua ≠ guo.
        "three-character name with another given character is refused",
        (substitute(LI_JIANGUO, 1, "2"), "李建华", "M", datetime.date(1962, 7, 1)),
        {
            "person_id": None,
            "repaired_id_number": None,
            "status": "disagrees",
            "candidate_count": 1,
            "explanation": f"相近号码的户籍人员与本行不一致（第1位录入错误（2→1）：李建国 {LI_JIANGUO}，姓名不一致（李建华/李建国）），不自动修复",
        },
    ),
    (
        "lower-case x, otherwise a transposition",
        (ZHAO_MIN_YEAR_SWAP.lower(), "赵敏", "F", ZHAO_MIN_BIRTH),
        {
            "person_id": "P-zhaomin",
            "repaired_id_number": ZHAO_MIN,
            "status": "repaired",
            "candidate_count": 1,
            "explanation": f"身份证号第9、10位颠倒，修复为户籍人员（{ALL_AGREE}）",
        },
    ),
    (
        "full-width digits and X with spaces, otherwise a transposition",
        (" " + "".join(FULL_WIDTH[c] for c in ZHAO_MIN_YEAR_SWAP) + "\u3000", "赵敏", "F", ZHAO_MIN_BIRTH),
        {
            "person_id": "P-zhaomin",
            "repaired_id_number": ZHAO_MIN,
            "status": "repaired",
            "candidate_count": 1,
            "explanation": f"身份证号第9、10位颠倒，修复为户籍人员（{ALL_AGREE}）",
        },
    ),
    (
        # An 18-character number with a letter typed for a digit is still one slip away.
        "letter typed for a digit",
        (substitute(ZHAO_MIN, 17, "A"), "赵敏", "F", ZHAO_MIN_BIRTH),
        {
            "person_id": "P-zhaomin",
            "repaired_id_number": ZHAO_MIN,
            "status": "repaired",
            "candidate_count": 1,
            "explanation": f"身份证号第17位录入错误（A→2），修复为户籍人员（{ALL_AGREE}）",
        },
    ),
    (
        # Two slips: month typed 8 and area code typed 2; no register number is one slip away.
        "two slips find no candidate",
        (substitute(WANG_LI_MONTH_TYPO, 1, "2"), "王丽", "F", WANG_LI_BIRTH),
        {
            "person_id": None,
            "repaired_id_number": None,
            "status": "no_candidate",
            "candidate_count": 0,
            "explanation": "身份证号无效，户籍中没有只差一位或相邻两位颠倒的号码，无法修复",
        },
    ),
    (
        "17 characters are not searched",
        (WANG_LI[:17], "王丽", "F", WANG_LI_BIRTH),
        {
            "person_id": None,
            "repaired_id_number": None,
            "status": "not_18",
            "candidate_count": 0,
            "explanation": "身份证号为17位，不是18位，不按录入错误修复",
        },
    ),
    (
        # The 15-digit form with an impossible date (February 30) is invalid, not upgraded.
        "invalid 15-digit number is not searched",
        ("110105850230024", "王丽", "F", WANG_LI_BIRTH),
        {
            "person_id": None,
            "repaired_id_number": None,
            "status": "not_18",
            "candidate_count": 0,
            "explanation": "身份证号为15位，不是18位，不按录入错误修复",
        },
    ),
]


def rows_frame(rows: list[tuple]) -> pl.DataFrame:
    """Source rows in the shape repair_id_numbers takes, numbered from 1."""
    return pl.DataFrame(
        [("dibao", number, "subject", raw, name, sex, birth) for number, (raw, name, sex, birth) in enumerate(rows, 1)],
        schema={
            "source": pl.String,
            "source_row": pl.Int64,
            "role": pl.String,
            "id_number_raw": pl.String,
            "name": pl.String,
            "sex": pl.String,
            "birth_date": pl.Date,
        },
        orient="row",
    )


@pytest.mark.parametrize(("row", "expected"), [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_repair_id_numbers_single_row(row, expected):
    (result,) = repair_id_numbers(rows_frame([row]), REGISTER).to_dicts()
    assert result == {"source": "dibao", "source_row": 1, "role": "subject"} | expected


def test_repair_id_numbers_refuses_two_agreeing_candidates():
    # A second 王丽, same birth date, whose number is one slip from the typed
    # number at position 15 (sequence code) while 王丽's is one slip away at
    # position 16: both agree, so neither is chosen.
    typed = substitute(WANG_LI, 16, "5")
    (twin,) = [
        candidate
        for digit in "0123456789"
        if digit != typed[14]
        for candidate in [substitute(typed, 15, digit)]
        if check_character(candidate[:17]) == candidate[17]
    ]
    register = pl.concat(
        [
            REGISTER,
            pl.DataFrame(
                {
                    "person_id": ["P-wangli-2"],
                    "id_number": [twin],
                    "name": ["王丽"],
                    "sex": ["F"],
                    "birth_date": [WANG_LI_BIRTH],
                }
            ),
        ]
    )
    (result,) = repair_id_numbers(rows_frame([(typed, "王丽", "F", WANG_LI_BIRTH)]), register).to_dicts()
    # Candidates are listed in number order.
    listed = sorted(
        [(twin, f"第15位录入错误（{typed[14]}→{twin[14]}）"), (WANG_LI, f"第16位录入错误（5→{WANG_LI[15]}）")]
    )
    assert result == {
        "source": "dibao",
        "source_row": 1,
        "role": "subject",
        "person_id": None,
        "repaired_id_number": None,
        "status": "ambiguous",
        "candidate_count": 2,
        "explanation": "两个户籍人员都可能（" + "；".join(f"{slip}：王丽 {number}" for number, slip in listed) + "），不自动修复",
    }


def test_repair_id_numbers_keeps_one_row_per_input_in_order():
    rows = [case[1] for case in CASES]
    result = repair_id_numbers(rows_frame(rows), REGISTER)
    assert result.columns == [
        "source",
        "source_row",
        "role",
        "person_id",
        "repaired_id_number",
        "status",
        "candidate_count",
        "explanation",
    ]
    assert result["source_row"].to_list() == list(range(1, len(CASES) + 1))
    assert result["status"].to_list() == [case[2]["status"] for case in CASES]
    assert set(result["status"]) <= set(REPAIR_STATUSES)


def test_repair_id_numbers_finds_nothing_for_a_valid_number():
    # No valid number is one slip from another, so a valid number passed in
    # by mistake is never "repaired" to someone else.
    (result,) = repair_id_numbers(rows_frame([(WANG_LI, "王丽", "F", WANG_LI_BIRTH)]), REGISTER).to_dicts()
    assert (result["status"], result["candidate_count"]) == ("no_candidate", 0)


def test_repair_id_numbers_accepts_no_rows():
    assert repair_id_numbers(rows_frame([]), REGISTER).height == 0


@pytest.mark.slow
def test_repair_id_numbers_scale():
    rng = random.Random(20240601)
    surnames, given = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高", "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂"
    areas = [f"{code:06d}" for code in range(110101, 110121)]
    numbers: set[str] = set()
    while len(numbers) < 200_000:
        birth = datetime.date(1930, 1, 1) + datetime.timedelta(days=rng.randrange(30_000))
        numbers.add(make_id_number(rng.choice(areas), birth, rng.randrange(1000)))
    register = pl.DataFrame({"id_number": sorted(numbers)}).with_columns(
        person_id=pl.format("P{}", pl.int_range(pl.len())),
        name=pl.Series([rng.choice(surnames) + rng.choice(given) + rng.choice(given) for _ in numbers]),
        sex=pl.lit(None, dtype=pl.String),
        birth_date=pl.lit(None, dtype=pl.Date),
    )
    picked = register.sample(5_000, seed=7)
    typed_rows = []
    for number, name in picked.select("id_number", "name").iter_rows():
        position = rng.randrange(1, 18)
        if rng.random() < 0.5 and number[position - 1] != number[position]:
            typed = transpose(number, position)
        else:
            typed = substitute(number, position, rng.choice([d for d in "0123456789" if d != number[position - 1]]))
        typed_rows.append((typed, name, None, None))
    rows = rows_frame(typed_rows)

    started = time.perf_counter()
    result = repair_id_numbers(rows, register)
    elapsed = time.perf_counter() - started

    print(f"\nrepair_id_numbers: {rows.height} rows against {register.height} register persons in {elapsed:.2f}s")
    print(result["status"].value_counts(sort=True))
    assert result.height == rows.height


def test_every_single_slip_the_check_catches_is_repaired_at_every_position():
    """Each of the ~190 slips of a register number (18 positions × every character, 17 swaps) that fails
    MOD 11-2 is repaired back to its holder: the arithmetic that skips the variants MOD 11-2 rejects
    must never skip the one that is the register's number (the check character and the last swap included)."""
    holders = REGISTER.select("id_number", "name", "sex", "birth_date").rows()
    last_swaps = [number[:16] + number[17] + number[16] for number, *_ in holders if number[16] != number[17]]
    assert any(swap[16].isdigit() and check_character(swap[:17]) != swap[17] for swap in last_swaps)
    rows, expected = [], []
    for number, name, sex, birth in holders:
        variants = {number[:p] + c + number[p + 1:] for p in range(18) for c in "0123456789X" if c != number[p]}
        variants |= {number[:p] + number[p + 1] + number[p] + number[p + 2:] for p in range(17) if number[p] != number[p + 1]}
        for variant in sorted(variants):
            if check_character(variant[:17]) == variant[17] if variant[:17].isdigit() else False:
                continue  # MOD 11-2 accepts it: not a slip repair sees
            rows.append((variant, name, sex, birth))
            expected.append(number)
    result = repair_id_numbers(rows_frame(rows), REGISTER)
    assert len(rows) > 300
    assert result["status"].to_list() == ["repaired"] * len(rows)
    assert result["repaired_id_number"].to_list() == expected
