"""Next month's payment batch, written from a generated county, with the verdict each line should get.

    python -m data.sample.batch --sample DIR [--seed N]

DIR is a generator output folder (DIR/drop, DIR/truth). The batch month M is
the manifest's as_of + 1 month. Writes DIR/batch/:

- `drop/` — DIR/drop as the extract taken a few days after as_of carries it:
  a few deaths and move-outs dated in the first days of M (register rows
  changed to 死亡/迁出 in place, or a cremation row appended with the
  register's number), a renewal row for some certificates that expired in
  as_of (issued in M, same 残疾人证号), a tekun support starting in M for
  the only covered member of some active dibao cases, and — only when too
  few supports ended before M with their person living (the generator ends
  tekun only at a death or move-out) — supports ended in as_of (终止,
  终止年月 = as_of) recorded after the drop. Nothing else changes;
  summary.json `added` lists every changed and appended row; files keep
  their formats and encodings. The night is run on it.
- `发放名册_<YYYYMM>.csv` — the batch: every ledger line of as_of carried
  to M as written (项目, 证号, 姓名, 身份证号, 金额, 乡镇), in ledger order,
  with planted lines mixed in at seeded positions. Encoding as the drop's
  payments file.
- `truth.csv` — per batch line (`line` 1 = first data row): expected
  verdict (block / hold / pass), reason_code (screen/reasons.py), kind
  (base / planted / near_miss / unknowable), scenario, true_id_number of
  the payee (empty for a payee who is nobody), note.
- `summary.json` — counts per kind, verdict, reason and scenario; the rows
  added to the batch drop; scenarios short of candidates.

The verdicts are worked out from the generator's truth, never from hecha:
each row of the drop is mapped to its true person by truth/records.csv, and
the rules of POLICY.md and the reasons' meanings are applied for month M. A
death or move-out counts when the batch drop shows it (register 死亡/迁出, a
cremation record) in a month before M; the event month itself is paid
correctly. For 低保金 the beneficiaries are the case's covered (是) members:
all gone is a block, some gone a hold (member_departed). A case is stopped
when 停保年月 / 终止年月 is before M. A certificate is valid from its issue
month through 有效期至 (a 注销 one through the holder's death or the issue of
a later certificate); a care subsidy needs grade 1–2. A line repeats an
earlier line of the batch with the same case (低保金) or the same true payee
and 项目. A 低保金 case whose every covered member is on tekun in M, or
covered by an earlier-started case, is a duplicate (other_programme). A
beneficiary older than 110 at the end of M is held. The most severe reason
wins, in the order of screen/reasons.py.

Planted lines (kind `planted`, inserted): a recipient who died before M (the
register shows it; or only a cremation record whose number is blank or
wrong) whose last ledger line is carried on; moved out before M; a dibao
case stopped before M; tekun support ended before M; a subsidy on a
certificate that expired before M; a care subsidy on a grade 3–4
certificate; a line repeated (identical, or with another amount: the second
is blocked); a payee who is nobody (a name and a valid number no source
holds, on the 证号 of a tekun support: held). Carried lines whose truth an
added event makes are `planted` too: the 低保金 line of a one-member case
whose member enters tekun in M (other_programme), the tekun line of a
support ended in as_of and recorded late (`tekun_ended_recorded_late`,
case_stopped). A 低保金 line of a
case of which some covered members are gone is only ever a carried line (the
generator's partial deaths and move-outs are paid through as_of, so another
line for the case would be a repeat): its kind is `base`.

Near misses (expected pass): a carried line whose beneficiary dies or moves
out in M itself; whose certificate expired in as_of and was renewed in M
(when too few did, an inserted line on a certificate that expired one or
two months earlier and was renewed in M: `certificate_renewed_resumed`);
whose beneficiary has a namesake (someone else of the same name and sex,
born within 5 years, in the same village or an outsider cremated here) whose
death in the 24 months before M the drop shows; a 低保金 case of which a member
not covered (否) died. A carried line whose beneficiary truly died or moved
out before M without the drop showing it is `unknowable` (expected pass:
nothing the night holds can block it).

Planted counts scale with the county: max(3, households × 0.0008) per
scenario (4 on the 5,000-household sample, 250 at ~1M persons), fewer when
candidates run short (summary.json `short`). Deterministic: the same sample
and seed give byte-identical files.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import random
import shutil
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from data.sample.county import COUNTY_CODE, COUNTY_NAME
from data.sample.events import as_of_year_month, copy_drop, read_any, write_any
from data.sample.ids import check_char, normalize, to_15
from data.sample.model import first_day, full_age, last_day, month_compact, month_of, month_text
from data.sample.truth import CARE, DIBAO, GRADES, LIVING, MAX_AGE, TEKUN
from hecha.extracts.read import detect_encoding
from hecha.extracts.writer import write_extract
from hecha.screen.reasons import BY_CODE, REASONS

SUBSIDIES = (LIVING, CARE)
CARE_GRADES = (1, 2)
WINDOW = 24  # months before M in which a namesake's death makes a near miss
NAMESAKE_YEARS = 5  # and how far apart the two may be born: a link on name, sex and age could take one for the other
RATE = 0.0008  # planted lines per scenario and household
LEAST = 3
TRUTH_COLUMNS = ("line", "expected", "reason_code", "kind", "scenario", "true_id_number", "note")
LINE_COLUMNS = ("发放年月", "项目", "证号", "姓名", "身份证号", "金额", "乡镇(街道)")
ORDER = {reason.code: index for index, reason in enumerate(REASONS)}

# scenario → (kind, expected verdict, reason code or "", what it is)
SCENARIOS = {
    "dead_register": ("planted", "block", "dead", "died before M (register 死亡); the last ledger line carried on"),
    "dead_cremation_no_number": ("planted", "block", "dead",
                                 "died before M, shown only by a cremation record whose number is blank or wrong"),
    "moved_out": ("planted", "block", "moved_out", "moved out before M (register 迁出); the last ledger line carried on"),
    "dibao_stopped": ("planted", "block", "case_stopped", "dibao case 停保 before M, its last line carried on"),
    "tekun_ended": ("planted", "block", "case_stopped", "tekun support 终止 before M, its last line carried on"),
    "tekun_ended_recorded_late": ("planted", "block", "case_stopped",
                                  "tekun support 终止 in as_of, recorded in the extract of early M; its carried line"),
    "certificate_expired": ("planted", "block", "certificate_invalid", "subsidy on a certificate expired before M, not renewed"),
    "care_grade_3_4": ("planted", "block", "certificate_invalid", "care subsidy on a valid grade 3-4 certificate"),
    "repeated_same": ("planted", "block", "repeated_line", "a carried line entered again, same amount"),
    "repeated_other_amount": ("planted", "block", "repeated_line", "a carried line entered again with another amount"),
    "dibao_single_on_tekun": ("planted", "block", "other_programme",
                              "one-member dibao case carried on while its member enters tekun in M"),
    "nobody": ("planted", "hold", "uncertain_identity", "a name and a valid number no source holds, on a real 证号"),
    "death_in_month": ("near_miss", "pass", "", "the beneficiary dies in M (register 死亡): M is paid correctly"),
    "death_in_month_cremation": ("near_miss", "pass", "", "the beneficiary dies in M (cremation record only)"),
    "move_out_in_month": ("near_miss", "pass", "", "the beneficiary moves out in M: M is paid correctly"),
    "certificate_renewed": ("near_miss", "pass", "", "certificate expired in as_of, renewal issued in M"),
    "certificate_renewed_resumed": ("near_miss", "pass", "",
                                    "certificate expired 1-2 months before as_of, renewal issued in M, its last line carried on"),
    "namesake_dead": ("near_miss", "pass", "", "a namesake (someone else) died before M"),
    "not_covered_member_died": ("near_miss", "pass", "", "a member of the case not covered (否) died before M"),
}
# the scenarios whose lines the batch adds; every other line is an as-of ledger line carried to M
INSERTED = ("dead_register", "dead_cremation_no_number", "moved_out", "dibao_stopped", "tekun_ended", "certificate_expired",
            "care_grade_3_4", "repeated_same", "repeated_other_amount", "nobody", "certificate_renewed_resumed")
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
GIVEN = "建国秀英桂兰淑珍玉梅志强海燕春华文明德福丽娟金凤永红立新振宇"


def _month(text: str | None) -> int | None:
    """The month of a date or month as written (YYYY-MM[-DD], YYYYMM[DD]); None when unreadable."""
    digits = "".join(ch for ch in (text or "") if ch.isdigit())
    if len(digits) < 6:
        return None
    year, month = int(digits[:4]), int(digits[4:6])
    return year * 12 + month - 1 if 1 <= month <= 12 and 1900 <= year <= 2100 else None


def _date(text: str | None) -> dt.date | None:
    digits = "".join(ch for ch in (text or "") if ch.isdigit())
    try:
        return dt.date(int(digits[:4]), int(digits[4:6]), int(digits[6:8])) if len(digits) == 8 else None
    except ValueError:
        return None


def _strip(text: str | None) -> str:
    return (text or "").strip()


def _with_truth(frame: pl.DataFrame, records: Path, stem: str) -> pl.DataFrame:
    """`frame` with its row number ("row", 1 = first data row) and the true person ("true_id") of each row."""
    mapped = (pl.scan_csv(records, infer_schema=False).filter(pl.col("source") == stem)
              .select(pl.col("row_number").cast(pl.Int64).alias("row"), pl.col("true_id_number").alias("true_id")).collect())
    return frame.with_row_index("row", offset=1).with_columns(pl.col("row").cast(pl.Int64)).join(mapped, on="row", how="left")


# -- the county as the batch drop shows it -----------------------------------------------

@dataclass
class _Case:
    start: int
    stopped: bool
    stop: int | None
    inclusion: str
    covered: list[str] = field(default_factory=list)
    not_covered: list[str] = field(default_factory=list)
    rows: list[dict] = field(default_factory=list)  # the covered members' rows, as written


@dataclass
class _Cert:
    person: str
    grade: int
    issue: int | None
    valid: int | None
    status: str
    through: int | None = None


class _County:
    """What the batch drop says, per true person: events, cases, supports, certificates."""

    def __init__(self, month: int, register: pl.DataFrame, cremation: pl.DataFrame, dibao: pl.DataFrame, tekun: pl.DataFrame,
                 disability: pl.DataFrame, persons: pl.DataFrame) -> None:
        self.month = month
        # deaths: true id → (month, sources, some row's number usable)
        self.deaths: dict[str, tuple[int, set[str], bool]] = {}
        self.moves: dict[str, int] = {}
        events = register.filter(pl.col("人员状态").str.strip_chars().is_in(["死亡", "迁出"]))
        for true_id, status, change, written in events.select("true_id", "人员状态", "变动日期", "身份证号").iter_rows():
            month_of_event = _month(change)
            if month_of_event is None or true_id is None:
                continue
            if status.strip() == "死亡":
                self._died(true_id, month_of_event, "register", normalize(written) == true_id)
            else:
                self.moves[true_id] = min(month_of_event, self.moves.get(true_id, month_of_event))
        for true_id, date, written in cremation.select("true_id", "死亡日期", "身份证号").iter_rows():
            month_of_event = _month(date)
            if month_of_event is not None and true_id is not None:
                self._died(true_id, month_of_event, "cremation", normalize(written) == true_id)
        # dibao cases
        self.cases: dict[str, _Case] = {}
        self.covering: dict[str, list[str]] = defaultdict(list)  # true id → case numbers with a 是 row
        for row in dibao.iter_rows(named=True):
            case_no = _strip(row["低保证号"])
            start, stop = _month(row["保障开始年月"]), _month(row["停保年月"])
            stopped = _strip(row["保障状态"]) == "停保"
            case = self.cases.get(case_no)
            if case is None:
                case = self.cases[case_no] = _Case(start if start is not None else 0, stopped, stop, _strip(row["纳入方式"]))
            else:  # another row: its months count too (a corrected copy)
                case.start = min(case.start, start if start is not None else case.start)
                if not stopped:
                    case.stopped, case.stop = False, None
                elif case.stopped and stop is not None:
                    case.stop = max(case.stop or stop, stop)
            person = row["true_id"]
            if _strip(row["是否保障对象"]) == "是":
                if person not in case.covered:
                    case.covered.append(person)
                    case.rows.append(row)
                    self.covering[person].append(case_no)
            elif person not in case.not_covered:
                case.not_covered.append(person)
        # tekun supports: case number → (person, start, stop or None while 在供), rows of one case merged
        self.tekun_case: dict[str, tuple[str, int, int | None]] = {}
        self.tekun_of: dict[str, list[str]] = defaultdict(list)
        self.tekun_numbers: dict[str, int] = {}  # TK prefix → largest sequence
        for case_no, person, start, status, stop in tekun.select(
                "供养证号", "true_id", "开始年月", "状态", "终止年月").iter_rows():
            case_no = _strip(case_no)
            start = _month(start) or 0
            stop = _month(stop) if _strip(status) == "终止" else None
            known = self.tekun_case.get(case_no)
            if known is not None:
                stop = None if known[2] is None or stop is None else max(known[2], stop)
                start = min(known[1], start)
            else:
                self.tekun_of[person].append(case_no)
            self.tekun_case[case_no] = (person, start, stop)
            if case_no[:5].startswith("TK") and case_no[5:].isdigit():
                self.tekun_numbers[case_no[:5]] = max(self.tekun_numbers.get(case_no[:5], 0), int(case_no[5:]))
        # certificates: number → rows; a 注销 row valid through the holder's death or a later certificate's issue
        self.certs: dict[str, list[_Cert]] = defaultdict(list)
        by_person: dict[str, list[_Cert]] = defaultdict(list)
        for number, person, grade, issue, valid, status in disability.select(
                "残疾人证号", "true_id", "残疾等级", "发证日期", "有效期至", "证件状态").iter_rows():
            cert = _Cert(person, GRADES.get(_strip(grade), 0), _month(issue), _month(valid), _strip(status))
            self.certs[_strip(number)].append(cert)
            by_person[person].append(cert)
        for person, certs in by_person.items():
            for cert in certs:
                if cert.status != "注销":
                    cert.through = cert.valid
                    continue
                ends = [c.issue for c in certs if c.issue is not None and cert.issue is not None and c.issue > cert.issue]
                if person in self.deaths:
                    ends.append(self.deaths[person][0])
                cert.through = min(min(ends), cert.valid) if ends and cert.valid is not None else None
        # people: name, township, birth, sex, village of everyone on a roster or the ledger; who truly left
        self.people: dict[str, tuple[str, str, dt.date | None, str, str]] = {}
        self.true_gone: dict[str, str] = {}  # true id → "died YYYY-MM" / "moved out YYYY-MM" before M
        for true_id, name, township, birth, death, move, sex, village in persons.select(
                "true_id_number", "name", "township", "birth_date", "death_date", "move_out_date", "sex", "village").iter_rows():
            self.people[true_id] = (name, township or "", _date(birth), sex or "", village or "")
            gone = [(m, what) for m, what in ((_month(death), "died"), (_month(move), "moved out")) if m is not None and m < month]
            if gone:
                m, what = min(gone)
                self.true_gone[true_id] = f"{what} {month_text(m)}"
        # the dead the drop shows in the window before M, by what a careless link would go on: name, sex and
        # village of register people; name and sex of outsiders (cremated here, registered elsewhere)
        self.dead_names: dict[tuple[str, str, str, str], set[str]] = defaultdict(set)
        for person, (m, _, _) in self.deaths.items():
            if month - WINDOW <= m < month and person in self.people:
                name, township, birth, sex, village = self.people[person]
                if birth is not None:
                    self.dead_names[(name, sex, township, village) if township else (name, sex, "*", "*")].add(person)

    def _died(self, person: str, month: int, source: str, usable: bool) -> None:
        known = self.deaths.get(person)
        if known is None or month < known[0]:
            self.deaths[person] = (month, {source}, usable)
        elif month == known[0]:
            known[1].add(source)
            self.deaths[person] = (month, known[1], known[2] or usable)

    # -- facts for month M ---------------------------------------------------------------
    def gone(self, person: str) -> str | None:
        """'dead' / 'moved_out' when the drop shows the person died / moved out before M."""
        death = self.deaths.get(person)
        if death is not None and death[0] < self.month:
            return "dead"
        move = self.moves.get(person)
        return "moved_out" if move is not None and move < self.month else None

    def on_tekun(self, person: str) -> bool:
        for case_no in self.tekun_of.get(person, ()):
            _, start, stop = self.tekun_case[case_no]
            if start <= self.month and (stop is None or stop >= self.month):
                return True
        return False

    def case_covers(self, case: _Case) -> bool:
        return case.start <= self.month and (not case.stopped or (case.stop is not None and case.stop >= self.month))

    def cert_valid(self, number: str) -> bool:
        return any(c.through is not None and c.issue is not None and c.issue <= self.month <= c.through
                   for c in self.certs.get(number, ()))

    def age(self, person: str) -> int | None:
        birth = self.people[person][2] if person in self.people else None
        return full_age(birth, last_day(self.month)) if birth else None

    def beneficiaries(self, programme: str, case_no: str, payee: str) -> list[str]:
        if programme == DIBAO:
            case = self.cases.get(case_no)
            return list(case.covered) if case else []
        return [payee] if payee else []

    def judge(self, programme: str, case_no: str, payee: str) -> tuple[list[str], list[str]]:
        """The reasons (screen/reasons.py codes, repeats aside) a line for M has, and notes on why."""
        if not payee:
            return ["uncertain_identity"], ["the payee is nobody: no source holds the name and number"]
        reasons: list[str] = []
        notes: list[str] = []
        known = {DIBAO: case_no in self.cases, TEKUN: case_no in self.tekun_case}.get(programme, case_no in self.certs)
        if not known:
            return ["unknown_case"], [f"{case_no} is on no roster of {programme}"]
        bens = self.beneficiaries(programme, case_no, payee)
        gone = {b: self.gone(b) for b in bens}
        left = [b for b, how in gone.items() if how]
        for b in left:
            if gone[b] == "dead":
                m, sources, usable = self.deaths[b]
                notes.append(f"{b[-4:]} died {month_text(m)} ({'+'.join(sorted(sources))}"
                             f"{'' if usable else ', number blank or wrong'})")
            else:
                notes.append(f"{b[-4:]} moved out {month_text(self.moves[b])}")
        if bens and len(left) == len(bens):
            # all dead: dead; all gone, some moved out: moved_out (a person moved out and later dead is dead)
            reasons.append("dead" if all(gone[b] == "dead" for b in bens) else "moved_out")
        elif left:
            reasons.append("member_departed")
        if programme == DIBAO:
            case = self.cases[case_no]
            if case.stopped and case.stop is not None and case.stop < self.month:
                reasons.append("case_stopped")
                notes.append(f"停保 {month_text(case.stop)}")
            if bens and all(self.on_tekun(b) or self._covered_earlier(b, case_no) for b in bens):
                reasons.append("other_programme")
                notes.append("every covered member on tekun or an earlier case in M")
        elif programme == TEKUN:
            _, _, stop = self.tekun_case[case_no]
            if stop is not None and stop < self.month:
                reasons.append("case_stopped")
                notes.append(f"终止 {month_text(stop)}")
        else:
            certs = self.certs[case_no]
            if not self.cert_valid(case_no):
                reasons.append("certificate_invalid")
                through = max((c.through for c in certs if c.through is not None), default=None)
                notes.append(f"certificate valid through {month_text(through) if through is not None else '(cancelled)'}")
            if programme == CARE and max(c.grade for c in certs) not in CARE_GRADES:
                reasons.append("certificate_invalid")
                notes.append(f"care subsidy on grade {max(c.grade for c in certs)}")
        if any((self.age(b) or 0) > MAX_AGE for b in bens):
            reasons.append("over_age")
            notes.append(f"older than {MAX_AGE} at the end of M")
        return sorted(set(reasons), key=ORDER.get), notes

    def _covered_earlier(self, person: str, case_no: str) -> bool:
        this = self.cases[case_no]
        for other_no in self.covering.get(person, ()):
            other = self.cases[other_no]
            if other_no != case_no and (other.start, other_no) < (this.start, case_no) and self.case_covers(other):
                return True
        return False


def verdict_of(reasons: list[str]) -> tuple[str, str]:
    """The most severe verdict and its first reason, in the order of screen/reasons.py."""
    for verdict in ("block", "hold"):
        codes = [code for code in reasons if BY_CODE[code].verdict == verdict]
        if codes:
            return verdict, min(codes, key=ORDER.get)
    return "pass", ""


# -- the batch ------------------------------------------------------------------------------

@dataclass
class _Line:
    values: dict[str, str | None]  # the batch columns by header
    payee: str  # true id, "" for nobody
    kind: str = "base"
    scenario: str = ""
    note: list[str] = field(default_factory=list)
    after: int = -1  # a repeat: base index it must follow
    expected: str = ""
    reason: str = ""
    reasons: list[str] = field(default_factory=list)
    facts: list[str] = field(default_factory=list)  # why, as judged (replaced at each judgement)


def make_batch(sample: Path, seed: int = 1) -> dict:
    """Write `sample/batch/` (see the module docstring); return the summary."""
    sample = Path(sample)
    drop, truth, out = sample / "drop", sample / "truth", sample / "batch"
    as_of = month_of(dt.date(*as_of_year_month(drop), 1))
    month = as_of + 1
    rng = random.Random(f"batch/{seed}")
    summary_in = json.loads((truth / "summary.json").read_text(encoding="utf-8"))
    per_scenario = max(LEAST, round(summary_in.get("households", 5000) * RATE))

    frames = {stem: _with_truth(read_any(drop, stem), truth / "records.csv", stem)
              for stem in ("household_register", "cremation", "dibao", "tekun", "disability", "payments")}
    payments = frames.pop("payments").with_columns(
        pl.col("发放年月").str.strip_chars().alias("_month"), pl.col("项目").str.strip_chars().alias("_programme"),
        pl.col("证号").str.strip_chars().alias("_case"))
    base_frame = payments.filter(pl.col("_month") == month_compact(as_of))
    # the latest ledger line of every (项目, 证号, payee) not paid in as_of: lines that could be carried on
    paid_now = base_frame.select("_programme", "_case", "true_id").unique()
    templates = (payments.filter(pl.col("_month") != month_compact(as_of))
                 .group_by("_programme", "_case", "true_id").agg(pl.col("row").max())
                 .join(paid_now, on=["_programme", "_case", "true_id"], how="anti"))
    templates = payments.join(templates.select("row"), on="row", how="semi").sort("row")
    ledger_numbers = payments.select(pl.col("身份证号").str.strip_chars().unique())
    poor = read_any(drop, "registered_poor")
    del payments
    wanted = set(base_frame["true_id"].drop_nulls()) | set(templates["true_id"].drop_nulls())
    wanted |= set(frames["dibao"]["true_id"].drop_nulls()) | set(frames["disability"]["true_id"].drop_nulls())
    wanted |= set(frames["cremation"]["true_id"].drop_nulls())
    persons = pl.read_csv(truth / "persons.csv", infer_schema=False, columns=[
        "true_id_number", "name", "sex", "birth_date", "township", "village", "death_date", "move_out_date"])
    dead_or_moved = pl.col("death_date").is_not_null() | pl.col("move_out_date").is_not_null()
    people = persons.filter(pl.col("true_id_number").is_in(list(wanted)) | dead_or_moved)

    county = _County(month, frames["household_register"], frames["cremation"], frames["dibao"], frames["tekun"],
                     frames["disability"], people)
    base = [_Line(dict(zip(LINE_COLUMNS, (month_compact(month), *values))), payee or "")
            for *values, payee in base_frame.select(*LINE_COLUMNS[1:], "true_id").iter_rows()]
    for line in base:
        _judge(county, line)
    added: dict[str, list] = {"register": [], "cremation": [], "tekun": [], "tekun_ended": [], "disability": []}
    short: dict[str, int] = {}
    used: set[str] = set()  # people an event or a planted line already concerns

    def take(scenario: str, candidates: list, count: int = per_scenario) -> list:
        chosen = rng.sample(candidates, min(count, len(candidates)))
        short[scenario] = count - len(chosen)  # what is still missing; zeros are dropped at the end
        return chosen

    # -- events in M: the near misses and the tekun admissions ------------------------------
    register = frames["household_register"]
    # lines of a key the as-of ledger already repeats stay out of every scenario
    keys = Counter(_repeat_key(line) for line in base)
    clean = [i for i, line in enumerate(base)
             if line.expected == "pass" and line.payee and line.kind == "base" and keys[_repeat_key(line)] == 1]
    single_bens: dict[str, list[int]] = defaultdict(list)  # a beneficiary → base lines paying only them
    for i in clean:
        line = base[i]
        bens = county.beneficiaries(_strip(line.values["项目"]), _strip(line.values["证号"]), line.payee)
        if len(bens) == 1:
            single_bens[bens[0]].append(i)
    register_row = {true_id: row for true_id, row in register.filter(
        pl.col("true_id").is_in(list(single_bens)) & (pl.col("人员状态").str.strip_chars() == "正常")).select("true_id", "row").iter_rows()}
    eligible = sorted(p for p in single_bens if p in register_row and p not in county.true_gone
                      and p not in county.deaths and p not in county.moves)
    changes: dict[int, tuple[str, str]] = {}  # register row → (status, date)
    cremation_numbers: dict[str, int] = {}
    for number in frames["cremation"]["火化编号"].drop_nulls():
        number = number.strip()
        if number[:2] == "HH" and number[2:].isdigit() and len(number) > 6:
            cremation_numbers[number[:6]] = max(cremation_numbers.get(number[:6], 0), int(number[6:]))
    cremations: list[dict] = []
    for scenario in ("death_in_month", "move_out_in_month", "death_in_month_cremation"):
        for person in take(scenario, [p for p in eligible if p not in used]):
            used.add(person)
            day = first_day(month).replace(day=rng.randint(1, 5))
            if scenario == "death_in_month_cremation":
                cremations.append(_cremation_row(register, register_row[person], person, county, day, rng, cremation_numbers))
                county._died(person, month, "cremation", True)
            else:
                status = "死亡" if scenario == "death_in_month" else "迁出"
                changes[register_row[person]] = (status, f"{day:%Y-%m-%d}")
                if status == "死亡":
                    county._died(person, month, "register", True)
                else:
                    county.moves[person] = month
            for i in single_bens[person]:
                _mark(base[i], "near_miss", scenario, f"{_what(scenario)} {day:%Y-%m-%d}")
    # renewals: certificates that expired in as_of, paid in as_of, renewed in M; when too few, also certificates
    # that expired one or two months earlier, their last line carried on (inserted)
    inserted: list[_Line] = []

    def lapsed(programme: str, number: str, payee: str) -> int | None:
        """The month the certificate expired when that alone makes the line invalid in M."""
        certs = county.certs.get(number, ())
        if (programme in SUBSIDIES and payee and payee not in used and certs
                and county.judge(programme, number, payee)[0] == ["certificate_invalid"]
                and all(c.status != "注销" for c in certs)
                and (programme == LIVING or max(c.grade for c in certs) in CARE_GRADES)):
            return max((c.valid or 0) for c in certs)
        return None

    renewable: dict[str, list] = defaultdict(list)  # number → base line indexes, or template lines
    for i, line in enumerate(base):
        if line.kind == "base" and lapsed(_strip(line.values["项目"]), _strip(line.values["证号"]), line.payee) == as_of:
            renewable[_strip(line.values["证号"])].append(i)
    earlier: dict[str, list] = defaultdict(list)
    for *fields, last_paid, payee in templates.filter(pl.col("_programme").is_in(SUBSIDIES)).select(
            *LINE_COLUMNS[1:], "_month", "true_id").iter_rows():
        number = _strip(fields[1])
        if number not in renewable and as_of - 2 <= (lapsed(_strip(fields[0]), number, payee) or 0) < as_of:
            line = _Line(dict(zip(LINE_COLUMNS, (month_compact(month), *fields))), payee, note=[f"last paid {last_paid}"])
            earlier[number].append(line)
    renewals: list[dict] = []
    disability = frames["disability"]
    renewed = take("certificate_renewed", sorted(renewable))
    if len(renewed) < per_scenario:  # the two together make one scenario's count
        renewed += take("certificate_renewed_resumed", sorted(earlier), per_scenario - len(renewed))
        renewable.update(earlier)
        short.pop("certificate_renewed_resumed")
        short["certificate_renewed"] = per_scenario - len(renewed)
    for number in renewed:
        day = first_day(month).replace(day=rng.randint(1, 5))
        old = disability.filter(pl.col("残疾人证号").str.strip_chars() == number).sort("row").row(-1, named=True)
        until = dt.date(day.year + 10, day.month, day.day) - dt.timedelta(days=1)
        renewals.append({**{k: v for k, v in old.items() if k not in ("row", "true_id")},
                         "发证日期": f"{day:%Y-%m-%d}", "有效期至": f"{until:%Y-%m-%d}", "证件状态": "正常"})
        cert = county.certs[number][0]
        through = month_of(until)
        county.certs[number].append(_Cert(cert.person, cert.grade, month, through, "正常", through))
        used.add(cert.person)
        expired = month_text(max((c.valid or 0) for c in county.certs[number][:-1]))
        for i in renewable[number]:
            if isinstance(i, _Line):
                inserted.append(_mark(i, "near_miss", "certificate_renewed_resumed",
                                      f"certificate expired {expired}, renewed {day:%Y-%m-%d}"))
            else:
                _mark(base[i], "near_miss", "certificate_renewed", f"certificate expired {expired}, renewed {day:%Y-%m-%d}")
    # tekun admissions in M for the only covered member of an active carried dibao case
    admissible = []
    for i in clean:
        line = base[i]
        case = county.cases.get(_strip(line.values["证号"]))
        if (_strip(line.values["项目"]) == DIBAO and line.kind == "base" and case is not None and len(case.covered) == 1
                and case.covered[0] not in used and not county.tekun_of.get(case.covered[0])
                and case.covered[0] not in county.true_gone):
            admissible.append(i)
    tekun_rows: list[dict] = []
    standard = _tekun_standard(frames["tekun"])
    for i in take("dibao_single_on_tekun", admissible):
        line = base[i]
        case_no = _strip(line.values["证号"])
        case = county.cases[case_no]
        member = case.covered[0]
        prefix = "TK" + case_no[2:5]
        county.tekun_numbers[prefix] = county.tekun_numbers.get(prefix, 0) + 1
        tekun_no = f"{prefix}{county.tekun_numbers[prefix]:05d}"
        row = case.rows[0]
        tekun_rows.append({
            "供养证号": tekun_no, "姓名": row["成员姓名"], "身份证号": row["成员身份证号"], "性别": row["性别"],
            "出生日期": row["出生日期"], "乡镇(街道)": row["乡镇(街道)"], "村(社区)": row["村(社区)"], "供养方式": "分散",
            "月供养金": standard, "开始年月": month_text(month), "状态": "在供", "终止年月": None,
        })
        county.tekun_case[tekun_no] = (member, month, None)
        county.tekun_of[member].append(tekun_no)
        used.add(member)
        _mark(line, "planted", "dibao_single_on_tekun", f"{tekun_no} starts {month_text(month)}; the case is not stopped")

    # -- inserted lines ------------------------------------------------------------------------
    candidates: dict[str, list[_Line]] = defaultdict(list)
    for *fields, last_paid, payee in templates.select(*LINE_COLUMNS[1:], "_month", "true_id").iter_rows():
        if not payee or payee in used:
            continue
        line = _Line(dict(zip(LINE_COLUMNS, (month_compact(month), *fields))), payee)
        programme, case_no = _strip(line.values["项目"]), _strip(line.values["证号"])
        reasons, _ = county.judge(programme, case_no, payee)
        verdict, code = verdict_of(reasons)
        line.note.append(f"last paid {last_paid}")
        bens = county.beneficiaries(programme, case_no, payee)
        if code == "dead":
            sources, usable = set(), True
            for b in bens:
                _, found, ok = county.deaths[b]
                sources |= found
                usable = usable and ok
            if "register" in sources:
                candidates["dead_register"].append(line)
            elif not usable:
                candidates["dead_cremation_no_number"].append(line)
        elif code == "moved_out":
            candidates["moved_out"].append(line)
        elif code == "case_stopped" and programme == DIBAO:
            candidates["dibao_stopped"].append(line)
        elif code == "case_stopped" and programme == TEKUN:
            candidates["tekun_ended"].append(line)
        elif (code == "certificate_invalid" and reasons.count("certificate_invalid") == 1
              and (programme == LIVING or max(c.grade for c in county.certs[case_no]) in CARE_GRADES)
              and all(c.status != "注销" and (c.valid or 0) < month for c in county.certs[case_no])):
            candidates["certificate_expired"].append(line)
    for scenario in ("dead_register", "dead_cremation_no_number", "moved_out", "dibao_stopped", "tekun_ended",
                     "certificate_expired"):
        pool, seen = [], set()
        for line in candidates[scenario]:  # one line per person
            if line.payee not in seen:
                seen.add(line.payee)
                pool.append(line)
        for line in take(scenario, [line for line in pool if line.payee not in used]):
            used.add(line.payee)
            inserted.append(_mark(line, "planted", scenario, SCENARIOS[scenario][3]))
    # the generator ends tekun only at a death or move-out: the rest of tekun_ended are supports ended in as_of
    # (终止年月 = as_of), recorded in the extract of early M, whose line the batch still carries
    ended: list[str] = []
    missing = short.pop("tekun_ended", 0)
    if missing:
        endable = [i for i in clean if _strip(base[i].values["项目"]) == TEKUN and base[i].kind == "base"
                   and base[i].payee not in used and base[i].payee not in county.true_gone]
        for i in take("tekun_ended_recorded_late", endable, missing):
            line, case_no = base[i], _strip(base[i].values["证号"])
            person, start, _ = county.tekun_case[case_no]
            county.tekun_case[case_no] = (person, start, as_of)
            ended.append(case_no)
            used.add(person)
            _mark(line, "planted", "tekun_ended_recorded_late",
                  f"{case_no} 终止 {month_text(as_of)}, recorded after the drop; the line is carried on")
    # care subsidy on grade 3-4: a holder of a valid certificate not paid care in the batch
    care_paid = {line.payee for line in base if _strip(line.values["项目"]) == CARE}
    township_of = {p: county.people[p][1] for p in wanted if p in county.people}
    grade34 = []
    for number, person, name, written in disability.select("残疾人证号", "true_id", "姓名", "身份证号").unique(
            subset=["残疾人证号"], keep="last", maintain_order=True).iter_rows():
        number = _strip(number)
        if (person and person not in used and person not in care_paid and county.cert_valid(number)
                and max(c.grade for c in county.certs[number]) in (3, 4) and township_of.get(person)):
            line = _Line({"发放年月": month_compact(month), "项目": CARE, "证号": number, "姓名": name, "身份证号": written,
                          "金额": "80.00", "乡镇(街道)": township_of[person]}, person)
            if county.judge(CARE, number, person)[0] == ["certificate_invalid"]:
                grade34.append(line)
    for line in take("care_grade_3_4", grade34):
        used.add(line.payee)
        inserted.append(_mark(line, "planted", "care_grade_3_4", SCENARIOS["care_grade_3_4"][3]))
    # repeats (on carried lines that pass) and nobody (on the 证号 of a passing tekun line)
    plain = [i for i in clean if base[i].kind == "base"]
    for scenario in ("repeated_same", "repeated_other_amount"):
        for i in take(scenario, [i for i in plain if base[i].payee not in used]):
            used.add(base[i].payee)
            line = _Line(dict(base[i].values), base[i].payee, after=i)
            if scenario == "repeated_other_amount":
                line.values["金额"] = f"{float(_strip(line.values['金额']) or 0) + 50:.2f}"
            inserted.append(_mark(line, "planted", scenario, SCENARIOS[scenario][3]))
    hosts = [i for i in plain if _strip(base[i].values["项目"]) == TEKUN and base[i].payee not in used]
    hosts = take("nobody", hosts)
    for i, (name, number) in zip(hosts, _nobodies(rng, len(hosts), persons, [*frames.values(), ledger_numbers, poor])):
        line = _Line({**base[i].values, "姓名": name, "身份证号": number}, "")
        inserted.append(_mark(line, "planted", "nobody", SCENARIOS["nobody"][3]))
    short = {k: v for k, v in short.items() if v}

    # -- order, repeats, truth -------------------------------------------------------------
    slots: dict[int, list[_Line]] = defaultdict(list)
    for line in inserted:
        position = rng.randint(line.after + 1, len(base)) if line.after >= 0 else rng.randint(0, len(base))
        slots[position].append(line)
    lines: list[_Line] = []
    for position in range(len(base) + 1):
        lines += slots.get(position, [])
        if position < len(base):
            lines.append(base[position])
    seen_keys: set[tuple] = set()
    for line in lines:
        _judge(county, line)
        key = _repeat_key(line)
        if line.payee and key in seen_keys:
            reasons = sorted({*line.reasons, "repeated_line"}, key=ORDER.get)
            line.expected, line.reason = verdict_of(reasons)
            line.facts.append("repeats an earlier line of the batch")
        seen_keys.add(key)
    for line in lines:
        bens = county.beneficiaries(_strip(line.values["项目"]), _strip(line.values["证号"]), line.payee)
        hidden = [f"{b[-4:]} truly {county.true_gone[b]}" for b in bens if b in county.true_gone and county.gone(b) is None]
        if hidden:
            line.facts.append("; ".join(hidden) + ", which the drop does not show")
        if line.kind == "base":
            if hidden and line.expected == "pass":
                _mark(line, "unknowable", "event_not_shown", "the verdict would differ if the drop showed it")
            elif line.expected == "pass":
                _near(county, line, bens)
            else:
                line.scenario = f"carried_{line.reason}"
            if not line.scenario:
                line.scenario = "carried"
        if line.payee and normalize(line.values["身份证号"]) != line.payee:
            line.note.append("payee number as written is not the true number")

    # -- write ------------------------------------------------------------------------------
    shutil.rmtree(out, ignore_errors=True)
    target = copy_drop(drop, out / "drop")
    if changes:
        status = pl.col("row").replace_strict(list(changes), [s for s, _ in changes.values()], default=pl.col("人员状态"))
        date = pl.col("row").replace_strict(list(changes), [d for _, d in changes.values()], default=pl.col("变动日期"))
        written = register.with_columns(status.alias("人员状态"), date.alias("变动日期"))
        _rewrite(written, target, "household_register")
        added["register"] = [{"row": row, "status": s, "date": d} for row, (s, d) in sorted(changes.items())]
    if ended:
        stopped = pl.col("供养证号").str.strip_chars().is_in(ended)
        frames["tekun"] = frames["tekun"].with_columns(
            pl.when(stopped).then(pl.lit("终止")).otherwise(pl.col("状态")).alias("状态"),
            pl.when(stopped).then(pl.lit(month_text(as_of))).otherwise(pl.col("终止年月")).alias("终止年月"))
        added["tekun_ended"] = sorted(ended)
        if not tekun_rows:
            _rewrite(frames["tekun"], target, "tekun")
    for stem, rows, key in (("cremation", cremations, "火化编号"), ("tekun", tekun_rows, "供养证号"),
                            ("disability", renewals, "残疾人证号")):
        if rows:
            frame = frames[stem].drop("row", "true_id")
            _rewrite(pl.concat([frame, pl.DataFrame(rows, schema={c: pl.String for c in frame.columns})]), target, stem)
            added[stem] = [row[key] for row in rows]
    payments_file = next(drop.glob("payments.*"))
    name = f"发放名册_{month_compact(month)}.csv"
    batch = pl.DataFrame([[line.values[c] for line in lines] for c in LINE_COLUMNS],
                         schema={c: pl.String for c in LINE_COLUMNS}, orient="col")
    headers = {column: stg for column, stg in zip(LINE_COLUMNS, (
        "paid_month", "programme", "case_no", "name", "id_number", "amount", "township"))}
    encoding = detect_encoding(payments_file.read_bytes()) if payments_file.suffix == ".csv" else "utf-8"
    (out / "export").mkdir()
    write_extract("payments", batch.rename(headers), out / "export", encoding=encoding).rename(out / name)
    (out / "export").rmdir()
    with (out / "truth.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(TRUTH_COLUMNS)
        for number, line in enumerate(lines, start=1):
            writer.writerow((number, line.expected, line.reason, line.kind, line.scenario, line.payee,
                             "; ".join(line.note + line.facts)))
    summary = {
        "as_of": month_text(as_of), "month": month_text(month), "seed": seed, "file": name, "lines": len(lines),
        "base_lines": len(base), "per_scenario": per_scenario,
        "kind": dict(sorted(Counter(line.kind for line in lines).items())),
        "expected": dict(sorted(Counter(line.expected for line in lines).items())),
        "reason": dict(sorted(Counter(line.reason for line in lines if line.reason).items())),
        "scenario": {f"{kind}/{scenario}/{expected}/{reason or '-'}": count for (kind, scenario, expected, reason), count in
                     sorted(Counter((line.kind, line.scenario, line.expected, line.reason) for line in lines).items())},
        "short": dict(sorted(short.items())),
        "added": added,
    }
    (out / "summary.json").write_text(json.dumps(summary, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return summary


def _judge(county: _County, line: _Line) -> None:
    line.reasons, line.facts = county.judge(_strip(line.values["项目"]), _strip(line.values["证号"]), line.payee)
    line.expected, line.reason = verdict_of(line.reasons)


def _repeat_key(line: _Line) -> tuple[str, str]:
    """What a repeat is a repeat of: the case for 低保金, else the true payee, with the 项目."""
    programme = _strip(line.values["项目"])
    return (programme, _strip(line.values["证号"])) if programme == DIBAO else (programme, line.payee)


def _mark(line: _Line, kind: str, scenario: str, note: str) -> _Line:
    line.kind, line.scenario = kind, scenario
    line.note.insert(0, note)
    return line


def _what(scenario: str) -> str:
    return {"death_in_month": "dies (register)", "move_out_in_month": "moves out",
            "death_in_month_cremation": "dies (cremation record)"}[scenario]


def _near(county: _County, line: _Line, bens: list[str]) -> None:
    """A passing carried line a careless check would block: a dead namesake, a dead member not covered."""
    for b in bens:
        if b not in county.people:
            continue
        name, township, birth, sex, village = county.people[b]
        others = {o for o in (county.dead_names.get((name, sex, township, village), set())
                              | county.dead_names.get((name, sex, "*", "*"), set())) - {b}
                  if birth is not None and abs(county.people[o][2].year - birth.year) <= NAMESAKE_YEARS}
        if others:
            where = "an outsider cremated here" if any(not county.people[o][1] for o in others) else "same village"
            _mark(line, "near_miss", "namesake_dead", f"{name}: a namesake ({where}) died before M")
            return
    if _strip(line.values["项目"]) == DIBAO:
        case = county.cases.get(_strip(line.values["证号"]))
        dead = [p for p in (case.not_covered if case else ()) if county.gone(p) == "dead"]
        if dead:
            _mark(line, "near_miss", "not_covered_member_died", f"{len(dead)} member(s) not covered (否) died before M")


def _tekun_standard(tekun: pl.DataFrame) -> str:
    """The 分散 monthly amount most 在供 rows carry (the larger on a tie)."""
    amounts = Counter(amount for mode, status, amount in tekun.select("供养方式", "状态", "月供养金").iter_rows()
                      if _strip(mode) == "分散" and _strip(status) == "在供" and amount)
    return max(amounts.items(), key=lambda item: (item[1], float(item[0])))[0] if amounts else "900.00"


def _cremation_row(register: pl.DataFrame, row: int, person: str, county: _County, day: dt.date, rng: random.Random,
                   numbers: dict[str, int]) -> dict:
    """A cremation record of a register person's death on `day`, numbered after the largest HH<year> number."""
    values = register.filter(pl.col("row") == row).row(0, named=True)
    birth = county.people[person][2] or _date(values["出生日期"])
    prefix = f"HH{day.year}"
    seq = numbers[prefix] = numbers.get(prefix, 0) + 1
    return {"火化编号": f"{prefix}{seq:05d}", "逝者姓名": values["姓名"], "身份证号": values["身份证号"],
            "性别": values["性别"],
            "年龄": str(full_age(birth, day)) if birth else None, "死亡日期": f"{day:%Y%m%d}",
            "火化日期": f"{day + dt.timedelta(days=rng.randint(1, 3)):%Y%m%d}",
            "户籍地址": f"{COUNTY_NAME}{values['乡镇(街道)']}{values['村(社区)']}", "殡仪馆": f"{COUNTY_NAME}殡仪馆"}


