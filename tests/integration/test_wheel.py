"""The wheel a bureau carries to its server: built from the repo, installed into a fresh venv, runs the sample elsewhere.

The fresh venv gets the wheel alone (no index); its dependencies come from the
project's venv through a path file, so nothing is downloaded after the build
and nothing of the source tree is importable there.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SAMPLE_DROP = ROOT / "data" / "sample" / "drop"


def run(command: list, **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run([str(part) for part in command], capture_output=True, text=True, timeout=600, **kwargs)
    assert result.returncode == 0, f"{command}:\n{result.stdout[-2000:]}\n{result.stderr[-3000:]}"
    return result


def test_wheel_installs_into_a_fresh_venv_and_runs_the_sample_from_another_folder(tmp_path):
    source = tmp_path / "source"  # built from a copy: the build writes its own folders beside the sources
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(".git", ".venv", "build", "dist", "out", "*.egg-info", "__pycache__"))
    run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", tmp_path / "dist", source])
    (wheel,) = (tmp_path / "dist").glob("hecha-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    version = wheel.name.split("-")[1]
    assert {name.split("/")[0] for name in names} == {"hecha", f"hecha-{version}.dist-info"}  # no generic top-level name
    assert "hecha/sql/checks/deceased_paid.sql" in names and "hecha/sql/macros.sql" in names
    assert "hecha/config/policy.yaml" in names
    assert not any(name.startswith(("hecha/tests/", "hecha/bench/", "hecha/data/")) for name in names)

    fresh = tmp_path / "fresh"
    run([sys.executable, "-m", "venv", "--without-pip", fresh])
    site = Path(run([fresh / "bin" / "python", "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]).stdout.strip())
    (site / "_project_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    run([sys.executable, "-m", "pip", "--python", fresh / "bin" / "python", "install", "--no-deps", "--no-index", "--quiet", wheel])

    elsewhere = tmp_path / "elsewhere"
    shutil.copytree(SAMPLE_DROP, elsewhere / "drop")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_") and k != "PYTHONPATH"}
    where = run([fresh / "bin" / "python", "-c", "import hecha.flows.cli as cli; print(cli.__file__)"], cwd=elsewhere, env=env)
    assert where.stdout.strip().startswith(str(fresh))  # the installed copy, not the source tree
    result = run([fresh / "bin" / "hecha", "run", "--drop", "drop", "--out", "out"], cwd=elsewhere, env=env)
    assert "findings per check" in result.stdout
    (published,) = (elsewhere / "out").glob("[!.]*/exceptions.csv")
    assert len(published.read_text(encoding="utf-8").splitlines()) > 100
