"""The case list's search reads the search text alone, which holds the 登记编号 in its normal form, so the trigram
index of `reg_no` goes (every case written kept it for a query the search text's index answers). First the cases
whose search text correcting the applicant had cut down to the name and the request (no separator, so no
登记编号, ID number, phone or 文号) get it back, built as `engine.rules.search` builds it (issue 14)

Revision ID: search_text_alone
Revises: fewer_case_indexes
"""
import sqlalchemy as sa
from alembic import op

from engine.rules.search import SUMMARY_END, case_search_text, request_summary

revision = "search_text_alone"
down_revision = "fewer_case_indexes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    rows = bind.execute(sa.text(
        "SELECT c.id, c.reg_no, c.search_text, a.name, a.id_number, a.phone, a.contact_person, a.email "
        "FROM cases c JOIN applicants a ON a.id = c.applicant_id WHERE c.search_text NOT LIKE :separated"),
        {"separated": f"%{SUMMARY_END}%"}).all()
    ids = sa.bindparam("ids", [row[0] for row in rows], expanding=True)
    items: dict[int, list[str]] = {}
    numbers: dict[int, list[str]] = {}
    if rows:  # the items and the 文号 of just those cases, in two queries
        for case_id, description in bind.execute(sa.text(
                "SELECT case_id, description FROM case_items WHERE case_id IN :ids ORDER BY case_id, seq")
                .bindparams(ids)):
            items.setdefault(case_id, []).append(description or "")
        for case_id, doc_number in bind.execute(sa.text(
                "SELECT case_id, doc_number FROM letters WHERE case_id IN :ids AND doc_number <> '' "
                "ORDER BY case_id, id").bindparams(ids)):
            numbers.setdefault(case_id, []).append(doc_number)
    for case_id, reg_no, old, name, id_number, phone, contact, email in rows:
        text = case_search_text(applicant_name=name, id_number=id_number or "", phone=phone or "",
                                contact_person=contact or "", email=email or "", reg_no=reg_no,
                                items=items.get(case_id) or [request_summary(old or "", name)],
                                letter_numbers=numbers.get(case_id, []))
        bind.execute(sa.text("UPDATE cases SET search_text = :t WHERE id = :id"), {"t": text, "id": case_id})
    if bind.dialect.name == "postgresql":
        op.drop_index("ix_cases_reg_no_trgm", table_name="cases")


def downgrade() -> None:
    """The index comes back; the repaired search texts stay (a superset of what they were)."""
    if op.get_bind().dialect.name == "postgresql":
        op.create_index("ix_cases_reg_no_trgm", "cases", ["reg_no"], postgresql_using="gin",
                        postgresql_ops={"reg_no": "gin_trgm_ops"})
