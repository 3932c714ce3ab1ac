"""Reading a raw table so that every way a file can be broken gets a plain message.

CSV goes through pyarrow's reader (fast, and strict about ragged rows and bad UTF-8);
columns are parsed straight into the types the caller asks for (the raw schema's), which
is what makes a million rows cheap to gate. When a value does not parse, the file is read
again as text so that the gate can report every bad value with its row instead of the
first one failing the parse. Only when something is wrong do we spend time finding line
numbers for the message.
"""

from __future__ import annotations

import codecs
import csv
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from mlops_template.errors import DataFileError

if TYPE_CHECKING:
    import pandera.pandas as pandera

__all__ = ["DataFileError", "load_table", "read_raw_table"]

CSV_SUFFIXES = (".csv", ".txt")
PARQUET_SUFFIXES = (".parquet", ".pq")
_OTHER_DELIMITERS = {";": "semicolon", "\t": "tab", "|": "pipe"}
_MAX_LISTED = 10


def read_raw_table(path: Path, column_types: Mapping[str, pa.DataType] | None = None) -> pd.DataFrame:
    """The file as a DataFrame; CSV columns typed by `column_types` where every value parses."""
    if not path.exists():
        raise DataFileError(f"{path}: file not found; check `data.input` in params.yaml")
    if path.is_dir():
        raise DataFileError(f"{path}: is a directory, expected a CSV or Parquet file")
    if path.stat().st_size == 0:
        raise DataFileError(f"{path}: the file is empty (0 bytes); expected a header line and rows")
    suffix = path.suffix.lower()
    if suffix in PARQUET_SUFFIXES:
        return _read_parquet(path)
    if suffix not in CSV_SUFFIXES:
        raise DataFileError(f"{path}: unsupported file type {suffix!r}; use .csv or .parquet")
    return _read_csv(path, column_types or {})


def arrow_types(schema: pandera.DataFrameSchema) -> dict[str, pa.DataType]:
    """The parse types the reader should try, from the schema's dtypes."""
    types: dict[str, pa.DataType] = {}
    for name, column in schema.columns.items():
        dtype = str(column.dtype)
        if dtype.startswith(("float", "int")):
            types[name] = pa.float64()
        elif dtype.startswith("datetime"):
            types[name] = pa.timestamp("ns")
        elif dtype == "category":
            types[name] = pa.dictionary(pa.int32(), pa.string())
    return types


def load_table(path: Path, schema: pandera.DataFrameSchema) -> pd.DataFrame:
    """Read a raw file with the schema's parse types (raises DataFileError)."""
    return read_raw_table(path, arrow_types(schema))


def _read_parquet(path: Path) -> pd.DataFrame:
    try:
        df = pd.read_parquet(path)
    except Exception as exc:  # pyarrow raises several types for a corrupt file
        raise DataFileError(f"{path}: not a readable Parquet file ({exc})") from exc
    if df.empty:
        raise DataFileError(f"{path}: the file has columns but no rows")
    return df


def _header(path: Path) -> list[str]:
    with path.open("rb") as handle:
        first = handle.readline()
    if first.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise DataFileError(f"{path}: the file is UTF-16 encoded; re-save it as UTF-8")
    try:
        line = first.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataFileError(f"{path}: line 1 (the header) is not valid UTF-8; re-save the file as UTF-8") from exc
    if not line.strip():
        raise DataFileError(f"{path}: the first line is blank; expected a header line with the column names")
    if "\x00" in line:
        raise DataFileError(f"{path}: the header contains NUL bytes; this is not a text (CSV) file")
    try:
        names = next(csv.reader([line.rstrip("\r\n")]))
    except csv.Error as exc:
        raise DataFileError(f"{path}: the header line is not valid CSV ({exc})") from exc
    names = [name.strip() for name in names]
    if len(names) == 1:
        for delimiter, label in _OTHER_DELIMITERS.items():
            if delimiter in line:
                raise DataFileError(
                    f"{path}: the header is {label}-separated ({line.strip()[:80]!r}); "
                    "the pipeline reads comma-separated CSV: re-export with ',' as the delimiter"
                )
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise DataFileError(f"{path}: the header repeats column(s) {', '.join(duplicates)}")
    if any(not name for name in names):
        raise DataFileError(f"{path}: the header has an empty column name (position {names.index('') + 1})")
    return names


def _read_csv(path: Path, column_types: Mapping[str, pa.DataType]) -> pd.DataFrame:
    names = _header(path)
    text_types = dict.fromkeys(names, pa.string())
    typed = text_types | {name: kind for name, kind in column_types.items() if name in text_types}
    try:
        table, bad_rows = _parse_csv(path, typed, use_threads=True)
    except _UnparsedValueError:
        table, bad_rows = _parse_csv(path, text_types, use_threads=True)
    if bad_rows:
        # Only a single-threaded read knows line numbers; pay for it on the error path only.
        _, bad_rows = _parse_csv(path, text_types, use_threads=False)
        listed = "; ".join(bad_rows[:_MAX_LISTED])
        more = f" (and {len(bad_rows) - _MAX_LISTED} more)" if len(bad_rows) > _MAX_LISTED else ""
        raise DataFileError(
            f"{path}: {len(bad_rows)} row(s) do not have {len(names)} fields, "
            f"so the file is truncated or has unquoted delimiters: {listed}{more}"
        )
    if table.num_rows == 0:
        raise DataFileError(f"{path}: the file has a header but no rows")
    return table.to_pandas()


class _UnparsedValueError(Exception):
    """A value did not parse as its column's type; the gate will say which and where."""


def _parse_csv(path: Path, types: dict[str, pa.DataType], *, use_threads: bool) -> tuple[pa.Table, list[str]]:
    bad_rows: list[str] = []

    def on_invalid_row(row: pacsv.InvalidRow) -> str:
        where = f"line {row.number}" if row.number is not None else "a line"
        bad_rows.append(f"{where} has {row.actual_columns} fields, expected {row.expected_columns}: {row.text[:80]!r}")
        return "skip"

    try:
        table = pacsv.read_csv(
            path,
            read_options=pacsv.ReadOptions(column_names=list(types), skip_rows=1, use_threads=use_threads),
            parse_options=pacsv.ParseOptions(invalid_row_handler=on_invalid_row),
            convert_options=pacsv.ConvertOptions(
                column_types=types,
                strings_can_be_null=True,
                quoted_strings_can_be_null=True,
            ),
        )
    except pa.ArrowInvalid as exc:
        if "UTF8" in str(exc):
            raise DataFileError(f"{path}: {_first_invalid_utf8(path)}; re-save the file as UTF-8") from exc
        if "conversion error" in str(exc):
            raise _UnparsedValueError(str(exc)) from exc
        raise DataFileError(f"{path}: not readable as CSV ({exc})") from exc
    return table, bad_rows


def _first_invalid_utf8(path: Path) -> str:
    with path.open("rb") as handle:
        for number, line in enumerate(handle, start=1):
            try:
                line.decode("utf-8")
            except UnicodeDecodeError as exc:
                return f"line {number} is not valid UTF-8 (byte {line[exc.start]:#04x} at position {exc.start + 1})"
    return "the file is not valid UTF-8"
