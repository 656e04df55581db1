from pathlib import Path

from extracts.docs import render_extract_docs

DOCS = Path(__file__).resolve().parents[2] / "docs" / "extracts.md"


def test_committed_extract_docs_match_the_declarations():
    assert DOCS.read_text(encoding="utf-8") == render_extract_docs(), "run: python -m extracts.docs > docs/extracts.md"
