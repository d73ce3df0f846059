"""Reading a few columns with a Core statement on the session's connection, for lookups every registration makes
(the agency's published years, its active wording and signing key, its webhook endpoints), most often finding
nothing or one row.

Through the session, an ORM query pays for its compile state and, per entity, for row processors built anew at each
execution — for these lookups more than the query itself. A Core statement returns plain rows. What the ORM's
autoflush would have done first is done here too, but only when the session holds unwritten changes to the classes
the statement reads, so that a row the transaction has added, changed or deleted is read as it now is.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import Executable, Result
from sqlalchemy.orm import Session


def core_rows(session: Session, statement: Executable, params: Mapping, *, reads: tuple[type, ...]) -> Result:
    """`statement` (Core: it selects table columns, not entities) run on the session's connection, after
    `flush_unwritten(session, reads)`."""
    flush_unwritten(session, reads)
    return session.connection().execute(statement, params)


def flush_unwritten(session: Session, classes: tuple[type, ...]) -> None:
    """Flush if autoflush is on and the session holds a new, changed or deleted instance of one of `classes` not yet
    written (what a query of them would flush first)."""
    if session.autoflush and any(isinstance(record, classes)
                                 for group in (session.new, session.dirty, session.deleted) for record in group):
        session.flush()
