"""Reading .xlsx sheets: a sheet of text cells is parsed fast to exactly what openpyxl reads; any other is left to openpyxl."""

import zipfile

import openpyxl
import polars as pl
import pytest
import xlsxwriter
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from hecha.extracts import read
from hecha.extracts.read import read_xlsx_sheet
from hecha.extracts.xlsx import read_text_sheet

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
# Shared strings as Excel writes them: plain, kept spaces, rich text runs, a phonetic reading, an escape, empty.
SHARED = (
    "<si><t>zero</t></si>",
    '<si><t xml:space="preserve"> one </t></si>',
    "<si><r><t>ri</t></r><r><rPr><b/></rPr><t>ch</t></r></si>",
    '<si><t>ph</t><rPh sb="0" eb="1"><t>PH</t></rPh></si>',
    "<si><t>x005F_x000D_</t></si>",
    "<si><t/></si>",
)


def text(ref: str, value: str) -> str:
    return f'<c r="{ref}" t="inlineStr"><is><t>{value}</t></is></c>'


HEADER = '<row r="1">' + text("A1", "甲") + text("B1", "乙") + text("C1", "丙") + "</row>"


def row(number: int, *cells: str, attributes: str = "") -> str:
    return f'<row r="{number}"{attributes}>' + "".join(cells) + "</row>"


def workbook(folder, sheet_data: str, dimension: str | None = "A1:C4", root_attributes: str = ""):
    """A workbook whose first sheet holds `sheet_data`, built around a workbook xlsxwriter wrote."""
    base = folder / "base.xlsx"
    book = xlsxwriter.Workbook(str(base))
    book.add_worksheet().write_string(0, 0, "a")
    book.close()
    sheet = (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet xmlns="{MAIN}"{root_attributes}>'
        + (f'<dimension ref="{dimension}"/>' if dimension else "")
        + f"<sheetData>{sheet_data}</sheetData></worksheet>"
    )
    strings = f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<sst xmlns="{MAIN}">{"".join(SHARED)}</sst>'
    path = folder / "sheet.xlsx"
    with zipfile.ZipFile(base) as source, zipfile.ZipFile(path, "w") as target:
        for name in source.namelist():
            data = source.read(name)
            if name == "xl/worksheets/sheet1.xml":
                data = sheet.encode()
            elif name == "xl/sharedStrings.xml":
                data = strings.encode()
            target.writestr(name, data)
    return path


def parsed_fast(path) -> bool:
    book = load_workbook(path, read_only=True, data_only=True)
    try:
        return read_text_sheet(book.worksheets[0]) is not None
    finally:
        book.close()


def read_as_openpyxl_does(path, monkeypatch):
    with monkeypatch.context() as patched:
        patched.setattr(read, "read_text_sheet", lambda sheet: None)
        return outcome(path)


def outcome(path):
    """What reading gives: the header, the rows, the numeric cells; or the error."""
    try:
        headers, frame, numbers = read_xlsx_sheet(path)
    except Exception as error:  # noqa: BLE001 - the same failure either way is what is compared
        return type(error).__name__
    return headers, frame.rows(), frame.columns, numbers


