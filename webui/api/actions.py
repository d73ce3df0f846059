"""`POST /cases/{id}/actions/{action}`: every workflow action of the chart (engine.rules.workflow.ACTIONS) plus
record_exemption, each with its own body model and the case version (optimistic lock), mapped to one service."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from engine import services
from engine.errors import NotFound
from engine.persistence.models import Agency
from engine.rules.workflow import ACTIONS, authorize_role
from webui.api import bp, context, rules
from webui.api import schemas as s
from webui.api.cases import case_view, load, respond
from webui.api.idempotency import idempotent
from webui.api.openapi import Operation, declare

TAG = "办理操作"


@dataclass(frozen=True)
class ActionSpec:
    body: type[s.ActionIn]
    perform: Callable  # (case_id, body, actor, today) -> dict of created record ids
    statute: str = ""


def _kw(body: s.ActionIn, *names: str) -> dict:
    return {name: getattr(body, name) for name in names}


def _created(result, name: str | None) -> dict:
    """Ids of what the action created: its record under `name`, and the last letter it issued."""
    created = {name: result.record.id} if name and result.record is not None else {}
    if result.letters:
        created["letter_id"] = result.letters[-1].id
    return created


def _call(service, *names: str, created: str | None = None, renderer: bool = False, **fixed):
    def perform(case_id, body, actor, today):
        extra = {"renderer": context.renderer(context.session().get(Agency, actor.agency_id))} if renderer else {}
        result = service(context.session(), case_id, **_kw(body, *names), **extra, **fixed, actor=actor,
                         today=today, version=body.version)
        return _created(result, created) if isinstance(result, services.ActionResult) else {}

    return perform


def _record_decision(case_id, body: s.DecisionIn, actor, today):
    decisions = [services.ItemDecision(**d.model_dump()) for d in body.decisions]
    services.record_decision(context.session(), case_id, decisions=decisions, actor=actor, today=today,
                             version=body.version)
    return {}


def _record_exemption(case_id, body: s.ExemptionIn, actor, today):
    fields = body.model_dump(exclude={"version", "item_id"})
    record = services.record_exemption(context.session(), case_id, item_id=body.item_id,
                                       form=services.ExemptionForm(**fields), actor=actor, today=today,
                                       version=body.version)
    return {"record_id": record.id}


def _record_challenge(case_id, body: s.ChallengeIn, actor, today):
    load(case_id, body.version)  # the service takes no version (it also serves archived cases); check it here
    challenge = services.record_review_or_litigation(
        context.session(), case_id, **_kw(body, "kind", "filed_on", "result", "decided_on", "note", "challenge_id"),
        actor=actor, today=today)
    return {"challenge_id": challenge.id}


ACTION_SPECS: dict[str, ActionSpec] = {
    "confirm_receipt": ActionSpec(s.ConfirmReceiptIn, _call(services.confirm_receipt, "confirmed_on", "late_reason",
                                                            renderer=True, render_later=True), "条例第三十一条"),
    "request_supplement": ActionSpec(s.RequestSupplementIn,
                                     _call(services.request_supplement, "items", "period_working_days", renderer=True),
                                     "条例第三十条"),
    "receive_supplement": ActionSpec(s.ReceiveSupplementIn, _call(services.receive_supplement, "received_on"),
                                     "条例第三十条"),
    "close_lapsed_supplement": ActionSpec(
        s.ActionIn, _call(services.close_lapsed, renderer=True, action="close_lapsed_supplement"), "条例第三十条"),
    "accept": ActionSpec(s.AssignIn, _call(services.accept, "department_id", "handler_id")),
    "assign": ActionSpec(s.AssignIn, _call(services.assign, "department_id", "handler_id")),
    "open_consultation": ActionSpec(
        s.OpenConsultationIn, _call(services.open_consultation, "kind", "party_name", "party_contact", "subject",
                                    "sent_on", "item_seqs", "party_is_person", created="consultation_id", renderer=True),
        "条例第三十二条、第三十四条"),
    "record_consultation_answer": ActionSpec(
        s.ConsultationAnswerIn, _call(services.record_consultation_answer, "consultation_id", "answer", "answered_on",
                                      "summary"), "条例第三十二条、第三十四条"),
    "issue_fee_notice": ActionSpec(
        s.FeeNoticeIn, _call(services.issue_fee_notice, "mode", "units", created="fee_id", renderer=True), "条例第四十二条、国办函〔2020〕109号"),
    "record_payment": ActionSpec(s.PaymentIn, _call(services.record_payment, "paid_on", "receipt_no", "amount_yuan"), "国办函〔2020〕109号"),
    "close_lapsed_fee": ActionSpec(
        s.ActionIn, _call(services.close_lapsed, renderer=True, action="close_lapsed_fee"), "国办函〔2020〕109号"),
    "extend": ActionSpec(s.ExtendIn, _call(services.extend, "working_days", "reason", renderer=True),
                         "条例第三十三条第二款"),
    "request_reasons": ActionSpec(
        s.RequestReasonsIn, _call(services.request_reasons, "volume_description", "period_working_days",
                                  renderer=True), "条例第三十五条"),
    "record_reasons": ActionSpec(s.RecordReasonsIn, _call(services.record_reasons, "answer", "answered_on", "summary"),
                                 "条例第三十五条"),
    "set_delayed_reply": ActionSpec(s.DelayedReplyIn, _call(services.set_delayed_reply, "new_due_on", "reason",
                                                            renderer=True), "条例第三十五条"),
    "record_decision": ActionSpec(s.DecisionIn, _record_decision, "条例第三十六条至第三十九条"),
    "record_exemption": ActionSpec(s.ExemptionIn, _record_exemption, "条例第十四条至第十六条、第三十七条"),
    "record_confidentiality_review": ActionSpec(
        s.ConfidentialityIn, _call(services.record_confidentiality_review, "item_id", "conclusion", "basis",
                                   "reviewed_on"), "条例第十七条"),
    "submit_for_review": ActionSpec(s.ActionIn, _call(services.submit_for_review)),
    "review_exemption": ActionSpec(s.ReviewExemptionIn,
                                   _call(services.review_exemption, "record_id", "confirm", "comment")),
    "return_for_revision": ActionSpec(s.CommentIn, _call(services.return_for_revision, "comment")),
    "sign": ActionSpec(s.ActionIn, _call(services.sign_reply, renderer=True)),
    "record_delivery": ActionSpec(
        s.DeliveryIn, _call(services.record_delivery, "method", "delivered_on", "tracking_no", "letter_id",
                            "returned", "note", created="delivery_id")),
    "withdraw": ActionSpec(s.WithdrawIn, _call(services.withdraw, "reason", "issue_notice", renderer=True)),
    "notify_third_party": ActionSpec(
        s.NotifyThirdPartyIn, _call(services.notify_third_party_of_disclosure, "consultation_id", "information",
                                    "reason", "disclosure_on", renderer=True),
        "条例第三十二条"),
    "archive": ActionSpec(s.ArchiveIn, _call(services.archive, "retention", "retention_reason"), "条例第四十五条"),
    "record_review_or_litigation": ActionSpec(s.ChallengeIn, _record_challenge),
}

_EXTRA_LABELS = {"record_exemption": "登记不予公开理由", "record_review_or_litigation": "登记行政复议、诉讼情况"}
assert set(ACTIONS) <= set(ACTION_SPECS), "every action of the chart has an API body"


def _label(name: str) -> str:
    return ACTIONS[name].label if name in ACTIONS else _EXTRA_LABELS[name]


def _roles(name: str) -> str:
    from engine.rules.vocabulary import ROLE_LABELS

    roles = ACTIONS[name].roles if name in ACTIONS else (("handler",) if name == "record_exemption" else (
        "clerk", "legal_reviewer", "archivist", "office_head"))
    return "、".join(ROLE_LABELS[r] for r in roles)


_RULES = {
    "record_decision": "\n\n" + rules.decision_rules(),
    "record_exemption": "\n\n" + rules.exemption_rules(),
    "submit_for_review": "\n\n提交前：每个事项都已拟定办理结果，每条理由记录要素齐全（缺少的全部一次返回）。",
    "sign": "\n\n" + rules.SIGNING_RULES,
}


def _declare_all() -> None:
    # One Flask rule serves them all; the document lists each action as its own path with its own body.
    for name, spec in ACTION_SPECS.items():
        statute = f"（{spec.statute}）" if spec.statute else ""
        declare(Operation(
            "POST", f"/cases/{{case_id}}/actions/{name}", f"action_{name}", f"{_label(name)}{statute}", TAG,
            body=spec.body, path_params=("case_id",), ok_model=s.ActionResultOut, idempotent=True,
            description=f"执行人角色：{_roles(name)}。带上案件的 version；阶段不允许或版本过期返回 409，"
                        f"依法不能执行返回 422（附原因，全部问题一次列出）。" + _RULES.get(name, "")))


_declare_all()


@context.retry_transient
@idempotent
def perform_action(case_id: int, action: str):
    spec = ACTION_SPECS.get(action)
    if spec is None:
        raise NotFound(f"没有名为「{action[:60]}」的操作；可用操作：{'、'.join(ACTION_SPECS)}")
    user, today = context.actor(), context.today()
    # Another agency's case is 404 and a role that may not act is 403 before anything is said about the body.
    case = load(case_id)
    # (the service checks everything again as part of the action; this only decides which error comes first)
    role_check = {"record_exemption": "record_decision"}.get(action, action)
    if role_check in ACTIONS:
        authorize_role(case, user, ACTIONS[role_check].roles, ACTIONS[role_check].label)
    body = context.json_body(spec.body)
    if action == "record_decision":
        rules.check_decisions(body)
    created = spec.perform(case_id, body, user, today)
    out = s.ActionResultOut(action=action, case=case_view(load(case_id)), created=created)
    return respond(out)  # the request boundary commits (webui.db), as for the pages


# One rule serves every action; the document lists each action as its own path (above) with its own body.
bp.add_url_rule("/cases/<int:case_id>/actions/<action>", "perform_action", perform_action, methods=["POST"])
