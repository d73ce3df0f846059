"""Plain data for each letter, built from a case (the letters package renders it; the engine never imports it).

Keys follow the letters package's dataclasses (`letters/data.py`); dates are ISO strings.
"""

from __future__ import annotations

import re
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.persistence.models import Agency, Case, ExemptionRecord
from engine.rules.outcomes import OUTCOMES, REVIEW_FIRST_OPTIONAL

PLACEHOLDER_NUMBER_PREFIX = "样稿"


def delivery_way(case: Case) -> str:
    """How the letter will reach the applicant (online delivery adds the online review channel, 复议法22)."""
    wanted = case.requested_delivery or ""
    if "电子邮件" in wanted or "邮箱" in wanted:
        return "email"
    if "网" in wanted or "在线" in wanted:
        return "online"
    if "邮寄" in wanted:
        return "post"
    if "当面" in wanted or "自取" in wanted or "现场" in wanted:
        return "in_person"
    return {"online": "online", "mail": "post", "plain_letter": "post", "fax": "fax"}.get(case.channel, "in_person")


def _common(case: Case, agency: Agency, *, doc_number: str, issued_on: date) -> dict:
    return {
        "agency_name": agency.name,
        "doc_number": doc_number,
        "recipient": case.applicant.name,
        "issued_on": issued_on.isoformat(),
        "contact": agency.contact or None,
        "contact_phone": (agency.settings or {}).get("contact_phone") or None,
    }


def _request_facts(case: Case) -> dict:
    summary = "；".join(f"{i.seq}. {i.description}" if len(case.items) > 1 else i.description for i in case.items)
    return {
        "registration_number": case.reg_no,
        "received_on": (case.received_on or case.submitted_on).isoformat(),
        "request_summary": summary,
    }


def _remedies(agency: Agency) -> dict:
    also = [c for c in (agency.settings or {}).get("review_first_also") or () if c in REVIEW_FIRST_OPTIONAL]
    return {"review_body": agency.review_body, "court": agency.court,
            "online_review_channel": agency.online_review_channel or None, "review_first_also": also}


def reply_data(session: Session, case: Case, *, doc_number: str, issued_on: date) -> dict:
    """答复书 data: each item with outcome, article, concrete reason, the way to obtain or whom to ask."""
    agency = session.get(Agency, case.agency_id)
    records = session.scalars(select(ExemptionRecord).where(
        ExemptionRecord.case_id == case.id, ExemptionRecord.current.is_(True)).order_by(ExemptionRecord.id)).all()
    by_item: dict[int, list[ExemptionRecord]] = {}
    for r in records:
        by_item.setdefault(r.item_id, []).append(r)
    items = []
    for item in case.items:
        outcome = OUTCOMES[item.outcome]
        recs = by_item.get(item.id, [])
        citations = [outcome.article]
        reason_parts = [item.reason] if item.reason else []
        withheld_scope = None
        search_record = None
        if item.outcome == "PARTIAL":
            citations += [r.article for r in recs]
            withheld_scope = "；".join(f"{r.scope}（{r.facts}）" for r in recs) or None
        elif item.outcome == "NOT_HELD":
            search_record = "；".join(r.search_record for r in recs) or None
            reason_parts += [r.facts for r in recs]
        elif recs:
            reason_parts += [r.facts for r in recs]
            citations += [r.law_citation for r in recs if r.law_citation]
        items.append({
            "subject": item.description,
            "outcome": item.outcome,
            "outcome_label": outcome.letter_wording,
            "basis": merge_citations(citations),
            # No reason typed (予以公开 needs none): the conclusion alone, never the conclusion twice.
            "reason": "；".join(dict.fromkeys(p.strip().rstrip("。；") for p in reason_parts if p.strip())) or None,
            "how_to_obtain": item.how_to_obtain or None,
            "referral_agency": item.referral_agency or None,
            "referral_contact": item.referral_contact or None,
            "referral_unknown_reason": item.referral_unknown_reason or None,
            "withheld_scope": withheld_scope,
            "search_record": search_record,
            "earlier_reply_number": item.earlier_reply_number or None,
        })
    return {
        **_common(case, agency, doc_number=doc_number, issued_on=issued_on),
        **_request_facts(case),
        "supplement_received_on": case.supplement_received_on.isoformat() if case.supplement_received_on else None,
        "items": items,
        "remedies": _remedies(agency),
        "delivery": delivery_way(case),
        "attachments": [],
    }


