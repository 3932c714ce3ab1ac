"""Writing outputs so that an interrupted or failed run never leaves half a file.

Every stage writes through these helpers: the new content goes to a temporary file in
the same folder and replaces the old one in a single rename.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # no pandas import at run time: light commands (ingest) stay fast
    import pandas as pd


@contextmanager
def replacing(path: Path) -> Iterator[Path]:
    """Yield a temporary path; on success it replaces `path`, on error it is removed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)


def write_text(path: Path, text: str) -> None:
    with replacing(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def write_json(path: Path, data: Any) -> None:
    """Sorted keys and a final newline, so the same content is the same bytes (dvc.lock)."""
    write_text(path, json.dumps(data, indent=2, sort_keys=True, default=str) + "\n")


def write_parquet(path: Path, frame: pd.DataFrame) -> None:
    with replacing(path) as tmp:
        frame.to_parquet(tmp, index=False)


def write_with(path: Path, writer: Callable[[Path], None]) -> None:
    """Atomically write `path` with any function that writes to a given path."""
    with replacing(path) as tmp:
        writer(tmp)


def md5_of(path: Path) -> str:
    """The MD5 DVC records for a file, so lineage can name the data in DVC's own terms."""
    digest = hashlib.md5(usedforsecurity=False)
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
