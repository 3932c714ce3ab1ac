"""Stage `ingest`: bring the configured source into `paths.raw`, byte for byte.

Keeping the bytes means the hash DVC records in dvc.lock for `paths.raw` is the hash of
the data as delivered; all parsing and judging is the gate's job.
"""

from __future__ import annotations

import shutil
import urllib.error
import urllib.request
from pathlib import Path

from mlops_template.errors import DataFileError
from mlops_template.files import replacing
from mlops_template.params import Params

DOWNLOAD_TIMEOUT_S = 60


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
            path = Path(source)
            if not path.is_file():
                raise DataFileError(
                    f"{source}: no such file; set `data.input` in params.yaml to a CSV/Parquet path or an http(s) URL"
                    + ("" if path.exists() else " (if the file is DVC-tracked, run `dvc pull` first)")
                )
            shutil.copyfile(path, tmp)
    return destination


def run(params: Params) -> Path:
    return fetch(params.data.input, params.paths.raw)
