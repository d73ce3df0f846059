"""The digest of a case's recorded state: what an audit event says the case looked like after its action.

Every event about a case carries the digest of the case's material state as the action left it (the case row's
material fields, the applicant snapshot, items, decisions, consultations, fees, letters' and uploads' hashes,
deliveries, challenges, archive notes). `gongkai audit verify` recomputes it from the rows and compares it with the
case's latest event, so a stage, an outcome or a letter changed without an action is found. Bookkeeping columns
(version, timestamps, search text, the computed clock flags) are left out: they change without being a decision.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import bindparam, event, inspect, literal, select, union_all
from sqlalchemy.orm import Session, SessionTransaction
from sqlalchemy.orm.util import identity_key

from engine.persistence.models import (
    Applicant,
    ArchiveNote,
    Case,
    CaseItem,
    ConfidentialityReview,
    Consultation,
    Delivery,
    ExemptionRecord,
    Fee,
    LegalChallenge,
    Letter,
    Upload,
)

CASE_FIELDS = (
    "id", "agency_id", "reg_no", "reg_year", "reg_seq", "applicant_id", "stage", "channel", "submitted_on",
    "received_on", "clock_start_on", "due_on", "extension_working_days", "extension_reason",
    "extension_approved_by_id", "extension_approved_on", "supplement_requested_on", "supplement_items",
    "supplement_period_working_days", "supplement_due_on", "supplement_received_on", "department_id", "handler_id",
    "requested_form", "requested_delivery", "purpose", "query_code_hash", "report_outcome", "finished_on",
    "closed_reason", "imported", "archive_no", "retention", "retention_reason", "archived_on",
)
APPLICANT_FIELDS = ("kind", "name", "id_type", "id_number", "phone", "email", "address", "postal_code",
                    "contact_person")
# (model, columns) of each kind of record that hangs off a case; each listed in id order.
CASE_RECORDS = (
    ("items", CaseItem, ("id", "seq", "description", "topic", "outcome", "reason", "how_to_obtain",
                         "referral_agency", "referral_contact", "earlier_reply_number", "is_primary",
                         "decided_by_id")),
    ("exemptions", ExemptionRecord, ("id", "item_id", "version", "current", "ground", "article", "facts", "scope",
                                     "whole_item", "severability", "consultation_id", "no_consultation_reason",
                                     "public_interest", "law_citation", "classification_basis",
                                     "discretion_reason", "search_record", "review_state", "reviewed_by_id",
                                     "review_comment", "created_by_id")),
    ("consultations", Consultation, ("id", "kind", "party_name", "party_contact", "subject", "sent_on",
                                     "received_by_party_on", "answer_due_on", "answered_on", "answer",
                                     "answer_summary")),
    ("fees", Fee, ("id", "mode", "units", "amount_yuan", "notice_issued_on", "notice_received_on", "pay_by_on",
                   "paid_on")),
    ("letters", Letter, ("id", "letter_type", "doc_number", "issued_on", "sha256", "size_bytes", "signed_by_id",
                         "supersedes_id")),
    ("uploads", Upload, ("id", "kind", "filename", "sha256", "size_bytes")),
    ("deliveries", Delivery, ("id", "letter_id", "method", "delivered_on", "tracking_no", "proof_upload_id",
                              "returned")),
    ("challenges", LegalChallenge, ("id", "kind", "filed_on", "result", "decided_on")),
    ("archive_notes", ArchiveNote, ("id", "noted_on", "text")),
)


# Cases inserted by the action running now → what that action may have added to them; see `new_case_records`.
_NEW_CASES = "gongkai_cases_new_in_action"
_RECORD_KIND = {model: key for key, model, _names in CASE_RECORDS}
_UNKNOWN = object()


@dataclass
class _NewCase:
    """A case the running action inserted: the kinds of records it may hold, and — while `held` is known — every one
    of them, held by the session's objects (strongly, so none drops out of the identity map), key → id → object."""

    kinds: frozenset[str]
    held: dict[str, dict[int, object]] | None


