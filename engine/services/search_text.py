"""Keeping a case's searchable text current: at registration and whenever a numbered letter is issued."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.persistence.models import Case, Letter
from engine.rules.search import case_search_text


def refresh_search_text(session: Session, case: Case, *, letters: list[Letter] | None = None) -> None:
    """Rebuild `case.search_text` from the applicant, the registration number, the items and the letters'
    numbers (the database keeps its index — pg_trgm or SQLite FTS5 — in step by itself). `letters`: every letter
    of the case, when the caller holds them all (a case registered in this transaction), so none is read."""
    text = search_text_of(session, case, letters=letters)
    if case.search_text != text:
        case.search_text = text


def search_text_of(session: Session, case: Case, *, letters: list[Letter] | None = None) -> str:
    """What `refresh_search_text` would set, without setting it (for a writer that writes the row itself)."""
    if letters is not None:
        numbers = [letter.doc_number for letter in sorted(letters, key=lambda letter: letter.id) if letter.doc_number]
    elif case.id is not None:
        numbers = session.scalars(select(Letter.doc_number).where(Letter.case_id == case.id, Letter.doc_number != "")
                                  .order_by(Letter.id)).all()
    else:
        numbers = []
    a = case.applicant
    return case_search_text(applicant_name=a.name, id_number=a.id_number, phone=a.phone,
                            contact_person=a.contact_person, email=a.email, reg_no=case.reg_no,
                            items=[i.description for i in case.items], letter_numbers=numbers)
