"""Fixed-window rate limits kept in this process (per token, and per client address for the public lookup).

Each gunicorn worker counts on its own, so the effective limit is the configured one times the number of
workers; a shared limit would need a shared store (e.g. PostgreSQL or Redis), which Gongkai avoids.
"""

from __future__ import annotations

import threading
import time


class FixedWindow:
    """At most `limit` hits per key in each `window_seconds` window; old windows are dropped as they pass."""

    def __init__(self, limit: int, window_seconds: int = 60, clock=time.monotonic):
        self.limit = limit
        self.window_seconds = window_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._window = -1
        self._counts: dict[str, int] = {}

    def hit(self, key: str) -> int | None:
        """Count one hit; None when allowed, else the seconds until the window resets (Retry-After)."""
        now = self._clock()
        window = int(now // self.window_seconds)
        with self._lock:
            if window != self._window:
                self._window = window
                self._counts = {}
            count = self._counts.get(key, 0) + 1
            self._counts[key] = count
        if count > self.limit:
            return max(1, int((window + 1) * self.window_seconds - now + 0.999))
        return None
