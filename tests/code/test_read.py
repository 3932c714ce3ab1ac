"""Every way a raw file can be broken gets a message that says what and where."""

from __future__ import annotations

import codecs
from pathlib import Path

import pyarrow as pa
import pytest

from mlops_template.data.read import DataFileError, read_raw_table

GOOD = 'a,b,c\n1,"x, y",2024-01-31\n2,,2024-02-01\n'


def write(tmp_path: Path, content: bytes | str, name: str = "f.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return path


def error_for(path: Path) -> str:
    with pytest.raises(DataFileError) as info:
        read_raw_table(path)
    return str(info.value)


def test_a_good_file_reads_as_text_with_missing_values(tmp_path: Path) -> None:
    frame = read_raw_table(write(tmp_path, GOOD))
    assert frame.columns.tolist() == ["a", "b", "c"]
    assert frame["b"].tolist()[0] == "x, y"
    assert frame["b"].isna().tolist() == [False, True]


def test_typed_columns_parse_when_every_value_parses(tmp_path: Path) -> None:
    frame = read_raw_table(write(tmp_path, GOOD), {"a": pa.float64(), "c": pa.timestamp("ns")})
    assert str(frame["a"].dtype) == "float64"
    assert str(frame["c"].dtype).startswith("datetime64")


def test_a_value_that_does_not_parse_falls_back_to_text_for_the_gate(tmp_path: Path) -> None:
    frame = read_raw_table(write(tmp_path, "a,b\n1,x\nabc,y\n"), {"a": pa.float64()})
    assert frame["a"].tolist() == ["1", "abc"]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "empty"),
        (b"a,b,c\n", "header but no rows"),
        (b"\n1,2\n", "first line is blank"),
        (b"a;b;c\n1;2;3\n", "semicolon-separated"),
        (b"a\tb\tc\n1\t2\t3\n", "tab-separated"),
        (b"a,b,c\n1,2,3\n4,5\n", "line 3 has 2 fields, expected 3"),
        (b"a,b,c\n1,2,3,4\n", "line 2 has 4 fields, expected 3"),
        (b"a,b,a\n1,2,3\n", "repeats column(s) a"),
        (b"a,,c\n1,2,3\n", "empty column name"),
        ("a,b\n1,caf\u00e9\n".encode("latin-1"), "line 2 is not valid UTF-8"),
        (codecs.BOM_UTF16_LE + "a,b\n".encode("utf-16-le"), "UTF-16"),
        (b"\r\x00", "NUL bytes"),
        (b"a\rb,c\n1,2\n", "header line is not valid CSV"),
    ],
)
def test_broken_files_get_a_clear_message(tmp_path: Path, content: bytes, expected: str) -> None:
    message = error_for(write(tmp_path, content))
    assert expected in message
    assert str(tmp_path) in message  # names the file


def test_many_truncated_rows_are_counted_and_listed(tmp_path: Path) -> None:
    body = "a,b,c\n" + "1,2\n" * 25
    message = error_for(write(tmp_path, body))
    assert "25 row(s)" in message
    assert "and 15 more" in message


def test_missing_file_says_where_to_configure_it(tmp_path: Path) -> None:
    assert "data.input" in error_for(tmp_path / "absent.csv")


def test_directory_and_unknown_suffix_are_rejected(tmp_path: Path) -> None:
    assert "directory" in error_for(tmp_path)
    assert "unsupported file type" in error_for(write(tmp_path, GOOD, "f.xlsx"))


def test_corrupt_parquet_is_reported(tmp_path: Path) -> None:
    assert "not a readable Parquet file" in error_for(write(tmp_path, b"not parquet", "f.parquet"))


def test_utf8_bom_is_accepted(tmp_path: Path) -> None:
    frame = read_raw_table(write(tmp_path, codecs.BOM_UTF8 + GOOD.encode()))
    assert frame.columns[0] == "a"
