"""What an inspector holds cannot be turned back into citizen numbers.

A workbook row shows a number's first 6 and last 4 characters; the 8 hidden
ones are a birth date, and with the check character only about 4,200 numbers
fit. Here the sample drop is analysed under a secret, its workbooks written
and read back as an inspector has them, and for every row with a masked
number every fitting number is tried: hashed as case keys and person ids used
to be (md5, unkeyed) and with HMAC under a guessed key. None may give the
row's 案件编号 or 关联编号 — while under the old scheme nearly every row would have
given its number away. Nor may the row's text print the person's birth date.
"""

import datetime as dt
import hashlib
import hmac
import re
from pathlib import Path
from typing import NamedTuple

import duckdb
import openpyxl
import pytest

from hecha.audit.feedback import CASE_KEY_HEADER, LINK_KEY_HEADER, META_SHEET
from hecha.config import load_policy
from hecha.flows.pipeline import analyse_drop
from hecha.matching.id_number import CHECK_CHARACTERS, CHECK_WEIGHTS
from hecha.reports.workbooks import SUMMARY_SHEET, write_workbooks
from tests.county import TEST_SECRET

SAMPLE_DROP = Path(__file__).resolve().parents[2] / "data" / "sample" / "drop"
AS_OF = "2026-10"
LAST_DAY = dt.date(2026, 10, 31)
GUESSED_KEY = b""  # HMAC pads a key with zero bytes: this is every all-zero key too
MASKED = re.compile(r"(\d{6})\*{8}(\d{3}[\dX])")
KEY_HEADERS = (CASE_KEY_HEADER, LINK_KEY_HEADER)


def every_day(first: dt.date, last: dt.date) -> list[str]:
    return [f"{first + dt.timedelta(days=n):%Y%m%d}" for n in range((last - first).days + 1)]


DATES = every_day(dt.date(1900, 1, 1), LAST_DAY)


def weighted(digits: str, first_position: int) -> int:
    return sum(int(digit) * CHECK_WEIGHTS[first_position + i] for i, digit in enumerate(digits))


# Birth dates by their share of the check sum, so that only numbers with the shown check character are built.
DATES_BY_REMAINDER = {r: [d for d in DATES if weighted(d, 6) % 11 == r] for r in range(11)}


def fitting_numbers(first6: str, last4: str, *, check_must_fit: bool) -> list[str]:
    """Every 18-character number with these first 6 and last 4 characters and a real birth date up to as_of."""
    if not check_must_fit:  # a number that fails its check (an identity anomaly's): any date fits
        return [first6 + day + last4 for day in DATES]
    known = weighted(first6, 0) + weighted(last4[:3], 14)
    remainder = (CHECK_CHARACTERS.index(last4[3]) - known) % 11
    return [first6 + day + last4 for day in DATES_BY_REMAINDER[remainder]]