PLAIN = row(2, text("A2", "x"), text("B2", "y"))
CASES = [
    # (description, sheet data, parsed fast)
    ("plain inline text", HEADER + PLAIN, True),
    ("shared strings, rich and phonetic ones among them", HEADER + row(2, *(f'<c r="{c}2" t="s"><v>{i}</v></c>' for c, i in zip("ABC", (0, 1, 2))))
     + row(3, *(f'<c r="{c}3" t="s"><v>{i}</v></c>' for c, i in zip("ABC", (3, 4, 5)))), True),
    ("the five XML entities", HEADER + row(2, text("A2", "&lt;a&gt; &amp;amp; &quot;&apos;")), True),
    ("kept spaces", HEADER + row(2, '<c r="A2" t="inlineStr"><is><t xml:space="preserve">  sp  </t></is></c>'), True),
    ("a line feed and a tab in a value", HEADER + row(2, text("A2", "x\ny"), text("B2", "a\tb")), True),
    ("an escape openpyxl keeps as written", HEADER + row(2, text("A2", "a_x0001_b")), True),
    ("an empty styled cell", HEADER + row(2, '<c r="A2" s="1"/>', '<c r="B2" s="1"></c>', text("C2", "z")), True),
    ("an inline cell closed at once", HEADER + row(2, '<c r="A2" t="inlineStr"/>', text("B2", "q")), True),
    ("rows missing in the middle", HEADER + row(4, text("A4", "x")), True),
    ("no first row", row(2, text("A2", "x")), True),
    ("a blank row in the middle", HEADER + row(2) + row(3, text("A3", "x")), True),
    ("blank rows ending the sheet", HEADER + PLAIN + row(3, '<c r="A3" s="1"/>') + row(4), True),
    ("only a header", HEADER, True),
    ("a cell beyond the dimension's columns", HEADER + row(2, text("A2", "x"), text("D2", "far")), True),
    ("a row beyond the dimension's rows", HEADER + PLAIN + row(9, text("A9", "far")), True),
    ("a cell whose reference names another row", HEADER + row(2, text("A2", "x"), text("B3", "y")), True),
    ("columns past Z", HEADER + row(2, text("AA2", "x")), True),
    ("Excel's row and cell attributes", HEADER + row(2, '<c r="A2" s="3" t="inlineStr" cm="1"><is><t>x</t></is></c>',
                                                   attributes=' spans="1:3" ht="20" customHeight="1" x14ac:dyDescent="0.25"'), True),
    ("a carriage return in a value", HEADER + row(2, text("A2", "x\r\ny")), False),
    ("character references", HEADER + row(2, text("A2", "&#20013;&#x4e2d;")), False),
    ("an empty text closed at once", HEADER + row(2, '<c r="A2" t="inlineStr"><is><t/></is></c>'), False),
    ("rich inline text", HEADER + row(2, '<c r="A2" t="inlineStr"><is><r><t>a</t></r><r><t>b</t></r></is></c>'), False),
    ("a number", HEADER + row(2, '<c r="A2"><v>130534198001011234</v></c>'), False),
    ("a boolean", HEADER + row(2, '<c r="A2" t="b"><v>1</v></c>'), False),
    ("an error value", HEADER + row(2, '<c r="A2" t="e"><v>#N/A</v></c>'), False),
    ("a date", HEADER + row(2, '<c r="A2" t="d"><v>2020-01-01T00:00:00</v></c>'), False),
    ("a formula's text", HEADER + row(2, '<c r="A2" t="str"><f>A1</f><v>甲</v></c>'), False),
    ("a shared string out of range", HEADER + row(2, '<c r="A2" t="s"><v>99</v></c>'), False),
    ("rows out of order", HEADER + row(3, text("A3", "x")) + row(2, text("A2", "y")), False),
    ("a row given twice", HEADER + row(2, text("A2", "x")) + row(2, text("B2", "y")), False),
    ("a cell given twice", HEADER + row(2, text("A2", "x"), text("A2", "y")), False),
    ("a cell without its reference", HEADER + row(2, '<c t="inlineStr"><is><t>x</t></is></c>'), False),
    ("a reference that is not first", HEADER + row(2, '<c t="inlineStr" r="A2"><is><t>x</t></is></c>'), False),
    ("a row without its number", HEADER + '<row>' + text("A2", "x") + "</row>", False),
    ("a row closed at once", HEADER + '<row r="2"/>' + row(3, text("A3", "x")), False),
    ("pretty-printed XML", HEADER + '\n  <row r="2">\n    ' + text("A2", "x") + "\n  </row>\n", False),
    ("a comment", HEADER + "<!-- note -->" + PLAIN, False),
    ("CDATA", HEADER + row(2, '<c r="A2" t="inlineStr"><is><t><![CDATA[a<b]]></t></is></c>'), False),
    ("a prefixed cell", HEADER + row(2, f'<x:c xmlns:x="{MAIN}" r="A2" t="inlineStr"><x:is><x:t>x</x:t></x:is></x:c>'), False),
    ("single-quoted attributes", HEADER + "<row r=\"2\"><c r='A2' t='inlineStr'><is><t>x</t></is></c></row>", False),
    # not well-formed: openpyxl refuses these, and so must the reader
    ("a control character", HEADER + row(2, text("A2", "a\x01b")), False),
    ("a bare ampersand", HEADER + row(2, text("A2", "a & b")), False),
    ("an attribute given twice", HEADER + row(2, '<c r="A2" t="s" t="inlineStr"><is><t>x</t></is></c>'), False),
    ("a row attribute given twice", HEADER + '<row r="2" r="3">' + text("A2", "x") + "</row>", False),
    ("a namespace declared on a row", HEADER + row(2, text("A2", "x"), attributes=' xmlns="urn:other"'), False),
    ("an empty sheet", "", False),
]


