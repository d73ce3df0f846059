"""Persistent model of Gongkai (SQLAlchemy 2, typed). Codes are strings guarded by CHECK constraints."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
    true,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from engine.rules.outcomes import APPLICANT_TYPES, OUTCOME_CODES
from engine.rules.vocabulary import (
    CHALLENGE_KINDS,
    CHALLENGE_RESULTS,
    CHANNELS,
    CONFIDENTIALITY_CONCLUSIONS,
    CONSULTATION_ANSWERS,
    CONSULTATION_KINDS,
    DELIVERY_METHODS,
    EXEMPTION_REVIEW_STATES,
    FEE_MODES,
    JOB_STATES,
    MESSAGE_CHANNELS,
    MESSAGE_STATES,
    RETENTION_PERIODS,
    STAGES,
    TOKEN_SCOPES,
    WEBHOOK_DELIVERY_STATES,
)

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# Agencies whose audit chain is keyed (HMAC) and carries state digests; 1 = written before the key existed
# (re-keyed once by `gongkai db upgrade`, see engine.persistence.audit_rekey).
AUDIT_CHAIN_KEYED = 2


def _in(column: str, values: tuple[str, ...], nullable: bool = False) -> str:
    listed = ", ".join(f"'{v}'" for v in values)
    clause = f"{column} IN ({listed})"
    return f"{column} IS NULL OR {clause}" if nullable else clause


# Stages of a case not yet finished (not replied, closed or archived): the partial index over open cases.
UNFINISHED_STAGES = tuple(stage for stage in STAGES if stage not in ("replied", "closed", "archived"))
_UNFINISHED_WHERE = text(_in("stage", UNFINISHED_STAGES))
_HANDLED = text("handler_id IS NOT NULL")
_IN_DEPARTMENT = text("department_id IS NOT NULL")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: DateTime(timezone=True), dict: JSON, list: JSON}


class Agency(Base):
    """A government agency (机关) with its numbering patterns, remedies bodies and policies."""

    __tablename__ = "agencies"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    reg_no_pattern: Mapped[str] = mapped_column(String(100), default="依申请〔{year}〕{n}号")
    letter_no_prefix: Mapped[str] = mapped_column(String(60), default="")
    letter_no_pattern: Mapped[str] = mapped_column(String(100), default="{prefix}〔{year}〕{n}号")
    archive_no_pattern: Mapped[str] = mapped_column(String(100), default="{code}-{year}-XXGK-{retention}-{n}")
    review_body: Mapped[str] = mapped_column(String(200), default="")
    court: Mapped[str] = mapped_column(String(200), default="")
    contact: Mapped[str] = mapped_column(String(300), default="")
    address: Mapped[str] = mapped_column(String(300), default="")
    online_review_channel: Mapped[str] = mapped_column(String(300), default="")
    seal_image: Mapped[str | None] = mapped_column(String(500), nullable=True)  # legacy file path, read once
    # The seal lives with the agency in the database, so a database restore brings it back with the letters.
    # Deferred: every request loads its user's agency, and the image (up to 2 MB) is needed only to render a letter
    # or to tell whether there is a seal; loaded on first access.
    seal_image_data: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True, deferred=True)
    seal_image_sha256: Mapped[str] = mapped_column(String(64), default="", server_default="")
    supplement_period_working_days: Mapped[int] = mapped_column(Integer, default=15)
    fee_pauses_clock: Mapped[bool] = mapped_column(Boolean, default=True)
    online_manual_confirmation: Mapped[bool] = mapped_column(Boolean, default=False)
    topics: Mapped[list] = mapped_column(default=list)
    settings: Mapped[dict] = mapped_column(default=dict)
    audit_seq: Mapped[int] = mapped_column(Integer, default=0)
    audit_head_hash: Mapped[str] = mapped_column(String(64), default="0" * 64)
    audit_chain_version: Mapped[int] = mapped_column(Integer, default=AUDIT_CHAIN_KEYED, server_default="1")
    created_at: Mapped[datetime]

    __table_args__ = (CheckConstraint("supplement_period_working_days > 0", name="supplement_period_positive"),)


class Department(Base):
    __tablename__ = "departments"

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))  # uq_departments_agency_name begins with it
    name: Mapped[str] = mapped_column(String(100))

    __table_args__ = (UniqueConstraint("agency_id", "name", name="uq_departments_agency_name"),)


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"), nullable=True)
    username: Mapped[str] = mapped_column(String(60), unique=True)
    display_name: Mapped[str] = mapped_column(String(60))
    password_hash: Mapped[str] = mapped_column(String(200))
    roles: Mapped[list] = mapped_column(default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(nullable=True)
    # Bumped by logout-everywhere, password reset, deactivation and role changes; sessions and tokens carry it.
    session_generation: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Where the daily digest and the assignment messages go (empty: the user gets none).
    email: Mapped[str] = mapped_column(String(120), default="", server_default="")
    digest_enabled: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    created_at: Mapped[datetime]

    agency: Mapped[Agency] = relationship(lazy="joined")

    def has_role(self, role: str) -> bool:
        return role in (self.roles or [])


class ApiToken(Base):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(100), default="")
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None] = mapped_column(nullable=True)
    last_used_at: Mapped[datetime | None] = mapped_column(nullable=True)
    # What the token may do (DESIGN §7): full = everything its user's roles allow, read = GET only,
    # portal = register online requests and look up status. personal_data: ID numbers and phones in full.
    scope: Mapped[str] = mapped_column(String(10), default="full", server_default="full")
    personal_data: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    user: Mapped[User] = relationship(lazy="joined")

    __table_args__ = (CheckConstraint(_in("scope", TOKEN_SCOPES), name="scope_valid"),)


class IdempotencyKey(Base):
    """The first answer to a write sent with an `Idempotency-Key` (per token, kept 24 h): a repeat with the same
    body gets it again instead of running twice; the unique key makes a concurrent duplicate wait and then replay."""

    __tablename__ = "idempotency_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_id: Mapped[int] = mapped_column(ForeignKey("api_tokens.id"))
    key: Mapped[str] = mapped_column(String(200))
    request_hash: Mapped[str] = mapped_column(String(64))
    # Written in the same transaction as the request's work: a row is never seen without its answer.
    status_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    response_body: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    content_type: Mapped[str] = mapped_column(String(100), default="")
    location: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(index=True)

    __table_args__ = (UniqueConstraint("token_id", "key", name="uq_idempotency_keys_token_key"),)


class LoginThrottle(Base):
    """Failed-login budget of one key (`account:NAME` or `ip:ADDRESS`), see engine.persistence.login_throttle."""

    __tablename__ = "login_throttles"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_failure_at: Mapped[datetime | None] = mapped_column(nullable=True)
    next_allowed_at: Mapped[datetime | None] = mapped_column(nullable=True)


class Applicant(Base):
    __tablename__ = "applicants"

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(200))
    id_type: Mapped[str] = mapped_column(String(40), default="")
    id_number: Mapped[str] = mapped_column(String(60), default="")
    id_number_normalized: Mapped[str] = mapped_column(String(60), default="", index=True)
    phone: Mapped[str] = mapped_column(String(60), default="")
    email: Mapped[str] = mapped_column(String(120), default="")
    address: Mapped[str] = mapped_column(String(300), default="")
    postal_code: Mapped[str] = mapped_column(String(12), default="")
    contact_person: Mapped[str] = mapped_column(String(60), default="")

    __table_args__ = (
        CheckConstraint(_in("kind", tuple(APPLICANT_TYPES)), name="kind_valid"),
        # The duplicate check at registration: the same name with the same phone (or e-mail) in earlier cases.
        Index("ix_applicants_name_phone", "name", "phone"),
    )


class Case(Base):
    """One application (一件申请) and the state of its statutory clock."""

    __tablename__ = "cases"

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    reg_no: Mapped[str] = mapped_column(String(80))
    reg_year: Mapped[int] = mapped_column(Integer)
    reg_seq: Mapped[int] = mapped_column(Integer)
    applicant_id: Mapped[int] = mapped_column(ForeignKey("applicants.id"), index=True)
    # The applicant's kind (申请人类型) as registered, kept beside the case so that the annual report's table 3
    # counts from one index without joining every applicant; written with the applicant snapshot and by
    # `update_applicant`, never otherwise.
    applicant_kind: Mapped[str] = mapped_column(String(20))
    stage: Mapped[str] = mapped_column(String(30), default="received")
    channel: Mapped[str] = mapped_column(String(20))
    submitted_on: Mapped[date] = mapped_column(Date)
    received_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    clock_start_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    due_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    due_provisional: Mapped[bool] = mapped_column(Boolean, default=False)
    clock_paused: Mapped[bool] = mapped_column(Boolean, default=False)
    extension_working_days: Mapped[int] = mapped_column(Integer, default=0)
    extension_reason: Mapped[str] = mapped_column(Text, default="")
    extension_approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    extension_approved_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    supplement_requested_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    supplement_items: Mapped[list] = mapped_column(default=list)
    supplement_period_working_days: Mapped[int | None] = mapped_column(Integer, nullable=True)
    supplement_due_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    supplement_received_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    # 条例35: the request for reasons (its period runs from its delivery), the answer or lapse, and the reasonable
    # later deadline fixed when the reasons are accepted but the statutory period cannot be kept.
    reason_requested_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    reason_period_working_days: Mapped[int | None] = mapped_column(Integer, nullable=True)
    reason_due_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    reason_answered_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    reason_answer: Mapped[str | None] = mapped_column(String(20), nullable=True)
    reason_answer_summary: Mapped[str] = mapped_column(Text, default="")
    delay_due_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    delay_reason: Mapped[str] = mapped_column(Text, default="")
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"), nullable=True)
    handler_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)  # ix_cases_handler_stage
    requested_form: Mapped[str] = mapped_column(String(100), default="")
    requested_delivery: Mapped[str] = mapped_column(String(100), default="")
    purpose: Mapped[str] = mapped_column(Text, default="")
    query_code_hash: Mapped[str] = mapped_column(String(64), default="")
    report_outcome: Mapped[str | None] = mapped_column(String(40), nullable=True)
    finished_on: Mapped[date | None] = mapped_column(Date, nullable=True)  # ix_cases_report
    closed_reason: Mapped[str] = mapped_column(Text, default="")
    imported: Mapped[bool] = mapped_column(Boolean, default=False)
    search_text: Mapped[str] = mapped_column(Text, default="")
    archive_no: Mapped[str | None] = mapped_column(String(80), nullable=True)
    retention: Mapped[str | None] = mapped_column(String(20), nullable=True)
    retention_reason: Mapped[str] = mapped_column(Text, default="")
    archived_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    applicant: Mapped[Applicant] = relationship(lazy="joined")
    agency: Mapped[Agency] = relationship()
    department: Mapped[Department | None] = relationship()
    handler: Mapped[User | None] = relationship(foreign_keys=[handler_id])
    items: Mapped[list[CaseItem]] = relationship(back_populates="case", order_by="CaseItem.seq",
                                                 cascade="all, delete-orphan")
    consultations: Mapped[list[Consultation]] = relationship(back_populates="case", order_by="Consultation.id")
    fees: Mapped[list[Fee]] = relationship(back_populates="case", order_by="Fee.id")

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        UniqueConstraint("agency_id", "reg_no", name="uq_cases_agency_reg_no"),
        UniqueConstraint("agency_id", "reg_year", "reg_seq", name="uq_cases_agency_year_seq"),
        CheckConstraint(_in("stage", STAGES), name="stage_valid"),
        CheckConstraint(_in("channel", CHANNELS), name="channel_valid"),
        CheckConstraint(_in("report_outcome", OUTCOME_CODES, nullable=True), name="report_outcome_valid"),
        CheckConstraint(_in("retention", RETENTION_PERIODS, nullable=True), name="retention_valid"),
        CheckConstraint("extension_working_days >= 0 AND extension_working_days <= 20", name="extension_range"),
        Index("ix_cases_agency_stage_due", "agency_id", "stage", "due_on"),
        # SQLite reads the list's order (received_on DESC, id DESC) from this index backwards; on PostgreSQL,
        # ix_cases_agency_received_desc gives that order and ix_cases_agency_received_channel the date ranges.
        Index("ix_cases_agency_received", "agency_id", "received_on").ddl_if(dialect="sqlite"),
        # Statistics of a year from the index alone: received per month and channel; finished, with the dates the
        # working days to reply are counted from.
        Index("ix_cases_agency_received_channel", "agency_id", "received_on", "channel"),
        Index("ix_cases_agency_finished", "agency_id", "finished_on", "received_on", "due_on"),
        # The annual report: the cases counted in a year (received by its end, not finished before it) and their
        # table-3 cell, read from the index alone.
        Index("ix_cases_report", "finished_on", "received_on", "agency_id", "applicant_kind", "report_outcome"),
        # The list's default order (newest received first, undated last): read in index order, a page of 50 stops
        # after 50 matches instead of sorting every match.
        Index("ix_cases_agency_received_desc", "agency_id", text("received_on DESC NULLS LAST"),
              text("id DESC")).ddl_if(dialect="postgresql"),
        Index("ix_cases_agency_updated", "agency_id", "updated_at", "id"),  # API polling: updated_since + cursor
        # Substring search of the case list: a trigram GIN index on PostgreSQL (pg_trgm); on SQLite an FTS5
        # trigram table `cases_fts` kept by triggers (created in the migration; not a mapped table).
        Index("ix_cases_search_text_trgm", "search_text", postgresql_using="gin",
              postgresql_ops={"search_text": "gin_trgm_ops"}).ddl_if(dialect="postgresql"),
        # The dashboard and the due filters read only unfinished cases, by due date: a few thousand of a million.
        Index("ix_cases_open_due", "agency_id", "due_on", "id", postgresql_where=_UNFINISHED_WHERE,
              sqlite_where=_UNFINISHED_WHERE),
        # A handler's cases in the stages they work on (the dashboard's tasks and their count): a few dozen, where
        # the handler's index alone holds every case they ever handled. Cases without a handler (each new one,
        # every imported one) are not in it, nor in the department's: a query naming a handler or a department
        # implies the predicate, and so does the foreign key's check when a user or a department is deleted.
        Index("ix_cases_handler_stage", "handler_id", "stage", postgresql_where=_HANDLED, sqlite_where=_HANDLED),
        Index("ix_cases_department_id", "department_id", postgresql_where=_IN_DEPARTMENT,
              sqlite_where=_IN_DEPARTMENT),
    )


class CaseItem(Base):
    """One requested piece of information (申请事项) and the handler's outcome for it."""

    __tablename__ = "case_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    # No index of its own: uq_case_items_case_seq and ix_case_items_case_topic both begin with it.
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    seq: Mapped[int] = mapped_column(Integer)
    description: Mapped[str] = mapped_column(Text)
    topic: Mapped[str] = mapped_column(String(60), default="")
    outcome: Mapped[str | None] = mapped_column(String(40), nullable=True)
    reason: Mapped[str] = mapped_column(Text, default="")
    how_to_obtain: Mapped[str] = mapped_column(Text, default="")
    referral_agency: Mapped[str] = mapped_column(String(200), default="")
    referral_contact: Mapped[str] = mapped_column(String(200), default="")
    # 条例36(五): when the responsible agency cannot be determined, why (instead of its name and contact).
    referral_unknown_reason: Mapped[str] = mapped_column(Text, default="")
    earlier_reply_number: Mapped[str] = mapped_column(String(100), default="")
    is_primary: Mapped[bool] = mapped_column(Boolean, default=False)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)

    case: Mapped[Case] = relationship(back_populates="items")

    __table_args__ = (
        UniqueConstraint("case_id", "seq", name="uq_case_items_case_seq"),
        CheckConstraint(_in("outcome", OUTCOME_CODES, nullable=True), name="outcome_valid"),
        Index("ix_case_items_case_topic", "case_id", "topic"),  # statistics by topic without reading the items
    )


