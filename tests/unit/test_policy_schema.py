"""The policy schema: the shipped defaults fit it, a county file merges over them, and a bad file is one clear line."""

import hashlib

import pytest
import yaml

from hecha.config import POLICY_PATH, PolicyError, load_policy, policy_source
from hecha.config.schema import EXTRACT_STEMS, NoLabourMaxGrade, policy_problems
from hecha.extracts.declarations import BY_STEM, DISABILITY_CATEGORY


def write_county(tmp_path, text: str):
    path = tmp_path / "county.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def refusal(path) -> str:
    with pytest.raises(PolicyError) as raised:
        load_policy(path)
    return str(raised.value)


def test_policy_schema_accepts_the_shipped_defaults_unchanged():
    shipped = yaml.safe_load(POLICY_PATH.read_text(encoding="utf-8"))
    assert policy_problems(shipped) == []
    assert load_policy() == shipped
    assert load_policy(POLICY_PATH) == shipped


def test_policy_schema_keeps_its_vocabularies_equal_to_the_extract_declarations():
    assert set(EXTRACT_STEMS) == set(BY_STEM)
    assert set(NoLabourMaxGrade.model_fields) == set(DISABILITY_CATEGORY.values())


def test_load_policy_merges_one_county_value_over_the_defaults(tmp_path):
    county = write_county(tmp_path, "tekun:\n  min_age: 65\n")
    expected = load_policy()
    expected["tekun"]["min_age"] = 65
    assert load_policy(county) == expected


def test_load_policy_adds_a_category_beside_the_default_ones(tmp_path):
    county = write_county(tmp_path, "tekun:\n  no_labour_max_grade:\n    multiple: 2\n")
    grades = load_policy(county)["tekun"]["no_labour_max_grade"]
    assert grades == {"intellectual": 3, "mental": 3, "physical": 2, "visual": 1, "multiple": 2}


@pytest.mark.parametrize(
    ("description", "county_text", "key", "expected"),
    [
        ("a list replaces the default list", "inputs:\n  may_be_empty: [cremation]\n", ("inputs", "may_be_empty"), ["cremation"]),
        (
            "a standards table replaces the default table",
            'living_subsidy:\n  standards:\n    - {from: "2016-01", amount: 80}\n    - {from: "2024-01", amount: 100}\n',
            ("living_subsidy", "standards"),
            [{"from": "2016-01", "amount": 80}, {"from": "2024-01", "amount": 100}],
        ),
        (
            "a grade added with its standard",
            'care_subsidy:\n  grades: [1, 2, 3]\n  standards:\n    - {from: "2016-01", grade: 1, amount: 100}\n'
            '    - {from: "2016-01", grade: 2, amount: 80}\n    - {from: "2016-01", grade: 3, amount: 50}\n',
            ("care_subsidy", "grades"),
            [1, 2, 3],
        ),
    ],
)
def test_load_policy_replaces_a_list_whole(tmp_path, description, county_text, key, expected):
    section, name = key
    assert load_policy(write_county(tmp_path, county_text))[section][name] == expected, description


@pytest.mark.parametrize(
    ("description", "county_text", "expected"),
    [
        ("a word for an age", "tekun:\n  min_age: sixty\n", "tekun.min_age: expected an integer from 0 to 120, got 'sixty'"),
        ("a quoted number", 'tekun:\n  min_age: "60"\n', "tekun.min_age: expected an integer from 0 to 120, got '60'"),
        ("an age out of range", "identity:\n  max_age: 150\n", "identity.max_age: must be from 0 to 120, got 150"),
        ("a misspelt key", "identity:\n  review_treshold: 0.9\n", "unknown key identity.review_treshold"),
        ("a misspelt section", "tekunn:\n  min_age: 65\n", "unknown key tekunn"),
        ("an empty money window", "window_months: 0\n", "window_months: must be at least 1, got 0"),
        ("no back-pay months", "backpay:\n  lookback_months: 0\n", "backpay.lookback_months: must be at least 1, got 0"),
        ("link at review", "identity:\n  link_threshold: 0.95\n", "identity.link_threshold: must be below identity.review_threshold (0.95), got 0.95"),
        ("link above review", "identity:\n  review_threshold: 0.7\n", "identity.link_threshold: must be below identity.review_threshold (0.7), got 0.8"),
        ("a threshold above one", "identity:\n  review_threshold: 95\n", "identity.review_threshold: must be greater than 0 and at most 1, got 95"),
        ("minors older than the elderly", "tekun:\n  max_minor_age: 60\n", "tekun.max_minor_age: must be below tekun.min_age (60), got 60"),
        ("a grade out of range", "care_subsidy:\n  grades: [1, 5]\n", "care_subsidy.grades[1]: must be from 1 to 4, got 5"),
        ("a negative standard", 'living_subsidy:\n  standards:\n    - {from: "2016-01", amount: -80}\n', "living_subsidy.standards[0].amount: must be at least 0, got -80"),
        ("a standard without its month", "living_subsidy:\n  standards:\n    - {amount: 80}\n", "missing key living_subsidy.standards[0].from"),
        ("a date for a month", "care_subsidy:\n  policy_start: 2016-01-01\n", 'care_subsidy.policy_start: expected a month written "YYYY-MM" (quoted), got the date 2016-01-01'),
        ("a grade without a standard", "care_subsidy:\n  grades: [1, 2, 3]\n", "care_subsidy.standards: no standard in force from policy_start (2016-01) for grade 3"),
        ("an unknown extract", "inputs:\n  may_be_empty: [cremation, burials]\n", "inputs.may_be_empty[1]: expected an extract name"),
        ("an unusable-id share above one", "inputs:\n  max_unusable_id_share: 2\n", "inputs.max_unusable_id_share: must be greater than 0 and at most 1, got 2"),
        ("no run database kept", "retention:\n  run_databases: 0\n", "retention.run_databases: must be at least 1, got 0"),
        ("negative days", "retention:\n  work_days: -1\n", "retention.work_days: must be at least 0, got -1"),
        ("a section as a value", "backpay: 24\n", "backpay: expected a mapping of keys, got 24"),
        ("a misspelt category", "tekun:\n  no_labour_max_grade:\n    phisical: 2\n", "unknown key tekun.no_labour_max_grade.phisical"),
    ],
)
def test_load_policy_refuses_a_bad_value_in_one_line_naming_file_and_key(tmp_path, description, county_text, expected):
    assert_one_line_refusal(tmp_path, description, county_text, expected)


