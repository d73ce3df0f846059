"""The applicant's side (网上申请、办件进度查询、电子送达): who acts for the public, finding a case by its 登记编号 and
查询码, what of it the applicant may see, and the applicant's own actions — each through the clerk's use cases, so a
request, a supplement or a withdrawal made online is the same case, audit trail and letters as one made at the
counter.

The public acts through one system user per agency, `portal-<机关代码>` (display name 网上申请平台), created on first
use with the clerk's role and no usable password: it can never sign in, and every audit event of an online action
names it.
"""

from __future__ import annotations

import hmac
import re
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, defer

from engine.errors import InvalidInput, NotFound, RuleViolation
from engine.persistence.audit import record_event, utcnow
from engine.persistence.models import Agency, AuditEvent, Case, Delivery, Letter, User
from engine.rules.search import normalise_search_text
from engine.rules.vocabulary import CHANNEL_LABELS, DELIVERY_LABELS, LETTER_LABELS
from engine.services.accounts import SYSTEM_PASSWORD_MARK
from engine.services.closing import withdraw
from engine.services.common import ActionResult, load_case, optional_text, use_case
from engine.services.downloads import letter_for_download
from engine.services.handling import receive_supplement
from engine.services.issuing import LetterRenderer
from engine.services.registration import query_code_digest
from engine.services.reply import record_delivery
from engine.services.uploads import UploadedFile, upload_file

PORTAL_USER_PREFIX = "portal-"
PORTAL_DISPLAY_NAME = "网上申请平台"
# Not an argon2 hash: verification fails for every password, so the system user can never sign in.
UNUSABLE_PASSWORD = SYSTEM_PASSWORD_MARK + "portal-system-user"

# How the applicant asked to get the information: these two are electronic (条例40; the reply is fetched here).
ELECTRONIC_DELIVERIES = ("网络平台", "电子邮件")
ELECTRONIC_METHOD = "ONLINE"  # DELIVERY_LABELS: 网络平台
# Letters addressed to the applicant; the rest go to third parties or other agencies.
APPLICANT_LETTERS = ("receipt", "supplement_notice", "consultation_notice", "fee_notice", "extension_notice",
                     "reason_request", "delay_notice", "reply", "termination_notice")
MAX_SUPPLEMENT_FILES = 5


def portal_actor(session: Session, agency: Agency) -> User:
    """The agency's system user for online actions, created (and audited) the first time it is needed."""
    username = f"{PORTAL_USER_PREFIX}{agency.code}"
    user = session.scalar(select(User).where(User.username == username))
    if user is not None:
        return user
    try:
        with session.begin_nested():  # two first requests at once: one insert wins, the other reads it
            user = User(agency_id=agency.id, username=username, display_name=PORTAL_DISPLAY_NAME,
                        password_hash=UNUSABLE_PASSWORD, roles=["clerk"], created_at=utcnow())
            session.add(user)
            session.flush()
            record_event(session, agency_id=agency.id, action="add_user",
                         changes={"username": username, "roles": ["clerk"], "system": "网上申请平台（不能登录）"})
    except IntegrityError:
        return session.scalar(select(User).where(User.username == username))
    return user


_NUMBERS = re.compile(r"\d+")


def find_case_by_query_code(session: Session, reg_no: str, query_code: str, *,
                            agency_code: str | None = None) -> Case | None:
    """The case whose 登记编号 (typed with any brackets, `engine.rules.search`) and 查询码 match, else None — the
    same answer whether the number or the code is wrong; every candidate's code is compared in constant time."""
    wanted = normalise_search_text(reg_no)
    digest = query_code_digest(query_code or "")
    if not wanted or len(wanted) > 80 or not (query_code or "").strip():
        hmac.compare_digest(digest, digest)
        return None
    conds = [Case.reg_no.in_({reg_no.strip(), wanted})]
    numbers = [int(n) for n in _NUMBERS.findall(wanted) if len(n) <= 9]
    if len(numbers) >= 2:  # 依申请〔2026〕45号 with the agency's own brackets: year and sequence
        conds.append((Case.reg_year == numbers[-2]) & (Case.reg_seq == numbers[-1]))
    stmt = select(Case).where(or_(*conds))
    if agency_code:
        stmt = stmt.join(Agency, Case.agency_id == Agency.id).where(Agency.code == agency_code)
    found = None
    for case in session.scalars(stmt.limit(50)):
        same_number = normalise_search_text(case.reg_no) == wanted
        if hmac.compare_digest(case.query_code_hash or "", digest) and same_number and found is None:
            found = case
    return found


