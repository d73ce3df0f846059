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
A database that already holds cases is refused (run twice, a load of N cases would hold 2N) unless `--append`.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import multiprocessing
import random
import threading
import time
from bisect import bisect
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from itertools import accumulate
from json.encoder import encode_basestring
from operator import itemgetter, mul

from sqlalchemy import insert, select, text, update
from sqlalchemy.orm import Session

from engine.persistence.audit import audit_key, event_digest, hashed_fields
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
from engine.services import accounts
from engine.services.accounts import add_agency, add_department, add_user, hash_password

PASSWORD = "bench-password-1"
YEARS = 10
OPEN_WINDOW_DAYS = 45          # requests older than this are all finished
RECENT_PER_AGENCY = 2500       # requests of the last OPEN_WINDOW_DAYS per agency (about half still open)
OPEN_STAGE_WEIGHTS = {"received": 2, "registered": 8, "awaiting_supplement": 3, "in_handling": 15, "consulting": 3,
                      "awaiting_fee": 1, "drafting": 8, "in_review": 4, "signed": 2, "replied": 40, "closed": 4}
# (stages, cumulative weights) of a request of the last OPEN_WINDOW_DAYS, of the last year before them, and older.
OPEN_STAGES = (tuple(OPEN_STAGE_WEIGHTS), tuple(accumulate(OPEN_STAGE_WEIGHTS.values())))
RECENT_STAGES = (("replied", "archived", "closed"), tuple(accumulate((80, 10, 10))))
OLD_STAGES = (("replied", "archived", "closed"), tuple(accumulate((20, 72, 8))))
CLOSED_OUTCOMES = ("LAPSED_SUPPLEMENT", "OTHER", "LAPSED_FEE")
CHANNELS = ("in_person", "mail", "online", "online", "online", "plain_letter")
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
ORG_FIRST = ("华信", "中诚", "东方", "新城", "宏达", "安和", "锦程", "恒泰")
ORG_SECOND = ("建设", "科技", "法务", "环境", "置业", "咨询")
APPLICANT_KINDS = ("NATURAL", "BUSINESS", "RESEARCH", "NGO", "LEGAL_SERVICE", "OTHER_ORG")
APPLICANT_KIND_CUMULATIVE = tuple(accumulate((78, 10, 2, 2, 5, 3)))
CREDIT_CODE_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
BORN_FROM = date(1950, 1, 1)
BATCH = 5000
# One small, valid PDF shared by every generated letter (its SHA-256 is what the audit events record).
PDF = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
       b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n")
PDF_SHA = hashlib.sha256(PDF).hexdigest()
# Ids are laid out from the case id so that agencies can be generated in parallel without talking to each other.
ITEM_SLOTS, LETTER_SLOTS, EVENT_SLOTS = 4, 2, 2

CASE_COLUMNS = ("id", "agency_id", "reg_no", "reg_year", "reg_seq", "applicant_id", "applicant_kind", "stage", "channel",
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
                  "awaiting_delivery", "created_at")
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


# Draws below use `rng.random()` directly: `choice`/`randint` cost several times as much, at a million cases that
# is a minute.
def _pick(rng: random.Random, options):
    return options[int(rng.random() * len(options))]


def _name(rng: random.Random, kind: str) -> str:
    r = rng.random
    if kind == "NATURAL":
        return (SURNAMES[int(r() * len(SURNAMES))] + GIVEN[int(r() * len(GIVEN))]
                + (GIVEN[int(r() * len(GIVEN))] if r() < 0.7 else ""))
    return f"{_pick(rng, ORG_FIRST)}{_pick(rng, ORG_SECOND)}{ORG_KINDS[kind]}"


def _id_number(rng: random.Random, kind: str) -> tuple[str, str]:
    r = rng.random
    if kind != "NATURAL":
        code = f"91{int(r() * 1_000_000):06d}" + "".join(rng.choices(CREDIT_CODE_CHARS, k=10))
        return "统一社会信用代码", code
    born = BORN_FROM + timedelta(days=int(r() * 365 * 55))
    body = f"{110000 + int(r() * 549001)}{born:%Y%m%d}{int(r() * 1000):03d}"
    return "居民身份证", body + "10X98765432"[sum(map(mul, map(int, body), ID_WEIGHTS)) % 11]


