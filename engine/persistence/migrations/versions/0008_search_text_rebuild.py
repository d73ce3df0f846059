"""Rebuild every case's search text: applicant ID number and phone, the registration number, the items and the
文号 of its letters, all in the one normal form of `engine.rules.search` (brackets 〔〕, half-width digits)

Revision ID: search_text_rebuild
Revises: 0007
"""
import sqlalchemy as sa
from alembic import op

from engine.rules.search import case_search_text, request_summary

revision = "search_text_rebuild"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    items: dict[int, list[str]] = {}
    for case_id, description in bind.execute(sa.text("SELECT case_id, description FROM case_items ORDER BY case_id, seq")):
        items.setdefault(case_id, []).append(description or "")
    numbers: dict[int, list[str]] = {}
    for case_id, doc_number in bind.execute(sa.text(
            "SELECT case_id, doc_number FROM letters WHERE doc_number <> '' ORDER BY case_id, id")):
        numbers.setdefault(case_id, []).append(doc_number)
    rows = bind.execute(sa.text(
        "SELECT c.id, c.reg_no, c.search_text, a.name, a.id_number, a.phone, a.contact_person, a.email "
        "FROM cases c JOIN applicants a ON a.id = c.applicant_id")).all()
    for case_id, reg_no, old, name, id_number, phone, contact, email in rows:
        text = case_search_text(applicant_name=name, id_number=id_number or "", phone=phone or "",
                                contact_person=contact or "", email=email or "", reg_no=reg_no,
                                items=items.get(case_id) or [request_summary(old or "", name)],
                                letter_numbers=numbers.get(case_id, []))
        if text != old:
            bind.execute(sa.text("UPDATE cases SET search_text = :t WHERE id = :id"), {"t": text, "id": case_id})


def downgrade() -> None:
    """The rebuilt text is a superset of the old one; nothing to undo."""
