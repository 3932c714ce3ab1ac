"""The inference log on durable storage: what the service was asked and what it answered.

The service writes (`logstore/buffer.py`), the drift check and the labelled batch read
(`drift/sources.py`, `drift/labels.py`), all through `LogStore`, at one URL
(`serve.inference_log.url`): a local folder for development, or `s3://`, `gs://`, `az://`
for a deployment. fsspec reaches the storage (s3fs; gcsfs and adlfs as the `gcs`/`azure`
extras) with the credentials of the environment (IRSA, workload identity, AWS_* variables),
and pyarrow writes and reads Parquet: nothing here speaks a storage protocol or a file
format itself.

Layout, one Parquet file per flush, worker and hour, written whole or not at all:

    <url>/date=YYYY-MM-DD/hour=HH/<host>-<pid>-<uuid>.parquet

A reader of a window lists only the `date=` folders it needs.
"""

from mlops_template.logstore.store import LogStore, LogStoreError
from mlops_template.logstore.table import META_COLUMNS, batch_table

__all__ = ["META_COLUMNS", "LogStore", "LogStoreError", "batch_table"]
