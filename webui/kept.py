"""Figures kept while an agency's audit chain stays where it was: the dashboard's finished-stage counts and the
statistics page's tables.

Every figure they show is of the agency's cases and their records, which change only by an action, and every action
appends to the agency's audit chain in its own transaction. A figure computed under a chain head (sequence and
hash) is therefore still the figure while the head is the same: it is kept per process and computed again as soon as
the head has moved. The caller reads the head *before* computing, so a kept figure is at least as new as its head.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def kept(store: dict, key: tuple, head: tuple[int, str], compute: Callable[[], T], *, also: object = None,
         limit: int | None = None) -> T:
    """`compute()` for `key`, computed again unless it was stored under the same chain `head` and the same `also`
    (compared by identity: e.g. the calendar object the working days were counted with). An agency whose chain has
    not begun (sequence 0) is never kept. `limit`: at most that many keys, the store emptied when full."""
    entry = store.get(key)
    if entry is not None and head[0] != 0 and entry[0] == head and entry[1] is also:
        return entry[2]
    value = compute()
    if limit is not None and len(store) >= limit:
        store.clear()
    store[key] = (head, also, value)
    return value