def _applicant(rng: random.Random) -> dict:
    r = rng.random
    kind = APPLICANT_KINDS[bisect(APPLICANT_KIND_CUMULATIVE, r() * APPLICANT_KIND_CUMULATIVE[-1])]
    id_type, number = _id_number(rng, kind) if r() < 0.8 else ("", "")
    return {"kind": kind, "name": _name(rng, kind), "id_type": id_type, "id_number": number,
            "phone": f"1{'3578'[int(r() * 4)]}{int(r() * 1_000_000_000):09d}", "email": "",
            "address": f"基准测试市{PLACES[int(r() * len(PLACES))]}{1 + int(r() * 300)}号", "postal_code": "310000",
            "contact_person": "", "id_number_normalized": number}


def _iso(value):
    return value.isoformat()


# The state digest's records that a generated case never has, as `audit_state.case_state_digests` lists them.
_NO_RECORDS = {key: [] for key, _m, _n in CASE_RECORDS}


def _state_digest(case: dict, applicant: dict, items: list[dict], letters: list[dict]) -> str:
    """`audit_state.case_state_digests` of a case with only items and letters, computed from the rows in memory
    (dates and times as ISO text, as the engine's `_plain` writes them)."""
    entry = {**_NO_RECORDS, "confidentiality_reviews": [],
             "case": [case.get(name) for name in CASE_FIELDS],
             "applicant": [applicant[name] for name in APPLICANT_FIELDS],
             "items": [[i.get(n) for n in _ITEM_DIGEST] for i in items],
             "letters": [[x.get(n) for n in _LETTER_DIGEST] for x in letters]}
    canonical = json.dumps(entry, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=_iso)
    return hashlib.sha256(canonical.encode()).hexdigest()


class _Chain:
    """One agency's keyed audit chain, extended in memory."""

    def __init__(self, plan: AgencyPlan, key: bytes) -> None:
        self.plan, self.key = plan, key
        self.seq, self.head = plan.audit_seq, plan.audit_head

    def event(self, event_id: int, case_id: int, actor: tuple[int, str], at: datetime, action: str,
              before: str | None, after: str | None, changes: dict, digest: str | None = None) -> dict:
        self.seq += 1
        occurred = at.replace(tzinfo=None).isoformat(timespec="microseconds")
        # `audit._canonical` of the fields written out in key order (a third of json.dumps' cost); checked against
        # the engine's own digest now and then, so a change to what the chain covers stops the run.
        canonical = (f'{{"action":{encode_basestring(action)},"actor_id":{actor[0]},'
                     f'"actor_name":{encode_basestring(actor[1])},"agency_id":{self.plan.agency_id},'
                     f'"case_id":{case_id},"changes":{_canonical_json(changes)},'
                     f'"occurred_at":"{occurred}","reason":"","seq":{self.seq},'
                     f'"stage_after":{_json_text(after)},"stage_before":{_json_text(before)},'
                     f'"state_digest":{_json_text(digest)}}}')
        digest_hash = hmac.digest(self.key, (self.head + canonical).encode(), "sha256").hex()
        row = {"agency_id": self.plan.agency_id, "seq": self.seq, "case_id": case_id, "actor_id": actor[0],
               "actor_name": actor[1], "action": action, "stage_before": before, "stage_after": after,
               "changes": changes, "reason": "", "state_digest": digest, "id": event_id, "occurred_at": at,
               "prev_hash": self.head, "hash": digest_hash}
        if self.seq % 4096 == 1 and event_digest(self.head, hashed_fields(_EventView(row)), self.key) != digest_hash:
            raise RuntimeError("generate_cases: the audit chain's canonical form has changed; update _Chain")
        self.head = digest_hash
        return row


class _EventView:
    """A generated event row with attribute access, for `audit.hashed_fields` (what `audit verify` hashes)."""

    def __init__(self, row: dict) -> None:
        self.__dict__.update(row)


def _json_text(value: str | None) -> str:
    return "null" if value is None else encode_basestring(value)


