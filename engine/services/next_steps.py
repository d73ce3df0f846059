"""The facts the dashboard's next-step rule reads, for the cases shown, in a fixed number of queries.

Everything is batched by case id (at most three queries whatever the number of rows), so a list of 50 tasks costs the
same on a thousand cases as on a million. Letters waiting for delivery are their own list: any issued notice
(not the 登记回执) with no delivery recorded, or only returned ones, that no later letter superseded.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from sqlalchemy import exists, func, select, text
from sqlalchemy.orm import Session, aliased

from engine.persistence.models import AWAITING_DELIVERY, Case, Consultation, Delivery, Fee, Letter
from engine.rules.next_step import LETTERS_TO_DELIVER, CaseFacts, OpenConsultation, PendingLetter

# A case's letters still waiting: no delivery that arrived, and not superseded by a correction.
_later = aliased(Letter)


def _waiting_for_delivery():
    return (Letter.letter_type.in_(LETTERS_TO_DELIVER),
            ~exists().where(Delivery.letter_id == Letter.id, Delivery.returned.is_(False)),
            # The superseding letter's id, not `*`: SQLite's statistics see supersedes_id as one value (NULL) in every
            # row and, for a `SELECT *`, would scan all letters per letter; the id comes with its index.
            ~select(_later.id).where(_later.supersedes_id == Letter.id).exists())


def case_facts(session: Session, cases: list[Case]) -> dict[int, CaseFacts]:
    """The next-step facts of each of `cases`, keyed by case id."""
    ids = [c.id for c in cases]
    if not ids:
        return {}
    undelivered: dict[int, list[PendingLetter]] = defaultdict(list)
    for row in session.execute(select(Letter.case_id, Letter.id, Letter.letter_type, Letter.doc_number,
                                      Letter.issued_on)
                               .where(Letter.case_id.in_(ids), *_waiting_for_delivery())
                               .order_by(Letter.issued_on, Letter.id)):
        undelivered[row.case_id].append(PendingLetter(row.id, row.letter_type, row.doc_number, row.issued_on))
    # Consultations and fees matter only in their stages: asked for those rows alone, and not at all without them.
    consulting: dict[int, list[OpenConsultation]] = defaultdict(list)
    consulting_ids = [c.id for c in cases if c.stage == "consulting"]
    if consulting_ids:
        for row in session.execute(select(Consultation.case_id, Consultation.party_name, Consultation.answer_due_on)
                                   .where(Consultation.case_id.in_(consulting_ids),
                                          Consultation.answered_on.is_(None))):
            consulting[row.case_id].append(OpenConsultation(row.party_name, row.answer_due_on))
    pay_by: dict[int, date | None] = {}
    fee_ids = [c.id for c in cases if c.stage == "awaiting_fee"]
    if fee_ids:
        for row in session.execute(select(Fee.case_id, Fee.pay_by_on).where(Fee.case_id.in_(fee_ids),
                                                                           Fee.paid_on.is_(None)).order_by(Fee.id)):
            pay_by[row.case_id] = row.pay_by_on
    return {c.id: CaseFacts(
        stage=c.stage, channel=c.channel, submitted_on=c.submitted_on, received_on=c.received_on, due_on=c.due_on,
        supplement_requested_on=c.supplement_requested_on, supplement_received_on=c.supplement_received_on,
        supplement_due_on=c.supplement_due_on, fee_pay_by_on=pay_by.get(c.id),
        extension_working_days=c.extension_working_days, finished_on=c.finished_on,
        undelivered=tuple(undelivered[c.id]), open_consultations=tuple(consulting[c.id])) for c in cases}


@dataclass(frozen=True)
class LetterToDeliver:
    case_id: int
    reg_no: str
    letter: PendingLetter


COUNT_CAP = 1000    # the dashboard counts waiting letters up to here and says 「1000+」 beyond


def letters_to_deliver(session: Session, agency_id: int, limit: int) -> tuple[list[LetterToDeliver], int, bool]:
    """The agency's issued letters with no delivery recorded, oldest first (at most `limit`), how many there are
    up to COUNT_CAP, and whether there are more than that (counting them all would read every letter ever issued).

    One walk of the letters still waiting (their partial index, oldest first) gives both the list and the count:
    a count of its own, unordered, let the planner hash the agency's every case to join them."""
    # The flag (cleared by a delivery that arrived and by archiving) and the type as the partial index states
    # them, so the planner, SQLite's above all, reads only the letters still waiting from it. Asked again whether
    # the case is archived, the planner would count that twice and expect too few letters to stop early.
    indexed = text(AWAITING_DELIVERY[session.get_bind().dialect.name])
    walk = (select(Letter.case_id, Case.reg_no, Letter.id, Letter.letter_type, Letter.doc_number, Letter.issued_on)
            .join(Case, Case.id == Letter.case_id)
            .where(indexed, Case.agency_id == agency_id, *_waiting_for_delivery())
            .order_by(Letter.issued_on, Letter.id).limit(max(limit, COUNT_CAP + 1)).subquery())
    # The walk's rows are counted where they are (a window over the capped walk), and only the first `limit` of
    # them come back: not a thousand rows sent and made into objects for their number.
    rows = session.execute(select(walk, func.count().over().label("walked"))
                           .order_by(walk.c.issued_on, walk.c.id).limit(max(limit, 1))).all()
    walked = rows[0].walked if rows else 0  # one row at least, so that `limit=0` still counts
    return [LetterToDeliver(r.case_id, r.reg_no, PendingLetter(r.id, r.letter_type, r.doc_number, r.issued_on))
            for r in rows[:limit]], min(walked, COUNT_CAP), walked > COUNT_CAP