class ConfidentialityReview(Base):
    """保密审查 of one item before it is disclosed (保守国家秘密法; 条例17)."""

    __tablename__ = "confidentiality_reviews"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("case_items.id"), index=True)
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    reviewed_on: Mapped[date] = mapped_column(Date)
    conclusion: Mapped[str] = mapped_column(String(30))
    basis: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime]

    __table_args__ = (CheckConstraint(_in("conclusion", CONFIDENTIALITY_CONCLUSIONS), name="conclusion_valid"),)


class ExemptionRecord(Base):
    """One withheld part and why (条例13–16、37; 法释〔2011〕17号第5条). Append-only: a change is a new version."""

    __tablename__ = "exemption_records"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("case_items.id"), index=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    current: Mapped[bool] = mapped_column(Boolean, default=True)
    ground: Mapped[str] = mapped_column(String(40))
    article: Mapped[str] = mapped_column(String(200))
    facts: Mapped[str] = mapped_column(Text)
    scope: Mapped[str] = mapped_column(Text, default="")
    whole_item: Mapped[bool] = mapped_column(Boolean, default=True)
    severability: Mapped[str] = mapped_column(Text, default="")
    consultation_id: Mapped[int | None] = mapped_column(ForeignKey("consultations.id"), nullable=True)
    no_consultation_reason: Mapped[str] = mapped_column(Text, default="")
    public_interest: Mapped[str] = mapped_column(Text, default="")
    law_citation: Mapped[str] = mapped_column(Text, default="")
    classification_basis: Mapped[str] = mapped_column(Text, default="")
    discretion_reason: Mapped[str] = mapped_column(Text, default="")
    search_record: Mapped[str] = mapped_column(Text, default="")
    review_state: Mapped[str] = mapped_column(String(20), default="pending")
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    review_comment: Mapped[str] = mapped_column(Text, default="")
    reviewed_at: Mapped[datetime | None] = mapped_column(nullable=True)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"), nullable=True)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime]

    __table_args__ = (
        CheckConstraint(_in("ground", OUTCOME_CODES), name="ground_valid"),
        CheckConstraint(_in("review_state", EXEMPTION_REVIEW_STATES), name="review_state_valid"),
        Index("ix_exemption_records_ground_created", "ground", "created_at"),
    )