def _canonical_json(value) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


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
    r = rng.random
    batch = {name: [] for name, *_ in TABLES}
    dates = _received_dates(rng, plan.count, plan.today)
    rare_at = rng.randrange(plan.count) if plan.count else -1
    working_days: dict[tuple[date, int], date] = {}   # the calendar's answers, asked once per day and length
    provisional: dict[date, bool] = {}

    def take(kind: str, year: int) -> int:
        counters[(kind, year)] = counters.get((kind, year), 0) + 1
        return counters[(kind, year)]

    def add_working_days(day: date, n: int) -> date:
        found = working_days.get((day, n))
        if found is None:
            found = working_days[(day, n)] = cal.add_working_days(day, n)
        return found

    for n, received in enumerate(dates):
        case_id = plan.first_case_id + n
        age = (plan.today - received).days
        stages = OLD_STAGES if age > 400 else RECENT_STAGES if age > OPEN_WINDOW_DAYS else OPEN_STAGES
        stage = stages[0][bisect(stages[1], r() * stages[1][-1])]
        person = dict(regulars[int(r() * len(regulars))]) if r() < 0.33 else _applicant(rng)
        person["id"], person["agency_id"] = case_id, plan.agency_id
        year = received.year
        reg_seq = take("REG", year)
        reg_no = f"依申请〔{year}〕{reg_seq}号"
        subjects = rng.sample(SUBJECTS, (1, 1, 1, 2, 3)[int(r() * 5)])
        texts = [f"{PLACES[int(r() * len(PLACES))]}{max(2008, year - int(r() * 4))}年度{s}" for s in subjects]
        if n == rare_at:
            texts[0] += RARE_WORD
        handler = _pick(rng, plan.handlers) if stage not in ("received", "registered",
                                                             "awaiting_supplement") else None
        due = add_working_days(received, 20)
        if due not in provisional:
            provisional[due] = cal.is_provisional(due)
        finished = outcome = archive_no = None
        if stage in ("replied", "archived"):
            outcome = _pick(rng, REPLY_CODES)
            finished = min(plan.today, add_working_days(received, 3 + int(r() * 18)))
        elif stage == "closed":
            outcome = _pick(rng, CLOSED_OUTCOMES)
            finished = min(plan.today, received + timedelta(days=5 + int(r() * 36)))
        if stage == "archived":
            archive_no = f"{plan.code}-{year}-XXGK-Y10-{take('ARCHIVE', year)}"
        item_base, letter_base, event_id = plan.ids(case_id)
        items = [{"id": item_base + seq, "case_id": case_id, "seq": seq, "description": desc,
                  "topic": "其他", "outcome": outcome, "reason": "", "how_to_obtain": "", "referral_agency": "",
                  "referral_contact": "", "referral_unknown_reason": "", "earlier_reply_number": "",
                  "is_primary": seq == 1, "decided_by_id": handler[0] if outcome and handler else None}
                 for seq, desc in enumerate(texts, start=1)]
        at = datetime.combine(received, dtime(1, 30), UTC) + timedelta(seconds=int(r() * 28001))
        letters = [{"id": letter_base, "case_id": case_id, "letter_type": "receipt", "doc_number": "",
                    "issued_on": received, "pdf": PDF, "sha256": PDF_SHA, "size_bytes": len(PDF),
                    "template_version": "bench", "data_snapshot": {"reg_no": reg_no}, "signed_by_id": None,
                    "supersedes_id": None, "supersede_reason": "", "wording_version": 0, "awaiting_delivery": False,
                    "created_at": at}]
        if stage in ("replied", "archived"):
            doc_year = finished.year
            doc_number = f"{plan.letter_prefix}〔{doc_year}〕{take('LETTER', doc_year)}号"
            letters.append({**letters[0], "id": letter_base + 1, "letter_type": "reply",
                            "doc_number": doc_number, "issued_on": finished, "signed_by_id": plan.legal[0],
                            "data_snapshot": {"reg_no": reg_no, "doc_number": doc_number},
                            "awaiting_delivery": stage != "archived",    # no deliveries are generated
                            "created_at": datetime.combine(finished, dtime(3), UTC)})
        case = {
            "id": case_id, "agency_id": plan.agency_id, "reg_no": reg_no, "reg_year": year, "reg_seq": reg_seq,
            "applicant_id": case_id, "applicant_kind": person["kind"], "stage": stage,
            "channel": _pick(rng, CHANNELS),
            "submitted_on": received, "received_on": None if stage == "received" else received,
            "clock_start_on": None if stage == "received" else received,
            "due_on": None if stage == "received" else due, "due_provisional": provisional[due],
            "clock_paused": stage == "consulting", "extension_working_days": 0, "extension_reason": "",
            "supplement_items": [], "department_id": _pick(rng, plan.department_ids) if handler else None,
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
            letters = []   # (its search text is the same: the receipt has no 文号)
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


def write_copy_rows(copy, rows: list[dict], columns: tuple[str, ...], json_columns: tuple[str, ...]) -> None:
    """Rows (dicts holding every column) into a psycopg COPY, the JSON columns as JSON text."""
    values_of = itemgetter(*columns)
    at = [columns.index(c) for c in json_columns]
    write = copy.write_row
    if not at:
        for row in rows:
            write(values_of(row))
        return
    dumps = json.JSONEncoder(ensure_ascii=False).encode
    for row in rows:
        values = list(values_of(row))
        for i in at:
            values[i] = dumps(values[i])
        write(values)


def _copy_agency(args: tuple[str, AgencyPlan, bytes]) -> dict:
    """Worker: generate one agency and COPY it in, a transaction per batch (foreign-key triggers off for this
    session only; asynchronous commit for this session: the data is as durable once the run has finished)."""
    import psycopg

    url, plan, key = args
    end = {}
    with psycopg.connect(_pg_conninfo(url)) as conn:
        conn.execute("SET session_replication_role = replica")
        conn.execute("SET synchronous_commit = off")
        for batch in agency_rows(plan, key):
            if "__end__" in batch:
                end = batch["__end__"]
                break
            with conn.cursor() as cur:
                for table, _model, columns, json_columns in TABLES:
                    with cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                        write_copy_rows(copy, batch[table], columns, json_columns)
            conn.commit()
    return end


@contextmanager
def _password_hashed_once():
    """Every bench user has the password PASSWORD: one Argon2 hash serves them all (a hash takes 0.3–0.7 s here,
    and four agencies have 56 users)."""
    original = accounts.hash_password
    the_hash = original(PASSWORD)
    accounts.hash_password = lambda password: the_hash if password == PASSWORD else original(password)
    try:
        yield
    finally:
        accounts.hash_password = original


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
        with _password_hashed_once():
            for role in ("clerk", "handler", "legal_reviewer", "office_head", "archivist", "admin"):
                add_user(session, agency, f"{code.lower()}_{role}", PASSWORD, [role], display_name=f"{role}用户",
                         department=departments[0])
            for n in range(2, 9):
                add_user(session, agency, f"{code.lower()}_handler{n}", PASSWORD, ["handler"],
                         display_name=f"承办人{n}", department=departments[n % 4])
        session.commit()
    users = list(session.scalars(select(User).where(User.agency_id == agency.id)))
    department_ids = list(session.scalars(select(Department.id).where(Department.agency_id == agency.id)))
    return agency, users, department_ids


def _in_parallel(url: str, statements: list[str], connections: int) -> None:
    """Run `statements` (index builds, VACUUMs) on `connections` autocommit connections at once, in the given order
    (the longest first); index builds get a large sort memory, set for these sessions only."""
    import psycopg

    pending = list(statements)
    lock = threading.Lock()

    def work() -> None:
        with psycopg.connect(_pg_conninfo(url), autocommit=True) as conn:
            conn.execute("SET maintenance_work_mem = '1GB'")
            while True:
                with lock:
                    if not pending:
                        return
                    statement = pending.pop(0)
                conn.execute(statement)

    with ThreadPoolExecutor(max(1, connections)) as pool:
        for future in [pool.submit(work) for _ in range(max(1, connections))]:
            future.result()


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
    # The trigram (GIN) indexes take longest: they start first, the B-trees share the other connection meanwhile.
    return sorted((definition for _name, definition in rows), key=lambda d: " USING gin " not in d)


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
             seed: int = 7, agencies: int = 1, workers: int = 2, log=None) -> Agency:
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
        started = time.perf_counter()
        if workers > 1 and len(plans) > 1:
            with multiprocessing.get_context("spawn").Pool(min(workers, len(plans))) as pool:
                ends = pool.map(_copy_agency, [(url, plan, key) for plan in plans])
        else:
            ends = [_copy_agency((url, plan, key)) for plan in plans]
        loaded = time.perf_counter()
        _in_parallel(url, rebuild, workers)
        if log:
            log(f"COPY {count} cases: {loaded - started:.1f} s; {len(rebuild)} indexes built: "
                f"{time.perf_counter() - loaded:.1f} s")
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