_STATUTE = re.compile(r"^(《[^》]+》)(.*)$")


def merge_citations(citations: list[str]) -> str:
    """Citations with each statute named once: ["《条例》第三十七条", "《条例》第十五条"] →
    "《条例》第三十七条、第十五条"; another statute follows with "和"."""
    groups: dict[str, list[str]] = {}
    for citation in citations:
        for part in filter(None, (p.strip() for p in re.split(r"[；;]", citation or ""))):
            match = _STATUTE.match(part)
            statute, articles = (match.group(1), match.group(2)) if match else ("", part)
            if not match and groups:
                statute = next(reversed(groups))  # an article without a statute continues the last one
            bucket = groups.setdefault(statute, [])
            for article in filter(None, (a.strip() for a in articles.split("、"))):
                if article not in bucket:
                    bucket.append(article)
    return "和".join(f"{statute}{'、'.join(articles)}" for statute, articles in groups.items())


def receipt_data(case: Case, agency: Agency, *, query_code: str, issued_on: date) -> dict:
    return {
        **_common(case, agency, doc_number=None, issued_on=issued_on),
        **_request_facts(case),
        "channel": {"in_person": "当面提交", "mail": "邮寄", "plain_letter": "平常信函", "online": "网络",
                    "fax": "传真"}[case.channel],
        "query_code": query_code,
        "reply_due_on": case.due_on.isoformat() if case.due_on else None,
    }


def supplement_notice_data(case: Case, agency: Agency, *, doc_number: str, issued_on: date) -> dict:
    return {
        **_common(case, agency, doc_number=doc_number, issued_on=issued_on),
        **_request_facts(case),
        "items": list(case.supplement_items),
        "period_working_days": case.supplement_period_working_days,
        "submit_to": agency.address or None,
    }


def extension_notice_data(case: Case, agency: Agency, *, original_due_on: date, doc_number: str,
                          issued_on: date) -> dict:
    return {
        **_common(case, agency, doc_number=doc_number, issued_on=issued_on),
        **_request_facts(case),
        "original_due_on": original_due_on.isoformat(),
        "new_due_on": case.due_on.isoformat(),
        "extension_working_days": case.extension_working_days,
        "reason": case.extension_reason or None,
    }


def termination_notice_data(case: Case, agency: Agency, *, doc_number: str, issued_on: date,
                            earlier_notice_number: str | None = None) -> dict:
    code = case.report_outcome
    deadline = None
    if code == "LAPSED_SUPPLEMENT":
        deadline = case.supplement_due_on
    elif code == "LAPSED_FEE" and case.fees:
        deadline = case.fees[-1].pay_by_on
    return {
        **_common(case, agency, doc_number=doc_number, issued_on=issued_on),
        **_request_facts(case),
        "reason_code": code,
        "basis": OUTCOMES[code].article or None,
        "earlier_notice_number": earlier_notice_number,
        "deadline_on": deadline.isoformat() if deadline else None,
        "detail": case.closed_reason or OUTCOMES[code].letter_wording,
        "remedies": _remedies(agency),
        "delivery": delivery_way(case),
    }


