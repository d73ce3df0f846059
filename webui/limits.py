"""Rate limits (Flask-Limiter): counted in Redis when `GONGKAI_REDIS_URL` is set, so a limit holds across every
worker and machine; in this process's memory otherwise (one machine, one process: `gongkai serve`).

The limits keep their `[web]` names: `API_LOOKUP_LIMIT_PER_MINUTE` (the public status lookup, per client
address) and `API_RATE_LIMIT_PER_TOKEN` (every other API call, per token). Answers carry `RateLimit-Limit`,
`RateLimit-Remaining`, `RateLimit-Reset` and, when refused, `Retry-After`.
"""

from __future__ import annotations

import hashlib
import time

from flask import Flask, current_app, g, has_request_context, request
from flask_limiter import HeaderNames, Limiter
from limits import parse
from limits.storage import MemoryStorage, RedisStorage

from engine.config import load_settings
from webui.background import prefix

DEFAULT_TOKEN_LIMIT_PER_MINUTE = 600
DEFAULT_LOOKUP_LIMIT_PER_MINUTE = 10
HEADERS = {HeaderNames.LIMIT: "RateLimit-Limit", HeaderNames.REMAINING: "RateLimit-Remaining",
           HeaderNames.RESET: "RateLimit-Reset", HeaderNames.RETRY_AFTER: "Retry-After"}


class SweptMemoryStorage(MemoryStorage):
    """limits' in-process counters without its expiry timer: `MemoryStorage.incr` starts a new timer thread
    whenever the last one has run (10 ms), which under steady API traffic is a thread per request. Here a counter
    past its window is dropped when its key is next read (`MemoryStorage.get`, as before), and the others are swept
    by the hitting thread at most once every SWEEP_SECONDS, so memory stays bounded by the keys seen in a window.
    Only the fixed-window strategy (the one `init_app` sets) uses it."""

    STORAGE_SCHEME = ["gongkai-memory"]
    SWEEP_SECONDS = 1.0

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options) -> None:
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        self._next_sweep = 0.0

    def incr(self, key: str, expiry: float, amount: int = 1) -> int:
        self.get(key)  # drops the key's counter if its window has passed
        self._sweep()
        with self.locks[key]:
            self.storage[key] += amount
            if self.storage[key] == amount:
                self.expirations[key] = time.time() + expiry
        return self.storage.get(key, 0)

    def _sweep(self) -> None:
        now = time.time()
        if now < self._next_sweep:
            return
        self._next_sweep = now + self.SWEEP_SECONDS
        for key, expires in list(self.expirations.items()):
            if expires <= now:
                self.storage.pop(key, None)
                self.expirations.pop(key, None)
                self.locks.pop(key, None)


class OneTripRedisStorage(RedisStorage):
    """limits' Redis counters in one round trip per hit instead of three: the stock storage runs its increment
    script, then a GET and a TTL for the RateLimit headers (`get_window_stats`). Here the script returns the count
    and the TTL together, and `get`/`get_expiry` of that key later in the same request answer from them; outside a
    request, and for any other key, Redis is asked as before. The counting itself (INCRBY, EXPIRE on the first hit
    of a window) is the stock script's, so a limit still holds across every worker and machine."""

    STORAGE_SCHEME = ["gongkai-redis"]
    SCRIPT_INCR_EXPIRE_TTL = """
local current = redis.call("incrby", KEYS[1], tonumber(ARGV[2]))
if tonumber(current) == tonumber(ARGV[2]) then
    redis.call("expire", KEYS[1], ARGV[1])
end
return {current, redis.call("ttl", KEYS[1])}
"""

    def __init__(self, uri: str, wrap_exceptions: bool = False, **options) -> None:
        super().__init__(uri.replace("gongkai-redis://", "redis://", 1), wrap_exceptions=wrap_exceptions, **options)
        self.lua_incr_expire_ttl = self.get_connection().register_script(self.SCRIPT_INCR_EXPIRE_TTL)

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        current, ttl = self.lua_incr_expire_ttl([self.prefixed_key(key)], [expiry, amount])
        if has_request_context():
            g.setdefault("rate_limit_hits", {})[key] = (int(current), int(ttl))
        return int(current)

    def _hit(self, key: str) -> tuple[int, int] | None:
        return g.get("rate_limit_hits", {}).get(key) if has_request_context() else None

    def get(self, key: str) -> int:
        hit = self._hit(key)
        return hit[0] if hit else super().get(key)

    def get_expiry(self, key: str) -> float:
        hit = self._hit(key)
        return max(hit[1], 0) + time.time() if hit else super().get_expiry(key)


