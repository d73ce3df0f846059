"""psycopg cursors whose `description` builds its Column objects only when they are read.

SQLAlchemy asks every result for `cursor.description`, and psycopg answers with a new list of Column objects, one
per column, each looking its type up: about fifty for a case with its applicant. A statement SQLAlchemy has
compiled before keeps its result's column metadata in its cache and never reads those objects (it only checks that
the description is not None), so building them was a tenth of the CPU of an API case read (cProfile). Here the
description is a sequence of the same length that builds psycopg's own Column objects the first time any item is
read (textual SQL, a statement not yet cached, psycopg's dict rows), so everything that reads it sees what psycopg
gives.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import psycopg


class _Description(Sequence):
    """The description of one result of `cursor`: psycopg's Column objects, built when first read."""

    __slots__ = ("_columns", "_cursor", "_result")

    def __init__(self, cursor: psycopg.Cursor, result) -> None:
        self._cursor, self._result, self._columns = cursor, result, None

    def _read(self) -> list:
        if self._columns is None:
            if self._cursor.pgresult is not self._result:  # the Column objects read the cursor's current result
                raise RuntimeError("cursor.description read after the cursor moved on to another result")
            self._columns = psycopg.Cursor.description.fget(self._cursor)
        return self._columns

    def __len__(self) -> int:
        return self._result.nfields

    def __getitem__(self, index: Any) -> Any:
        return self._read()[index]

    def __iter__(self) -> Iterator:
        return iter(self._read())

    def __eq__(self, other: object) -> bool:
        return list(self) == list(other) if isinstance(other, Sequence) else NotImplemented

    __hash__ = None  # a mutable-looking sequence, like the list psycopg returns

    def __repr__(self) -> str:
        return repr(self._read())


class LazyDescriptionCursor(psycopg.Cursor):
    """psycopg's client-side cursor, with a `description` that builds its Column objects when first read."""

    @property
    def description(self) -> Sequence | None:
        result = self.pgresult
        if result is not None and result.nfields:
            return _Description(self, result)
        return super().description  # no result, or one without columns: psycopg's own answer (None or [])


def use_lazy_description(dbapi_connection) -> None:
    """Give a new psycopg connection's client-side cursors the lazy description (other drivers: unchanged)."""
    if isinstance(dbapi_connection, psycopg.Connection):
        dbapi_connection.cursor_factory = LazyDescriptionCursor
