"""Users, passwords (argon2; at least 10 characters and not a common password), login throttling, sessions that end
(a per-user generation), and API tokens (stored hashed)."""

from __future__ import annotations

import functools
import hashlib
import re
import secrets
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.orm import Session

from engine.errors import InvalidInput, NotFound, PermissionDenied
from engine.persistence import limits
from engine.persistence.audit import record_event, utcnow
from engine.persistence.login_throttle import (
    ACCOUNT_POLICY,
    ADDRESS_POLICY,
    DatabaseThrottleStore,
    ThrottleStore,
)
from engine.persistence.models import Agency, ApiToken, Department, LoginThrottle, User
from engine.rules.text_input import has_control_characters
from engine.rules.vocabulary import ROLES, TOKEN_SCOPES
from engine.services.common import optional_text, require_text

MIN_PASSWORD_LENGTH = 10
EMAIL_PATTERN = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
LOGIN_FAILED = "用户名或密码错误"
_hasher = PasswordHasher()


@functools.cache
def _dummy_hash() -> str:
    """Verified when the user does not exist, so an unknown name costs the same time as a wrong password."""
    return _hasher.hash("gongkai-no-such-user")


@functools.cache
def _common_passwords() -> frozenset[str]:
    """The 30,000 most common passwords of the zxcvbn project (a maintained list, not one typed in here)."""
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(FREQUENCY_LISTS["passwords"])


def password_problem(password: str) -> str | None:
    """Why `password` may not be set (too short, or one of the most common passwords), or None."""
    if len(password or "") < MIN_PASSWORD_LENGTH:
        return f"密码至少 {MIN_PASSWORD_LENGTH} 位"
    if password.lower() in _common_passwords() or password.lower().rstrip("0123456789!") in _common_passwords():
        return "该密码过于常见（在常用密码清单中），请换一个"
    return None


def _require_good_password(password: str) -> None:
    problem = password_problem(password)
    if problem:
        raise InvalidInput(problem, details={"field": "password"})


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def add_agency(session: Session, code: str, name: str, **settings) -> Agency:
    code = code.strip()
    if not code or not name.strip():
        raise InvalidInput("机关代码和名称都不能为空")
    if session.scalar(select(Agency).where(Agency.code == code)):
        raise InvalidInput(f"机关代码「{code}」已存在")
    settings.setdefault("topics", [])
    settings.setdefault("settings", {})
    agency = Agency(code=code, name=name.strip(), created_at=utcnow(), **settings)
    session.add(agency)
    session.flush()
    record_event(session, agency_id=agency.id, action="add_agency", changes={"code": code, "name": name})
    return agency


def agency_by_code(session: Session, code: str) -> Agency:
    agency = session.scalar(select(Agency).where(Agency.code == code))
    if agency is None:
        raise NotFound(f"没有代码为「{code}」的机关")
    return agency


def add_department(session: Session, agency: Agency, name: str) -> Department:
    name = require_text(name, "部门名称", max_len=limits.DEPARTMENT_NAME, multiline=False, field="name")
    dept = Department(agency_id=agency.id, name=name)
    session.add(dept)
    session.flush()
    return dept


def add_user(session: Session, agency: Agency, username: str, password: str, roles: list[str], *,
             display_name: str | None = None, department: Department | None = None, actor=None,
             email: str = "") -> User:
    username = require_text(username, "用户名", max_len=limits.USERNAME, multiline=False, field="username")
    display_name = optional_text(display_name, "显示名称", max_len=limits.DISPLAY_NAME, multiline=False,
                                 field="display_name") or None
    unknown = [r for r in roles if r not in ROLES]
    if unknown or not roles:
        raise InvalidInput(f"角色无效：{'、'.join(unknown) or '（空）'}；可用角色：{'、'.join(ROLES)}")
    email = checked_email(email)
    _require_good_password(password)
    if session.scalar(select(User).where(User.username == username)):
        raise InvalidInput(f"用户名「{username}」已存在")
    user = User(agency_id=agency.id, username=username, display_name=display_name or username,
                password_hash=hash_password(password), roles=list(roles), created_at=utcnow(),
                department_id=department.id if department else None, email=email, digest_enabled=True)
    session.add(user)
    session.flush()
    record_event(session, agency_id=agency.id, action="add_user", actor=actor,
                 changes={"username": username, "roles": list(roles)})
    return user