def assert_one_line_refusal(tmp_path, description: str, county_text: str, expected: str) -> None:
    message = refusal(write_county(tmp_path, county_text))
    assert "\n" not in message, description
    assert message.startswith(f"{tmp_path / 'county.yaml'}: "), description
    assert expected in message, description


def test_load_policy_suggests_the_key_a_misspelling_was_meant_to_be(tmp_path):
    message = refusal(write_county(tmp_path, "identity:\n  review_treshold: 0.9\n"))
    assert message.endswith("unknown key identity.review_treshold (did you mean identity.review_threshold?)")


def test_load_policy_lists_every_problem_on_one_line(tmp_path):
    county = write_county(tmp_path, "window_months: 0\ntekun:\n  min_age: sixty\nidentity:\n  review_treshold: 0.9\n")
    message = refusal(county)
    assert "\n" not in message
    problems = message.removeprefix(f"{county}: ").split("; ")
    assert [problem.split(":")[0].split(" (")[0] for problem in problems] == [
        "window_months",
        "tekun.min_age",
        "unknown key identity.review_treshold",
    ]


def test_load_policy_shows_the_first_problems_and_counts_the_rest(tmp_path):
    county = write_county(tmp_path, "".join(f"key_{n}: 1\n" for n in range(8)))
    message = refusal(county)
    assert message.count("unknown key") == 5
    assert message.endswith("; and 3 more")


@pytest.mark.parametrize(
    ("description", "county_text", "expected"),
    [
        ("a value where a key belongs", "tekun:\n  min_age: 65\n   max: 1\n", "line 3, column"),
        ("an unclosed bracket", "tekun: {min_age: 65\n", "line 2, column 1"),
        ("a tab for indentation", "tekun:\n\tmin_age: 65\n", "line 2, column 1"),
        ("a section written twice", "tekun:\n  min_age: 65\ntekun:\n  max_minor_age: 18\n", "line 3, column 1: key 'tekun' appears twice"),
        ("a list for the whole file", "- tekun\n", "expected a mapping of policy sections"),
    ],
)
def test_load_policy_refuses_bad_yaml_with_its_line(tmp_path, description, county_text, expected):
    assert_one_line_refusal(tmp_path, description, county_text, expected)


def test_load_policy_refuses_a_file_not_in_utf8(tmp_path):
    county = tmp_path / "county.yaml"
    county.write_bytes("tekun:\n  min_age: 65  # 特困\n".encode("gbk"))
    assert refusal(county) == f"{county}: line 2: not UTF-8 text; save the file as UTF-8"


def test_load_policy_refuses_a_missing_file_in_one_line(tmp_path):
    assert refusal(tmp_path / "county.yaml") == f"{tmp_path / 'county.yaml'}: no such policy file"


def test_load_policy_takes_an_empty_county_file_as_the_defaults(tmp_path):
    assert load_policy(write_county(tmp_path, "# national defaults\n")) == load_policy()


def test_policy_source_hashes_the_county_file_or_the_shipped_one(tmp_path):
    county = write_county(tmp_path, "tekun:\n  min_age: 65\n")
    assert policy_source(county) == {"file": str(county.resolve()), "sha256": hashlib.sha256(county.read_bytes()).hexdigest()}
    assert policy_source(None) == {"file": str(POLICY_PATH.resolve()), "sha256": hashlib.sha256(POLICY_PATH.read_bytes()).hexdigest()}