class Consultation(Base):
    """A consultation of a third party (条例32) or a co-author agency (条例34); the clock pauses while open."""

    __tablename__ = "consultations"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    party_name: Mapped[str] = mapped_column(String(200))
    party_contact: Mapped[str] = mapped_column(String(300), default="")
    subject: Mapped[str] = mapped_column(Text, default="")
    sent_on: Mapped[date] = mapped_column(Date)
    received_by_party_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    answer_due_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    answered_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    answer: Mapped[str | None] = mapped_column(String(20), nullable=True)
    answer_summary: Mapped[str] = mapped_column(Text, default="")
    # The 征求意见书 sent (its delivery starts the party's 15 working days) and the items it concerns.
    letter_id: Mapped[int | None] = mapped_column(ForeignKey("letters.id"), nullable=True)
    item_seqs: Mapped[list] = mapped_column(default=list)
    # A person is addressed 你, an organisation 贵单位 (the 第三方征求意见书).
    party_is_person: Mapped[bool] = mapped_column(Boolean, default=False)

    case: Mapped[Case] = relationship(back_populates="consultations")

    __table_args__ = (
        CheckConstraint(_in("kind", CONSULTATION_KINDS), name="kind_valid"),
        CheckConstraint(_in("answer", CONSULTATION_ANSWERS, nullable=True), name="answer_valid"),
    )

    @property
    def is_open(self) -> bool:
        return self.answered_on is None


