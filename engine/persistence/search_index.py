"""The trigram search index's pending list on PostgreSQL, merged in the background instead of by a request.

A GIN index with `fastupdate` (the default) takes each new row's trigrams into a pending list, and the backend
whose insert makes the list pass `gin_pending_list_limit` (4 MB) merges the whole list into the index there and
then, inside its own statement. A registration writes the case three times (the insert, the confirmation, the
number), each adding its search text's trigrams, so about every 900th registration did that merge, and if its
turn came at the number's update it held the agency's number counter meanwhile: every registration of the agency
waited. The background runner's sweep (every few seconds) merges the list first (`merge_pending_entries`), so a
request finds it short. The ledger import defers the merges of its own 100,000 rows to one at its end.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session


def owned_gin_indexes(session: Session, table: str) -> list[str]:
    """The GIN indexes of `table` that the current role may merge (`gin_clean_pending_list` requires its owner's
    rights); none on another database."""
    if session.get_bind().dialect.name != "postgresql":
        return []
    return list(session.scalars(text(
        "SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am a ON a.oid = c.relam "
        "WHERE i.indrelid = CAST(:table AS regclass) AND a.amname = 'gin' AND pg_has_role(c.relowner, 'USAGE') "
        "ORDER BY c.relname"), {"table": table}))


def merge_pending_entries(session: Session, indexes: list[str]) -> int:
    """Move the pending entries of `indexes` (GIN, PostgreSQL) into the indexes: how many pending-list pages went."""
    return sum(session.scalar(text("SELECT gin_clean_pending_list(CAST(:index AS regclass))"), {"index": index})
               for index in indexes)


def merge_search_index(session: Session) -> int:
    """The background sweep's step: the cases' search index merged, so no request has to (0 on SQLite)."""
    return merge_pending_entries(session, owned_gin_indexes(session, "cases"))
