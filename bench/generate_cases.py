"""Generate a realistic case load with bulk inserts (default 10,000 cases) for the web benchmark.

Cases are spread over every stage, with items, applicants, handlers and a valid hash-chained audit trail
(so `gongkai audit verify` still passes). Run: `.venv/bin/python bench/generate_cases.py [--count N] [--url URL]`
(URL defaults to GONGKAI_DATABASE_URL / the configured database; the schema must be migrated).
"""

from __future__ import annotations

import argparse
import random
import time
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from engine.persistence.audit import event_digest
from engine.persistence.audit_state import case_state_digests
from engine.persistence.models import Agency, Applicant, AuditEvent, Case, CaseItem, NumberSequence, User
from engine.rules.calendar import default_calendar
from engine.rules.outcomes import APPLICANT_TYPES, REPLY_CODES
from engine.rules.search import case_search_text
from engine.services.accounts import add_agency, add_department, add_user, hash_password

PASSWORD = "bench-password-1"
STAGE_WEIGHTS = {
    "received": 2, "registered": 8, "awaiting_supplement": 3, "in_handling": 15, "consulting": 3,
    "awaiting_fee": 1, "drafting": 8, "in_review": 4, "signed": 2, "replied": 30, "closed": 5, "archived": 19,
}
OPEN = ("registered", "in_handling", "consulting", "awaiting_fee", "drafting", "in_review", "signed")
SUBJECTS = ("老旧小区改造项目批复", "道路拓宽工程环评报告", "保障性住房分配名单", "房屋征收补偿方案", "学区划分调整方案",
            "行政处罚决定书", "财政预算执行情况", "建设工程规划许可证", "河道整治工程招标文件", "食品安全抽检结果",
            "城市总体规划修编说明", "专项资金使用明细", "土地出让合同", "公交线路调整论证材料")
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚"
BATCH = 2000


def _name(rng: random.Random, kind: str) -> str:
    if kind == "NATURAL":
        return rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN)
    suffix = {"BUSINESS": "有限公司", "RESEARCH": "研究院", "NGO": "公益基金会", "LEGAL_SERVICE": "律师事务所",
              "OTHER_ORG": "业主委员会"}[kind]
    return f"{rng.choice(('华信', '中诚', '东方', '新城', '宏达', '安和'))}{rng.choice(('建设', '科技', '法务', '环境'))}{suffix}"


def ensure_agency(session: Session, code: str) -> tuple[Agency, list[User], list[int]]:
    """The benchmark agency with one user per role (password PASSWORD) and a few departments."""
    agency = session.scalar(select(Agency).where(Agency.code == code))
    if agency is None:
        agency = add_agency(session, code, "基准测试市人民政府办公室", letter_no_prefix="基政办公开",
                            review_body="基准测试市人民政府", court="基准测试市中级人民法院", contact="0571-0000000",
                            topics=["城乡规划", "房屋征收", "保障性住房", "其他"])
        departments = [add_department(session, agency, name) for name in ("规划科", "建设科", "住房保障科", "综合科")]
        for role in ("clerk", "handler", "legal_reviewer", "office_head", "archivist", "admin"):
            add_user(session, agency, f"{code.lower()}_{role}", PASSWORD, [role], display_name=f"{role}用户",
                     department=departments[0])
        for n in range(2, 9):
            add_user(session, agency, f"{code.lower()}_handler{n}", PASSWORD, ["handler"], display_name=f"承办人{n}",
                     department=departments[n % 4])
        session.commit()
    users = list(session.scalars(select(User).where(User.agency_id == agency.id)))
    from engine.persistence.models import Department

    department_ids = list(session.scalars(select(Department.id).where(Department.agency_id == agency.id)))
    return agency, users, department_ids


