"""The extract documentation table, rendered from the declarations.

`python -m hecha.extracts.docs > docs/extracts.md` regenerates the committed page;
a test fails when the page and the declarations disagree.
"""

from __future__ import annotations

from hecha.extracts.declarations import EXTRACTS
from hecha.extracts.schema import Column

KIND_TEXT = {
    "text": "text",
    "name": "name (normalized)",
    "id_number": "citizen number (normalized, status)",
    "code": "code",
    "flag": "是/否 → boolean",
    "grade": "一级…四级 → 1…4",
    "date": "date",
    "month": "month",
    "amount": "yuan",
    "integer": "integer",
}


def describe_kind(column: Column) -> str:
    return KIND_TEXT[column.kind] + (" (begins with the citizen number)" if column.embeds_id_number else "")


def describe_values(column: Column) -> str:
    if column.kind == "code":
        return ", ".join(f"{label} → `{code}`" for label, code in column.vocabulary.items())
    return ""


def render_extract_docs() -> str:
    lines = [
        "# Extracts",
        "",
        "Generated from `extracts/declarations.py` by `python -m hecha.extracts.docs`; do not edit by hand.",
        "Headers are matched after NFKC normalisation (full-width brackets, spaces); values are trimmed.",
        "A header given twice, or beside an alias of itself, is refused, as is CSV whose quoting is broken.",
        "A row goes to `stg.quarantine`, with the reason, when a value cannot be typed, holds control characters,",
        "is longer than `inputs.max_text_length` (`inputs.max_address_length` for addresses), or is an amount",
        "below 0 or above `inputs.max_line_amount` (`config/policy.yaml`). A drop is refused when an extract has",
        "no usable row (except those in `inputs.may_be_empty`), when as_of lies outside the months the payments",
        "ledger covers (up to `inputs.as_of_months_after_ledger` after its last), when a column holding citizen",
        "numbers holds numbers a spreadsheet rounded to 15 digits (numeric .xlsx cells, `1.30534E+17`, 18-digit",
        "values ending in 000 far more often than real ones), or when more of a file's citizen numbers than",
        "`inputs.max_unusable_id_share` are unusable after normalization (unless the run accepts it explicitly).",
        "",
    ]
    for extract in EXTRACTS:
        lines += [
            f"## `{extract.stem}` — {extract.title}",
            "",
            f"{extract.source_system}; {extract.grain}.",
            "",
            "| header | also accepted | stg column | kind | required | blank allowed | values |",
            "| --- | --- | --- | --- | --- | --- | --- |",
        ]
        for column in extract.columns:
            aliases = ", ".join(h for h in column.headers if h != column.header)
            lines.append(
                f"| {column.header} | {aliases} | `{column.name}` | {describe_kind(column)} | "
                f"{'yes' if column.required else 'no'} | {'yes' if column.nullable else 'no'} | {describe_values(column)} |"
            )
        for rule in extract.row_rules:
            lines += ["", f"Row rule `{rule.name}`: {rule.description}."]
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    print(render_extract_docs(), end="")