class Fee(Base):
    """信息处理费 notice and payment (国办函〔2020〕109号)."""

    __tablename__ = "fees"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    mode: Mapped[str] = mapped_column(String(20))
    units: Mapped[int] = mapped_column(Integer)
    amount_yuan: Mapped[int] = mapped_column(Integer)
    breakdown: Mapped[list] = mapped_column(default=list)
    notice_issued_on: Mapped[date] = mapped_column(Date)
    # Known once the notice's delivery is recorded: the 20 working days run from the applicant's receipt.
    notice_received_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    pay_by_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    paid_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    # What 登记缴费 records besides the day: the amount paid and the number of the receipt given (票据号).
    paid_amount_yuan: Mapped[int | None] = mapped_column(Integer, nullable=True)
    payment_receipt_no: Mapped[str] = mapped_column(String(100), default="")

    case: Mapped[Case] = relationship(back_populates="fees")

    __table_args__ = (
        CheckConstraint(_in("mode", FEE_MODES), name="mode_valid"),
        CheckConstraint("amount_yuan >= 0 AND units >= 0", name="amount_nonnegative"),
    )


# The letters the dashboard's delivery list reads, as each database's partial index states it (SQLite uses a
# partial index only when the query repeats its condition as written, and SQLAlchemy writes a boolean as `= 1` there).
AWAITING_DELIVERY = {"postgresql": "awaiting_delivery AND letter_type <> 'receipt'",
                     "sqlite": "awaiting_delivery = 1 AND letter_type <> 'receipt'"}


