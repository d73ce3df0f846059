"""The token's user, its agency and the ids an integration needs (departments and handlers to assign to)."""

from __future__ import annotations

from sqlalchemy import bindparam, select
from sqlalchemy.orm import lazyload

from engine.persistence.models import Agency, Department, User
from webui.api import context, endpoint
from webui.api import schemas as s
from webui.api.cases import respond
from webui.api.openapi import Operation

# Built once, as the token lookup (engine.services.accounts): /me is the cheapest authenticated call.
_DEPARTMENTS = select(Department).where(Department.agency_id == bindparam("agency_id")).order_by(Department.id)
# The colleagues without their agency (the token user's, already loaded): User joins its agency by default.
_COLLEAGUES = (select(User).where(User.agency_id == bindparam("agency_id"), User.active.is_(True))
               .options(lazyload(User.agency)).order_by(User.id))


def _user_ref(user: User) -> s.UserRefOut:
    return s.UserRefOut(id=user.id, username=user.username, display_name=user.display_name,
                        roles=list(user.roles or []), department_id=user.department_id)


@endpoint("/me", Operation("GET", "/me", "whoami", "令牌用户、所属机关、承办部门和承办人", "机关", ok_model=s.MeOut,
                           errors=(401, 429)))
def whoami():
    session, user = context.session(), context.actor()
    agency = session.get(Agency, user.agency_id)
    departments = session.scalars(_DEPARTMENTS, {"agency_id": agency.id}).all()
    colleagues = session.scalars(_COLLEAGUES, {"agency_id": agency.id}).all()
    return respond(s.MeOut(user=_user_ref(user), agency_code=agency.code, agency_name=agency.name,
                           departments=[s.NamedRef(id=d.id, name=d.name) for d in departments],
                           handlers=[_user_ref(u) for u in colleagues if u.has_role("handler")],
                           online_manual_confirmation=agency.online_manual_confirmation))
