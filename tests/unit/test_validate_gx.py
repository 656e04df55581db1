"""Great Expectations is the reference: its figures and DuckDB's agree, expectation by expectation.

The same expectations (`extracts.expectations`) run twice through
`validate_stg`: evaluated in DuckDB as the run evaluates them, and through
GX's pandas path (`tests.gx_reference`). Both on the committed sample drop and
on the planted tables, where every kind of expectation fails somewhere: a
code outside its vocabulary, dates before 1900, after as_of and in 9999,
negative amounts, an integer over its maximum, missing keys, bad citizen-number
statuses, a broken row rule and a blank in a column a rule reads.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from hecha.extracts.declarations import EXTRACTS
from hecha.extracts.load import load_drop
from hecha.extracts.read import read_manifest
from hecha.flows.run import resolve_as_of
from hecha.extracts.validate import validate_stg
from hecha.matching.normalize import normalize_identities
from tests.gx_reference import evaluate_with_gx
from tests.stg_tables import AS_OF, create_stg_table, planted_stg

ROOT = Path(__file__).resolve().parents[2]
SAMPLE_DROP = ROOT / "data" / "sample" / "drop"
FIGURES = ("expectation", "column", "description", "success", "unexpected_count", "unexpected_percent", "example_rows", "error")


def assert_same_figures(duckdb_summary: dict, gx_summary: dict) -> None:
    assert duckdb_summary["files"].keys() == gx_summary["files"].keys()
    for stem, file in gx_summary["files"].items():
        ours = duckdb_summary["files"][stem]
        assert (ours["rows"], ours["success"]) == (file["rows"], file["success"]), stem
        assert len(ours["expectations"]) == len(file["expectations"]), stem
        for mine, reference in zip(ours["expectations"], file["expectations"], strict=True):
            assert {key: mine.get(key) for key in FIGURES} == {key: reference.get(key) for key in FIGURES}, (stem, reference["column"])
    assert duckdb_summary == gx_summary


def test_duckdb_and_gx_agree_on_the_planted_tables():
    con = planted_stg()
    create_stg_table(con, "household_register", [])  # no rows: no percent anywhere
    summary = validate_stg(con, EXTRACTS, AS_OF)
    assert_same_figures(summary, validate_stg(con, EXTRACTS, AS_OF, evaluate=evaluate_with_gx))
    failed = {(stem, e["expectation"]) for stem, file in summary["files"].items() for e in file["expectations"] if not e["success"]}
    assert {kind for _, kind in failed} == {"expect_column_values_to_not_be_null", "expect_column_values_to_be_in_set",
                                            "expect_column_values_to_be_between"}
    assert summary["files"]["household_register"]["rows"] == 0


def test_duckdb_and_gx_agree_on_the_sample_drop():
    con = duckdb.connect()
    manifest = read_manifest(SAMPLE_DROP)
    load_drop(con, SAMPLE_DROP, manifest)
    normalize_identities(con)
    as_of = resolve_as_of(manifest, None)
    summary = validate_stg(con, EXTRACTS, as_of)
    assert_same_figures(summary, validate_stg(con, EXTRACTS, as_of, evaluate=evaluate_with_gx))
    assert not summary["success"]  # the sample's noise breaks some expectations: the comparison covers failures


def test_a_run_of_the_sample_never_imports_great_expectations(tmp_path):
    code = (
        "import sys\n"
        "from hecha.flows.cli import main\n"
        f"status = main(['run', '--drop', {str(SAMPLE_DROP)!r}, '--out', {str(tmp_path / 'out')!r}])\n"
        "print(status, sorted(name for name in sys.modules if name.split('.')[0] == 'great_expectations'))\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.splitlines()[-1] == "0 []"