class Letter(Base):
    """An issued letter, frozen: PDF bytes + SHA-256 + template version + the data it was rendered from."""

    __tablename__ = "letters"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    letter_type: Mapped[str] = mapped_column(String(40))
    doc_number: Mapped[str] = mapped_column(String(100), default="")
    issued_on: Mapped[date] = mapped_column(Date)
    pdf: Mapped[bytes] = mapped_column(LargeBinary)
    sha256: Mapped[str] = mapped_column(String(64))
    size_bytes: Mapped[int] = mapped_column(Integer)
    template_version: Mapped[str] = mapped_column(String(80))
    data_snapshot: Mapped[dict] = mapped_column()
    signed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    # The agency key whose PAdES signature the PDF carries (None: issued unsigned, before the agency had one).
    signing_key_id: Mapped[int | None] = mapped_column(ForeignKey("signing_keys.id"), nullable=True)
    supersedes_id: Mapped[int | None] = mapped_column(ForeignKey("letters.id"), nullable=True)
    supersede_reason: Mapped[str] = mapped_column(Text, default="")
    # The agency wording version it was rendered with (0: the built-in wording; NULL: issued before versions).
    wording_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # On the dashboard's list of letters waiting for delivery until a delivery of it arrives or its case is
    # archived (not kept for the 登记回执, which is never delivered). Whoever writes letters without the ORM
    # (bench/generate_cases.py) must set it: true, the default, puts a letter on the list.
    awaiting_delivery: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    created_at: Mapped[datetime]

    __table_args__ = (
        Index("ix_letters_doc_number", "doc_number"),
        # The dashboard's letters waiting for delivery, oldest first: every letter but the 登记回执, in that order.
        Index("ix_letters_to_deliver", "issued_on", "id", postgresql_where=text("letter_type <> 'receipt'"),
              sqlite_where=text("letter_type <> 'receipt'")),
        Index("ix_letters_supersedes_id", "supersedes_id"),
        Index("ix_letters_awaiting_delivery", "issued_on", "id", postgresql_where=text(AWAITING_DELIVERY["postgresql"]),
              sqlite_where=text(AWAITING_DELIVERY["sqlite"])),
    )


