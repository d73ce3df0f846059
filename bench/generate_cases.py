"""Generate a realistic case load for the benchmarks: on PostgreSQL with COPY (1,000,000 cases in minutes), on
SQLite with batched inserts.

What it makes, per agency (`--agencies`, default 4, the first is `BENCH` with one user per role, password
PASSWORD): ten years of history ending `today`, most cases finished (replied, archived, closed) and a steady few
thousand open (only requests of the last weeks are still open, as in a real office); applicants who come back
(about a third of the requests come from a pool of frequent requesters with the same ID number, name and phone —
each case still has its own applicant snapshot row); 1–3 items; the 登记回执 of every case and the numbered reply
of every replied or archived case (all letters share one small PDF, so their bytes and SHA-256 agree); and a keyed
audit chain per agency that `gongkai audit verify` accepts: every case's events in order (registration,
confirmation, the receipt, the outcome, the reply), each letter's hash recorded by its event, and the last event
of each case carrying the digest of the state the case is left in. The search text is built by
`engine.rules.search.case_search_text`, as the engine builds it.

Not realistic, on purpose: a case's events are consecutive in its agency's chain (the engine interleaves them in
time), and there are no consultations, fees, deliveries or uploads.

Run: `.venv/bin/python bench/generate_cases.py --count 1000000 --url postgresql+psycopg://…/gk_x
[--template gk_x_template]` — with `--template`, the cases are generated once into the template database and
`--url`'s database is created from it (`CREATE DATABASE … TEMPLATE …`), which takes seconds instead of minutes.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import multiprocessing
import random
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime

from sqlalchemy import insert, select, text, update
from sqlalchemy.orm import Session

from engine.persistence.audit import audit_key, event_digest
from engine.persistence.audit_state import APPLICANT_FIELDS, CASE_FIELDS, CASE_RECORDS
from engine.persistence.models import (
    Agency,
    Applicant,
    AuditEvent,
    Case,
    CaseItem,
    Letter,
    NumberSequence,
    User,
)
from engine.rules.calendar import default_calendar
from engine.rules.outcomes import REPLY_CODES
from engine.rules.search import case_search_text
from engine.services.accounts import add_agency, add_department, add_user, hash_password

PASSWORD = "bench-password-1"
YEARS = 10
OPEN_WINDOW_DAYS = 45          # requests older than this are all finished
RECENT_PER_AGENCY = 2500       # requests of the last OPEN_WINDOW_DAYS per agency (about half still open)
OPEN_STAGE_WEIGHTS = {"received": 2, "registered": 8, "awaiting_supplement": 3, "in_handling": 15, "consulting": 3,
                      "awaiting_fee": 1, "drafting": 8, "in_review": 4, "signed": 2, "replied": 40, "closed": 4}
SUBJECTS = ("老旧小区改造项目批复", "道路拓宽工程环评报告", "保障性住房分配名单", "房屋征收补偿方案", "学区划分调整方案",
            "行政处罚决定书", "财政预算执行情况", "建设工程规划许可证", "河道整治工程招标文件", "食品安全抽检结果",
            "城市总体规划修编说明", "专项资金使用明细", "土地出让合同", "公交线路调整论证材料", "征地补偿安置方案",
            "环境影响评价批复", "政府采购合同", "拆迁许可证", "排污许可证核发情况", "小区容积率调整批复")
PLACES = ("东城区", "西城区", "滨江区", "高新区", "经开区", "南湖街道", "北山乡", "人民路", "解放路", "建设路")
RARE_WORD = "罕见词汇甲乙丙"   # in exactly one case per agency: the "rare term" search of the benchmark
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国志红玉兰春梅海燕文"
ORG_KINDS = {"BUSINESS": "有限公司", "RESEARCH": "研究院", "NGO": "公益基金会", "LEGAL_SERVICE": "律师事务所",
             "OTHER_ORG": "业主委员会"}
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
BATCH = 5000
# One small, valid PDF shared by every generated letter (its SHA-256 is what the audit events record).
PDF = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
       b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n")
PDF_SHA = hashlib.sha256(PDF).hexdigest()
# Ids are laid out from the case id so that agencies can be generated in parallel without talking to each other.
ITEM_SLOTS, LETTER_SLOTS, EVENT_SLOTS = 4, 2, 2

CASE_COLUMNS = ("id", "agency_id", "reg_no", "reg_year", "reg_seq", "applicant_id", "stage", "channel",
                "submitted_on", "received_on", "clock_start_on", "due_on", "due_provisional", "clock_paused",
                "extension_working_days", "extension_reason", "supplement_items", "department_id", "handler_id",
                "requested_form", "requested_delivery", "purpose", "query_code_hash", "report_outcome",
                "finished_on", "closed_reason", "imported", "search_text", "archive_no", "retention",
                "retention_reason", "archived_on", "version", "created_at", "updated_at",
                "reason_answer_summary", "delay_reason")
APPLICANT_COLUMNS = ("id", "agency_id", *APPLICANT_FIELDS, "id_number_normalized")
ITEM_COLUMNS = ("id", "case_id", "seq", "description", "topic", "outcome", "reason", "how_to_obtain",
                "referral_agency", "referral_contact", "referral_unknown_reason", "earlier_reply_number",
                "is_primary", "decided_by_id")
LETTER_COLUMNS = ("id", "case_id", "letter_type", "doc_number", "issued_on", "pdf", "sha256", "size_bytes",
                  "template_version", "data_snapshot", "signed_by_id", "supersede_reason", "wording_version",
                  "created_at")
EVENT_COLUMNS = ("id", "agency_id", "seq", "case_id", "actor_id", "actor_name", "occurred_at", "action",
                 "stage_before", "stage_after", "changes", "reason", "state_digest", "prev_hash", "hash")
TABLES = (("applicants", Applicant, APPLICANT_COLUMNS, ()), ("cases", Case, CASE_COLUMNS, ("supplement_items",)),
          ("case_items", CaseItem, ITEM_COLUMNS, ()), ("letters", Letter, LETTER_COLUMNS, ("data_snapshot",)),
          ("audit_events", AuditEvent, EVENT_COLUMNS, ("changes",)))
_ITEM_DIGEST = next(names for key, _m, names in CASE_RECORDS if key == "items")
_LETTER_DIGEST = next(names for key, _m, names in CASE_RECORDS if key == "letters")


@dataclass(frozen=True)
class AgencyPlan:
    """What one worker generates: an agency's cases with ids from `first_case_id`, numbered from its counters."""

    agency_id: int
    code: str
    letter_prefix: str
    count: int
    first_case_id: int
    clerk: tuple[int, str]
    handlers: tuple[tuple[int, str], ...]
    legal: tuple[int, str]
    department_ids: tuple[int, ...]
    today: date
    seed: int
    audit_seq: int
    audit_head: str
    counters: dict
    bases: tuple[int, int, int, int]   # first case id of the run, first free item, letter and event ids

    def ids(self, case_id: int) -> tuple[int, int, int]:
        """The first item, letter and event id of a case (each case has fixed slots: gaps are harmless)."""
        n = case_id - self.bases[0]
        return (self.bases[1] + n * ITEM_SLOTS, self.bases[2] + n * LETTER_SLOTS, self.bases[3] + n * EVENT_SLOTS)


