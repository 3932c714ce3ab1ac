"""Stage `ingest`: bring the configured source into `paths.raw`, byte for byte, plus the extra inputs.

Keeping the bytes means the hash DVC records in dvc.lock for `paths.raw` is the hash of
the data as delivered; all parsing and judging is the gate's job.

`data.extra_inputs` are more training rows kept in files of their own (the labelled
batches a retraining pull request adds under `data.labelled_dir`, DVC-tracked): they are
appended after the input's rows, so the input itself (the embedded sample, an export)
never changes and its own checks still hold. A CSV extra adds its lines as they are; a
Parquet extra is written as CSV lines the way `append_rows` writes them.
"""

from __future__ import annotations

import shutil
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from mlops_template.errors import DataFileError
from mlops_template.files import replacing
from mlops_template.params import Params

if TYPE_CHECKING:
    import pandas as pd

DOWNLOAD_TIMEOUT_S = 60
CSV_FORMAT = {"float_format": "%.10g", "date_format": "%Y-%m-%d"}  # how rows are written as raw CSV text


def is_url(source: str) -> bool:
    return source.startswith(("http://", "https://"))


def fetch(source: str, destination: Path) -> Path:
    """Copy a local file or download a URL to `destination`, atomically."""
    with replacing(destination) as tmp:
        if is_url(source):
            try:
                with urllib.request.urlopen(source, timeout=DOWNLOAD_TIMEOUT_S) as response, tmp.open("wb") as out:  # noqa: S310  (scheme checked above)
                    shutil.copyfileobj(response, out)
            except (urllib.error.URLError, TimeoutError, OSError) as exc:
                raise DataFileError(f"{source}: download failed ({exc}); check `data.input` and the network") from exc
        else:
            _require_file(Path(source), "data.input")
            shutil.copyfile(source, tmp)
    return destination


def _require_file(path: Path, key: str) -> None:
    if not path.is_file():
        raise DataFileError(
            f"{path}: no such file; set `{key}` in params.yaml to a CSV/Parquet path"
            + (" or an http(s) URL" if key == "data.input" else "")
            + ("" if path.exists() else " (if the file is DVC-tracked, run `dvc pull` first: `make pull`)")
        )


def csv_header(path: Path) -> list[str]:
    """The column names of a CSV file's first line."""
    with path.open(encoding="utf-8-sig") as handle:
        return [name.strip() for name in handle.readline().rstrip("\r\n").split(",")]


def csv_lines(rows: pd.DataFrame) -> bytes:
    """Rows as CSV lines without a header, in the raw format (numbers as written, dates as ISO days)."""
    return rows.to_csv(index=False, header=False, lineterminator="\n", **CSV_FORMAT).encode("utf-8")


def _extra_lines(path: Path, header: list[str]) -> bytes:
    """The rows of one extra input, as lines to append to a CSV with `header`."""
    _require_file(path, "data.extra_inputs")
    if path.suffix.lower() in (".parquet", ".pq"):
        from mlops_template.data.read import read_raw_table

        rows = read_raw_table(path)
        missing = [name for name in header if name not in rows.columns]
        if missing:
            raise DataFileError(f"{path}: lacks column(s) {', '.join(missing)} of data.input; extras need its columns")
        return csv_lines(rows[header])
    if csv_header(path) != header:
        raise DataFileError(
            f"{path}: its header {csv_header(path)} differs from data.input's {header}; "
            "an extra input must have the same columns in the same order"
        )
    data = path.read_bytes()
    body = data.split(b"\n", 1)[1] if b"\n" in data else b""
    return body if not body or body.endswith(b"\n") else body + b"\n"


def append_extras(raw: Path, extras: Sequence[str]) -> None:
    """Append every extra input's rows to the raw CSV, atomically."""
    if not extras:
        return
    if raw.suffix.lower() not in (".csv", ".txt"):
        raise DataFileError(f"{raw}: data.extra_inputs are appended to a CSV paths.raw; this one is not a CSV")
    header = csv_header(raw)
    lines = b"".join(_extra_lines(Path(extra), header) for extra in extras)
    data = raw.read_bytes()
    with replacing(raw) as tmp:
        tmp.write_bytes(data + (b"" if data.endswith(b"\n") else b"\n") + lines)


def run(params: Params) -> Path:
    raw = fetch(params.data.input, params.paths.raw)
    append_extras(raw, params.data.extra_inputs)
    return raw
