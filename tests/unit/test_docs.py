from pathlib import Path

from hecha.extracts.docs import render_extract_docs

DOCS = Path(__file__).resolve().parents[2] / "docs" / "extracts.md"


def test_committed_extract_docs_match_the_declarations():
    assert DOCS.read_text(encoding="utf-8") == render_extract_docs(), "run: python -m hecha.extracts.docs > docs/extracts.md"


def test_committed_table_docs_match_the_declarations():
    from hecha.storage.tables import render_table_docs

    page = DOCS.with_name("tables.md").read_text(encoding="utf-8")
    assert page == render_table_docs(), "run: python -m hecha.storage.tables > docs/tables.md"


def test_committed_check_docs_match_the_catalogue():
    from hecha.checks.catalogue import render_catalogue_docs
    from hecha.config import load_policy

    page = DOCS.with_name("checks.md").read_text(encoding="utf-8")
    assert page == render_catalogue_docs(load_policy()), "run: python -m hecha.checks.catalogue > docs/checks.md"


def test_check_descriptions_quote_the_policy_values_that_ran():
    from hecha.checks.catalogue import BY_CODE
    from hecha.config import load_policy

    policy = load_policy() | {"window_months": 36}
    text = BY_CODE["deceased_paid"].render_description(policy)
    assert "最近 36 个月" in text and "{" not in text