def _name(rng: random.Random, kind: str) -> str:
    if kind == "NATURAL":
        return rng.choice(SURNAMES) + rng.choice(GIVEN) + (rng.choice(GIVEN) if rng.random() < 0.7 else "")
    return (f"{rng.choice(('华信', '中诚', '东方', '新城', '宏达', '安和', '锦程', '恒泰'))}"
            f"{rng.choice(('建设', '科技', '法务', '环境', '置业', '咨询'))}{ORG_KINDS[kind]}")


def _id_number(rng: random.Random, kind: str) -> tuple[str, str]:
    if kind != "NATURAL":
        code = "91" + "".join(rng.choice("0123456789") for _ in range(6)) + "".join(
            rng.choice("0123456789ABCDEFGHJKLMNPQRTUWXY") for _ in range(10))
        return "统一社会信用代码", code
    born = date(1950, 1, 1) + timedelta(days=rng.randint(0, 365 * 55))
    body = f"{rng.randint(110000, 659000)}{born:%Y%m%d}{rng.randint(0, 999):03d}"
    return "居民身份证", body + "10X98765432"[sum(int(d) * w for d, w in zip(body, ID_WEIGHTS, strict=True)) % 11]


def _applicant(rng: random.Random) -> dict:
    kind = rng.choices(("NATURAL", "BUSINESS", "RESEARCH", "NGO", "LEGAL_SERVICE", "OTHER_ORG"),
                       (78, 10, 2, 2, 5, 3))[0]
    id_type, number = _id_number(rng, kind) if rng.random() < 0.8 else ("", "")
    return {"kind": kind, "name": _name(rng, kind), "id_type": id_type, "id_number": number,
            "phone": f"1{rng.choice('3578')}{rng.randint(0, 999999999):09d}", "email": "",
            "address": f"基准测试市{rng.choice(PLACES)}{rng.randint(1, 300)}号", "postal_code": "310000",
            "contact_person": "", "id_number_normalized": number}


