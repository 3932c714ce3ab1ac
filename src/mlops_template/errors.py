"""Errors a person can act on; the CLI prints their message and exits 1, no traceback.

They live in this dependency-free module so that catching them costs no import of pandas
or Pandera, which keeps light commands (`mlops ingest`) fast.
"""

from __future__ import annotations


class UserError(Exception):
    """Something in the data or settings that the user must fix; the message says what."""


class DataFileError(UserError, ValueError):
    """A file that cannot be read as a table; the message says what is wrong and what to do."""


class PreparedDataError(UserError, RuntimeError):
    """Cleaning produced data that breaks the clean schema; nothing was written."""
