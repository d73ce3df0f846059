"""Users, passwords (argon2), lock-out after repeated failures, and API tokens (stored hashed)."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.errors import InvalidInput, NotFound, PermissionDenied
from engine.persistence import limits
from engine.persistence.audit import record_event, utcnow
from engine.persistence.models import Agency, ApiToken, Department, User
from engine.rules.text_input import has_control_characters
from engine.rules.vocabulary import ROLES
from engine.services.common import optional_text, require_text

MAX_FAILED_LOGINS = 5
LOCKOUT = timedelta(minutes=15)
_hasher = PasswordHasher()


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
             display_name: str | None = None, department: Department | None = None, actor=None) -> User:
    username = require_text(username, "用户名", max_len=limits.USERNAME, multiline=False, field="username")
    display_name = optional_text(display_name, "显示名称", max_len=limits.DISPLAY_NAME, multiline=False,
                                 field="display_name") or None
    unknown = [r for r in roles if r not in ROLES]
    if unknown or not roles:
        raise InvalidInput(f"角色无效：{'、'.join(unknown) or '（空）'}；可用角色：{'、'.join(ROLES)}")
    if len(password) < 8:
        raise InvalidInput("密码至少 8 位")
    if session.scalar(select(User).where(User.username == username)):
        raise InvalidInput(f"用户名「{username}」已存在")
    user = User(agency_id=agency.id, username=username, display_name=display_name or username,
                password_hash=hash_password(password), roles=list(roles), created_at=utcnow(),
                department_id=department.id if department else None)
    session.add(user)
    session.flush()
    record_event(session, agency_id=agency.id, action="add_user", actor=actor,
                 changes={"username": username, "roles": list(roles)})
    return user


def authenticate(session: Session, username: str, password: str, now: datetime | None = None) -> User:
    """Check a password; five failures lock the account for 15 minutes (message says until when)."""
    now = now or utcnow()
    if has_control_characters(username, multiline=False) or len(username) > limits.USERNAME:
        raise PermissionDenied("用户名或密码错误")  # no such user can exist; never sent to the database
    user = session.scalar(select(User).where(User.username == username))
    if user is None or not user.active:
        raise PermissionDenied("用户名或密码错误")
    locked_until = user.locked_until
    if locked_until is not None and locked_until.tzinfo is None:
        locked_until = locked_until.replace(tzinfo=now.tzinfo)
    if locked_until is not None and locked_until > now:
        minutes = max(1, int((locked_until - now).total_seconds() // 60) + 1)
        raise PermissionDenied(f"登录失败次数过多，账户已锁定，请约 {minutes} 分钟后再试")
    if not verify_password(user.password_hash, password):
        user.failed_logins += 1
        if user.failed_logins >= MAX_FAILED_LOGINS:
            user.locked_until = now + LOCKOUT
            user.failed_logins = 0
            session.flush()
            raise PermissionDenied("登录失败次数过多，账户已锁定 15 分钟")
        session.flush()
        left = MAX_FAILED_LOGINS - user.failed_logins
        raise PermissionDenied(f"用户名或密码错误（再错 {left} 次将锁定账户）")
    user.failed_logins = 0
    user.locked_until = None
    session.flush()
    return user


def _token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(session: Session, user: User, name: str = "") -> str:
    """Create an API token for `user`; the plain token is returned once and only its hash is kept."""
    name = optional_text(name, "令牌名称", max_len=limits.TOKEN_NAME, multiline=False, field="name")
    token = "gk_" + secrets.token_urlsafe(32)
    session.add(ApiToken(user_id=user.id, name=name, token_hash=_token_digest(token), created_at=utcnow()))
    session.flush()
    record_event(session, agency_id=user.agency_id, action="create_token", actor=user,
                 changes={"user": user.username, "name": name})
    return token


def user_for_token(session: Session, token: str) -> User | None:
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == _token_digest(token)))
    if row is None or row.revoked_at is not None or not row.user.active:
        return None
    return row.user


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


USER_OPERATIONS = ("deactivate", "activate", "unlock", "reset_password", "roles")


def update_user(session: Session, user_id: int, operation: str, *, actor: User, password: str = "",
                roles: list[str] | None = None) -> str:
    """Administer a user of the actor's agency (admin only); returns the Chinese confirmation. Audited."""
    user = session.get(User, user_id)
    if user is None or actor is None or user.agency_id != actor.agency_id:
        raise NotFound("没有这个用户")
    _require_admin(actor, user.agency_id)
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
        message = f"已解除 {user.username} 的锁定"
    elif operation == "reset_password":
        if len(password) < 8:
            raise InvalidInput("新密码至少 8 位")
        user.password_hash = hash_password(password)
        user.locked_until, user.failed_logins = None, 0
        message = f"已重置 {user.username} 的密码"
    elif operation == "roles":
        wanted = [r for r in (roles or []) if r in ROLES]
        if not wanted:
            raise InvalidInput("至少保留一个角色")
        if user.id == actor.id and "admin" not in wanted:
            raise InvalidInput("不能取消自己的系统管理员角色")
        user.roles = wanted
        message = f"已更新 {user.username} 的角色"
    else:
        raise NotFound(f"未知的用户管理操作「{operation}」")
    session.flush()
    record_event(session, agency_id=user.agency_id, action=f"user_{operation}", actor=actor,
                 changes={"username": user.username, "roles": list(user.roles), "active": user.active})
    return message
