"""What every use case shares: loading the actor's case, finishing an action (clock, audit, flush), input checks."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import inspect, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.exc import StaleDataError

from engine.errors import InvalidInput, NotFound, StaleCase
from engine.persistence.audit import jsonable, record_event, utcnow
from engine.persistence.limits import MAX_TEXT
from engine.persistence.models import Agency, Case, Letter
from engine.rules.case_clock import clock_settings, refresh_due
from engine.rules.text_input import text_problem
from engine.services.case_events import CaseEvent, publish


@dataclass
class ActionResult:
    """What one action produced: the case, the letters it issued (in order) and the record it created, if any;
    `answer`: what the caller's `answer` hook made of it, for an action that takes one (`register_request`)."""

    case: Case
    letters: list[Letter] = field(default_factory=list)
    record: object | None = None
    query_code: str | None = None
    answer: object | None = None

    @property
    def letter(self) -> Letter | None:
        """The last letter the action issued (most actions issue one)."""
        return self.letters[-1] if self.letters else None


def use_case(func):
    """Mark a service; a concurrent edit caught at any flush (also autoflush) surfaces as StaleCase."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except StaleDataError as exc:
            raise StaleCase("该申请已被他人同时修改，本次操作未保存，请刷新后重试") from exc

    return wrapper


def load_case(session: Session, case_id: int, actor, *, version: int | None = None, for_update: bool = False) -> Case:
    """The case if it belongs to the actor's agency (another agency's case is simply not found)."""
    stmt = select(Case).where(Case.id == case_id)
    if for_update:  # the case row only (not its eagerly joined rows); inserts referencing it are not held up
        stmt = stmt.with_for_update(of=Case, key_share=True)
    case = session.scalar(stmt)
    if case is None or actor is None or case.agency_id != actor.agency_id:
        raise NotFound("没有找到该申请")
    if version is not None and case.version != version:
        raise StaleCase("该申请已被他人修改，请刷新页面后重新操作（您的输入未保存）",
                        details={"current_version": case.version, "your_version": version})
    return case


def agency_of(session: Session, case: Case) -> Agency:
    return session.get(Agency, case.agency_id)


def finish_action(session: Session, case: Case, action: str, actor, before_stage: str | None, changes: dict,
                  reason: str = "", *, inserted: bool = False, unwritten: dict | None = None) -> None:
    """Refresh the clock, write the audit event and flush; a concurrent edit surfaces as StaleCase.
    `inserted`: the action created the case, and inserted it with its clock (`refresh_due`) and timestamps: the
    event records the due date as new, and the row, which no other transaction can yet see, is not updated again
    (no version to bump: nobody can hold an earlier one). `unwritten`: the action also created the case, and
    writes the row's changes itself later in its transaction: they are added to this dict (column → value), the
    version bumped among them, and not flushed, the session's copy already saying them (`hold_back_changes`);
    until they are written, the case's state must be read from the session (`audit_state.new_case_records`)."""
    if inserted:
        due_before = None
    else:
        due_before = case.due_on
        refresh_due(case, **clock_settings(agency_of(session, case)))
        case.updated_at = utcnow()
    if case.due_on != due_before:
        changes = {**changes, "due_on": {"before": due_before, "after": case.due_on}}
    if unwritten is not None:
        case.version += 1  # as the UPDATE would: each action after the insert names a new version
        unwritten.update(hold_back_changes(case))
    session.flush()
    record_event(session, agency_id=case.agency_id, case_id=case.id, actor=actor, action=action,
                 stage_before=before_stage, stage_after=case.stage, changes=jsonable(changes), reason=reason)
    publish(session, CaseEvent(case, action, actor, before_stage, case.stage, changes))


def hold_back_changes(record) -> dict:
    """The changed column values of `record`, which the session's copy now holds as its committed state: the next
    flush does not write them, the caller must (a row no other transaction can see yet, written once at the end
    of its action)."""
    state = inspect(record)
    columns = state.mapper.column_attrs
    held = {key: state.dict[key] for key in list(state.committed_state) if key in columns}
    for key, value in held.items():
        set_committed_value(record, key, value)
    if not state.committed_state and state.session is not None:
        # Nothing else of it to write: no longer "modified", so a flush has nothing to look at (a flush with one
        # modified object costs a third of a millisecond even when it writes nothing). `set_committed_value` leaves
        # the flag; `_commit_all` is how SQLAlchemy clears it after a flush (pinned by test_hold_back_changes).
        state._commit_all(state.dict, state.session.identity_map)
    return held


def require_text(value: str, label: str, *, max_len: int = MAX_TEXT, multiline: bool = True,
                 field: str | None = None) -> str:
    """The stripped text, or InvalidInput if empty, too long or holding control characters."""
    value = (value or "").strip()
    if not value:
        raise InvalidInput(f"请填写{label}", details={"field": field} if field else None)
    return optional_text(value, label, max_len=max_len, multiline=multiline, field=field)


def optional_text(value: str | None, label: str, *, max_len: int = MAX_TEXT, multiline: bool = True,
                  field: str | None = None) -> str:
    """The stripped text (may be empty), or InvalidInput if too long or holding control characters."""
    value = (value or "").strip()
    problem = text_problem(value, label, max_len, multiline=multiline)
    if problem:
        raise InvalidInput(problem, details={"field": field} if field else None)
    return value


def not_before(day: date, earliest: date | None, what: str, earliest_label: str) -> None:
    if earliest is not None and day < earliest:
        raise InvalidInput(f"{what}（{day.isoformat()}）不能早于{earliest_label}（{earliest.isoformat()}）")


def not_future(day: date, today: date, what: str) -> None:
    if day > today:
        raise InvalidInput(f"{what}（{day.isoformat()}）不能晚于今天（{today.isoformat()}）")


class FieldProblems(dict):
    """Every field problem of a form, field name → message (the first per field), checked all at once."""

    def check(self, field_name: str, rule, /, *args, **kwargs) -> None:
        try:
            rule(*args, **kwargs)
        except InvalidInput as problem:
            named = (problem.details or {}).get("field") if isinstance(problem.details, dict) else None
            self.setdefault(named or field_name, problem.message)

    def note(self, field_name: str, message: str | None) -> None:
        if message:
            self.setdefault(field_name, message)

    def raise_all(self) -> None:
        """One refusal naming every problem: the message lists them, `details["fields"]` maps each to its field."""
        if not self:
            return
        first = next(iter(self))
        message = self[first] if len(self) == 1 else \
            f"有 {len(self)} 处需要更正：" + "；".join(self.values())
        raise InvalidInput(message, details={"field": first, "fields": dict(self)})