def after_bulk_insert(session: Session, workers: int = 2) -> None:
    """Explicit ids leave PostgreSQL's serial sequences behind; move them on, and refresh the planner's statistics."""
    if session.get_bind().dialect.name != "postgresql":
        session.execute(text("ANALYZE"))
        session.commit()
        return
    for table in ("applicants", "cases", "case_items", "letters", "audit_events"):
        session.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                             f"(SELECT COALESCE(MAX(id), 1) FROM {table}))"))
    session.commit()
    # Every table, the largest first, two at a time (VACUUM sets the visibility map the index-only scans need).
    tables = session.scalars(text("SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                                  "WHERE c.relkind = 'r' AND n.nspname = current_schema() "
                                  "ORDER BY pg_total_relation_size(c.oid) DESC")).all()
    session.commit()
    _in_parallel(session.get_bind().url.render_as_string(hide_password=False),
                 [f'VACUUM ANALYZE "{name}"' for name in tables], workers)


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


def generate_url(url: str, count: int, *, agencies: int, today: date | None = None, workers: int = 2,
                 log=None) -> float:
    """Migrate `url` and generate into it; returns the seconds taken (`log`, e.g. print, is told each phase's)."""
    from engine.persistence.db import make_engine, session_factory, upgrade

    upgrade(url)
    engine = make_engine(url)
    started = time.perf_counter()
    with session_factory(engine)() as session:
        generate(session, count=count, today=today, agencies=agencies, workers=workers, log=log)
        generated = time.perf_counter()
        after_bulk_insert(session, workers)
        if log:
            log(f"VACUUM ANALYZE: {time.perf_counter() - generated:.1f} s")
    engine.dispose()
    return time.perf_counter() - started


