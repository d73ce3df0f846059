"""Building blocks for integration tests: register a request and walk it to a given stage."""

from __future__ import annotations

from datetime import date

from engine import services
from engine.services import ApplicantForm, ExemptionForm, ItemDecision, RegistrationForm
from letters.assets import default_assets
from webui.letters_adapter import render_with


def sql_statements(session, action) -> list[str]:
    """The SQL statements `action()` sends on the session's connection, in order."""
    from sqlalchemy import event

    seen = []

    def note(_conn, _cursor, statement, *_args):
        seen.append(statement)

    bind = session.connection()
    event.listen(bind, "before_cursor_execute", note)
    try:
        action()
    finally:
        event.remove(bind, "before_cursor_execute", note)
    return seen


# The renderer the web, API and CLI inject: the default fonts, signing with the agency's key when it has one.
render = render_with(default_assets())


def registration(*, submitted_on: date, channel: str = "in_person", items=None, name: str = "张三",
                 id_number: str = "11010519491231002X", kind: str = "NATURAL", **kw) -> RegistrationForm:
    return RegistrationForm(
        applicant=ApplicantForm(kind=kind, name=name, id_type="居民身份证", id_number=id_number,
                                phone="13800000000", address="测试市解放路2号"),
        channel=channel, submitted_on=submitted_on,
        items=items or [("2025年度城区老旧小区改造项目的批复文件", "城乡规划")],
        requested_form="纸质", requested_delivery="邮寄", **kw)


def register(session, users, today, **kw):
    registered = services.register_request(session, registration(submitted_on=kw.pop("submitted_on", today), **kw),
                                           renderer=render, actor=users["clerk"], today=today)
    case, code = registered.case, registered.query_code
    session.commit()
    return case, code


def accept(session, users, case, today):
    dept = case.agency  # noqa: F841 - loads the agency
    from sqlalchemy import select

    from engine.persistence.models import Department

    dept = session.scalar(select(Department).where(Department.agency_id == case.agency_id))
    services.accept(session, case.id, department_id=dept.id, handler_id=users["handler"].id,
                    actor=users["clerk"], today=today)
    session.commit()


PARTIAL_EXEMPTION = ExemptionForm(
    ground="WITHHELD_THIRD_PARTY",
    facts="批复附件中列有拆迁户的姓名、身份证号和补偿金额，属于个人隐私，公开会损害其合法权益",
    scope="批复附件二第3—5页“被征收人名单”中的姓名、身份证号码和补偿金额栏",
    no_consultation_reason="所涉为身份证号码等个人敏感信息，依法不应公开，无需征求意见",
    public_interest="删除个人信息后的批复正文已足以满足公众监督需要，不公开上述个人信息不会对公共利益造成重大影响",
)


def decide_partial(session, users, case, today):
    item = case.items[0]
    services.record_decision(session, case.id, decisions=[ItemDecision(
        item_id=item.id, outcome="PARTIAL", reason="批复正文予以公开，附件中的个人信息不予公开",
        how_to_obtain="随本答复书邮寄批复文件复印件（已作区分处理）")], actor=users["handler"], today=today)
    services.record_exemption(session, case.id, item_id=item.id, form=PARTIAL_EXEMPTION, actor=users["handler"],
                              today=today)
    services.record_confidentiality_review(session, case.id, item_id=item.id, conclusion="CLEARED_AFTER_REDACTION",
                                           basis="删除个人信息后不涉及国家秘密", reviewed_on=today,
                                           actor=users["handler"], today=today)
    session.commit()


def decide_disclosed(session, users, case, today):
    for item in case.items:
        services.record_decision(session, case.id, decisions=[ItemDecision(
            item_id=item.id, outcome="DISCLOSED", how_to_obtain="随本答复书邮寄文件复印件")],
            actor=users["handler"], today=today)
        services.record_confidentiality_review(session, case.id, item_id=item.id, conclusion="NOT_SECRET",
                                               reviewed_on=today, actor=users["handler"], today=today)
    session.commit()


def review_and_sign(session, users, case, today):
    from sqlalchemy import select

    from engine.persistence.models import ExemptionRecord

    services.submit_for_review(session, case.id, actor=users["handler"], today=today)
    for record in session.scalars(select(ExemptionRecord).where(ExemptionRecord.case_id == case.id,
                                                                ExemptionRecord.current.is_(True))):
        services.review_exemption(session, case.id, record_id=record.id, confirm=True,
                                  actor=users["legal_reviewer"], today=today)
    letter = services.sign_reply(session, case.id, renderer=render, actor=users["legal_reviewer"], today=today).letter
    session.commit()
    return letter


def deliver(session, users, case, letter, day, *, method: str = "POST"):
    """Record that `letter` reached its addressee on `day` (a notice's period runs from then)."""
    return services.record_delivery(session, case.id, method=method, delivered_on=day, letter_id=letter.id,
                                    actor=users["clerk"], today=day).record


def migrate_again_from(db_url: str, revision: str) -> None:
    """Run the migrations after `revision` again on the test database (its sessions closed first), leaving the
    schema whole for the next test whatever happened."""
    from engine.persistence import db as dbmod

    dbmod.downgrade(db_url, revision)
    try:
        dbmod.upgrade(db_url)
    finally:
        dbmod.upgrade(db_url)
