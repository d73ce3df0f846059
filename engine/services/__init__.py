"""Use cases, one function each: explicit session, actor and `today`; they flush and never commit."""

from engine.services.cases import (
    ApplicantForm,
    RegistrationForm,
    accept,
    assign,
    close_lapsed,
    confirm_receipt,
    extend,
    find_possible_duplicates,
    issue_fee_notice,
    load_case,
    open_consultation,
    receive_supplement,
    record_consultation_answer,
    record_payment,
    register_request,
    renew_query_code,
    request_supplement,
    withdraw,
)
from engine.services.decisions import (
    ExemptionForm,
    ItemDecision,
    record_confidentiality_review,
    record_decision,
    record_exemption,
    return_for_revision,
    review_exemption,
    signing_problems,
    submit_for_review,
)
from engine.services.reply import (
    LetterRenderer,
    archive,
    issue_letter,
    notify_third_party_of_disclosure,
    preview_reply,
    record_delivery,
    record_review_or_litigation,
    sign_reply,
    supersede_letter,
)

__all__ = [
    "ApplicantForm", "RegistrationForm", "ExemptionForm", "ItemDecision", "LetterRenderer",
    "accept", "archive", "assign", "close_lapsed", "confirm_receipt", "extend", "find_possible_duplicates",
    "issue_fee_notice", "issue_letter", "notify_third_party_of_disclosure", "load_case", "open_consultation", "preview_reply", "receive_supplement",
    "record_confidentiality_review", "record_consultation_answer", "record_decision", "record_delivery",
    "record_exemption", "record_payment", "record_review_or_litigation", "register_request", "renew_query_code",
    "request_supplement", "return_for_revision", "review_exemption", "sign_reply", "signing_problems",
    "submit_for_review", "supersede_letter", "withdraw",
]
