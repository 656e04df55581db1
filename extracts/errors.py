"""Errors about the input itself: a file, row or column the run cannot accept.

The command line prints these as one message and exits non-zero, without a
traceback: the person reading it needs the file, row and column, not Python.
"""

from __future__ import annotations


class DropError(Exception):
    """A drop that cannot be loaded: names the file and, where known, the row and column."""

    def __init__(self, message: str, *, file: str | None = None, row: int | None = None, column: str | None = None):
        super().__init__(message)
        self.file = file
        self.row = row
        self.column = column