def wants_electronic_delivery(case: Case) -> bool:
    return case.requested_delivery in ELECTRONIC_DELIVERIES


@dataclass(frozen=True)
class PublicEvent:
    """One step of the case as the applicant may see it: no staff names, internal notes or third parties."""

    at: datetime
    title: str
    detail: str = ""


def _event(row: AuditEvent, letters: dict[int, str]) -> tuple[str, str] | None:
    changes = row.changes if isinstance(row.changes, dict) else {}
    action = row.action
    if action == "register_request":
        return "提交申请", f"申请方式：{CHANNEL_LABELS.get(changes.get('channel'), '')}"
    if action == "confirm_receipt":
        return "确认收到申请", f"收到申请之日：{changes.get('received_on', '')}，答复期限自该日起计算"
    if action == "request_supplement":
        items = "；".join(changes.get("items") or [])
        return "要求补正", (f"需补正的事项：{items}。请自收到补正告知书之日起 {changes.get('period_working_days')} "
                        "个工作日内补正，补正期间不计入答复期限")
    if action == "receive_supplement":
        return "收到补正", "答复期限自收到补正之日起重新计算"
    if action == "accept":
        return "受理", "已转承办部门办理"
    if action == "open_consultation":
        return "征求意见", "依法征求有关方面意见（条例第三十二条、第三十四条），征求意见所需时间不计入答复期限"
    if action == "record_consultation_answer" and row.stage_before == "consulting" and row.stage_after != "consulting":
        return "征求意见结束", "恢复计算答复期限"
    if action == "issue_fee_notice":
        return "发出收费通知", "请按收费通知书缴纳信息处理费；缴费期间不计入答复期限"
    if action == "record_payment":
        return "已缴费", ""
    if action == "extend":
        return "延长答复期限", f"延长 {changes.get('working_days')} 个工作日。理由：{row.reason}"
    if action == "request_reasons":
        return "要求说明理由", "请按说明理由告知书说明申请理由（条例第三十五条）"
    if action == "set_delayed_reply":
        return "确定延迟答复期限", "见延迟答复告知书（条例第三十五条）"
    if action == "sign":
        return "作出答复", "答复书已签发"
    if action == "record_delivery" and not changes.get("returned"):
        label = LETTER_LABELS.get(letters.get(changes.get("letter_id"), ""), "文书")
        return f"{label}已送达", f"送达方式：{DELIVERY_LABELS.get(changes.get('method'), '')}，送达日期：{changes.get('delivered_on')}"
    if action == "supersede_letter":
        return "更正文书", row.reason
    if action == "withdraw":
        return "撤回申请", "已终止办理"
    if action == "close_lapsed_supplement":
        return "终止办理", "逾期未补正，视为放弃申请（条例第三十条）"
    if action == "close_lapsed_fee":
        return "终止办理", "逾期未缴纳信息处理费，视为放弃申请"
    return None


def public_timeline(session: Session, case: Case) -> list[PublicEvent]:
    """The case's public steps from its audit events (received, supplement with its items, consultation pause,
    extension with its reason, reply, delivery), oldest first."""
    letters = dict(session.execute(select(Letter.id, Letter.letter_type).where(Letter.case_id == case.id)).all())
    events = []
    for row in session.scalars(select(AuditEvent).where(AuditEvent.case_id == case.id).order_by(AuditEvent.seq)):
        shown = _event(row, letters)
        if shown:
            events.append(PublicEvent(row.occurred_at, *shown))
    return events


def _delivered_letter_ids(session: Session, case: Case) -> set[int]:
    return set(session.scalars(select(Delivery.letter_id).where(Delivery.case_id == case.id,
                                                                Delivery.returned.is_(False),
                                                                Delivery.letter_id.is_not(None))))


