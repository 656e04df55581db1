"""The deployment secret and the keyed hash (storage/secret.py): HMAC in SQL, stable keys, no fallback, the secret's file."""

import datetime as dt
import hashlib
import hmac
import os
import stat
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hecha.checks.runner import run_checks
from hecha.config import load_policy
from hecha.flows.pipeline import analyse_drop
from hecha.matching.link import link_people
from hecha.matching.probabilistic import Thresholds
from hecha.storage.secret import (
    SECRET_FILE_ENV,
    SecretMissing,
    install_keyed_hash,
    load_or_create_secret,
    require_keyed_hash,
    secret_root,
)
from tests.county import TEST_SECRET, County

OTHER_SECRET = bytes(range(100, 132))
TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=200)


@pytest.fixture(scope="module")
def con():
    return duckdb.connect()


@settings(max_examples=200, deadline=None)
@given(secret=st.binary(min_size=16, max_size=150), text=TEXT)
def test_keyed_hash_in_sql_is_python_hmac_sha256(con, secret, text):
    install_keyed_hash(con, secret)
    (computed,) = con.execute("select keyed_hash(?)", [text]).fetchone()
    assert computed == hmac.new(secret, text.encode("utf-8"), hashlib.sha256).hexdigest()


@settings(max_examples=50, deadline=None)
@given(check_code=st.sampled_from(["deceased_paid", "identity_anomaly"]), subject=TEXT)
def test_case_key_and_person_id_are_keyed_prefixes(con, check_code, subject):
    install_keyed_hash(con, TEST_SECRET)
    keyed = con.execute("select case_key(?, ?), person_id_of(?)", [check_code, subject, subject]).fetchone()
    assert keyed == (
        hmac.new(TEST_SECRET, f"{check_code}|{subject}".encode(), hashlib.sha256).hexdigest()[:16],
        "P" + hmac.new(TEST_SECRET, f"person|{subject}".encode(), hashlib.sha256).hexdigest()[:15],
    )


def test_install_keyed_hash_refuses_a_short_secret(con):
    with pytest.raises(ValueError, match="at least 16 bytes"):
        install_keyed_hash(con, b"short")


def finding_under(secret: bytes, folder: Path) -> tuple:
    """The one deceased_paid finding of a small county, analysed under `secret`."""
    county = County(folder)
    dead = county.person(name="周德才", died="2026-05-15")
    county.pay(dead, programme="tekun", months=("2026-01", "2026-10"), amount=900, case_no="TK0001")
    con = duckdb.connect()
    analyse_drop(con, county.write(), codes=["deceased_paid"], secret=secret)
    (finding,) = con.execute("select id_number, overpaid_amount, evidence, case_key from chk.finding").fetchall()
    return finding


def test_case_keys_are_stable_under_one_secret_and_differ_under_another(tmp_path):
    first = finding_under(TEST_SECRET, tmp_path / "first")
    again = finding_under(TEST_SECRET, tmp_path / "again")
    other = finding_under(OTHER_SECRET, tmp_path / "other")
    assert first == again
    assert other[:3] == first[:3]  # the finding itself does not depend on the secret
    assert other[3] != first[3]


def test_without_the_secret_case_keys_and_person_ids_cannot_be_computed():
    con = duckdb.connect()
    with pytest.raises(duckdb.CatalogException):
        con.execute("select case_key('deceased_paid', 'P1')")
    with pytest.raises(duckdb.CatalogException):
        con.execute("select person_id_of('130534195005060011')")
    with pytest.raises(SecretMissing):
        link_people(con, thresholds=Thresholds(link=0.9, review=0.5))
    with pytest.raises(SecretMissing):
        run_checks(con, dt.date(2026, 10, 1), load_policy())


