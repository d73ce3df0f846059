"""归档 (条例45): retention by rule, an archive number per agency pattern, and a read-only case afterwards."""

from __future__ import annotations

from datetime import date

from sqlalchemy import update
from sqlalchemy.orm import Session

from engine.errors import InvalidInput, PermissionDenied, RuleViolation
from engine.persistence.models import Agency, ArchiveNote, Letter, User
from engine.persistence.numbering import ARCHIVE, format_number, next_number
from engine.rules.outcomes import OUTCOMES
from engine.rules.vocabulary import RETENTION_LABELS, RETENTION_PERIODS
from engine.rules.workflow import advance, authorize
from engine.services.common import finish_action, load_case

# Default retention by outcome family; an agency overrides it in settings["retention_by_family"].
DEFAULT_RETENTION_BY_FAMILY = {
    "disclose": "Y10",
    "partial": "Y30",
    "withhold": "Y30",
    "cannot_provide": "Y10",
    "not_processed": "Y10",
    "terminated": "Y10",
}
RETENTION_NUMBER_CODES = {"PERMANENT": "Y", "Y30": "D30", "Y10": "D10"}
# Who may add to the 备考表: the archivist, and the clerk who learns of a returned letter or a later ruling.
NOTE_ROLES = ("archivist", "clerk")
NOTE_MAX_CHARS = 2000


def retention_for(agency: Agency, report_outcome: str | None, *, challenged: bool) -> str:
    """保管期限 by rule: a case that went to review or court is kept 30 years at least."""
    rules = {**DEFAULT_RETENTION_BY_FAMILY, **(agency.settings or {}).get("retention_by_family", {})}
    family = OUTCOMES[report_outcome].family if report_outcome in OUTCOMES else "terminated"
    period = rules.get(family, "Y10")
    if challenged and period == "Y10":
        period = "Y30"
    return period


def archive_case(session: Session, case_id: int, *, actor: User, today: date, version: int | None = None,
                 retention: str | None = None, retention_reason: str = ""):
    """Archive a replied or closed case; a retention other than the rule's needs a reason."""
    case = load_case(session, case_id, actor, version=version)
    authorize(case, "archive", actor)
    agency = session.get(Agency, case.agency_id)
    ruled = retention_for(agency, case.report_outcome, challenged=_has_challenges(session, case.id))
    chosen = retention or ruled
    if chosen not in RETENTION_PERIODS:
        raise InvalidInput("保管期限无效（永久、定期30年、定期10年）")
    if chosen != ruled and not retention_reason.strip():
        raise InvalidInput(f"按规则保管期限应为「{RETENTION_LABELS[ruled]}」，改为「{RETENTION_LABELS[chosen]}」须说明理由")
    year = (case.finished_on or today).year
    n = next_number(session, agency.id, ARCHIVE, year)
    case.archive_no = format_number(agency.archive_no_pattern, year=year, n=n, code=agency.code,
                                    prefix=agency.letter_no_prefix, retention=RETENTION_NUMBER_CODES[chosen])
    case.retention = chosen
    case.retention_reason = retention_reason.strip()
    case.archived_on = today
    # An archived case's letters are no longer on the dashboard's list of letters waiting for delivery.
    session.execute(update(Letter).where(Letter.case_id == case.id, Letter.awaiting_delivery.is_(True))
                    .values(awaiting_delivery=False))
    before = case.stage
    advance(case, "archive")
    finish_action(session, case, "archive", actor, before,
                   {"archive_no": case.archive_no, "retention": chosen, "ruled_retention": ruled},
                   retention_reason.strip())
    return case


def _has_challenges(session: Session, case_id: int) -> bool:
    from sqlalchemy import exists, select

    from engine.persistence.models import LegalChallenge

    return bool(session.scalar(select(exists().where(LegalChallenge.case_id == case_id))))


def append_archive_note(session: Session, case_id: int, *, text: str, noted_on: date, actor: User, today: date):
    """卷内备考表 (条例45 归档): a dated note appended to an archived case file, never an edit of it."""
    from engine.persistence.audit import record_event, utcnow

    case = load_case(session, case_id, actor)
    if not any(actor.has_role(role) for role in NOTE_ROLES):
        raise PermissionDenied("只有档案员或登记员可以追加备考记录")
    if case.stage != "archived":
        raise RuleViolation("只有已归档的案卷才能追加备考记录；尚未归档的案件请直接在案件中登记")
    text = (text or "").strip()
    if not text:
        raise InvalidInput("请填写备考记录的内容")
    if len(text) > NOTE_MAX_CHARS:
        raise InvalidInput(f"备考记录过长（最多 {NOTE_MAX_CHARS} 字）")
    if noted_on > today:
        raise InvalidInput(f"记录日期（{noted_on.isoformat()}）不能晚于今天（{today.isoformat()}）")
    if case.archived_on is not None and noted_on < case.archived_on:
        raise InvalidInput(f"备考记录的日期（{noted_on.isoformat()}）不能早于归档日期（{case.archived_on.isoformat()}）")
    note = ArchiveNote(case_id=case.id, noted_on=noted_on, text=text, author_id=actor.id, created_at=utcnow())
    session.add(note)
    session.flush()
    record_event(session, agency_id=case.agency_id, case_id=case.id, actor=actor, action="append_archive_note",
                 stage_before=case.stage, stage_after=case.stage,
                 changes={"note_id": note.id, "noted_on": noted_on.isoformat(), "text": text})
    return note