def reply_available(case: Case, delivered: set[int], letter: Letter) -> bool:
    """The signed reply is the applicant's to download when delivery is electronic, or once it was delivered."""
    return wants_electronic_delivery(case) or letter.id in delivered


def applicant_letters(session: Session, case: Case) -> list[Letter]:
    """The letters addressed to the applicant, oldest first (PDF bytes not loaded)."""
    delivered = _delivered_letter_ids(session, case)
    rows = session.scalars(select(Letter).options(defer(Letter.pdf)).where(
        Letter.case_id == case.id, Letter.letter_type.in_(APPLICANT_LETTERS)).order_by(Letter.id))
    return [letter for letter in rows if letter.letter_type != "reply" or reply_available(case, delivered, letter)]


def needs_electronic_delivery(session: Session, case: Case, letter: Letter) -> bool:
    """Whether downloading `letter` now is its 电子送达: a reply, delivery chosen electronic, none recorded yet."""
    return (letter.letter_type == "reply" and wants_electronic_delivery(case) and case.stage != "archived"
            and letter.id not in _delivered_letter_ids(session, case))


@use_case
def download_letter(session: Session, case_id: int, letter_id: int, *, actor: User, today: date,
                    now: datetime) -> tuple[Letter, Delivery | None]:
    """A letter to the applicant, its bytes checked against the recorded hash; the first download of a reply the
    applicant asked to receive electronically is its 送达 (method 网络平台, today, the time in the note), recorded
    through `record_delivery` — which fixes the reply date and starts the remedy periods."""
    case = load_case(session, case_id, actor)
    letter = letter_for_download(session, letter_id, actor, case_id=case.id)
    if letter.letter_type not in APPLICANT_LETTERS:
        raise NotFound("没有找到该文书")
    delivered = _delivered_letter_ids(session, case)
    if letter.letter_type == "reply" and not reply_available(case, delivered, letter):
        raise NotFound("没有找到该文书")
    if not needs_electronic_delivery(session, case, letter):
        return letter, None
    note = f"电子送达：申请人于{now:%Y-%m-%d %H:%M}（北京时间）在网上申请平台首次下载答复书"
    result = record_delivery(session, case.id, method=ELECTRONIC_METHOD, delivered_on=today, letter_id=letter.id,
                             note=note, actor=actor, today=today, version=case.version)
    return letter, result.record


@use_case
def submit_supplement(session: Session, case_id: int, *, statement: str, files: list[UploadedFile], actor: User,
                      today: date, version: int | None = None) -> ActionResult:
    """补正 submitted online (条例30): the clerk's 收到补正 with the applicant's text, and every file as 补正材料."""
    files = [f for f in files if f is not None and f.filename]
    statement = optional_text(statement, "补正内容", field="statement")
    if not statement and not files:
        raise InvalidInput("请填写补正内容或上传补正材料", details={"field": "statement"})
    if len(files) > MAX_SUPPLEMENT_FILES:
        raise InvalidInput(f"一次最多上传 {MAX_SUPPLEMENT_FILES} 个文件", details={"field": "files"})
    case = load_case(session, case_id, actor, version=version)
    if case.stage != "awaiting_supplement":
        raise RuleViolation("本申请当前不需要补正")
    result = receive_supplement(session, case.id, received_on=today, file=files[0] if files else None,
                                statement=statement, actor=actor, today=today, version=version)
    for extra in files[1:]:
        upload_file(session, case.id, file=extra, kind="supplement", actor=actor, today=today)
    return result


@use_case
def withdraw_online(session: Session, case_id: int, *, explanation: str, renderer: LetterRenderer, actor: User,
                    today: date, now: datetime, version: int | None = None) -> ActionResult:
    """申请人撤回 online: the clerk's `withdraw`, with the 终止办理告知书 to the applicant."""
    explanation = optional_text(explanation, "撤回说明", field="explanation")
    reason = f"申请人于{now:%Y-%m-%d %H:%M}（北京时间）通过网上申请平台撤回申请"
    if explanation:
        reason += f"，说明：{explanation}"
    return withdraw(session, case_id, reason=reason, issue_notice=True, renderer=renderer, actor=actor, today=today,
                    version=version)