def cases_in(url: str) -> int:
    """How many cases the database at `url` holds (0 when it has no schema yet)."""
    from sqlalchemy import inspect

    from engine.persistence.db import make_engine

    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            if not inspect(connection).has_table("cases"):
                return 0
            return connection.scalar(text("SELECT count(*) FROM cases"))
    finally:
        engine.dispose()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--url", default=None)
    parser.add_argument("--agencies", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--today", type=date.fromisoformat, default=None)
    parser.add_argument("--template", default=None, help="PostgreSQL: generate once into this database, copy it")
    parser.add_argument("--append", action="store_true", help="add the cases to a database that already has some")
    args = parser.parse_args(argv)
    from engine.config import load_settings

    url = args.url or load_settings().database_url
    held = 0 if args.template or args.append else cases_in(url)
    if held:  # run twice by mistake, a database of N cases would hold 2N and every figure measured on it be off
        parser.error(f"{url} already holds {held} cases; generating would add {args.count} more. Use a new "
                     "database, or --append to add them on purpose")
    started = time.perf_counter()
    if args.template:
        made = from_template(url, args.template, lambda t: print(
            f"generated {args.count} cases into {args.template} in "
            f"{generate_url(t, args.count, agencies=args.agencies, today=args.today, workers=args.workers, log=print):.1f} s"))
        print(f"{url.rsplit('/', 1)[-1]} {'created' if made else 'copied'} from template {args.template} in "
              f"{time.perf_counter() - started:.1f} s")
        return
    seconds = generate_url(url, args.count, agencies=args.agencies, today=args.today, workers=args.workers, log=print)
    print(f"{args.count} cases in {args.agencies} agencies in {seconds:.1f} s ({url.split('://')[0]})")


__all__ = ["generate", "PASSWORD", "hash_password", "from_template", "generate_url"]

if __name__ == "__main__":
    main()
