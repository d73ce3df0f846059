"""Settings from the environment and an optional TOML file (DESIGN §7).

`GONGKAI_DATABASE_URL` names the database (default: SQLite under `var/`); `GONGKAI_CONFIG` names a
TOML file for everything else (default: `gongkai.toml` in the project root, if present).
`GONGKAI_AUDIT_KEY` (or `audit_key` in the file) keys the audit chain's HMAC; it is kept outside the database so
that someone who can write the database cannot re-chain edited events. Production must set it.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
# In a checkout the defaults (gongkai.toml, var/) are beside the code; installed from a wheel, in the
# working directory. The holiday notices are package data either way (engine/holiday_data ← holidays/).
IN_CHECKOUT = (PROJECT_ROOT / "pyproject.toml").is_file()
HOME = PROJECT_ROOT if IN_CHECKOUT else Path.cwd()
# Development only: a known key proves nothing against an insider. README: production sets GONGKAI_AUDIT_KEY.
DEV_AUDIT_KEY = "gongkai-development-audit-key"


@dataclass(frozen=True)
class Settings:
    database_url: str
    var_dir: Path
    holidays_dir: Path
    blob_dir: Path
    secret_key: str | None = None
    redis_url: str | None = None  # GONGKAI_REDIS_URL: the job queue and shared rate limits (None: embedded)
    audit_key: str = DEV_AUDIT_KEY
    signing_key_secret: str | None = None
    production: bool = False
    extra: dict = field(default_factory=dict)


def _bundled_holidays() -> Path:
    """The holiday notices: holidays/ in a checkout, the package data engine/holiday_data when installed."""
    if IN_CHECKOUT:
        return PROJECT_ROOT / "holidays"
    return Path(__file__).resolve().parent / "holiday_data"


def _default_sqlite_url(var_dir: Path) -> str:
    return f"sqlite:///{var_dir / 'gongkai.sqlite3'}"


@lru_cache(maxsize=1)
def load_settings() -> Settings:
    """Read the settings once per process; tests call `load_settings.cache_clear()` after changing env."""
    config_path = Path(os.environ.get("GONGKAI_CONFIG", HOME / "gongkai.toml"))
    data: dict = {}
    if config_path.is_file():
        with config_path.open("rb") as fh:
            data = tomllib.load(fh)
    var_dir = Path(os.environ.get("GONGKAI_VAR_DIR", data.get("var_dir", HOME / "var")))
    return Settings(
        database_url=os.environ.get("GONGKAI_DATABASE_URL") or data.get("database_url") or _default_sqlite_url(var_dir),
        var_dir=var_dir,
        holidays_dir=Path(os.environ.get("GONGKAI_HOLIDAYS_DIR", data.get("holidays_dir", _bundled_holidays()))),
        blob_dir=Path(data.get("blob_dir", var_dir / "blobs")),
        secret_key=os.environ.get("GONGKAI_SECRET_KEY") or data.get("secret_key"),
        redis_url=os.environ.get("GONGKAI_REDIS_URL") or data.get("redis_url") or None,
        audit_key=os.environ.get("GONGKAI_AUDIT_KEY") or data.get("audit_key") or DEV_AUDIT_KEY,
        signing_key_secret=os.environ.get("GONGKAI_SIGNING_KEY_SECRET") or data.get("signing_key_secret"),
        production=os.environ.get("GONGKAI_PRODUCTION", "") not in ("", "0") or bool(data.get("production")),
        extra=data,
    )
