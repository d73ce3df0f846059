"""The trigram search index's pending list on PostgreSQL, merged in the background instead of by a request.

A GIN index with `fastupdate` (the default) takes each new row's trigrams into a pending list, and the backend
whose insert makes the list pass `gin_pending_list_limit` (4 MB) merges the whole list into the index there and
then, inside its own statement. A registration writes the case three times (the insert, the confirmation, the
number), each adding its search text's trigrams, so about every 900th registration did that merge, and if its
turn came at the number's update it held the agency's number counter meanwhile: every registration of the agency
waited. The background runner's sweep (every few seconds) merges the list first (`merge_pending_entries`), so a
request finds it short. The ledger import defers the merges of its own 100,000 rows to one at its end, done on a
connection of its own while the import writes the items (`merging_beside`).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, text
from sqlalchemy.orm import Session

_MERGE = text("SELECT gin_clean_pending_list(CAST(:index AS regclass))")


def owned_gin_indexes(session: Session, table: str) -> list[str]:
    """The GIN indexes of `table` that the current role may merge (`gin_clean_pending_list` requires its owner's
    rights); none on another database."""
    if session.get_bind().dialect.name != "postgresql":
        return []
    return list(session.scalars(text(
        "SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am a ON a.oid = c.relam "
        "WHERE i.indrelid = CAST(:table AS regclass) AND a.amname = 'gin' AND pg_has_role(c.relowner, 'USAGE') "
        "ORDER BY c.relname"), {"table": table}))


def merge_pending_entries(session: Session | Connection, indexes: list[str]) -> int:
    """Move the pending entries of `indexes` (GIN, PostgreSQL) into the indexes: how many pending-list pages went."""
    return sum(session.scalar(_MERGE, {"index": index}) for index in indexes)


@contextmanager
def merging_beside(session: Session, indexes: list[str]) -> Iterator[None]:
    """While the block runs, the pending entries of `indexes` are merged on a connection of their own (the session's
    engine, autocommit) in a thread, and the block's end waits for that merge: the merge is the server's work, on
    the other core, while the session's transaction goes on (the ledger import's items: 0.67 s of merging for
    100,000 cases beside 0.85 s of writing). An index entry carries no transaction, so another backend may move this
    transaction's entries into the index, as the background sweep and VACUUM do; if the transaction rolls back, they
    point at dead rows as they would have in the pending list. If the merge could not be done there (no connection
    to be had, an error), it is done in the session's transaction when the block ends, as before."""
    if not indexes:
        yield
        return
    bind = session.get_bind()
    engine = getattr(bind, "engine", bind)
    failed: list[Exception] = []

    def merge() -> None:
        try:
            with engine.connect() as connection:
                merge_pending_entries(connection.execution_options(isolation_level="AUTOCOMMIT"), indexes)
        except Exception as exc:  # merged in the session's transaction instead, below
            failed.append(exc)

    thread = threading.Thread(target=merge, name="gongkai-search-index-merge", daemon=True)
    thread.start()
    try:
        yield
    finally:
        thread.join()
    if failed:
        logging.getLogger(__name__).warning("merging %s beside the transaction failed (%s); merging in it",
                                            ", ".join(indexes), failed[0])
        merge_pending_entries(session, indexes)


def merge_search_index(session: Session) -> int:
    """The background sweep's step: the cases' search index merged, so no request has to (0 on SQLite)."""
    return merge_pending_entries(session, owned_gin_indexes(session, "cases"))
