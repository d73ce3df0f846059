"""`direct_read.core_rows`: the lookups every registration makes read Core rows, and see what the transaction has not
written yet as a query would (a flush first), without a flush when it holds nothing of theirs."""

from __future__ import annotations

from datetime import UTC, datetime

from engine.persistence.models import LetterWording, PublishedReport, WebhookEndpoint
from engine.services.letter_wording import letter_wording
from engine.services.period_lock import locked_years
from engine.services.webhooks import _targets

from .helpers_cases import sql_statements

NOW = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


def _report(agency, users, year: int) -> PublishedReport:
    return PublishedReport(agency_id=agency.id, year=year, figures={}, published_by_id=users["admin"].id,
                           published_at=NOW)


def test_a_published_year_the_transaction_has_not_written_yet_is_locked_as_a_query_would_see_it(session, agency,
                                                                                             users):
    assert locked_years(session, agency.id, [2025]) == set()
    session.add(_report(agency, users, 2025))
    assert locked_years(session, agency.id, [2024, 2025]) == {2025}
    assert locked_years(session, agency.id) == {2025}


def test_without_autoflush_the_unwritten_year_is_not_read_as_with_the_orm(session, agency, users):
    with session.no_autoflush:
        session.add(_report(agency, users, 2024))
        assert locked_years(session, agency.id, [2024]) == set()
    assert locked_years(session, agency.id, [2024]) == {2024}


def test_a_lookup_with_nothing_of_its_own_unwritten_sends_one_statement_and_flushes_nothing(session, agency, users):
    session.flush()
    statements = sql_statements(session, lambda: locked_years(session, agency.id, [2026]))
    assert len(statements) == 1 and statements[0].lstrip().upper().startswith("SELECT")
    unrelated = LetterWording(agency_id=agency.id, letter_type="reply", version=1, slots={}, active=False,
                              created_at=NOW)
    session.add(unrelated)  # not what the lookup reads: it is left for a later flush
    statements = sql_statements(session, lambda: locked_years(session, agency.id, [2026]))
    assert len(statements) == 1 and unrelated in session.new


def test_the_active_wording_is_read_as_the_transaction_left_it(session, agency, users):
    assert letter_wording(session, agency.id, "receipt") is None
    first = LetterWording(agency_id=agency.id, letter_type="receipt", version=1, slots={"closing": "此致"},
                          active=True, created_at=NOW)
    session.add(first)
    assert letter_wording(session, agency.id, "receipt") == {"version": 1, "slots": {"closing": "此致"}}
    session.flush()
    first.active = False  # changed, not written
    assert letter_wording(session, agency.id, "receipt") is None


def test_webhook_targets_are_read_again_after_an_endpoint_the_transaction_changes(session, agency, users):
    assert _targets(session, agency.id) == []
    endpoint = WebhookEndpoint(agency_id=agency.id, url="https://example.org/hook", secret="s" * 32,
                               events=["case.registered"], description="", active=True,
                               created_by_id=users["admin"].id, created_at=NOW)
    session.add(endpoint)
    targets = _targets(session, agency.id)
    assert [(t.id, t.events) for t in targets] == [(endpoint.id, ["case.registered"])]
    endpoint.active = False
    assert _targets(session, agency.id) == []



def test_the_signing_identity_is_the_key_the_transaction_left_active(session, agency, users):
    from engine.services.signing_keys import active_signing_key, signing_request

    now = datetime.now(UTC)
    key = active_signing_key(session, agency.id)
    row, request = signing_request(session, agency, users["clerk"], signs_reply=False, now=now, today=now.date())
    assert (row.id, row.fingerprint_sha256) == (key.id, key.fingerprint_sha256)
    assert request.certificate_der == key.certificate_der and request.private_key_der
    key.retired_at = now  # retired, not written yet
    assert signing_request(session, agency, users["clerk"], signs_reply=False, now=now, today=now.date()) is None
