"""The first sheet of an .xlsx workbook as text: openpyxl's values, parsed fast when the sheet holds only text.

What belongs here: turning a worksheet openpyxl has opened (read-only) into
its header row and data rows of text. openpyxl builds every cell in Python,
seconds for a county's fifty thousand certificates; a sheet whose cells are
all strings (shared or inline: what the contract asks for, and what the
county systems and the sample generator write) is parsed here instead with
vectorised regular expressions over its XML, to the values openpyxl gives.
A sheet holding anything else (numbers, dates, formulas, rich text,
character references, XML laid out otherwise) is not parsed here: `None`
tells the caller to read it with openpyxl, cell by cell. What does not
belong here: header mapping and the errors about a file (`extracts.read`).
"""

from __future__ import annotations

import re

import polars as pl

SHEET_NAMESPACE = b'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
NAMESPACE_PREFIX = rb'xmlns:([A-Za-z_][A-Za-z0-9_.-]*)='
# Characters XML 1.0 does not allow: a sheet holding one is not well-formed, and openpyxl refuses it.
NOT_XML_BYTES = bytes([*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20)])
NOT_XML_CHARACTERS = ("\uFFFE", "\uFFFF")
# What may stand before the first cell of a row: its start tag (attributes unprefixed or
# with a prefix the sheet declares, as Excel's x14ac:dyDescent), white space.
ROW_START = r'^\s*<row(?:\s+{name}="[^"<&]*")*\s*>\s*$'
XML_NAME = r"[A-Za-z_][A-Za-z0-9_.-]*"
ROW_NUMBER = r'^\s*<row\b[^>]*?\sr="([0-9]+)"'
ROW_ATTRIBUTE_NAME = r'\s([^\s=]+)="'
# A cell's attributes after `<c `, each at most once and in the schema's order (as Excel, WPS,
# xlsxwriter and openpyxl write them; another order leaves the sheet to openpyxl), then `/` when
# the cell is closed at once.
CELL_ATTRIBUTES = r'^r="[A-Z]{1,3}[0-9]+"' + "".join(rf'(?: {name}="[^"<&]*")?' for name in ("s", "t", "cm", "vm", "ph")) + r"\s*/?$"
INLINE_STARTS = ('<is><t xml:space="preserve">', "<is><t>")
# The only entities a sheet may hold: XML's five (a character reference leaves it to openpyxl).
XML_ENTITIES = {"&lt;": "<", "&gt;": ">", "&quot;": '"', "&apos;": "'", "&amp;": "&"}


def read_text_sheet(sheet) -> tuple[list[str | None], pl.DataFrame] | None:
    """The header row and the data rows of a read-only openpyxl sheet that holds only text, or None.

    The values are those `sheet.iter_rows(values_only=True)` gives: rows
    from 1 to the sheet's recorded dimension, a missing row or cell None,
    an empty string cell "". The data rows come as text columns
    `column_1`… (as many as the dimension is wide), without the blank rows
    that end a sheet. None when the sheet holds anything but text cells or
    its XML is not laid out as this parser expects.
    """
    width, height = sheet.max_column, sheet.max_row
    if not width or not height:
        return None  # no recorded dimension: openpyxl sizes each row by its cells
    with sheet._get_source() as source:  # openpyxl's read-only sheet opens its part of the archive so
        xml = source.read()
    start, end = xml.find(b"<sheetData>"), xml.rfind(b"</sheetData>")
    root = re.search(rb"<worksheet\b[^>]*>", xml[:max(start, 0)])
    if start < 0 or end < start or root is None or SHEET_NAMESPACE not in root.group() or b"<!DOCTYPE" in xml[:start]:
        return None  # a document type may declare entities and default attributes
    try:
        body = pl.Series([xml[start + len(b"<sheetData>"):end]]).cast(pl.String)
    except pl.exceptions.PolarsError:
        return None  # not UTF-8
    if len(xml.translate(None, NOT_XML_BYTES)) != len(xml) or any(body.str.contains(c, literal=True).item() for c in NOT_XML_CHARACTERS):
        return None
    if body.str.count_matches("&", literal=True).item() != body.str.count_matches("|".join(XML_ENTITIES)).item():
        return None  # a character reference, or an & no entity begins
    prefixes = [prefix.decode() for prefix in re.findall(NAMESPACE_PREFIX, root.group())]
    cells = sheet_cells(body, sheet._shared_strings, prefixes)
    if cells is None:
        return None
    cells = cells.filter((pl.col("row") <= height) & (pl.col("column") <= width))
    if cells.is_empty():
        return None
    return header_and_rows(cells, width)


