"""`gongkai audit verify`: the keyed chain, and every recorded state and byte checked against what its events say.

What is checked, for every agency, streaming (events, cases, letters and uploads in batches, never all at once):
- the chain: each event's HMAC, its link to the previous event, gap-free sequence numbers, the agency's head;
- against a checkpoint file (head hash and count published earlier): the chain still holds that event at that
  position, so a tail cut off and a head moved back are found;
- each case's current state against the state digest of its latest event (a stage, outcome, decision, item or
  applicant changed without an action; a case deleted or inserted behind the engine's back);
- each letter's and upload's bytes against its own SHA-256 and size, and that hash against the one its audit
  event recorded (a signed reply swapped for another valid PDF). A letter issued to be rendered after its
  action's commit and not rendered yet (no bytes, no hash, and no event recording one) is counted as pending,
  not as a problem; once an event recorded its hash, it must have exactly those bytes.
Every problem found is reported, not only the first.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.persistence.audit import (
    GENESIS_HASH,
    audit_key,
    event_digest,
    hashed_fields,
    key_fingerprint,
    legacy_event_digest,
    legacy_hashed_fields,
)
from engine.persistence.audit_state import case_state_digests
from engine.persistence.models import AUDIT_CHAIN_KEYED, Agency, AuditEvent, Case, Letter, Upload

BATCH = 2000
BYTES_BATCH = 100
CHECKPOINT_FORMAT = "gongkai-audit-checkpoint/1"


@dataclass(frozen=True)
class Problem:
    """One broken thing: where (agency, what) and what is wrong, in words a reviewer can act on."""

    agency_code: str
    subject: str
    problem: str
    event_id: int | None = None
    seq: int | None = None

    def __str__(self) -> str:
        return f"机关 {self.agency_code}：{self.subject}：{self.problem}"


@dataclass
class VerifyReport:
    problems: list[Problem] = field(default_factory=list)
    agencies: int = 0
    events: int = 0
    cases: int = 0
    letters: int = 0
    uploads: int = 0
    pending_letters: int = 0  # issued, PDF not yet rendered (engine.services.issuing.render_pending_letter)

    @property
    def intact(self) -> bool:
        return not self.problems


@dataclass
class _Recorded:
    """What the events said, collected while streaming the chains."""

    case_state: dict[int, str | None] = field(default_factory=dict)     # case id → digest of its latest event
    case_agency: dict[int, int] = field(default_factory=dict)
    letter_sha: dict[int, str] = field(default_factory=dict)            # letter id → hash its event recorded
    upload_sha: dict[int, str] = field(default_factory=dict)
    letter_pending: set[int] = field(default_factory=set)               # letters issued to be rendered later


_EVENT_COLUMNS = (AuditEvent.id, AuditEvent.agency_id, AuditEvent.seq, AuditEvent.case_id, AuditEvent.actor_id,
                  AuditEvent.actor_name, AuditEvent.occurred_at, AuditEvent.action, AuditEvent.stage_before,
                  AuditEvent.stage_after, AuditEvent.changes, AuditEvent.reason, AuditEvent.state_digest,
                  AuditEvent.prev_hash, AuditEvent.hash)


def stream_events(session: Session, agency_id: int, batch: int = BATCH) -> Iterator:
    """The agency's events in sequence order as light rows, fetched in batches (keyset on seq)."""
    last_seq = None
    while True:
        query = select(*_EVENT_COLUMNS).where(AuditEvent.agency_id == agency_id)
        if last_seq is not None:
            query = query.where(AuditEvent.seq > last_seq)
        rows = session.connection().execute(query.order_by(AuditEvent.seq).limit(batch)).all()
        if not rows:
            return
        yield from rows
        last_seq = rows[-1].seq


def _where(event) -> str:
    return f"审计事件 #{event.id}（序号 {event.seq}）"


