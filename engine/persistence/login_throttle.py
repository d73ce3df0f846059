"""Login throttling behind a small storage interface: a failure budget per key (an account name, a client address)
with exponential back-off once it is spent, instead of a hard lock anyone could trigger for someone else.

An attempt is *reserved* before the password is checked (compare-and-swap on the counter), so a burst of parallel
wrong attempts gets exactly `limit` password checks. The database store below is the default; a shared store (e.g.
Redis, issue 16) only has to implement `ThrottleStore`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

from sqlalchemy import Engine, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from engine.persistence.models import LoginThrottle


@dataclass(frozen=True)
class ThrottlePolicy:
    limit: int                 # failures allowed before back-off starts
    first_wait: timedelta      # wait after the limit is reached; doubles with each further failure
    longest_wait: timedelta


ACCOUNT_POLICY = ThrottlePolicy(5, timedelta(minutes=1), timedelta(minutes=15))
ADDRESS_POLICY = ThrottlePolicy(30, timedelta(minutes=1), timedelta(minutes=30))


class ThrottleStore(Protocol):
    def reserve(self, key: str, policy: ThrottlePolicy, now: datetime) -> timedelta | None:
        """Count one attempt for `key`; None if it may go ahead, else how long to wait (nothing counted)."""

    def clear(self, key: str) -> None:
        """Forget the failures of `key` (after a successful login or an administrator's unlock)."""


def wait_after(failures: int, policy: ThrottlePolicy) -> timedelta | None:
    if failures < policy.limit:
        return None
    return min(policy.first_wait * (2 ** min(failures - policy.limit, 20)), policy.longest_wait)


def _aware(moment: datetime | None) -> datetime | None:
    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment


class DatabaseThrottleStore:
    """Counters in the `login_throttles` table, each change its own short transaction (committed at once, outside
    the request's transaction, so a failed login's count survives the request's rollback)."""

    def __init__(self, engine: Engine):
        self.engine = engine

    def reserve(self, key: str, policy: ThrottlePolicy, now: datetime) -> timedelta | None:
        key = key[:200]
        for _attempt in range(50):
            with self.engine.begin() as conn:
                row = conn.execute(select(LoginThrottle.failures, LoginThrottle.next_allowed_at)
                                   .where(LoginThrottle.key == key)).first()
                if row is None:
                    try:
                        with conn.begin_nested():
                            conn.execute(insert(LoginThrottle).values(key=key, failures=1, last_failure_at=now,
                                                                      next_allowed_at=_next(1, policy, now)))
                        return None
                    except IntegrityError:
                        continue  # someone else inserted it first: read it again
                failures, next_allowed = row.failures, _aware(row.next_allowed_at)
                if next_allowed is not None and next_allowed > now:
                    return next_allowed - now
                changed = conn.execute(update(LoginThrottle)
                                       .where(LoginThrottle.key == key, LoginThrottle.failures == failures)
                                       .values(failures=failures + 1, last_failure_at=now,
                                               next_allowed_at=_next(failures + 1, policy, now)))
                if changed.rowcount == 1:
                    return None
        return policy.first_wait  # heavy contention on one key: refuse rather than loop on

    def clear(self, key: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(LoginThrottle).where(LoginThrottle.key == key[:200]))


def _next(failures: int, policy: ThrottlePolicy, now: datetime) -> datetime | None:
    wait = wait_after(failures, policy)
    return now + wait if wait is not None else None
