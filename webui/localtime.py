"""Dates and times as the agency sees them: Asia/Shanghai (DESIGN §2: UTC stored, shown in Beijing time)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context

SHANGHAI = ZoneInfo("Asia/Shanghai")


def today() -> date:
    """Today's date in Asia/Shanghai; tests may pin it with the `GONGKAI_TODAY` config value."""
    if has_app_context():
        pinned = current_app.config.get("GONGKAI_TODAY")
        if pinned:
            return pinned if isinstance(pinned, date) else date.fromisoformat(str(pinned))
    return datetime.now(SHANGHAI).date()


def in_shanghai(moment: datetime | None) -> datetime | None:
    """A stored moment (UTC, or naive UTC from SQLite) as Beijing time."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(SHANGHAI)