def verify_agency_chain(session: Session, agency: Agency, key: bytes, recorded: _Recorded | None = None,
                        checkpoint: dict | None = None) -> tuple[list[Problem], int]:
    """Every chain problem of one agency (and, if asked, what its events record); returns (problems, events)."""
    code = agency.code
    problems: list[Problem] = []
    if agency.audit_chain_version != AUDIT_CHAIN_KEYED:
        problems.append(Problem(code, "审计链", "尚未用密钥重建（请运行 gongkai db upgrade），无法证明未被改写"))
    prev_hash = GENESIS_HASH
    expected = 1
    count = 0
    checkpoint_seen = False
    bad_signatures = 0
    for event in stream_events(session, agency.id):
        count += 1
        if event.seq != expected:
            if event.seq > expected:
                missing = f"{expected}" if event.seq == expected + 1 else f"{expected}–{event.seq - 1}"
                problems.append(Problem(code, _where(event), f"缺少序号 {missing} 的事件（已被删除）", event.id, event.seq))
            else:
                problems.append(Problem(code, _where(event), "序号重复或顺序被调换", event.id, event.seq))
            expected = event.seq
        if event.prev_hash != prev_hash:
            problems.append(Problem(code, _where(event), "前序哈希不符（前面的事件被删除、插入或调换）", event.id, event.seq))
        if not hmac.compare_digest(event_digest(event.prev_hash, hashed_fields(event), key), event.hash):
            problems.append(Problem(code, _where(event), "内容与密钥签名不符（事件被修改或被重新计算哈希）", event.id, event.seq))
            bad_signatures += 1
        if checkpoint is not None and event.seq == checkpoint["seq"]:
            checkpoint_seen = True
            if event.hash != checkpoint["head"]:
                problems.append(Problem(code, _where(event), "与检查点记录的链头哈希不符（链在检查点之前被改写）", event.id, event.seq))
        if recorded is not None:
            _collect(recorded, event)
        prev_hash = event.hash
        expected += 1
    if count and bad_signatures == count:
        problems.append(Problem(code, "审计链", "全部事件的签名都不符：若不是整条链被改写，就是配置的审计密钥"
                                              "（GONGKAI_AUDIT_KEY）与写入时的不同"))
    if agency.audit_seq != expected - 1 or agency.audit_head_hash != prev_hash:
        problems.append(Problem(code, "链头", f"链头（序号 {agency.audit_seq}）与最后一个事件（序号 {expected - 1}）"
                                             "不符（末尾事件被删除或链头被改动）", None, agency.audit_seq))
    if checkpoint is not None and not checkpoint_seen:
        problems.append(Problem(code, "链尾", f"检查点记录了 {checkpoint['seq']} 个事件，现在只有 {expected - 1} 个"
                                             "（末尾事件被截断）"))
    return problems, count


def _collect(recorded: _Recorded, event) -> None:
    changes = event.changes or {}
    if event.case_id is not None:
        recorded.case_state[event.case_id] = event.state_digest
        recorded.case_agency[event.case_id] = event.agency_id
    if isinstance(changes, dict):
        if changes.get("rendering") == "pending" and changes.get("letter_id") is not None:
            recorded.letter_pending.add(int(changes["letter_id"]))
        sha = changes.get("sha256")
        if isinstance(sha, str):
            if changes.get("letter_id") is not None:
                recorded.letter_sha[int(changes["letter_id"])] = sha
            elif changes.get("upload_id") is not None:
                recorded.upload_sha[int(changes["upload_id"])] = sha
        for name, target in (("letter_hashes", recorded.letter_sha), ("upload_hashes", recorded.upload_sha)):
            hashes = changes.get(name)
            if isinstance(hashes, dict):  # a baseline event records the hashes of the files it found
                for file_id, file_sha in hashes.items():
                    target[int(file_id)] = file_sha
        states = changes.get("case_states")
        if isinstance(states, dict):  # a ledger import records the state of each case it wrote
            for case_id, digest in states.items():
                recorded.case_state[int(case_id)] = digest
                recorded.case_agency[int(case_id)] = event.agency_id