class SigningKey(Base):
    """An agency's signing identity: X.509 certificate (public) and its private key, encrypted at rest with a key
    from configuration (AES-256-GCM, bound to the agency and the fingerprint). The newest unretired one signs."""

    __tablename__ = "signing_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    certificate_der: Mapped[bytes] = mapped_column(LargeBinary)
    chain_der: Mapped[list] = mapped_column(default=list)  # intermediate certificates, base64 DER
    encrypted_private_key: Mapped[bytes] = mapped_column(LargeBinary)
    encryption_key_id: Mapped[str] = mapped_column(String(16))  # which configured secret encrypted it
    fingerprint_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    subject: Mapped[str] = mapped_column(Text)
    not_before: Mapped[datetime]
    not_after: Mapped[datetime]
    self_issued: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime]
    retired_at: Mapped[datetime | None] = mapped_column(nullable=True)


class LetterWording(Base):
    """One version of an agency's wording of a letter type's free paragraphs (slots). Versions are never
    changed; at most one per agency and type is active, and a letter records the version it used."""

    __tablename__ = "letter_wordings"

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    letter_type: Mapped[str] = mapped_column(String(40))
    version: Mapped[int] = mapped_column(Integer)
    slots: Mapped[dict] = mapped_column()
    active: Mapped[bool] = mapped_column(Boolean, default=False)
    source: Mapped[str] = mapped_column(String(200), default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    created_at: Mapped[datetime]

    __table_args__ = (
        UniqueConstraint("agency_id", "letter_type", "version", name="uq_letter_wordings_agency_type_version"),
        CheckConstraint("version > 0", name="version_positive"),
    )


class Delivery(Base):
    """送达 of a letter: method, date, tracking number, proof."""

    __tablename__ = "deliveries"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    letter_id: Mapped[int | None] = mapped_column(ForeignKey("letters.id"), nullable=True, index=True)
    method: Mapped[str] = mapped_column(String(20))
    delivered_on: Mapped[date] = mapped_column(Date)
    tracking_no: Mapped[str] = mapped_column(String(100), default="")
    proof_upload_id: Mapped[int | None] = mapped_column(ForeignKey("uploads.id"), nullable=True)
    returned: Mapped[bool] = mapped_column(Boolean, default=False)
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime]

    __table_args__ = (CheckConstraint(_in("method", DELIVERY_METHODS), name="method_valid"),)


