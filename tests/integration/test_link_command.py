"""`hecha link`: one line per data row of every extract, linked to the right person."""

import csv
from collections import Counter
from pathlib import Path

import pytest

from hecha.flows.cli import main

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample"
METHODS = {"exact", "upgraded", "repaired", "probabilistic", "same_invalid_number", "quarantined", ""}


@pytest.fixture(scope="module")
def links(tmp_path_factory):
    folder = tmp_path_factory.mktemp("links")
    out = folder / "links.csv"
    assert main(["link", "--drop", str(SAMPLE / "drop"), "--out", str(out), "--runs", str(folder / "runs")]) == 0
    with out.open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def truth():
    with (SAMPLE / "truth" / "records.csv").open(encoding="utf-8") as handle:
        return {(row["source"], int(row["row_number"])): row for row in csv.DictReader(handle)}


def test_link_file_has_one_line_per_data_row_of_every_extract(links, truth):
    assert Counter(row["source"] for row in links) == Counter(source for source, _ in truth)
    assert {(row["source"], int(row["row_number"])) for row in links} == set(truth)
    assert {row["method"] for row in links} <= METHODS
    assert all((row["person_id"] == "") == (row["method"] in ("", "quarantined")) for row in links)


def test_link_file_links_blank_number_cremation_rows_to_their_person(links, truth):
    persons = {}
    for row in links:  # the register row of each person tells which citizen number a person_id is
        if row["source"] == "household_register" and row["person_id"]:
            persons[row["person_id"]] = truth[("household_register", int(row["row_number"]))]["true_id_number"]
    blank = [row for row in links if row["source"] == "cremation"
             and "id_blank" in truth[("cremation", int(row["row_number"]))]["noise"]]
    linked = [row for row in blank if row["person_id"] in persons]
    assert len(linked) > 50
    assert all(persons[row["person_id"]] == truth[("cremation", int(row["row_number"]))]["true_id_number"] for row in linked)
    assert all(row["method"] == "probabilistic" and float(row["confidence"]) >= 0.8 for row in linked)