def verify_audit(session: Session, *, key: bytes | None = None, checkpoint: dict | None = None) -> VerifyReport:
    """Check every agency's chain and every case, letter and upload against it; collects all problems."""
    key = key if key is not None else audit_key()
    report = VerifyReport()
    recorded = _Recorded()
    agencies = session.execute(select(Agency.id, Agency.code, Agency.audit_seq, Agency.audit_head_hash,
                                      Agency.audit_chain_version).order_by(Agency.id)).all()
    codes = {a.id: a.code for a in agencies}
    marks = _checkpoint_marks(checkpoint, key, agencies, report) if checkpoint is not None else {}
    for agency in agencies:
        problems, count = verify_agency_chain(session, agency, key, recorded, marks.get(agency.id))
        report.problems += problems
        report.events += count
        report.agencies += 1
    _verify_cases(session, recorded, codes, report)
    _verify_bytes(session, Letter, "文书", recorded.letter_sha, codes, report, recorded.letter_pending)
    _verify_bytes(session, Upload, "上传材料", recorded.upload_sha, codes, report)
    return report


def _verify_cases(session: Session, recorded: _Recorded, codes: dict[int, str], report: VerifyReport) -> None:
    seen: set[int] = set()
    last_id = 0
    while True:
        rows = session.execute(select(Case.id, Case.agency_id, Case.reg_no).where(Case.id > last_id)
                               .order_by(Case.id).limit(BATCH)).all()
        if not rows:
            break
        digests = case_state_digests(session, [r.id for r in rows])
        for row in rows:
            seen.add(row.id)
            code = codes.get(row.agency_id, "?")
            subject = f"案件 {row.reg_no}（#{row.id}）"
            if row.id not in recorded.case_state:
                report.problems.append(Problem(code, subject, "没有任何审计事件（案件不是经由系统操作写入的）"))
                continue
            if recorded.case_agency.get(row.id) != row.agency_id:
                report.problems.append(Problem(code, subject, "所属机关与审计记录不符"))
            expected = recorded.case_state[row.id]
            if expected is None:
                report.problems.append(Problem(code, subject, "最后一个审计事件没有状态摘要，无法核对"))
            elif digests.get(row.id) != expected:
                report.problems.append(Problem(code, subject, "当前状态（阶段、申请事项、决定、申请人、文书或材料）"
                                                              "与最后一个审计事件记录的不符（未经操作被修改）"))
        report.cases += len(rows)
        last_id = rows[-1].id
    for case_id in sorted(set(recorded.case_state) - seen):
        code = codes.get(recorded.case_agency.get(case_id), "?")
        report.problems.append(Problem(code, f"案件 #{case_id}", "审计记录中存在，但案件已从数据库中删除"))


def _verify_bytes(session: Session, model, label: str, recorded: dict[int, str], codes: dict[int, str],
                  report: VerifyReport, pending: set[int] = frozenset()) -> None:
    """Hash each file's bytes (a hundred at a time) and compare with its row and with its audit event; a letter
    its issuing event recorded as pending, with no bytes and no hash recorded since, is counted as pending."""
    seen: set[int] = set()
    last_id = 0
    while True:
        content = model.pdf if model is Letter else model.content
        rows = session.execute(select(model.id, model.sha256, model.size_bytes, content.label("content"),
                                      Case.agency_id, Case.reg_no)
                               .outerjoin(Case, Case.id == model.case_id)
                               .where(model.id > last_id).order_by(model.id).limit(BYTES_BATCH)).all()
        if not rows:
            break
        for row in rows:
            seen.add(row.id)
            code = codes.get(row.agency_id, "?")
            subject = f"{label} #{row.id}（案件 {row.reg_no or '已删除'}）"
            data = bytes(row.content or b"")
            if row.id in pending and row.id not in recorded and not row.sha256 and not data and not row.size_bytes:
                report.pending_letters += 1
                continue
            actual = hashlib.sha256(data).hexdigest()
            if actual != row.sha256 or len(data) != row.size_bytes:
                report.problems.append(Problem(code, subject, "文件内容与记录的 SHA-256 或大小不符（内容被替换）"))
            expected = recorded.get(row.id)
            if expected is None:
                report.problems.append(Problem(code, subject, "没有记录其哈希的审计事件（未经操作写入）"))
            elif expected != row.sha256 or expected != actual:
                report.problems.append(Problem(code, subject, "与审计事件记录的 SHA-256 不符（文件被替换）"))
        if model is Letter:
            report.letters += len(rows)
        else:
            report.uploads += len(rows)
        last_id = rows[-1].id
    for missing in sorted(set(recorded) - seen):
        report.problems.append(Problem("?", f"{label} #{missing}", "审计记录中存在，但已从数据库中删除"))