def _nobodies(rng: random.Random, count: int, persons: pl.DataFrame, sources: list[pl.DataFrame]) -> list[tuple[str, str]]:
    """`count` (name, number): a name no true person bears, a valid county number no source holds (18 or 15 digits)."""
    found: list[tuple[str, str]] = []
    rounds = 0
    while len(found) < count:
        rounds += 1
        drawn = []
        for _ in range(4 * (count - len(found)) + 8):
            birth = dt.date(rng.randint(1950, 1995), rng.randint(1, 12), rng.randint(1, 28))
            first17 = f"{COUNTY_CODE}{birth:%Y%m%d}{rng.randint(0, 999):03d}"
            drawn.append((rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN), first17 + check_char(first17)))
        forms = [form for _, number in drawn for form in (number, to_15(number))]
        held = set(persons.filter(pl.col("true_id_number").is_in(forms))["true_id_number"])
        named = set(persons.filter(pl.col("name").is_in([name for name, _ in drawn]))["name"])
        for frame in sources:
            for column in frame.columns:
                if column.endswith("身份证号") or column == "证件号码":
                    held |= set(frame.filter(pl.col(column).str.strip_chars().is_in(forms))[column].str.strip_chars())
        taken = {number for _, number in found} | {name for name, _ in found}
        for name, number in drawn:
            fresh = not ({number, to_15(number)} & held) and not {name, number} & taken
            if len(found) < count and fresh and (name not in named or rounds > 20):
                found.append((name, number))
                taken |= {name, number}
    return found


def _rewrite(frame: pl.DataFrame, folder: Path, stem: str) -> None:
    """`frame` (Chinese headers) as `folder`'s file of `stem`, in the drop's format and encoding."""
    frame = frame.drop([c for c in ("row", "true_id") if c in frame.columns])
    for stale in folder.glob(f"{stem}.*"):
        stale.unlink()
    write_any(frame, folder, stem)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m data.sample.batch", description=__doc__.splitlines()[0])
    parser.add_argument("--sample", type=Path, required=True, help="a generator output folder (drop/ and truth/)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    summary = make_batch(args.sample, seed=args.seed)
    shown = {k: v for k, v in summary.items() if k != "added"}
    shown["added"] = {k: len(v) for k, v in summary["added"].items()}
    print(json.dumps(shown, ensure_ascii=False, indent=2))
    print(f"batch written in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