class LegalChallenge(Base):
    """行政复议 or 行政诉讼 over a case (annual report table 4)."""

    __tablename__ = "legal_challenges"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    filed_on: Mapped[date] = mapped_column(Date)
    result: Mapped[str] = mapped_column(String(20), default="PENDING")
    decided_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime]

    __table_args__ = (
        CheckConstraint(_in("kind", CHALLENGE_KINDS), name="kind_valid"),
        CheckConstraint(_in("result", CHALLENGE_RESULTS), name="result_valid"),
    )


class Upload(Base):
    """An uploaded file (application scan, supplement, delivery proof). Bytes live in the blob store."""

    __tablename__ = "uploads"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    kind: Mapped[str] = mapped_column(String(30), default="attachment")
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size_bytes: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime]


class ArchiveNote(Base):
    """卷内备考表 entry: a dated note appended to an archived case file, never an edit."""

    __tablename__ = "archive_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    noted_on: Mapped[date] = mapped_column(Date)
    text: Mapped[str] = mapped_column(Text)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    created_at: Mapped[datetime]


class NumberSequence(Base):
    """Gap-free counters per agency, kind and year (registration numbers, letter numbers)."""

    __tablename__ = "number_sequences"

    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_value: Mapped[int] = mapped_column(Integer, default=0)


class PublishedReport(Base):
    """A published annual report: the frozen figures and the period lock (条例49-50)."""

    __tablename__ = "published_reports"

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    year: Mapped[int] = mapped_column(Integer)
    figures: Mapped[dict] = mapped_column()
    published_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    published_at: Mapped[datetime]

    __table_args__ = (UniqueConstraint("agency_id", "year", name="uq_published_reports_agency_year"),)