# --- checkpoints -------------------------------------------------------------------------------------------

def _mac(key: bytes, body: dict) -> str:
    canonical = json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hmac.new(key, canonical.encode(), hashlib.sha256).hexdigest()


def make_checkpoint(session: Session, *, key: bytes | None = None, now: datetime | None = None) -> dict:
    """Each agency's chain head and count, with the time, MAC'd with the audit key (to publish outside the DB)."""
    key = key if key is not None else audit_key()
    rows = session.execute(select(Agency.id, Agency.code, Agency.audit_seq, Agency.audit_head_hash)
                           .order_by(Agency.id)).all()
    body = {
        "format": CHECKPOINT_FORMAT,
        "created_at": (now or datetime.now(UTC)).astimezone(UTC).isoformat(timespec="seconds"),
        "key_fingerprint": key_fingerprint(key),
        "count": sum(r.audit_seq for r in rows),
        "agencies": [{"id": r.id, "code": r.code, "seq": r.audit_seq, "head": r.audit_head_hash} for r in rows],
    }
    return {**body, "mac": _mac(key, body)}


def write_checkpoint(session: Session, path: Path, **kwargs) -> dict:
    checkpoint = make_checkpoint(session, **kwargs)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(checkpoint, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    tmp.replace(path)
    return checkpoint


def read_checkpoint(path: Path) -> dict:
    """The checkpoint file as written by `write_checkpoint` (ValueError with a Chinese message if unreadable)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"无法读取检查点文件 {path}：{exc}") from exc
    if not isinstance(data, dict) or data.get("format") != CHECKPOINT_FORMAT or not isinstance(data.get("agencies"),
                                                                                                list):
        raise ValueError(f"{path} 不是审计检查点文件")
    return data


def _checkpoint_marks(checkpoint: dict, key: bytes, agencies, report: VerifyReport) -> dict[int, dict]:
    body = {k: v for k, v in checkpoint.items() if k != "mac"}
    if checkpoint.get("key_fingerprint") != key_fingerprint(key):
        report.problems.append(Problem("-", "检查点", "检查点是用另一把审计密钥写的（GONGKAI_AUDIT_KEY 与写入时不同）"))
        return {}
    if not hmac.compare_digest(str(checkpoint.get("mac", "")), _mac(key, body)):
        report.problems.append(Problem("-", "检查点", "检查点文件的签名不符（文件被改动）"))
        return {}
    by_id = {a.id: a for a in agencies}
    marks = {}
    for entry in checkpoint["agencies"]:
        agency = by_id.get(entry.get("id"))
        if agency is None or agency.code != entry.get("code"):
            report.problems.append(Problem(str(entry.get("code")), "检查点", "检查点中的机关在数据库中不存在（被删除）"))
            continue
        if int(entry.get("seq", 0)) > 0:
            marks[agency.id] = {"seq": int(entry["seq"]), "head": entry.get("head")}
    return marks


# --- the unkeyed chains written before the key existed --------------------------------------------------------

def verify_legacy_chain(session: Session, agency: Agency) -> str | None:
    """Whether an unkeyed (pre-key) chain is intact; the problem in words, or None."""
    prev_hash = GENESIS_HASH
    expected = 1
    for event in stream_events(session, agency.id):
        if event.seq != expected or event.prev_hash != prev_hash:
            return f"事件 #{event.id}（序号 {event.seq}）前后不相连"
        if legacy_event_digest(event.prev_hash, legacy_hashed_fields(event)) != event.hash:
            return f"事件 #{event.id}（序号 {event.seq}）内容哈希不符"
        prev_hash = event.hash
        expected += 1
    if agency.audit_seq != expected - 1 or agency.audit_head_hash != prev_hash:
        return "链头与最后一个事件不符"
    return None


def count_events(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(AuditEvent)) or 0