def md5_hex(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()


def guessed_hmac(text: str) -> str:
    return hmac.digest(GUESSED_KEY, text.encode(), "sha256").hex()


def person_ids_of(number: str) -> tuple[str, str]:
    """The person ids `number` would have: the old md5 one, and HMAC under the guessed key."""
    return "P" + md5_hex(number)[:15], "P" + guessed_hmac("person|" + number)[:15]


def case_keys_of(check_code: str, number: str, case_no: str | None) -> set[str]:
    """The case keys a finding about `number` would have: subject the person id (alone or with the case), or the number."""
    keys = set()
    for person_id, hash_hex in zip(person_ids_of(number), (md5_hex, guessed_hmac)):
        subjects = [person_id, number] + ([f"{person_id}|{case_no}"] if case_no else [])
        keys |= {hash_hex(f"{check_code}|{subject}")[:16] for subject in subjects}
    return keys


def date_texts(day: dt.date) -> set[str]:
    """A date in the ways Chinese text writes one."""
    return {f"{day:%Y%m%d}", f"{day:%Y-%m-%d}", f"{day:%Y/%m/%d}", f"{day:%Y.%m.%d}", f"{day:%Y年%m月%d日}",
            f"{day.year}年{day.month}月{day.day}日", f"{day.year}-{day.month}-{day.day}", f"{day.year}.{day.month}.{day.day}"}


def embedded_birth_date(number: str) -> dt.date | None:
    try:
        return dt.datetime.strptime(number[6:14], "%Y%m%d").date() if len(number) == 18 else None
    except ValueError:
        return None


def workbook_rows(paths: list[Path]) -> list[dict]:
    rows = []
    for path in paths:
        book = openpyxl.load_workbook(path, read_only=True)
        for sheet in book.worksheets:
            if sheet.title in (SUMMARY_SHEET, META_SHEET):
                continue
            values = list(sheet.iter_rows(values_only=True))
            rows += [dict(zip(values[0], row)) for row in values[1:]]
        book.close()
    return rows


# Rows the linker would list for an inspector to confirm: the sample has none, so some exact links are listed as if
# uncertain — the 待确认 sheet then shows their people's masked numbers beside 关联编号 (source:row:person_id).
AS_IF_UNCERTAIN = """
insert into link.review
select source, source_row, role, person_id, null, 0.8, 0.8, 'linked_to_confirm', null, '概率匹配 0.800', null
from link.person_record
where source = 'payments' and role = 'subject' and person_id is not null
order by source_row
limit 20
"""


class Target(NamedTuple):
    """A key an inspector sees beside a masked number, and the truth behind it."""

    kind: str  # "case" (案件编号) or "link" (关联编号's person id)
    key: str
    first6: str
    last4: str
    check_code: str | None
    case_no: str | None
    person_id: str | None  # None: a finding keyed by the number itself (an unrepairable one)
    number: str
    register_birth: dt.date | None
    texts: tuple[str, ...]  # the row's other cells


@pytest.fixture(scope="module")
def targets(tmp_path_factory) -> list[Target]:
    """Every masked number with a key in the sample's workbooks, analysed under the test secret, once each."""
    con = duckdb.connect()
    analyse_drop(con, SAMPLE_DROP, AS_OF, secret=TEST_SECRET)
    con.execute(AS_IF_UNCERTAIN)
    paths = write_workbooks(con, tmp_path_factory.mktemp("workbooks"), run_id="reversal", as_of=AS_OF, county="130534",
                            policy=load_policy())
    findings = {row[0]: row[1:] for row in con.execute("select case_key, check_code, person_id, id_number from chk.finding").fetchall()}
    persons = {row[0]: row[1:] for row in con.execute("select person_id, id_number, birth_date from link.person").fetchall()}
    found = {}
    for row in workbook_rows(paths):
        texts = tuple(str(value) for header, value in row.items() if value is not None and header not in KEY_HEADERS)
        key, shown = row.get(CASE_KEY_HEADER), MASKED.fullmatch(str(row.get("身份证号") or ""))
        if key and shown:
            check_code, person_id, number = findings[key]
            birth = persons[person_id][1] if person_id else None
            found["case", key] = Target("case", key, *shown.groups(), check_code, row.get("证号"), person_id, number, birth, texts)
        link, shown = row.get(LINK_KEY_HEADER), MASKED.fullmatch(str(row.get("候选人身份证号") or ""))
        if link and shown:
            person_id = link.rsplit(":", 1)[1]
            number, birth = persons[person_id]
            found["link", person_id] = Target("link", person_id, *shown.groups(), None, None, person_id, number, birth, texts)
    return list(found.values())


def test_workbooks_show_masked_numbers_with_case_keys_and_person_ids(targets):
    kinds = [target.kind for target in targets]
    assert kinds.count("case") >= 100 and kinds.count("link") >= 10


def test_no_case_key_or_person_id_gives_away_the_masked_number(targets):
    would_have_leaked = 0
    for target in targets:
        number = target.number
        is_valid = CHECK_CHARACTERS[weighted(number[:17], 0) % 11] == number[17]
        candidates = fitting_numbers(target.first6, target.last4, check_must_fit=is_valid)
        if target.kind == "case":
            tried = set().union(*(case_keys_of(target.check_code, candidate, target.case_no) for candidate in candidates))
            old_subject = person_ids_of(number)[0] if target.person_id else number  # as cases were keyed before
            old_key = md5_hex(f"{target.check_code}|{old_subject}")[:16]
        else:
            tried = {person_id for candidate in candidates for person_id in person_ids_of(candidate)}
            old_key = person_ids_of(number)[0]
        assert target.key not in tried, f"{target.kind} {target.key}: {target.first6}…{target.last4} recovered from its key"
        would_have_leaked += old_key in tried
    # the attack is real: keyed as before, nearly every row would have given its number away
    assert would_have_leaked >= 0.9 * len(targets)


def test_no_row_prints_its_persons_birth_date(targets):
    for target in targets:
        for birth in {embedded_birth_date(target.number), target.register_birth} - {None}:
            for written in date_texts(birth):
                assert not any(written in text for text in target.texts), f"{target.key}: {written} beside a masked number"