def generate(session: Session, *, code: str = "BENCH", count: int = 10_000, today: date | None = None,
             seed: int = 7) -> Agency:
    """Insert `count` cases for agency `code` (created if missing) in batches; returns the agency."""
    rng = random.Random(seed)
    today = today or date.today()
    cal = default_calendar()
    agency, users, department_ids = ensure_agency(session, code)
    handlers = [u for u in users if u.has_role("handler")]
    clerk = next(u for u in users if u.has_role("clerk"))
    stages = list(STAGE_WEIGHTS)
    weights = list(STAGE_WEIGHTS.values())
    kinds = list(APPLICANT_TYPES)
    first_case_id = (session.scalar(select(Case.id).order_by(Case.id.desc()).limit(1)) or 0) + 1
    first_applicant_id = (session.scalar(select(Applicant.id).order_by(Applicant.id.desc()).limit(1)) or 0) + 1
    seqs: dict[int, int] = {}
    for year, last in session.execute(select(NumberSequence.year, NumberSequence.last_value).where(
            NumberSequence.agency_id == agency.id, NumberSequence.kind == "REG")):
        seqs[year] = last
    now = datetime.now(UTC)
    chain = {"seq": agency.audit_seq, "head": agency.audit_head_hash}
    applicants, cases, items, steps = [], [], [], []

    def flush() -> None:
        for table, rows in ((Applicant, applicants), (Case, cases), (CaseItem, items)):
            if rows:
                session.execute(insert(table), rows)
                rows.clear()
        # Each case's last event carries the digest of the state it produced (what `audit verify` compares).
        digests = case_state_digests(session, sorted({case_id for case_id, *_ in steps}))
        events = []
        for case_id, action, before, after, last in steps:
            chain["seq"] += 1
            fields = {"agency_id": agency.id, "seq": chain["seq"], "case_id": case_id, "actor_id": clerk.id,
                      "actor_name": clerk.display_name, "occurred_at": now.replace(tzinfo=None).isoformat(
                          timespec="microseconds"), "action": action, "stage_before": before, "stage_after": after,
                      "changes": {}, "reason": "", "state_digest": digests[case_id] if last else None}
            digest = event_digest(chain["head"], fields)
            events.append({**fields, "occurred_at": now, "prev_hash": chain["head"], "hash": digest})
            chain["head"] = digest
        if events:
            session.execute(insert(AuditEvent), events)
        steps.clear()

    for n in range(count):
        case_id, applicant_id = first_case_id + n, first_applicant_id + n
        stage = rng.choices(stages, weights)[0]
        kind = rng.choices(kinds, (70, 12, 3, 3, 8, 4))[0]
        name = _name(rng, kind)
        if stage in OPEN or stage in ("received", "awaiting_supplement"):
            received = today - timedelta(days=rng.randint(0, 45))
        else:
            received = today - timedelta(days=rng.randint(30, 700))
        year = received.year
        seqs[year] = seqs.get(year, 0) + 1
        subjects = rng.sample(SUBJECTS, rng.choice((1, 1, 1, 2, 3)))
        texts = [f"{received.year - 1}年度{s}" for s in subjects]
        due = cal.add_working_days(received, 20)
        finished = outcome = None
        if stage in ("replied", "archived"):
            outcome = rng.choice(REPLY_CODES)
            finished = min(today, cal.add_working_days(received, rng.randint(5, 25)))
        elif stage == "closed":
            outcome = rng.choice(("LAPSED_SUPPLEMENT", "OTHER", "LAPSED_FEE"))
            finished = min(today, received + timedelta(days=rng.randint(5, 40)))
        handler = rng.choice(handlers) if stage not in ("received", "registered", "awaiting_supplement") else None
        applicants.append({"id": applicant_id, "agency_id": agency.id, "kind": kind, "name": name, "id_type": "",
                           "id_number": "", "id_number_normalized": "", "phone": f"138{rng.randint(0, 99999999):08d}",
                           "email": "", "address": "基准测试市人民路1号", "postal_code": "", "contact_person": ""})
        cases.append({
            "id": case_id, "agency_id": agency.id, "reg_no": f"依申请〔{year}〕{seqs[year]}号", "reg_year": year,
            "reg_seq": seqs[year], "applicant_id": applicant_id, "stage": stage,
            "channel": rng.choice(("in_person", "mail", "online", "online", "plain_letter")),
            "submitted_on": received, "received_on": None if stage == "received" else received,
            "clock_start_on": None if stage == "received" else received,
            "due_on": None if stage == "received" else due, "due_provisional": cal.is_provisional(due),
            "clock_paused": stage == "consulting", "extension_working_days": 0, "extension_reason": "",
            "supplement_items": [], "department_id": rng.choice(department_ids) if handler else None,
            "handler_id": handler.id if handler else None, "requested_form": "纸质", "requested_delivery": "邮寄",
            "purpose": "", "query_code_hash": "", "report_outcome": outcome, "finished_on": finished,
            "closed_reason": "", "imported": False, "search_text": case_search_text(
                applicant_name=name, reg_no=f"依申请〔{year}〕{seqs[year]}号", items=texts),
            "archive_no": f"{agency.code}-{year}-XXGK-D10-{n + 1}" if stage == "archived" else None,
            "retention": "Y10" if stage == "archived" else None, "retention_reason": "",
            "archived_on": finished if stage == "archived" else None, "version": 1, "created_at": now,
            "updated_at": now})
        for seq, text in enumerate(texts, start=1):
            items.append({"case_id": case_id, "seq": seq, "description": text, "topic": "其他",
                          "outcome": outcome, "reason": "", "how_to_obtain": "", "referral_agency": "",
                          "referral_contact": "", "earlier_reply_number": "", "is_primary": seq == 1})
        for action, before, after in (("register_request", None, "received"), ("confirm_receipt", "received", "registered"),
                                      ("accept", "registered", stage)):
            steps.append((case_id, action, before, after, action == "accept"))
        if len(cases) >= BATCH:
            flush()
    flush()
    for year, last in seqs.items():
        exists = session.scalar(select(NumberSequence).where(NumberSequence.agency_id == agency.id,
                                                             NumberSequence.kind == "REG", NumberSequence.year == year))
        if exists:
            exists.last_value = last
        else:
            session.add(NumberSequence(agency_id=agency.id, kind="REG", year=year, last_value=last))
    session.execute(update(Agency).where(Agency.id == agency.id).values(audit_seq=chain["seq"],
                                                                       audit_head_hash=chain["head"]))
    session.commit()
    return agency


def after_bulk_insert(session: Session) -> None:
    """Explicit ids leave PostgreSQL's serial sequences behind; move them on, and refresh the planner's statistics."""
    from sqlalchemy import text

    if session.get_bind().dialect.name != "postgresql":
        session.execute(text("ANALYZE"))
        session.commit()
        return
    for table in ("applicants", "cases", "case_items", "audit_events"):
        session.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                             f"(SELECT COALESCE(MAX(id), 1) FROM {table}))"))
    session.commit()
    with session.get_bind().connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("ANALYZE"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--url", default=None)
    parser.add_argument("--agency", default="BENCH")
    args = parser.parse_args()
    from engine.config import load_settings
    from engine.persistence.db import make_engine, session_factory, upgrade

    url = args.url or load_settings().database_url
    upgrade(url)
    engine = make_engine(url)
    started = time.perf_counter()
    with session_factory(engine)() as session:
        generate(session, code=args.agency, count=args.count)
        after_bulk_insert(session)
    print(f"{args.count} cases for {args.agency} in {time.perf_counter() - started:.1f} s ({url.split('://')[0]})")


__all__ = ["generate", "PASSWORD", "hash_password"]

if __name__ == "__main__":
    main()
