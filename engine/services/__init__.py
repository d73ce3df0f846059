"""Use cases, one function per action: explicit session, actor and `today`; each does all of its action — checks,
state, clock, audit event and the letter(s) the law requires (renderer injected) — flushes and never commits."""

# Subscribers of case events, registered whenever any action can run (every channel imports this package).
from engine.services import webhooks  # noqa: E402,F401,I001  (subscribes to case events on import)
from engine.services.closing import close_lapsed, withdraw
from engine.services.common import ActionResult, load_case
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
from engine.services.handling import (
    accept,
    assign,
    earlier_applications_this_month,
    extend,
    issue_fee_notice,
    open_consultation,
    receive_supplement,
    record_consultation_answer,
    record_payment,
    request_supplement,
)
from engine.services.issuing import LetterRenderer
from engine.services.reasons import record_reasons, request_reasons, set_delayed_reply
from engine.services.registration import (
    ApplicantForm,
    RegistrationForm,
    confirm_receipt,
    find_possible_duplicates,
    register_request,
    registration_problems,
    renew_query_code,
    reveal_applicant,
    update_applicant,
)
from engine.services.reply import (
    archive,
    may_record_delivery,
    notify_third_party_of_disclosure,
    preview_reply,
    record_delivery,
    record_review_or_litigation,
    sign_reply,
    supersede_letter,
)
from engine.services.uploads import UploadedFile, upload_file

__all__ = [
    "ActionResult", "ApplicantForm", "RegistrationForm", "ExemptionForm", "ItemDecision", "LetterRenderer",
    "UploadedFile",
    "accept", "archive", "assign", "earlier_applications_this_month", "close_lapsed", "confirm_receipt", "extend", "find_possible_duplicates",
    "issue_fee_notice", "load_case", "may_record_delivery", "notify_third_party_of_disclosure",
    "open_consultation", "preview_reply", "receive_supplement", "record_confidentiality_review",
    "record_consultation_answer", "record_decision", "record_delivery", "record_exemption", "record_payment",
    "record_reasons", "record_review_or_litigation", "register_request", "registration_problems", "renew_query_code", "request_reasons",
    "request_supplement", "reveal_applicant", "set_delayed_reply",
    "return_for_revision", "review_exemption", "sign_reply", "signing_problems", "submit_for_review",
    "supersede_letter", "update_applicant", "upload_file", "withdraw",
]

# Subscribes to case events (applicant and staff messages) and registers the send and digest job kinds.
from engine.services import notifications, notify_jobs  # noqa: E402,F401