def _one_trip_redis_supported() -> bool:
    """OneTripRedisStorage stands on limits' RedisStorage internals (its client and key prefix); a `limits`
    release without them gets the stock storage, which counts the same in three round trips."""
    return all(callable(getattr(RedisStorage, name, None)) for name in ("get_connection", "prefixed_key"))


def memory_storage_uri(storage: str) -> str:
    """The store the limiter is given: `memory://` (configured, or no Redis) counts in SweptMemoryStorage,
    `redis://…` in OneTripRedisStorage; any other store as given."""
    if storage == "memory://":
        return "gongkai-memory://"
    if storage.startswith("redis://") and _one_trip_redis_supported():
        return "gongkai-" + storage
    return storage


def client_address() -> str:
    """The client's address (behind a proxy, from X-Forwarded-For once PROXY_FIX_HOPS is set)."""
    return request.remote_addr or "unknown"


def token_key() -> str:
    """The API token's digest (the raw token never reaches the counter store)."""
    _, _, token = request.headers.get("Authorization", "").partition(" ")
    return hashlib.sha256(token.strip().encode()).hexdigest()


def init_app(app: Flask) -> Limiter:
    """One limiter per app; storage from the configuration (RATELIMIT_STORAGE_URI overrides, for tests)."""
    redis_url = load_settings().redis_url
    storage = app.config.get("RATELIMIT_STORAGE_URI") or redis_url or "memory://"
    limiter = Limiter(
        key_func=client_address, app=app, storage_uri=memory_storage_uri(storage), strategy="fixed-window",
        key_prefix=app.config.get("RATELIMIT_KEY_PREFIX") or f"{prefix()}-limits",
        headers_enabled=True, header_name_mapping=HEADERS,
        # Redis away: count in this process rather than let every request through or fail it.
        in_memory_fallback_enabled=storage != "memory://", swallow_errors=True,
        storage_options={"socket_connect_timeout": 2, "socket_timeout": 2} if storage.startswith("redis") else {},
    )
    app.extensions["gongkai_limiter"] = limiter
    return limiter


def lookup_limit() -> str:
    return f"{int(current_app.config.get('API_LOOKUP_LIMIT_PER_MINUTE', DEFAULT_LOOKUP_LIMIT_PER_MINUTE))}/minute"


def token_limit() -> str:
    return f"{int(current_app.config.get('API_RATE_LIMIT_PER_TOKEN', DEFAULT_TOKEN_LIMIT_PER_MINUTE))}/minute"


def over_limit(scope: str, limit: str, key: str) -> int | None:
    """Count one hit of `key` against `limit` in `scope` (same store as every other limit); None while within it,
    else the seconds to wait. For a page that must show the refusal beside the form it keeps (the public pages)."""
    limiter: Limiter = current_app.extensions["gongkai_limiter"]
    item = parse(limit)
    prefix_ = current_app.config.get("RATELIMIT_KEY_PREFIX") or f"{prefix()}-limits"
    try:
        if limiter.limiter.hit(item, prefix_, scope, key):
            return None
        reset, _remaining = limiter.limiter.get_window_stats(item, prefix_, scope, key)
    except Exception:  # noqa: BLE001 - the store is away: like `swallow_errors`, do not refuse the applicant
        current_app.logger.warning("rate-limit store unavailable for %s", scope)
        return None
    return max(1, int(reset - time.time()))