@contextmanager
def new_case_records(session: Session, case_id: int, *, may_hold: Iterable[str],
                     holding: dict[str, Iterable] | None = None) -> Iterator[None]:
    """While the block runs, `case_id` is a case the running action inserted and only `may_hold` kinds of records
    can hang off it: no other transaction can reference a case it cannot see, so the other kinds are certainly
    empty, and the ones it may hold are the rows the session itself wrote. The case's state is then taken from the
    session's objects (flushed, so they say what the rows say) instead of read back: registration's events need
    one query for all of them instead of four each. The records present when the block starts are listed once
    (their ids); one the session no longer holds, or any record of the case deleted or moved in the block, and the
    state is read from the tables again. Only for that action: a later action in the same transaction (the demo, a
    test) may add any record, so the note ends with the block (and with the transaction, at the latest).
    `holding`: every record the case has when the block starts, by kind, when the caller knows them without a read
    (it inserted the case with them, in this transaction and flushed: registration's items); they are not read."""
    unknown = set(may_hold) - {key for key, _model, _names in CASE_RECORDS} - {"confidentiality_reviews"}
    if unknown:
        raise ValueError(f"unknown case record kinds: {sorted(unknown)}")
    kinds = frozenset(may_hold)
    # Confidentiality reviews hang off items, not the case: a case that may hold them is always read.
    note = _NewCase(kinds, None if "confidentiality_reviews" in kinds else _records_held(session, case_id, kinds,
                                                                                            holding))
    session.info.setdefault(_NEW_CASES, {})[case_id] = note
    try:
        yield
    finally:
        (session.info.get(_NEW_CASES) or {}).pop(case_id, None)


def _records_held(session: Session, case_id: int, kinds: frozenset[str],
                  holding: dict[str, Iterable] | None = None) -> dict[str, dict[int, object]] | None:
    """The case's records of `kinds` as the session's objects (None when one of them is not in the session);
    `holding`: all of them, known to the caller (see `new_case_records`)."""
    session.flush()
    wanted = [(key, model) for key, model, _names in CASE_RECORDS if key in kinds]
    if not wanted:
        return {}
    if holding is not None:
        if not set(holding) <= kinds:
            raise ValueError(f"records of kinds the case may not hold: {sorted(set(holding) - kinds)}")
        known: dict[str, dict[int, object]] = {key: {} for key, _model in wanted}
        for key, records in holding.items():
            for record in records:
                if record.id is None or record.case_id != case_id:
                    return None
                known[key][record.id] = record
        return known
    ids = union_all(*(select(literal(key).label("kind"), model.id).where(model.case_id == case_id)
                      for key, model in wanted))
    held: dict[str, dict[int, object]] = {key: {} for key, _model in wanted}
    models = dict(wanted)
    for key, record_id in session.execute(ids):
        record = session.identity_map.get(identity_key(models[key], record_id))
        if record is None:
            return None
        held[key][record_id] = record
    return held


@event.listens_for(Session, "after_flush")
def _hold_new_records(session: Session, _context) -> None:
    """Records the flush wrote for a noted new case are held by its note; one deleted or moved ends the shortcut."""
    notes = session.info.get(_NEW_CASES)
    if not notes:
        return
    hold_inserted(session, session.new)
    for record in (*session.deleted, *session.dirty):
        if type(record) not in _RECORD_KIND:
            continue
        if record in session.deleted:
            touched = {inspect(record).dict.get("case_id", _UNKNOWN)}
        else:
            history = inspect(record).attrs.case_id.history
            if not history.has_changes():
                continue
            touched = {*history.deleted, *history.added} if history.deleted else {_UNKNOWN}
        for case_id, note in notes.items():
            if case_id in touched or _UNKNOWN in touched:  # a case it left or joined, or any when not known
                note.held = None


def hold_inserted(session: Session, records: Iterable) -> None:
    """Records just inserted (by a flush, or without one: `direct_insert`) for a noted new case are held by its
    note; one of a kind the case may not hold ends the shortcut."""
    notes = session.info.get(_NEW_CASES)
    if not notes:
        return
    for record in records:
        key = _RECORD_KIND.get(type(record))
        note = notes.get(getattr(record, "case_id", None)) if key else None
        if note is not None and note.held is not None:
            if key not in note.kinds:
                note.held = None
            else:
                note.held[key][record.id] = record