def _plain(value):
    return value.isoformat() if value.__class__ is date or value.__class__ is datetime else value


def _state_digest(case: dict, applicant: dict, items: list[dict], letters: list[dict]) -> str:
    """`audit_state.case_state_digests` of a case with only items and letters, computed from the rows in memory."""
    entry = {key: [] for key, _m, _n in CASE_RECORDS}
    entry["case"] = [_plain(case.get(name)) for name in CASE_FIELDS]
    entry["applicant"] = [_plain(applicant[name]) for name in APPLICANT_FIELDS]
    entry["items"] = [[_plain(i.get(n)) for n in _ITEM_DIGEST] for i in items]
    entry["letters"] = [[_plain(x.get(n)) for n in _LETTER_DIGEST] for x in letters]
    entry["confidentiality_reviews"] = []
    canonical = json.dumps(entry, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


class _Chain:
    """One agency's keyed audit chain, extended in memory."""

    def __init__(self, plan: AgencyPlan, key: bytes) -> None:
        self.plan, self.key = plan, key
        self.seq, self.head = plan.audit_seq, plan.audit_head

    def event(self, event_id: int, case_id: int, actor: tuple[int, str], at: datetime, action: str,
              before: str | None, after: str | None, changes: dict, digest: str | None = None) -> dict:
        self.seq += 1
        fields = {"agency_id": self.plan.agency_id, "seq": self.seq, "case_id": case_id, "actor_id": actor[0],
                  "actor_name": actor[1], "occurred_at": at.replace(tzinfo=None).isoformat(timespec="microseconds"),
                  "action": action, "stage_before": before, "stage_after": after, "changes": changes,
                  "reason": "", "state_digest": digest}
        digest_hash = event_digest(self.head, fields, self.key)
        row = {**fields, "id": event_id, "occurred_at": at, "prev_hash": self.head, "hash": digest_hash}
        self.head = digest_hash
        return row


def _received_dates(rng: random.Random, count: int, today: date) -> list[date]:
    """`count` receipt dates, oldest first: up to RECENT_PER_AGENCY in the last OPEN_WINDOW_DAYS (the requests that
    can still be open, a number that does not grow with the history), the rest over ten years before them, busier
    in later years."""
    recent = count if count <= 200 else min(count // 2, RECENT_PER_AGENCY)
    window_start = today - timedelta(days=OPEN_WINDOW_DAYS)
    start = today - timedelta(days=365 * YEARS)
    span = (window_start - start).days
    days = [start + timedelta(days=int(span * (rng.random() ** 0.8))) for _ in range(count - recent)]
    days += [window_start + timedelta(days=rng.randint(1, OPEN_WINDOW_DAYS)) for _ in range(recent)]
    return sorted(days)


def agency_rows(plan: AgencyPlan, key: bytes):
    """Yield batches {table: [row dicts]} of one agency's cases (ids and numbers are fixed by the plan)."""
    rng = random.Random(plan.seed)
    cal = default_calendar()
    chain = _Chain(plan, key)
    counters = dict(plan.counters)
    regulars = [_applicant(rng) for _ in range(max(10, plan.count // 60))]
    open_stages, open_weights = list(OPEN_STAGE_WEIGHTS), list(OPEN_STAGE_WEIGHTS.values())
    batch = {name: [] for name, *_ in TABLES}
    dates = _received_dates(rng, plan.count, plan.today)
    rare_at = rng.randrange(plan.count) if plan.count else -1

    def take(kind: str, year: int) -> int:
        counters[(kind, year)] = counters.get((kind, year), 0) + 1
        return counters[(kind, year)]

    for n, received in enumerate(dates):
        case_id = plan.first_case_id + n
        age = (plan.today - received).days
        if age > OPEN_WINDOW_DAYS:
            stage = rng.choices(("replied", "archived", "closed"), (20, 72, 8) if age > 400 else (80, 10, 10))[0]
        else:
            stage = rng.choices(open_stages, open_weights)[0]
        person = dict(rng.choice(regulars)) if rng.random() < 0.33 else _applicant(rng)
        person["id"], person["agency_id"] = case_id, plan.agency_id
        year = received.year
        reg_seq = take("REG", year)
        reg_no = f"依申请〔{year}〕{reg_seq}号"
        subjects = rng.sample(SUBJECTS, rng.choice((1, 1, 1, 2, 3)))
        texts = [f"{rng.choice(PLACES)}{max(2008, year - rng.randint(0, 3))}年度{s}" for s in subjects]
        if n == rare_at:
            texts[0] += RARE_WORD
        handler = rng.choice(plan.handlers) if stage not in ("received", "registered",
                                                             "awaiting_supplement") else None
        due = cal.add_working_days(received, 20)
        finished = outcome = archive_no = None
        if stage in ("replied", "archived"):
            outcome = rng.choice(REPLY_CODES)
            finished = min(plan.today, cal.add_working_days(received, rng.randint(3, 20)))
        elif stage == "closed":
            outcome = rng.choice(("LAPSED_SUPPLEMENT", "OTHER", "LAPSED_FEE"))
            finished = min(plan.today, received + timedelta(days=rng.randint(5, 40)))
        if stage == "archived":
            archive_no = f"{plan.code}-{year}-XXGK-Y10-{take('ARCHIVE', year)}"
        item_base, letter_base, event_id = plan.ids(case_id)
        items = [{"id": item_base + seq, "case_id": case_id, "seq": seq, "description": desc,
                  "topic": "其他", "outcome": outcome, "reason": "", "how_to_obtain": "", "referral_agency": "",
                  "referral_contact": "", "referral_unknown_reason": "", "earlier_reply_number": "",
                  "is_primary": seq == 1, "decided_by_id": handler[0] if outcome and handler else None}
                 for seq, desc in enumerate(texts, start=1)]
        at = datetime.combine(received, dtime(1, 30), UTC) + timedelta(seconds=rng.randint(0, 28000))
        letters = [{"id": letter_base, "case_id": case_id, "letter_type": "receipt", "doc_number": "",
                    "issued_on": received, "pdf": PDF, "sha256": PDF_SHA, "size_bytes": len(PDF),
                    "template_version": "bench", "data_snapshot": {"reg_no": reg_no}, "signed_by_id": None,
                    "supersedes_id": None, "supersede_reason": "", "wording_version": 0, "created_at": at}]
        if stage in ("replied", "archived"):
            doc_year = finished.year
            doc_number = f"{plan.letter_prefix}〔{doc_year}〕{take('LETTER', doc_year)}号"
            letters.append({**letters[0], "id": letter_base + 1, "letter_type": "reply",
                            "doc_number": doc_number, "issued_on": finished, "signed_by_id": plan.legal[0],
                            "data_snapshot": {"reg_no": reg_no, "doc_number": doc_number},
                            "created_at": datetime.combine(finished, dtime(3), UTC)})
        case = {
            "id": case_id, "agency_id": plan.agency_id, "reg_no": reg_no, "reg_year": year, "reg_seq": reg_seq,
            "applicant_id": case_id, "stage": stage,
            "channel": rng.choice(("in_person", "mail", "online", "online", "online", "plain_letter")),
            "submitted_on": received, "received_on": None if stage == "received" else received,
            "clock_start_on": None if stage == "received" else received,
            "due_on": None if stage == "received" else due, "due_provisional": cal.is_provisional(due),
            "clock_paused": stage == "consulting", "extension_working_days": 0, "extension_reason": "",
            "supplement_items": [], "department_id": rng.choice(plan.department_ids) if handler else None,
            "handler_id": handler[0] if handler else None, "requested_form": "纸质", "requested_delivery": "邮寄",
            "purpose": "", "query_code_hash": hashlib.sha256(f"{plan.seed}-{case_id}".encode()).hexdigest(),
            "report_outcome": outcome, "finished_on": finished, "closed_reason": "", "imported": False,
            "search_text": case_search_text(applicant_name=person["name"], id_number=person["id_number"],
                                            phone=person["phone"], reg_no=reg_no, items=texts,
                                            letter_numbers=[x["doc_number"] for x in letters if x["doc_number"]]),
            "archive_no": archive_no, "retention": "Y10" if archive_no else None, "retention_reason": "",
            "archived_on": finished if archive_no else None, "version": 4, "created_at": at,
            "updated_at": at, "reason_answer_summary": "", "delay_reason": ""}
        if stage == "received":
            letters = []
            case["search_text"] = case_search_text(applicant_name=person["name"], id_number=person["id_number"],
                                                   phone=person["phone"], reg_no=reg_no, items=texts)
        digest = _state_digest(case, person, items, letters)
        # The registration (with its confirmation and receipt, whose hash it records) and the outcome (with the
        # reply's hash): two events per case keep the chain valid at a third of the engine's cost.
        receipt = {"letter_hashes": {str(letters[0]["id"]): PDF_SHA}} if letters else {}
        events = [chain.event(event_id, case_id, plan.clerk, at, "register_request", None,
                              "received" if stage == "received" else "registered",
                              {"reg_no": reg_no, "applicant": person["name"], "channel": case["channel"], **receipt},
                              digest if stage in ("received", "registered") else None)]
        if stage not in ("received", "registered"):
            when = datetime.combine(finished or received, dtime(6), UTC)
            actor = plan.legal if len(letters) > 1 else (handler or plan.clerk)
            reply = {"letter_hashes": {str(letters[1]["id"]): PDF_SHA},
                     "doc_number": letters[1]["doc_number"]} if len(letters) > 1 else {}
            events.append(chain.event(event_id + 1, case_id, actor, when, f"bench_{stage}", "registered", stage,
                                      {"outcome": outcome, **reply} if outcome else reply, digest))
        batch["applicants"].append(person)
        batch["cases"].append(case)
        batch["case_items"].extend(items)
        batch["letters"].extend(letters)
        batch["audit_events"].extend(events)
        if len(batch["cases"]) >= BATCH:
            yield batch
            batch = {name: [] for name, *_ in TABLES}
    if batch["cases"]:
        yield batch
    yield {"__end__": {"audit_seq": chain.seq, "audit_head": chain.head, "counters": counters}}


def _pg_conninfo(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def _copy_agency(args: tuple[str, AgencyPlan, bytes]) -> dict:
    """Worker: generate one agency and COPY it in (foreign-key triggers off for this session only)."""
    import psycopg

    url, plan, key = args
    end = {}
    with psycopg.connect(_pg_conninfo(url)) as conn:
        conn.execute("SET session_replication_role = replica")
        for batch in agency_rows(plan, key):
            if "__end__" in batch:
                end = batch["__end__"]
                break
            with conn.cursor() as cur:
                for table, _model, columns, json_columns in TABLES:
                    with cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                        for row in batch[table]:
                            copy.write_row([json.dumps(row[c], ensure_ascii=False) if c in json_columns
                                            else row.get(c) for c in columns])
            conn.commit()
    return end


def ensure_agency(session: Session, code: str, index: int = 0) -> tuple[Agency, list[User], list[int]]:
    """The agency `code` with one user per role (password PASSWORD), eight handlers and four departments."""
    from engine.persistence.models import Department

    agency = session.scalar(select(Agency).where(Agency.code == code))
    if agency is None:
        city = ("基准测试市", "东湖区", "西山县", "南港区", "北原市", "临江县", "青石区", "白云县")[index % 8]
        agency = add_agency(session, code, f"{city}人民政府办公室", letter_no_prefix=f"{city[:2]}政办公开",
                            review_body=f"{city}人民政府", court=f"{city}中级人民法院", contact="0571-0000000",
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
    department_ids = list(session.scalars(select(Department.id).where(Department.agency_id == agency.id)))
    return agency, users, department_ids


def _drop_secondary_indexes(session: Session) -> list[str]:
    """Drop the bulk tables' indexes that back no constraint (COPY is several times faster without them, the
    trigram GIN index above all); returns the statements that build them again."""
    rows = session.execute(text(
        "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.schemaname = current_schema() "
        "AND i.tablename = ANY(:tables) AND NOT EXISTS (SELECT 1 FROM pg_constraint c "
        "WHERE c.conname = i.indexname)"), {"tables": [name for name, *_ in TABLES]}).all()
    for name, _definition in rows:
        session.execute(text(f'DROP INDEX "{name}"'))
    session.commit()
    return [definition for _name, definition in rows]


def _plans(session: Session, codes: list[str], counts: list[int], today: date, seed: int) -> list[AgencyPlan]:
    def first_free(model) -> int:
        return (session.scalar(select(model.id).order_by(model.id.desc()).limit(1)) or 0) + 1

    made = [ensure_agency(session, code, index) for index, code in enumerate(codes)]
    next_id = first_free(Case)
    bases = (next_id, first_free(CaseItem), first_free(Letter), first_free(AuditEvent))
    plans = []
    for index, ((agency, users, department_ids), count) in enumerate(zip(made, counts, strict=True)):
        pick = {role: next(u for u in users if u.has_role(role)) for role in ("clerk", "legal_reviewer")}
        counters = {(kind, year): last for kind, year, last in session.execute(
            select(NumberSequence.kind, NumberSequence.year, NumberSequence.last_value)
            .where(NumberSequence.agency_id == agency.id))}
        plans.append(AgencyPlan(
            agency_id=agency.id, code=agency.code, letter_prefix=agency.letter_no_prefix, count=count,
            first_case_id=next_id, clerk=(pick["clerk"].id, pick["clerk"].display_name),
            handlers=tuple((u.id, u.display_name) for u in users if u.has_role("handler")),
            legal=(pick["legal_reviewer"].id, pick["legal_reviewer"].display_name),
            department_ids=tuple(department_ids), today=today, seed=seed + index, audit_seq=agency.audit_seq,
            audit_head=agency.audit_head_hash, counters=counters, bases=bases))
        next_id += count
    return plans


def _finish(session: Session, plan: AgencyPlan, end: dict) -> None:
    """Move the agency's chain head and number counters to what its worker wrote."""
    session.execute(update(Agency).where(Agency.id == plan.agency_id).values(audit_seq=end["audit_seq"],
                                                                           audit_head_hash=end["audit_head"]))
    for (kind, year), last in end["counters"].items():
        row = session.get(NumberSequence, (plan.agency_id, kind, year))
        if row is None:
            session.add(NumberSequence(agency_id=plan.agency_id, kind=kind, year=year, last_value=last))
        else:
            row.last_value = last


def split(count: int, agencies: int) -> list[int]:
    """Cases per agency: the first (BENCH, the one the benchmark pages use) gets about half."""
    if agencies == 1:
        return [count]
    first = count // 2
    rest = [(count - first) // (agencies - 1)] * (agencies - 1)
    rest[-1] += count - first - sum(rest)
    return [first, *rest]


def generate(session: Session, *, code: str = "BENCH", count: int = 10_000, today: date | None = None,
             seed: int = 7, agencies: int = 1, workers: int = 2) -> Agency:
    """Insert `count` cases spread over `agencies` agencies (the first is `code`); returns the first agency.
    PostgreSQL: COPY from `workers` processes, one agency each at a time; SQLite: batched inserts."""
    today = today or date.today()
    codes = [code] + [f"{code}{n}" for n in range(2, agencies + 1)]
    plans = _plans(session, codes, split(count, agencies), today, seed)
    key = audit_key()
    session.commit()
    bind = session.get_bind()
    if bind.dialect.name == "postgresql":
        url = bind.url.render_as_string(hide_password=False)
        rebuild = _drop_secondary_indexes(session)
        if workers > 1 and len(plans) > 1:
            with multiprocessing.get_context("spawn").Pool(min(workers, len(plans))) as pool:
                ends = pool.map(_copy_agency, [(url, plan, key) for plan in plans])
        else:
            ends = [_copy_agency((url, plan, key)) for plan in plans]
        session.execute(text("SET maintenance_work_mem = '256MB'"))
        for statement in rebuild:
            session.execute(text(statement))
    else:
        ends = []
        for plan in plans:
            for batch in agency_rows(plan, key):
                if "__end__" in batch:
                    ends.append(batch["__end__"])
                    break
                for table, model, columns, _json in TABLES:
                    if batch[table]:
                        session.execute(insert(model.__table__), [{c: row.get(c) for c in columns} for row in batch[table]])
    for plan, end in zip(plans, ends, strict=True):
        _finish(session, plan, end)
    session.commit()
    return session.scalar(select(Agency).where(Agency.code == code))


def after_bulk_insert(session: Session) -> None:
    """Explicit ids leave PostgreSQL's serial sequences behind; move them on, and refresh the planner's statistics."""
    if session.get_bind().dialect.name != "postgresql":
        session.execute(text("ANALYZE"))
        session.commit()
        return
    for table in ("applicants", "cases", "case_items", "letters", "audit_events"):
        session.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                             f"(SELECT COALESCE(MAX(id), 1) FROM {table}))"))
    session.commit()
    with session.get_bind().connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))


def _database_exists(admin, name: str) -> bool:
    return admin.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).first() is not None


def from_template(url: str, template: str, generate_into) -> bool:
    """Create `url`'s PostgreSQL database from `template` (generated first by `generate_into(template_url)` when
    it does not exist yet); an existing target is dropped. Returns whether the template had to be generated."""
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    target = make_url(url)
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    made = False
    with admin.connect() as conn:
        if not _database_exists(conn, template):
            conn.execute(text(f'CREATE DATABASE "{template}"'))
            made = True
    if made:
        try:
            generate_into(target.set(database=template).render_as_string(hide_password=False))
        except BaseException:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{template}" WITH (FORCE)'))
            raise
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{target.database}" TEMPLATE "{template}"'))
    admin.dispose()
    return made


def generate_url(url: str, count: int, *, agencies: int, today: date | None = None, workers: int = 2) -> float:
    """Migrate `url` and generate into it; returns the seconds taken."""
    from engine.persistence.db import make_engine, session_factory, upgrade

    upgrade(url)
    engine = make_engine(url)
    started = time.perf_counter()
    with session_factory(engine)() as session:
        generate(session, count=count, today=today, agencies=agencies, workers=workers)
        after_bulk_insert(session)
    engine.dispose()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--url", default=None)
    parser.add_argument("--agencies", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--today", type=date.fromisoformat, default=None)
    parser.add_argument("--template", default=None, help="PostgreSQL: generate once into this database, copy it")
    args = parser.parse_args()
    from engine.config import load_settings

    url = args.url or load_settings().database_url
    started = time.perf_counter()
    if args.template:
        made = from_template(url, args.template, lambda t: print(
            f"generated {args.count} cases into {args.template} in "
            f"{generate_url(t, args.count, agencies=args.agencies, today=args.today, workers=args.workers):.1f} s"))
        print(f"{url.rsplit('/', 1)[-1]} {'created' if made else 'copied'} from template {args.template} in "
              f"{time.perf_counter() - started:.1f} s")
        return
    seconds = generate_url(url, args.count, agencies=args.agencies, today=args.today, workers=args.workers)
    print(f"{args.count} cases in {args.agencies} agencies in {seconds:.1f} s ({url.split('://')[0]})")


__all__ = ["generate", "PASSWORD", "hash_password", "from_template", "generate_url"]

if __name__ == "__main__":
    main()
