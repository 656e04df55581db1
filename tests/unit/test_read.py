"""Reading extract files: encodings, .xlsx, header aliases, missing columns."""

import polars as pl
import pytest

from hecha.extracts.declarations import CREMATION, DISABILITY, PAYMENTS
from hecha.extracts.errors import DropError
from hecha.extracts.read import Manifest, detect_encoding, is_utf8, read_extract_file
from hecha.extracts.writer import write_extract

PAYMENT = {
    "paid_month": "2026-03", "programme": "特困供养金", "case_no": "TK0001", "name": "張國榮",
    "id_number": "11010519491231002X", "amount": "600.00", "township": "城关镇",
}


def payments(rows=1):
    return pl.DataFrame([PAYMENT] * rows)


@pytest.mark.parametrize(
    ("description", "data", "expected"),
    [
        ("plain UTF-8", "姓名".encode("utf-8"), "utf-8"),
        ("UTF-8 with BOM", "\ufeff姓名".encode("utf-8"), "utf-8-sig"),
        ("GBK/GB18030", "姓名".encode("gb18030"), "gb18030"),
        ("UTF-16 with BOM", "姓名".encode("utf-16"), "utf-16"),
        ("ASCII only", b"a,b", "utf-8"),
    ],
)
def test_detect_encoding_recognises_county_exports(description, data, expected):
    assert detect_encoding(data) == expected


def decodes_as_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


@pytest.mark.parametrize(
    ("description", "data"),
    [
        ("Chinese", "姓名,身份证号".encode("utf-8")),
        ("outside the BMP", "𠀋😀".encode("utf-8")),
        ("GB18030", "姓名".encode("gb18030")),
        ("a surrogate half", b"\xed\xa0\x80"),
        ("an overlong NUL", b"\xc0\x80"),
        ("beyond U+10FFFF", b"\xf4\x90\x80\x80"),
        ("a sequence cut short", b"ab\xe2\x82"),
        ("empty", b""),
    ],
)
def test_utf8_check_agrees_with_pythons_decoder(description, data):
    assert is_utf8(data) == decodes_as_utf8(data), description


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_read_csv_in_each_encoding_gives_the_same_text(tmp_path, encoding):
    write_extract("payments", payments(), tmp_path, encoding=encoding)
    read = read_extract_file(tmp_path, PAYMENTS, Manifest())
    assert read.encoding == encoding
    assert read.frame.row(0, named=True) | {"source_row": 1} == PAYMENT | {"source_row": 1}


def test_byte_order_mark_is_not_read_into_the_first_header_when_the_manifest_says_utf8(tmp_path):
    write_extract("payments", payments(), tmp_path, encoding="utf-8-sig")
    read = read_extract_file(tmp_path, PAYMENTS, Manifest(encodings={"payments": "utf-8"}))
    assert read.frame.row(0, named=True) | {"source_row": 1} == PAYMENT | {"source_row": 1}
    assert read.ignored_headers == []


def test_read_gb18030_file_really_is_not_utf8(tmp_path):
    path = write_extract("payments", payments(), tmp_path, encoding="gb18030")
    with pytest.raises(UnicodeDecodeError):
        path.read_bytes().decode("utf-8")


def test_manifest_encoding_overrides_detection(tmp_path):
    write_extract("payments", payments(), tmp_path, encoding="gb18030")
    with pytest.raises(DropError, match="line 1 is not valid utf-8"):
        read_extract_file(tmp_path, PAYMENTS, Manifest(encodings={"payments": "utf-8"}))


def test_read_xlsx_numbers_rows_from_sheet_row_two(tmp_path):
    rows = pl.DataFrame([{
        "case_no": "11010519491231002X41", "name": "张三", "id_number": "11010519491231002X", "sex": "男",
        "disability_category": "肢体", "disability_grade": "一级", "issue_date": "2020-01-05",
        "valid_until": "2030-01-05", "certificate_status": "正常", "township": "城关镇", "village": "东关村",
    }] * 3)
    write_extract("disability", rows, tmp_path, fmt="xlsx")
    read = read_extract_file(tmp_path, DISABILITY, Manifest())
    assert read.encoding is None
    assert read.frame["source_row"].to_list() == [1, 2, 3]
    assert read.frame["id_number"][0] == "11010519491231002X"  # text, all 18 characters kept


def test_read_accepts_aliases_full_width_brackets_and_reports_extra_columns(tmp_path):
    text = "发放年月,项目,证号,姓名,公民身份号码,金额,乡镇（街道）,备注\n2026-03,特困供养金,TK1,张三,11010519491231002X,600,城关镇,x\n"
    (tmp_path / "payments.csv").write_text(text, encoding="utf-8")
    read = read_extract_file(tmp_path, PAYMENTS, Manifest())
    assert read.frame["id_number"][0] == "11010519491231002X"
    assert read.frame["township"][0] == "城关镇"
    assert read.ignored_headers == ["备注"]


def test_missing_required_column_names_file_and_column(tmp_path):
    text = "发放年月,项目,证号,姓名,身份证号,乡镇(街道)\n2026-03,特困供养金,TK1,张三,11010519491231002X,城关镇\n"
    (tmp_path / "payments.csv").write_text(text, encoding="utf-8")
    with pytest.raises(DropError) as raised:
        read_extract_file(tmp_path, PAYMENTS, Manifest())
    assert raised.value.file == "payments.csv"
    assert raised.value.column == "金额"
    assert "payments.csv" in str(raised.value) and "金额" in str(raised.value)


def test_optional_column_may_be_absent(tmp_path):
    text = "火化编号,逝者姓名,身份证号,性别,年龄,死亡日期,户籍地址\nHZ1,张三,,男,77,2026-03-01,清河县城关镇东关村\n"
    (tmp_path / "cremation.csv").write_text(text, encoding="utf-8")
    read = read_extract_file(tmp_path, CREMATION, Manifest())
    assert read.absent_columns == ["cremation_date", "funeral_home"]
    assert read.frame["funeral_home"].to_list() == [None]


def test_missing_file_is_named(tmp_path):
    with pytest.raises(DropError, match="payments.csv or payments.xlsx"):
        read_extract_file(tmp_path, PAYMENTS, Manifest())


def test_row_with_an_unquoted_comma_is_named_by_row(tmp_path):
    text = (
        "发放年月,项目,证号,姓名,身份证号,金额,乡镇(街道)\n"
        "2026-03,特困供养金,TK1,张三,11010519491231002X,600,城关镇\n"
        "2026-03,特困供养金,TK2,李四,11010519491231002X,1,200,城关镇\n"
    )
    (tmp_path / "payments.csv").write_text(text, encoding="utf-8")
    with pytest.raises(DropError, match="row 2 has 8 fields but the header has 7") as raised:
        read_extract_file(tmp_path, PAYMENTS, Manifest())
    assert (raised.value.file, raised.value.row) == ("payments.csv", 2)