@pytest.mark.parametrize(("description", "sheet_data", "fast"), CASES, ids=[case[0] for case in CASES])
def test_sheet_reads_as_openpyxl_reads_it(tmp_path, monkeypatch, description, sheet_data, fast):
    declared = ' xmlns:x14ac="http://schemas.microsoft.com/office/spreadsheetml/2009/9/ac"'
    path = workbook(tmp_path, sheet_data, root_attributes=declared)
    assert parsed_fast(path) == fast, description
    assert outcome(path) == read_as_openpyxl_does(path, monkeypatch), description


@pytest.mark.parametrize(
    ("description", "dimension", "root_attributes", "fast"),
    [
        ("no recorded dimension", None, "", False),
        ("a dimension narrower than the cells", "A1:B2", "", True),
        ("a dimension of one cell", "A1", "", True),
        ("a row attribute of an undeclared prefix", "A1:C4", "", False),
    ],
)
def test_sheet_dimension_and_namespaces_read_as_openpyxl_reads_them(tmp_path, monkeypatch, description, dimension, root_attributes, fast):
    sheet_data = HEADER + row(2, text("A2", "x"), attributes=' x14ac:dyDescent="0.25"' if "prefix" in description else "")
    path = workbook(tmp_path, sheet_data, dimension=dimension, root_attributes=root_attributes)
    assert parsed_fast(path) == fast, description
    assert outcome(path) == read_as_openpyxl_does(path, monkeypatch), description


CELL_TEXT = st.one_of(st.none(), st.just(""), st.text(st.sampled_from(list("a张 \u3000&<>\"'\n\t;#_x0D1é😀")), min_size=1, max_size=8))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    grid=st.lists(st.lists(CELL_TEXT, min_size=3, max_size=3), min_size=1, max_size=6),
    writer=st.sampled_from(["xlsxwriter, shared strings", "xlsxwriter, inline strings", "openpyxl"]),
)
def test_any_text_a_writer_puts_in_a_sheet_reads_fast_as_openpyxl_reads_it(tmp_path, monkeypatch, grid, writer):
    path = tmp_path / "written.xlsx"
    if writer == "openpyxl":
        book = openpyxl.Workbook()
        for r, values in enumerate(grid, start=1):
            for c, value in enumerate(values, start=1):
                if value is not None:
                    book.active.cell(r, c, value)
        book.save(path)
    else:
        book = xlsxwriter.Workbook(str(path), {"constant_memory": writer.endswith("inline strings")})
        sheet = book.add_worksheet()
        for r, values in enumerate(grid):
            for c, value in enumerate(values):
                if value is not None:
                    sheet.write_string(r, c, value)
        book.close()
    if any(value is not None for values in grid for value in values):
        assert parsed_fast(path)
    assert outcome(path) == read_as_openpyxl_does(path, monkeypatch)


def test_sample_workbook_reads_fast_as_openpyxl_reads_it(monkeypatch):
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "data" / "sample" / "drop" / "disability.xlsx"
    assert parsed_fast(path)
    assert outcome(path) == read_as_openpyxl_does(path, monkeypatch)
    headers, frame, _ = read_xlsx_sheet(path)
    assert frame.schema == pl.Schema({name: pl.String for name in frame.columns}) and frame.height > 0
