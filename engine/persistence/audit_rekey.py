"""Once per database: turn a chain written before the audit key existed into a keyed chain with a state baseline.

`gongkai db upgrade` runs this after the schema migration. An agency's old (unkeyed SHA-256) chain is checked
first; only an intact one is re-keyed — a broken one is left as it is and `audit verify` keeps reporting it.
Then one `audit_baseline` event per case records the case's state (and its files' hashes) as found at upgrade
time: from then on a change without an action is detected. The upgrade itself must therefore run on a database
one trusts; README says so.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.persistence.audit import GENESIS_HASH, audit_key, event_digest, hashed_fields, record_event
from engine.persistence.audit_verify import verify_legacy_chain
from engine.persistence.models import AUDIT_CHAIN_KEYED, Agency, AuditEvent, Case, Letter, Upload

BATCH = 1000


def rekey_legacy_chains(session: Session, key: bytes | None = None) -> list[str]:
    """Re-key every agency still on the unkeyed chain; returns what was done or refused, one line per agency."""
    key = key if key is not None else audit_key()
    report = []
    legacy = session.scalars(select(Agency).where(Agency.audit_chain_version != AUDIT_CHAIN_KEYED)
                             .order_by(Agency.id)).all()
    for agency in legacy:
        problem = verify_legacy_chain(session, agency)
        if problem is not None:
            report.append(f"机关 {agency.code} 的旧审计链已断裂（{problem}），未重建；请先核查（audit verify 会继续报告）")
            continue
        prev_hash = GENESIS_HASH
        last_seq = 0
        while True:
            events = session.scalars(select(AuditEvent).where(AuditEvent.agency_id == agency.id,
                                                              AuditEvent.seq > last_seq)
                                     .order_by(AuditEvent.seq).limit(BATCH)).all()
            if not events:
                break
            for event in events:
                event.prev_hash = prev_hash
                event.hash = event_digest(prev_hash, hashed_fields(event), key)
                prev_hash = event.hash
            last_seq = events[-1].seq
            session.flush()
        agency.audit_head_hash = prev_hash
        agency.audit_chain_version = AUDIT_CHAIN_KEYED
        session.flush()
        cases = _baseline(session, agency)
        report.append(f"机关 {agency.code}：{last_seq} 个审计事件已用密钥重新签名，{cases} 件案件记录了基线状态")
    return report


def _baseline(session: Session, agency: Agency) -> int:
    count = 0
    case_ids = session.scalars(select(Case.id).where(Case.agency_id == agency.id).order_by(Case.id)).all()
    for case_id in case_ids:
        letters = dict(session.execute(select(Letter.id, Letter.sha256).where(Letter.case_id == case_id)).all())
        uploads = dict(session.execute(select(Upload.id, Upload.sha256).where(Upload.case_id == case_id)).all())
        stage = session.scalar(select(Case.stage).where(Case.id == case_id))
        record_event(session, agency_id=agency.id, case_id=case_id, action="audit_baseline", stage_before=stage,
                     stage_after=stage, changes={"letter_hashes": letters, "upload_hashes": uploads},
                     reason="审计链启用密钥：记录升级时的案件状态")
        count += 1
    return count