class AuditEvent(Base):
    """Append-only, HMAC-chained record of every action (one chain per agency)."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    seq: Mapped[int] = mapped_column(Integer)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), nullable=True, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    actor_name: Mapped[str] = mapped_column(String(60))
    occurred_at: Mapped[datetime]
    action: Mapped[str] = mapped_column(String(60))
    stage_before: Mapped[str | None] = mapped_column(String(30), nullable=True)
    stage_after: Mapped[str | None] = mapped_column(String(30), nullable=True)
    changes: Mapped[dict] = mapped_column()
    reason: Mapped[str] = mapped_column(Text, default="")
    state_digest: Mapped[str | None] = mapped_column(String(64), nullable=True)  # the case's state after it
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))

    __table_args__ = (UniqueConstraint("agency_id", "seq", name="uq_audit_events_agency_seq"),)


class AnnualReportContent(Base):
    """What the annual report says beyond the computed tables (国办公开办函〔2021〕30号): the office head's text of
    parts 一、五、六 and the office's figures of table 二 — a draft until the year's report is published."""

    __tablename__ = "annual_report_contents"

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    year: Mapped[int] = mapped_column(Integer)
    overview: Mapped[str] = mapped_column(Text, default="")
    problems: Mapped[str] = mapped_column(Text, default="")
    other_matters: Mapped[str] = mapped_column(Text, default="")
    proactive: Mapped[dict] = mapped_column(default=dict)  # table 二: {row: {column: number or null}}
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    updated_at: Mapped[datetime]

    __table_args__ = (UniqueConstraint("agency_id", "year", name="uq_annual_report_contents_agency_year"),)
    __mapper_args__ = {"version_id_col": version}


class Job(Base):
    """A piece of background work (export, recomputation, notification …): written in the caller's transaction
    before it is handed to the queue, so the row is the truth about it whatever happens to Redis or a worker."""

    __tablename__ = "jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(60))
    args: Mapped[dict] = mapped_column()
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"), nullable=True, index=True)
    requested_by: Mapped[str] = mapped_column(String(60), default="")
    dedupe_key: Mapped[str | None] = mapped_column(String(120), nullable=True, unique=True)
    state: Mapped[str] = mapped_column(String(10), default="queued")  # ix_jobs_state_id
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=3)
    progress_done: Mapped[int] = mapped_column(Integer, default=0)
    progress_total: Mapped[int | None] = mapped_column(Integer, nullable=True)
    progress_note: Mapped[str] = mapped_column(String(300), default="")
    result: Mapped[dict | None] = mapped_column(nullable=True)
    result_name: Mapped[str | None] = mapped_column(String(255), nullable=True)
    result_size: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    error: Mapped[str] = mapped_column(Text, default="")
    worker: Mapped[str] = mapped_column(String(120), default="")
    created_at: Mapped[datetime]
    enqueued_at: Mapped[datetime | None] = mapped_column(nullable=True)
    started_at: Mapped[datetime | None] = mapped_column(nullable=True)
    heartbeat_at: Mapped[datetime | None] = mapped_column(nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(nullable=True)
    # Backoff: a queued job that failed is not run again before this (None: at once).
    run_after: Mapped[datetime | None] = mapped_column(nullable=True)

    # By state, in queue order: the oldest queued job is the first entry (`jobs.next_queued`), not a sort of them all.
    __table_args__ = (CheckConstraint(_in("state", JOB_STATES), name="state_valid"),
                      Index("ix_jobs_state_id", "state", "id"))


class JobResultChunk(Base):
    """The result file of a job (a ZIP, a spreadsheet) in slices, so every web node can stream the download."""

    __tablename__ = "job_result_chunks"

    job_id: Mapped[int] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class Message(Base):
    """One notification (an e-mail or an SMS) as it was sent or is waiting to be: the outbox row and its log.
    `dedup_key` is unique, so the same event never makes two messages, and a retried send job finds the row
    already `sent` and sends nothing."""

    __tablename__ = "messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), nullable=True, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True, index=True)
    channel: Mapped[str] = mapped_column(String(10))
    kind: Mapped[str] = mapped_column(String(40))
    recipient: Mapped[str] = mapped_column(String(200))
    subject: Mapped[str] = mapped_column(String(300), default="")
    body_text: Mapped[str] = mapped_column(Text, default="")
    body_html: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(12), default="queued")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    dedup_key: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None] = mapped_column(nullable=True)
    updated_at: Mapped[datetime]

    __table_args__ = (
        CheckConstraint(_in("channel", MESSAGE_CHANNELS), name="channel_valid"),
        CheckConstraint(_in("status", MESSAGE_STATES), name="status_valid"),
    )


class WebhookEndpoint(Base):
    """An integrator's URL that receives the agency's case events, signed with its own secret (HMAC-SHA256)."""

    __tablename__ = "webhook_endpoints"

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    url: Mapped[str] = mapped_column(String(500))
    secret: Mapped[str] = mapped_column(String(100))  # kept readable: every delivery is signed with it
    events: Mapped[list] = mapped_column()  # event types it receives (engine.services.webhooks.EVENT_TYPES)
    description: Mapped[str] = mapped_column(String(200), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    created_at: Mapped[datetime]


class WebhookDelivery(Base):
    """One event for one endpoint: the exact body sent (so a retry or 再次发送 sends the same bytes) and how its
    sending went."""

    __tablename__ = "webhook_deliveries"

    id: Mapped[int] = mapped_column(primary_key=True)
    # No index of its own: uq_webhook_deliveries_endpoint_event begins with it.
    endpoint_id: Mapped[int] = mapped_column(ForeignKey("webhook_endpoints.id"))
    event_id: Mapped[str] = mapped_column(String(40))
    event_type: Mapped[str] = mapped_column(String(40))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), nullable=True)
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    response_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime]
    last_attempt_at: Mapped[datetime | None] = mapped_column(nullable=True)
    delivered_at: Mapped[datetime | None] = mapped_column(nullable=True)
    job_id: Mapped[int | None] = mapped_column(Integer, nullable=True)  # the job sending it now (no FK: jobs are purged)

    __table_args__ = (CheckConstraint(_in("status", WEBHOOK_DELIVERY_STATES), name="status_valid"),
                      UniqueConstraint("endpoint_id", "event_id", name="uq_webhook_deliveries_endpoint_event"))