def sheet_cells(body: pl.Series, shared_strings: list[str], prefixes: list[str]) -> pl.DataFrame | None:
    """`row`, `column` (1-based) and text `value` of every cell of the sheetData XML; None when a cell is not text.

    The XML is cut at each `</row>`, then each row at each `<c `: every piece
    must be a row's start tag, a text cell or white space, so nothing the
    XML holds goes unread (a comment, a formula, rich text, a prefixed tag
    fails these shapes).
    """
    rows = body.str.split("</row>").explode().to_frame("xml")
    if not (rows["xml"].tail(1).str.strip_chars() == "").all():
        return None
    rows = rows.head(-1).with_columns(row=pl.col("xml").str.extract(ROW_NUMBER).cast(pl.Int64), pieces=pl.col("xml").str.split("<c "))
    if rows.is_empty() or rows["row"].null_count() or not (rows["row"].diff().drop_nulls() > 0).all():
        return None  # a row without its number, or out of order: openpyxl counts such rows itself
    starts = rows["pieces"].list.first()
    if starts.str.contains("xmlns", literal=True).any():
        return None  # a namespace declared on a row
    name = f"(?:(?:{'|'.join(map(re.escape, prefixes))}):)?{XML_NAME}" if prefixes else XML_NAME
    if not starts.str.contains(ROW_START.format(name=name)).all():
        return None
    names = starts.str.extract_all(ROW_ATTRIBUTE_NAME)
    if (names.list.n_unique() != names.list.len()).any():
        return None  # an attribute given twice: not well-formed
    cells = rows.select("row", xml=pl.col("pieces").list.slice(1)).explode("xml").drop_nulls("xml")
    parts = cells["xml"].str.splitn(">", 2).struct.rename_fields(["attributes", "content"]).struct.unnest()
    attributes, content = parts["attributes"], parts["content"]
    if not attributes.str.contains(CELL_ATTRIBUTES).all() or content.is_null().any():
        return None
    closed = attributes.str.ends_with("/")  # <c r="B2" s="1"/>: no value
    if not ((closed & (content == "")) | (~closed & content.str.ends_with("</c>"))).all():
        return None
    inner = content.str.strip_suffix("</c>")
    # the attributes are known to be well formed: a type is found by its text, no regular expression needed
    is_shared = attributes.str.contains(' t="s"', literal=True) & ~closed
    is_inline = attributes.str.contains(' t="inlineStr"', literal=True) & ~closed
    untyped = ~attributes.str.contains(" t=", literal=True) & (inner == "")
    index = inner.str.strip_prefix("<v>").str.strip_suffix("</v>")
    text = inner.str.strip_prefix(INLINE_STARTS[0]).str.strip_prefix(INLINE_STARTS[1]).str.strip_suffix("</t></is>")
    is_index = inner.str.starts_with("<v>") & inner.str.ends_with("</v>") & index.str.contains(r"^[0-9]+$")
    is_text = (inner.str.starts_with(INLINE_STARTS[0]) | inner.str.starts_with(INLINE_STARTS[1])) & inner.str.ends_with("</t></is>")
    is_text &= ~text.str.contains("<", literal=True) & ~text.str.contains("\r", literal=True)  # rich text; a line end XML rewrites
    if not ((is_shared & is_index) | (is_inline & is_text) | closed | untyped).all():
        return None  # a number, a date, a boolean, a formula's result, rich text
    text = text.filter(is_inline)
    indexes = index.filter(is_shared).cast(pl.Int64)
    if indexes.len() and indexes.max() >= len(shared_strings):
        return None
    values = pl.Series([None] * cells.height, dtype=pl.String)
    if indexes.len():
        values = values.scatter(is_shared.arg_true(), pl.Series(list(shared_strings), dtype=pl.String).gather(indexes))
    if text.len():
        values = values.scatter(is_inline.arg_true(), text.str.replace_many(XML_ENTITIES))
    letters = attributes.str.slice(3).str.split_exact('"', 1).struct.field("field_0").str.strip_chars_end("0123456789")
    distinct = letters.unique().to_list()
    columns = letters.replace_strict(dict(zip(distinct, map(column_number, distinct))), return_dtype=pl.Int64)
    cells = pl.DataFrame({"row": cells["row"], "column": columns, "value": values})
    if (cells["row"] * 20_000 + cells["column"]).n_unique() != cells.height:  # three letters name at most 18,278 columns
        return None  # a cell given twice: openpyxl keeps the last
    return cells


def column_number(letters: str) -> int:
    """A → 1, Z → 26, AA → 27: the column a cell reference names."""
    number = 0
    for letter in letters:
        number = number * 26 + ord(letter) - ord("A") + 1
    return number


def header_and_rows(cells: pl.DataFrame, width: int) -> tuple[list[str | None], pl.DataFrame]:
    """Row 1 as a list; rows 2… as text columns `column_1`…, up to the last row holding a value."""
    names = [f"column_{position}" for position in range(1, width + 1)]
    first = dict(cells.filter(pl.col("row") == 1).select("column", "value").iter_rows())
    header = [first.get(position) for position in range(1, width + 1)]
    data = cells.filter((pl.col("row") >= 2) & pl.col("value").is_not_null())
    last = data["row"].max() if not data.is_empty() else 1  # blank rows that end a sheet are not data
    frame = pl.DataFrame({"row": pl.int_range(2, last + 1, eager=True, dtype=pl.Int64)})
    if not data.is_empty():
        frame = frame.join(data.pivot(on="column", index="row", values="value"), on="row", how="left", maintain_order="left")
    present = {str(position) for position in range(1, width + 1)} & set(frame.columns)
    frame = frame.with_columns(
        (pl.col(str(position)).cast(pl.String) if str(position) in present else pl.lit(None, dtype=pl.String)).alias(name)
        for position, name in enumerate(names, start=1)
    )
    return header, frame.select(names)
