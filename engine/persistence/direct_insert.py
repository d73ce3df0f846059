"""Inserting a few new rows without the session's unit of work, for a writer every request runs (registration).

A flush works out what to write for every object the session holds, in dependency order, with the relationships'
foreign keys synchronised and each new row's defaults and key read back: for the three new rows of a registration
(applicant, case, items) that bookkeeping cost more than the INSERTs themselves. `insert_new` writes new objects
the caller lists in order, with one INSERT built once per class, and leaves them in the session as the flush
would: persistent, every column loaded, nothing left to write.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

from sqlalchemy import insert, inspect
from sqlalchemy.orm import Mapper, Session
from sqlalchemy.orm.interfaces import MANYTOONE

from engine.persistence.audit_state import hold_inserted
from engine.persistence.guards import check_storable


def insert_new(session: Session, groups: Sequence[Sequence[object]]) -> None:
    """Insert transient mapped objects (never added to a session), one statement per group, the groups in the order
    given: the objects of a group are of one class, and every object they refer to (a many-to-one relationship they
    hold) is persistent already or in an earlier group. Each row has the object's values, the column's default
    where it has none, its new primary key and, for a versioned class, the first version; the objects then join
    the session as persistent and clean. The text checks a flush makes (`guards`) are made first, and a new case's
    note (`audit_state.new_case_records`) holds its records inserted here as it holds those a flush inserts."""
    for group in groups:
        for record in group:
            check_storable(record)
    conn = session.connection()
    for group in groups:
        mapper = inspect(group[0]).mapper
        if any(inspect(record).mapper is not mapper for record in group):
            raise ValueError("insert_new: a group holds objects of different classes")
        rows = [_row(record, mapper) for record in group]
        statement = _insert(mapper)
        if len(rows) == 1:
            keys = [conn.execute(statement, rows[0]).scalar_one()]
        else:
            keys = conn.execute(statement, rows).scalars().all()
        key_name = mapper.primary_key[0].key
        for record, key in zip(group, keys, strict=True):
            inspect(record).dict[key_name] = key
    records = [record for group in groups for record in group]
    for record in records:
        session.add(record)
    # What the end of a flush does with the objects it inserted: identity keys, every value committed (nothing left
    # to write), and the transaction told they are new, so a rollback takes them out of the session again (SQLite
    # may hand the same keys to later rows). Private to SQLAlchemy; pinned by tests/integration/test_direct_insert.py.
    session._register_persistent({inspect(record) for record in records})
    hold_inserted(session, records)  # as after a flush


@functools.cache
def _insert(mapper: Mapper):
    """The class's INSERT of every column, returning the new primary key (rows in the order given)."""
    if len(mapper.primary_key) != 1:
        raise ValueError(f"insert_new: {mapper.class_.__name__} has a composite primary key")
    return insert(mapper.local_table).returning(mapper.primary_key[0], sort_by_parameter_order=True)


@functools.cache
def _columns(mapper: Mapper) -> tuple:
    """(attribute key, column) of each column the INSERT writes: all but the primary key."""
    key = mapper.primary_key[0]
    columns = []
    for attr in mapper.column_attrs:
        column = attr.columns[0]
        if column is key:
            continue
        if column.server_default is not None and column.default is None:
            raise ValueError(f"insert_new: {mapper.class_.__name__}.{attr.key} has only a server default")
        columns.append((attr.key, column))
    return tuple(columns)


@functools.cache
def _references(mapper: Mapper) -> tuple:
    """(relationship key, [(foreign key attribute, referenced attribute)]) of the class's many-to-one relationships."""
    found = []
    for relationship in mapper.relationships:
        if relationship.direction is MANYTOONE:
            pairs = [(relationship.parent.get_property_by_column(local).key,
                      relationship.mapper.get_property_by_column(remote).key)
                     for local, remote in relationship.local_remote_pairs]
            found.append((relationship.key, pairs))
    return tuple(found)


def _row(record, mapper: Mapper) -> dict:
    """The INSERT's values of `record`, which it holds from now on (foreign keys and defaults filled in)."""
    state = inspect(record)
    if state.session_id is not None or state.key is not None:
        raise ValueError("insert_new: the object is not transient")
    values = state.dict
    for name, pairs in _references(mapper):
        target = values.get(name)
        if target is not None:
            for local, remote in pairs:
                referenced = inspect(target).dict.get(remote)
                if referenced is None:
                    raise ValueError(f"insert_new: {mapper.class_.__name__}.{name} refers to a row not yet written")
                values[local] = referenced
    if mapper.version_id_col is not None:
        version = mapper.get_property_by_column(mapper.version_id_col).key
        if values.get(version) is None:
            values[version] = mapper.version_id_generator(None)
    row = {}
    for key, column in _columns(mapper):
        if key not in values:
            default = column.default
            if default is None:
                values[key] = None
            elif default.is_scalar:
                values[key] = default.arg
            elif default.is_callable:
                values[key] = default.arg(None)
            else:
                raise ValueError(f"insert_new: {mapper.class_.__name__}.{key} has a default computed by SQL")
        row[column.key] = values[key]
    return row