@event.listens_for(Session, "after_transaction_end")
def _forget_new_cases(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        session.info.pop(_NEW_CASES, None)


def _kinds_to_read(session: Session, ids: list[int]) -> set[str]:
    every = {key for key, _model, _names in CASE_RECORDS} | {"confidentiality_reviews"}
    new = session.info.get(_NEW_CASES) or {}
    if not ids or any(case_id not in new for case_id in ids):
        return every
    return set().union(*(new[case_id].kinds for case_id in ids))


def _state_held(session: Session, case_id: int) -> dict | None:
    """The state of a noted new case from the session's objects, or None when it must be read."""
    note = (session.info.get(_NEW_CASES) or {}).get(case_id)
    if note is None or note.held is None:
        return None
    session.flush()
    if note.held is None:  # the flush deleted or moved one of its records
        return None
    case = session.identity_map.get(identity_key(Case, case_id))
    if case is None:
        return None
    applicant = case.applicant
    entry = {"case": _row(getattr(case, name) for name in CASE_FIELDS),
             "applicant": _row(getattr(applicant, name) for name in APPLICANT_FIELDS)}
    for key, _model, names in CASE_RECORDS:
        held = note.held.get(key) or {}
        entry[key] = [_row(getattr(held[record_id], name) for name in names) for record_id in sorted(held)]
    entry["confidentiality_reviews"] = []
    return entry


def _plain(value):
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _row(values: Iterable) -> list:
    return [_plain(v) for v in values]


def case_state_digests(session: Session, case_ids: list[int]) -> dict[int, str]:
    """SHA-256 of each listed case's material state (cases that do not exist are absent from the result)."""
    return {case_id: state_digest(entry) for case_id, entry in case_states(session, case_ids).items()}


def case_states(session: Session, case_ids: list[int]) -> dict[int, dict]:
    """Each listed case's material state as read now, the plain data its digest is the hash of (`state_digest`):
    a writer that still has to change a value before the state is final (registration's number, taken last) can
    patch it with `patch_case_state` and hash it then."""
    if not case_ids:
        return {}
    ids = sorted(set(case_ids))
    if len(ids) == 1 and (held := _state_held(session, ids[0])) is not None:
        return {ids[0]: held}
    state: dict[int, dict] = {}
    conn = session.connection()  # Core rows: the ORM's row processing would double the cost of a verify run
    wanted = {"ids": ids}
    n = len(CASE_FIELDS)
    for row in conn.execute(_CASES_WITH_APPLICANTS, wanted):
        state[row[0]] = {"case": _row(row[:n]), "applicant": _row(row[n:])}
    item_case: dict[int, int] = {}
    kinds = _kinds_to_read(session, ids)
    for key, model, _names in CASE_RECORDS:
        records: dict[int, list] = defaultdict(list)
        if key in kinds:
            for row in conn.execute(_RECORDS_OF_CASES[key], wanted):
                records[row[0]].append(_row(row[1:]))
                if model is CaseItem:
                    item_case[row[1]] = row[0]
        for case_id, entry in state.items():
            entry[key] = records.get(case_id, [])
    reviews: dict[int, list] = defaultdict(list)
    if item_case and "confidentiality_reviews" in kinds:
        for row in conn.execute(_REVIEWS_OF_CASES, wanted):
            reviews[item_case[row[0]]].append(_row(row))
    for case_id, entry in state.items():
        entry["confidentiality_reviews"] = reviews.get(case_id, [])
    return state


# The statements `case_states` runs, built once: every action on a case reads its state (eleven statements), and
# building them anew cost more than running them — SQLAlchemy keys, then adapts its cached compilation to each new
# object (a tenth of a letter render job's CPU, more of a small action's).
_IDS = bindparam("ids", expanding=True)
_CASES_WITH_APPLICANTS = (select(*(getattr(Case, name) for name in CASE_FIELDS),
                                 *(getattr(Applicant, name) for name in APPLICANT_FIELDS))
                          .join(Applicant, Applicant.id == Case.applicant_id).where(Case.id.in_(_IDS)))
_RECORDS_OF_CASES = {key: select(model.case_id, *(getattr(model, name) for name in names))
                     .where(model.case_id.in_(_IDS)).order_by(model.id)
                     for key, model, names in CASE_RECORDS}
_REVIEWS_OF_CASES = (select(ConfidentialityReview.item_id, ConfidentialityReview.id,
                            ConfidentialityReview.reviewer_id, ConfidentialityReview.reviewed_on,
                            ConfidentialityReview.conclusion, ConfidentialityReview.basis)
                     .join(CaseItem, CaseItem.id == ConfidentialityReview.item_id)
                     .where(CaseItem.case_id.in_(_IDS)).order_by(ConfidentialityReview.id))


def patch_case_state(entry: dict, **values) -> dict:
    """The state `entry` with the case row's `values` (CASE_FIELDS names) replaced, as a read after the same
    UPDATE would give it."""
    row = list(entry["case"])
    for name, value in values.items():
        row[CASE_FIELDS.index(name)] = _plain(value)
    return {**entry, "case": row}


def state_digest(entry: dict) -> str:
    """The digest of a state as `case_states` gives it."""
    return _digest(entry)


def _digest(entry: dict) -> str:
    canonical = json.dumps(entry, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def state_digest_of(case: Iterable, applicant: Iterable, records: dict[str, list[Iterable]]) -> str:
    """The digest `case_state_digests` gives a case whose values (in CASE_FIELDS and APPLICANT_FIELDS order) and
    records (per CASE_RECORDS key, in its column order, in id order) are these, without reading them back: for
    writers of many cases at once (the ledger import)."""
    entry = {key: [] for key, _model, _names in CASE_RECORDS}
    entry["confidentiality_reviews"] = []
    for key, rows in records.items():
        entry[key] = [_row(row) for row in rows]
    entry["case"], entry["applicant"] = _row(case), _row(applicant)
    return _digest(entry)


def case_state_digest(session: Session, case_id: int) -> str | None:
    """The digest of one case's current state (None if the case does not exist)."""
    return case_state_digests(session, [case_id]).get(case_id)