def fee_notice_data(case: Case, agency: Agency, *, doc_number: str, issued_on: date, payment_method: str,
                    earlier_this_month: int = 0) -> dict:
    fee = case.fees[-1]
    per_application = fee.mode == "PER_APPLICATION"
    unit = "件" if per_application else "页"
    tiers = [{"tier": f"第{b['first']}—{b['last']}{unit}", "quantity": b["last"] - b["first"] + 1,
              "unit_price_yuan": f"{b['unit_price_yuan']}.00", "subtotal_yuan": f"{b['amount_yuan']}.00"}
             for b in fee.breakdown]
    received = case.received_on or case.submitted_on
    if per_application:
        last = earlier_this_month + fee.units
        position = f"第{last}件" if fee.units == 1 else f"第{earlier_this_month + 1}—{last}件"
        count = f"你（单位）于{received.year}年{received.month}月向本机关提出的政府信息公开申请，本件为当月{position}"
    else:
        count = f"本机关向你（单位）提供的政府信息共计{fee.units}页"
    return {
        **_common(case, agency, doc_number=doc_number, issued_on=issued_on),
        **_request_facts(case),
        "mode": "per_application" if per_application else "per_page",
        "count_description": count,
        "tiers": tiers,
        "amount_yuan": f"{fee.amount_yuan}.00",
        "payment_method": payment_method,
    }


def consultation_data(case: Case, agency: Agency, consultation, *, doc_number: str, issued_on: date) -> dict:
    """征求意见书: to a third party (条例32: 15 WD from its receipt, silence lets the agency decide) or a co-author
    agency (条例34: 15 WD, silence is consent). The recipient is the consulted party, not the applicant; the
    letter quotes only the items that concern it."""
    concerned = [i for i in case.items if i.seq in (consultation.item_seqs or [])] or list(case.items)
    quoted = "；".join(f"“{i.description}”" for i in concerned)
    common = {
        **_common(case, agency, doc_number=doc_number, issued_on=issued_on),
        **_request_facts(case),
        "recipient": consultation.party_name,
        "information": consultation.subject or quoted,
    }
    if consultation.kind == "AGENCY":
        return common
    you = "你" if consultation.party_is_person else "贵单位"
    return {**common,
            "addressee_kind": "person" if consultation.party_is_person else "organisation",
            "concern": f"上述信息可能涉及{you}的商业秘密、个人隐私等合法权益，公开可能对{you}的合法权益造成损害",
            "answer_to": f"以书面形式送交本机关（{agency.address}）" if agency.address else None}


def consultation_notice_data(case: Case, agency: Agency, consultation, *, doc_number: str, issued_on: date) -> dict:
    """征求意见告知书 to the applicant (条例33③): the consultation, its reason and that its time is not counted."""
    return {
        **_common(case, agency, doc_number=doc_number, issued_on=issued_on),
        **_request_facts(case),
        "consultation_kind": "agency" if consultation.kind == "AGENCY" else "third_party",
        "sent_on": consultation.sent_on.isoformat(),
    }


def consultation_letter_type(consultation) -> str:
    return "agency_consultation" if consultation.kind == "AGENCY" else "third_party_consultation"


def third_party_disclosure_notice_data(case: Case, agency: Agency, consultation, *, information: str, reason: str,
                                       disclosure_on: date | None, doc_number: str, issued_on: date) -> dict:
    """公开决定告知书 (条例32末句): to a third party that objected — what will be disclosed, why, and its remedies."""
    return {
        **_common(case, agency, doc_number=doc_number, issued_on=issued_on),
        **_request_facts(case),
        "recipient": consultation.party_name,
        "information": information,
        "third_party_opinion": consultation.answer_summary or "不同意公开",
        "reason": reason,
        "disclosure_on": disclosure_on.isoformat() if disclosure_on else None,
        "remedies": _remedies(agency),
        "delivery": "post",
    }


def reason_request_data(case: Case, agency: Agency, *, volume_description: str, doc_number: str,
                        issued_on: date) -> dict:
    """说明理由告知书 (条例35): what exceeds a reasonable range, and the period from its receipt."""
    return {
        **_common(case, agency, doc_number=doc_number, issued_on=issued_on),
        **_request_facts(case),
        "volume_description": volume_description,
        "period_working_days": case.reason_period_working_days,
    }


def delay_notice_data(case: Case, agency: Agency, *, doc_number: str, issued_on: date) -> dict:
    """延迟答复告知书 (条例35): the reasons accepted, the later reasonable deadline."""
    return {
        **_common(case, agency, doc_number=doc_number, issued_on=issued_on),
        **_request_facts(case),
        "reason": case.delay_reason,
        "new_due_on": case.delay_due_on.isoformat(),
    }
