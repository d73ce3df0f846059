"""Settings from the environment and an optional TOML file (DESIGN §7).

`GONGKAI_DATABASE_URL` names the database (default: SQLite under `var/`); `GONGKAI_CONFIG` names a
TOML file for everything else (default: `gongkai.toml` in the project root, if present).
Notifications: `GONGKAI_SMTP_URL` (`smtp://[user:password@]host:port`, `smtps://…` for implicit TLS, `?starttls=1`),
`GONGKAI_MAIL_FROM`, `GONGKAI_PUBLIC_URL` (the base of links in messages), the SMS gateway (`[sms]` table, credentials
also from `GONGKAI_SMS_*`) and `GONGKAI_DIGEST_HOUR` (the staff digest's hour, Asia/Shanghai).
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
class SmsSettings:
    """An HTTP SMS gateway (every province has its own): where and how to POST/GET one text. `params` maps the
    gateway's field names to templates with the placeholders {phone}, {text}, {signature}, {reg_no}."""

    url: str
    method: str = "POST"
    body_format: str = "form"  # form | json (POST only; GET sends the params in the query string)
    params: dict = field(default_factory=lambda: {"mobile": "{phone}", "content": "{signature}{text}"})
    headers: dict = field(default_factory=dict)
    username: str = ""
    password: str = ""
    signature: str = ""  # 【机关简称】; empty: the agency's name in 【】
    timeout_seconds: float = 10.0


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
    smtp_url: str | None = None
    mail_from: str | None = None
    public_url: str = "http://127.0.0.1:5000"
    sms: SmsSettings | None = None
    digest_hour: int = 8
    # GONGKAI_WORKER_NICE: how far below the web's the background worker's CPU priority is (nice, 0–19; 0: the same)
    worker_nice: int = 10
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
        smtp_url=os.environ.get("GONGKAI_SMTP_URL") or data.get("smtp_url") or None,
        mail_from=os.environ.get("GONGKAI_MAIL_FROM") or data.get("mail_from") or None,
        public_url=(os.environ.get("GONGKAI_PUBLIC_URL") or data.get("public_url") or "http://127.0.0.1:5000").rstrip("/"),
        sms=_sms_settings(data.get("sms") or {}),
        digest_hour=int(os.environ.get("GONGKAI_DIGEST_HOUR") or data.get("digest_hour") or 8),
        worker_nice=_worker_nice(os.environ.get("GONGKAI_WORKER_NICE", data.get("worker_nice", 10))),
        extra=data,
    )


def _worker_nice(value: object) -> int:
    """The worker's niceness above the web's: an integer from 0 to 19 (the range of `nice`)."""
    text = str(value).strip()
    if not text.isdecimal() or not 0 <= int(text) <= 19:
        raise ValueError(f"GONGKAI_WORKER_NICE（worker_nice）应为 0 至 19 的整数（0 表示与网页进程相同的优先级），现为「{value}」")
    return int(text)


def _sms_settings(table: dict) -> SmsSettings | None:
    """The `[sms]` table, with `GONGKAI_SMS_URL`/`_METHOD`/`_FORMAT`/`_PARAMS` (JSON)/`_USER`/`_PASSWORD`/`_SIGNATURE`
    from the environment taking precedence (credentials belong in the environment); None when no URL is set."""
    import json

    env = os.environ.get
    url = env("GONGKAI_SMS_URL") or table.get("url")
    if not url:
        return None
    params = json.loads(env("GONGKAI_SMS_PARAMS")) if env("GONGKAI_SMS_PARAMS") else table.get("params")
    values = {
        "url": url,
        "method": (env("GONGKAI_SMS_METHOD") or table.get("method") or "POST").upper(),
        "body_format": env("GONGKAI_SMS_FORMAT") or table.get("format") or "form",
        "headers": dict(table.get("headers") or {}),
        "username": env("GONGKAI_SMS_USER") or table.get("username") or "",
        "password": env("GONGKAI_SMS_PASSWORD") or table.get("password") or "",
        "signature": env("GONGKAI_SMS_SIGNATURE") or table.get("signature") or "",
        "timeout_seconds": float(table.get("timeout_seconds") or 10),
    }
    if params:
        values["params"] = dict(params)
    return SmsSettings(**values)