def checked_email(email: str | None) -> str:
    """A staff e-mail address (where digests and assignment messages go), or "" for none."""
    email = optional_text(email, "电子邮箱", max_len=120, multiline=False, field="email")
    if email and not EMAIL_PATTERN.fullmatch(email):
        raise InvalidInput(f"电子邮箱格式不正确：{email}", details={"field": "email"})
    return email


def throttle_key(kind: str, value: str) -> str:
    """The counter's key: a hash of the (case-folded) name or address, so whatever was typed — a NUL, 10,000
    characters — makes a valid key and the table holds no login names in clear."""
    return f"{kind}:{hashlib.sha256((value or '').strip().lower().encode('utf-8', 'surrogatepass')).hexdigest()}"


def _wait_message(wait: timedelta) -> str:
    minutes = int(wait.total_seconds() // 60)
    return f"登录尝试过于频繁，请 {minutes + 1} 分钟后再试" if minutes else \
        f"登录尝试过于频繁，请 {max(1, int(wait.total_seconds()))} 秒后再试"


def authenticate(session: Session, username: str, password: str, now: datetime | None = None, *,
                 address: str | None = None, throttle: ThrottleStore | None = None) -> User:
    """Check a password. Unknown names and wrong passwords get the same message after the same work (an argon2
    check); failures are budgeted per account name and per client address with back-off (the attempt is counted
    before the password is checked, so parallel guesses get exactly the budget)."""
    now = now or utcnow()
    throttle = throttle if throttle is not None else DatabaseThrottleStore(session.get_bind())
    name_ok = not has_control_characters(username, multiline=False) and len(username) <= limits.USERNAME
    keys = [(throttle_key("account", username), ACCOUNT_POLICY)]
    if address:
        keys.append((throttle_key("ip", address), ADDRESS_POLICY))
    for key, policy in keys:
        wait = throttle.reserve(key, policy, now)
        if wait is not None:
            raise PermissionDenied(_wait_message(wait))
    # Never sent to the database when it cannot be a user name (a NUL would be a database error).
    user = session.scalar(select(User).where(User.username == username)) if name_ok else None
    if user is None or not user.active:
        verify_password(_dummy_hash(), password)
        raise PermissionDenied(LOGIN_FAILED)
    if not verify_password(user.password_hash, password):
        raise PermissionDenied(LOGIN_FAILED)
    throttle.clear(keys[0][0])
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.failed_logins = 0
    user.locked_until = None
    session.flush()
    return user


def end_sessions(session: Session, user: User, now: datetime | None = None) -> int:
    """End every web session (the per-user generation they carry) and revoke every API token of `user` at once;
    returns how many tokens were revoked."""
    user.session_generation = (user.session_generation or 0) + 1
    revoked = session.execute(update(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
                              .values(revoked_at=now or utcnow()))
    session.flush()
    return revoked.rowcount or 0


def log_out(session: Session, user: User) -> None:
    """退出登录: ends every session and API token of the user (not only this browser's), audited."""
    tokens = end_sessions(session, user)
    record_event(session, agency_id=user.agency_id, action="log_out", actor=user,
                 changes={"username": user.username, "revoked_tokens": tokens})


def _token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# A system user (the portal's `portal-<CODE>`, who registers online requests) holds a password hash no password
# matches; it must stay unable to sign in, so no one may give it a password, other roles or a token.
SYSTEM_PASSWORD_MARK = "!"


def is_system_user(user: User) -> bool:
    return (user.password_hash or "").startswith(SYSTEM_PASSWORD_MARK)


def _refuse_system_user(user: User, what: str) -> None:
    if is_system_user(user):
        raise InvalidInput(f"{user.username} 是系统账户（{user.display_name}），不能登录，{what}")


def create_token(session: Session, user: User, name: str = "", *, scope: str = "full",
                 personal_data: bool = False) -> str:
    """Create an API token for `user` with a scope (full, read, portal) and, only when asked, the right to see ID
    numbers and phones in full (个人信息保护法); the plain token is returned once and only its hash is kept."""
    name = optional_text(name, "令牌名称", max_len=limits.TOKEN_NAME, multiline=False, field="name")
    if scope not in TOKEN_SCOPES:
        raise InvalidInput(f"令牌范围无效：{scope}（可选 {'、'.join(TOKEN_SCOPES)}）", details={"field": "scope"})
    _refuse_system_user(user, "不能为其创建API令牌")
    token = "gk_" + secrets.token_urlsafe(32)
    session.add(ApiToken(user_id=user.id, name=name, token_hash=_token_digest(token), created_at=utcnow(),
                         scope=scope, personal_data=personal_data))
    session.flush()
    record_event(session, agency_id=user.agency_id, action="create_token", actor=user,
                 changes={"user": user.username, "name": name, "scope": scope, "personal_data": personal_data})
    return token


# Built once (every API request runs it): the token with its user and the user's agency in one statement (the
# case JSON and /me need the agency too).
_LIVE_TOKEN = select(ApiToken).where(ApiToken.token_hash == bindparam("digest"))


def token_row(session: Session, token: str) -> ApiToken | None:
    """The live token row (scope, personal-data right, its user), or None when unknown, revoked or deactivated."""
    row = session.scalar(_LIVE_TOKEN, {"digest": _token_digest(token)})
    if row is None or row.revoked_at is not None or not row.user.active:
        return None
    return row


def user_for_token(session: Session, token: str) -> User | None:
    row = token_row(session, token)
    return row.user if row is not None else None


def revoke_token(session: Session, token_id: int, actor: User) -> None:
    row = session.get(ApiToken, token_id)
    if row is None or row.user.agency_id != actor.agency_id:
        raise NotFound("没有这个令牌")
    row.revoked_at = utcnow()
    record_event(session, agency_id=actor.agency_id, action="revoke_token", actor=actor,
                 changes={"token_id": token_id})
    session.flush()


def _require_admin(actor, agency_id: int) -> None:
    if actor is None or not actor.has_role("admin") or actor.agency_id != agency_id:
        raise PermissionDenied("只有本机关的系统管理员可以管理用户")


USER_OPERATIONS = ("deactivate", "activate", "unlock", "reset_password", "roles", "email")
# After these, the user's sessions and tokens stop working at once (they were granted under the old state).
SESSION_ENDING_OPERATIONS = ("deactivate", "reset_password", "roles")


def update_user(session: Session, user_id: int, operation: str, *, actor: User, password: str = "",
                roles: list[str] | None = None, email: str = "", digest_enabled: bool = True) -> str:
    """Administer a user of the actor's agency (admin only); returns the Chinese confirmation. Audited."""
    user = session.get(User, user_id)
    if user is None or actor is None or user.agency_id != actor.agency_id:
        raise NotFound("没有这个用户")
    _require_admin(actor, user.agency_id)
    roles_before = list(user.roles or [])
    if operation in ("reset_password", "roles", "unlock"):
        _refuse_system_user(user, "不能设置密码、解除登录限制或更改角色")
    if operation == "deactivate":
        if user.id == actor.id:
            raise InvalidInput("不能停用自己的账户")
        user.active = False
        message = f"已停用 {user.username}"
    elif operation == "activate":
        user.active = True
        message = f"已启用 {user.username}"
    elif operation == "unlock":
        user.locked_until, user.failed_logins = None, 0
        session.execute(delete(LoginThrottle).where(LoginThrottle.key == throttle_key("account", user.username)))
        message = f"已解除 {user.username} 的登录限制"
    elif operation == "reset_password":
        _require_good_password(password)
        user.password_hash = hash_password(password)
        user.locked_until, user.failed_logins = None, 0
        message = f"已重置 {user.username} 的密码"
    elif operation == "roles":
        wanted = [r for r in (roles or []) if r in ROLES]
        if not wanted:
            raise InvalidInput("至少保留一个角色")
        if user.id == actor.id and "admin" not in wanted:
            raise InvalidInput("不能取消自己的系统管理员角色")
        if user.id == actor.id and set(wanted) - set(user.roles or []):
            raise PermissionDenied("不能给自己增加角色，须由另一位系统管理员授予")
        user.roles = wanted
        message = f"已更新 {user.username} 的角色"
    elif operation == "email":
        user.email, user.digest_enabled = checked_email(email), bool(digest_enabled)
        message = f"已更新 {user.username} 的电子邮箱与提醒设置"
    else:
        raise NotFound(f"未知的用户管理操作「{operation}」")
    if operation in SESSION_ENDING_OPERATIONS:
        end_sessions(session, user)
    session.flush()
    changes = {"username": user.username, "roles": list(user.roles), "active": user.active}
    if operation == "roles":  # the admin audit page shows what the change was, not only the result
        changes["roles"] = {"before": roles_before, "after": list(user.roles)}
    record_event(session, agency_id=user.agency_id, action=f"user_{operation}", actor=actor, changes=changes)
    return message
