"""Every input error is one line on stderr naming what is wrong, exit 2, no traceback, nothing written.

Run as an operator runs it: the `hecha` command in its own process, without a
Prefect server.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest

ROOT = Path(__file__).resolve().parents[2]
SAMPLE_DROP = ROOT / "data" / "sample" / "drop"


def hecha(*arguments: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    return subprocess.run([sys.executable, "-m", "hecha.flows.cli", *arguments], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=300)


def copy_drop(tmp_path: Path) -> Path:
    drop = tmp_path / "drop"
    shutil.copytree(SAMPLE_DROP, drop)
    return drop


def edit_csv_header(drop: Path, stem: str, old: str, new: str) -> None:
    path = drop / f"{stem}.csv"
    text = path.read_text(encoding="utf-8-sig")
    header, rest = text.split("\n", 1)
    path.write_text(header.replace(old, new, 1) + "\n" + rest, encoding="utf-8")


def excel_mangled_register(drop: Path) -> None:
    """The register as Excel leaves it after a save: 身份证号 stored as numbers."""
    source = drop / "household_register.csv"
    rows = [line.split(",") for line in source.read_text(encoding="utf-8-sig").splitlines()]
    column = rows[0].index("身份证号")
    book = openpyxl.Workbook()
    sheet = book.active
    for number, row in enumerate(rows[:400]):
        if number and row[column].isdigit():
            row[column] = float(row[column])
        sheet.append(row)
    book.save(drop / "household_register.xlsx")
    source.unlink()


CASES = {
    "drop folder not found": (lambda tmp, drop: ["run", "--drop", str(tmp / "nowhere")], "nowhere"),
    "file missing": (lambda tmp, drop: (drop.joinpath("tekun.csv").unlink(), ["run", "--drop", str(drop)])[1], "tekun"),
    "column missing": (lambda tmp, drop: (edit_csv_header(drop, "payments", "金额", "金 额 合计"), ["run", "--drop", str(drop)])[1],
                       "金额"),
    "manifest not YAML": (lambda tmp, drop: (drop.joinpath("manifest.yaml").write_text("as_of: [2026", encoding="utf-8"),
                                             ["run", "--drop", str(drop)])[1], "manifest.yaml"),
    "as_of not a month": (lambda tmp, drop: ["run", "--drop", str(drop), "--as-of", "2026-13"], "as_of"),
    "as_of after the ledger": (lambda tmp, drop: ["run", "--drop", str(drop), "--as-of", "2099-12"], "2099-12"),
    "policy of a wrong type": (lambda tmp, drop: (tmp.joinpath("p.yaml").write_text("tekun:\n  min_age: sixty\n", encoding="utf-8"),
                                                  ["run", "--drop", str(drop), "--policy", str(tmp / "p.yaml")])[1], "tekun.min_age"),
    "policy with an unknown key": (lambda tmp, drop: (tmp.joinpath("p.yaml").write_text("tekun:\n  min_agee: 60\n", encoding="utf-8"),
                                                      ["run", "--drop", str(drop), "--policy", str(tmp / "p.yaml")])[1], "min_agee"),
    "policy with window_months 0": (lambda tmp, drop: (tmp.joinpath("p.yaml").write_text("window_months: 0\n", encoding="utf-8"),
                                                       ["run", "--drop", str(drop), "--policy", str(tmp / "p.yaml")])[1], "window_months"),
    "campaign name with a quote": (lambda tmp, drop: ["campaign", "--drop", str(drop), "--name", "it's"], "campaign name"),
    "unknown campaign township": (lambda tmp, drop: ["campaign", "--drop", str(drop), "--name", "t1", "--townships", "坝营"],
                                  "known: 坝营乡"),
    "unknown check code": (lambda tmp, drop: ["campaign", "--drop", str(drop), "--name", "t1", "--checks", "no_such"], "no_such"),
    "register saved by Excel": (lambda tmp, drop: (excel_mangled_register(drop), ["run", "--drop", str(drop)])[1], "身份证号"),
}


@pytest.mark.parametrize("case", CASES)
def test_input_error_is_one_line_exit_2_and_publishes_nothing(tmp_path, case):
    make, expected = CASES[case]
    drop = copy_drop(tmp_path)
    out = tmp_path / "out"
    result = hecha(*make(tmp_path, drop), "--out", str(out))
    errors = [line for line in result.stderr.splitlines() if not line.startswith("hecha: run ")]  # stage progress lines
    assert result.returncode == 2, result.stderr
    assert len(errors) == 1 and errors[0].startswith("hecha: "), result.stderr
    assert expected in errors[0]
    assert "Traceback" not in result.stderr
    published = [path for path in out.rglob("run.json") if ".work-" not in str(path)] if out.exists() else []
    assert published == [] and not (out.exists() and list(out.rglob("exceptions.csv")))


def test_run_with_a_prefect_server_named_is_recorded_there_as_a_flow_run(tmp_path, monkeypatch):
    """With PREFECT_API_URL set, `hecha run` shows in the same Prefect UI as the nightly runs."""
    from prefect.client.orchestration import get_client
    from prefect.settings import get_current_settings

    from hecha.flows.cli import main

    def nightly_runs() -> list[dict]:
        # the client's read_flow_runs sends null filters this server refuses (422): ask the API directly
        with get_client(sync_client=True) as client:
            body = {"flows": {"name": {"any_": ["nightly"]}}, "limit": 200, "offset": 0, "sort": "START_TIME_DESC"}
            return client.request("POST", "/flow_runs/filter", json=body).json()

    url = get_current_settings().api.url  # the session's Prefect server (tests/integration/conftest.py)
    assert url
    monkeypatch.setenv("PREFECT_API_URL", url)
    before = {run["id"] for run in nightly_runs()}
    assert main(["run", "--drop", str(SAMPLE_DROP), "--out", str(tmp_path / "out")]) == 0
    (new,) = [run for run in nightly_runs() if run["id"] not in before]
    assert new["state_type"] == "COMPLETED"