def test_an_unkeyed_case_key_left_in_a_database_file_is_neither_accepted_nor_used(tmp_path):
    con = duckdb.connect(str(tmp_path / "old.duckdb"))
    con.execute("create macro case_key(check_code, subject) as substr(md5(check_code || '|' || subject), 1, 16)")
    with pytest.raises(SecretMissing):
        require_keyed_hash(con)
    install_keyed_hash(con, TEST_SECRET)
    (key,) = con.execute("select case_key('deceased_paid', 'P1')").fetchone()
    assert key == hmac.new(TEST_SECRET, b"deceased_paid|P1", hashlib.sha256).hexdigest()[:16]


def test_the_secret_never_reaches_the_database_file(tmp_path):
    path = tmp_path / "run.duckdb"
    con = duckdb.connect(str(path))
    install_keyed_hash(con, TEST_SECRET)
    con.execute("create table keys as select case_key('deceased_paid', 'P' || i) as case_key from range(1000) as t(i)")
    con.close()
    stored = path.read_bytes()
    padded = TEST_SECRET.ljust(64, b"\0")
    for secret_form in (TEST_SECRET, TEST_SECRET.hex().encode(),
                        bytes(b ^ 0x36 for b in padded).hex().encode(), bytes(b ^ 0x5C for b in padded).hex().encode()):
        assert secret_form not in stored
    reopened = duckdb.connect(str(path))
    with pytest.raises(duckdb.CatalogException):
        reopened.execute("select keyed_hash('x')")


def mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_load_or_create_secret_creates_an_owner_only_file_once(tmp_path, monkeypatch):
    monkeypatch.delenv(SECRET_FILE_ENV, raising=False)
    secret = load_or_create_secret(tmp_path)
    path = tmp_path / ".hecha" / "secret.key"
    assert len(secret) == 32 and path.read_text().strip() == secret.hex()
    assert (mode(path.parent), mode(path)) == (0o700, 0o600)
    assert load_or_create_secret(tmp_path) == secret
    assert [p.name for p in path.parent.iterdir()] == ["secret.key"]  # no temporary file left behind


def test_load_or_create_secret_racing_callers_agree_on_one_secret(tmp_path, monkeypatch):
    monkeypatch.delenv(SECRET_FILE_ENV, raising=False)
    with ThreadPoolExecutor(max_workers=8) as pool:
        secrets = set(pool.map(lambda _: load_or_create_secret(tmp_path), range(32)))
    assert len(secrets) == 1


def test_hecha_secret_file_overrides_the_path(tmp_path, monkeypatch):
    elsewhere = tmp_path / "keys" / "hecha.key"
    monkeypatch.setenv(SECRET_FILE_ENV, str(elsewhere))
    secret = load_or_create_secret(tmp_path / "out")
    assert elsewhere.read_text().strip() == secret.hex()
    assert not (tmp_path / "out" / ".hecha").exists()


@pytest.mark.parametrize(
    ("description", "content"),
    [
        ("empty", ""),
        ("too short", "ab" * 16),
        ("not hex", "zz" * 32),
        ("two secrets", "ab" * 32 + "\n" + "cd" * 32),
    ],
)
def test_a_damaged_secret_file_is_refused_naming_the_file_not_its_content(tmp_path, monkeypatch, description, content):
    monkeypatch.delenv(SECRET_FILE_ENV, raising=False)
    path = tmp_path / ".hecha" / "secret.key"
    path.parent.mkdir()
    path.write_text(content)
    with pytest.raises(ValueError) as raised:
        load_or_create_secret(tmp_path)
    assert str(path) in str(raised.value), description
    assert not content or content.strip() not in str(raised.value), description


@pytest.mark.parametrize(
    ("description", "out", "expected"),
    [
        ("a nightly out folder is its own root", "/srv/hecha/out", "/srv/hecha/out"),
        ("a campaign shares its parent's secret", "/srv/hecha/out/campaigns/2026-spring", "/srv/hecha/out"),
        ("a folder merely named campaigns is a root", "/srv/hecha/campaigns", "/srv/hecha/campaigns"),
        ("a relative campaign", "out/campaigns/q1", "out"),
    ],
)
def test_secret_root_of_a_campaign_is_its_parent_out(description, out, expected):
    assert secret_root(Path(out)) == Path(expected), description
