"""Notifications (issue 15) against real servers on loopback: an SMTP server (aiosmtpd; plain, STARTTLS and
implicit TLS with login) and an HTTP SMS gateway. Messages are rows written in the action's transaction and sent
by the job queue's own code paths (`work_pending`, `jobs.perform`, the embedded runner); an outage loses nothing,
the recovery sends each message exactly once, the last failure is shown on the case page."""

from __future__ import annotations

import json
import threading
import time
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import func, select, update

from engine import services
from engine.config import load_settings
from engine.persistence.models import AuditEvent, Job, Message
from engine.services import jobs
from engine.services.jobs import JobContext, JobOutput, job_kind
from engine.services.notify_jobs import write_digests
from engine.services.registration import ApplicantForm, RegistrationForm
from tests.conftest import PASSWORD
from tests.mail_servers import SmsGateway, SmtpServer, self_signed_certificate
from webui.background.runner import run_embedded, work_pending

from .helpers_cases import accept, decide_disclosed, render

MAIL_FROM = "测试市政府信息公开 <gongkai@testcity.example.cn>"
PUBLIC_URL = "https://gongkai.testcity.example.cn"


@pytest.fixture
def configure(monkeypatch):
    """Set notification settings in the environment for this test (the settings are re-read)."""
    patch = monkeypatch.context().__enter__()

    def apply(**env):
        for name, value in env.items():
            patch.setenv(name, value)
        load_settings.cache_clear()

    yield apply
    patch.undo()
    load_settings.cache_clear()


@pytest.fixture
def smtp(configure):
    server = SmtpServer().start()
    configure(GONGKAI_SMTP_URL=server.url, GONGKAI_MAIL_FROM=MAIL_FROM, GONGKAI_PUBLIC_URL=PUBLIC_URL)
    yield server
    server.stop()


@pytest.fixture
def gateway(configure):
    server = SmsGateway().start()
    configure(GONGKAI_SMS_URL=server.url, GONGKAI_SMS_FORMAT="json", GONGKAI_SMS_USER="gk", GONGKAI_SMS_PASSWORD="s3cret",
              GONGKAI_SMS_SIGNATURE="【测试市政府办】", GONGKAI_PUBLIC_URL=PUBLIC_URL,
              GONGKAI_SMS_PARAMS=json.dumps({"mobile": "{phone}", "content": "{signature}{text}", "biz": "{reg_no}"}))
    yield server
    server.stop()


def register(session, users, today, *, email: str = "zhangsan@example.cn", phone: str = "", commit: bool = True,
             render_later: bool = False):
    form = RegistrationForm(
        applicant=ApplicantForm(kind="NATURAL", name="张三", id_type="居民身份证", id_number="11010519491231002X",
                                phone=phone, email=email, address="测试市解放路2号"),
        channel="in_person", submitted_on=today, items=[("2025年度城区老旧小区改造项目的批复文件", "城乡规划")],
        requested_form="电子", requested_delivery="电子邮件")
    case = services.register_request(session, form, renderer=render, actor=users["clerk"], today=today,
                                     render_later=render_later).case
    if commit:
        session.commit()
    return case


def messages_of(session, case_id=None):
    session.expire_all()
    stmt = select(Message).order_by(Message.id)
    if case_id is not None:
        stmt = stmt.where(Message.case_id == case_id)
    return session.scalars(stmt).all()


def backoff_elapses(session) -> None:
    """The retry delay passes (time moves on for the queued jobs, nothing else changes)."""
    session.execute(update(Job).where(Job.state == "queued", Job.run_after.is_not(None))
                    .values(run_after=jobs._now() - timedelta(seconds=1)))
    session.commit()


# ---------------------------------------------------------------- e-mail to the applicant

@pytest.mark.parametrize("render_later", [False, True])
def test_the_registration_message_is_keyed_by_the_registration_event_whenever_the_number_is_taken(
        session, users, today, smtp, render_later):
    # With the receipt rendered after the commit the number is taken last, and every event of the action is written
    # before its reactions are told: the message still names the registration's own event, not the receipt's.
    case = register(session, users, today, render_later=render_later)
    [message] = messages_of(session, case.id)
    events = dict(session.execute(select(AuditEvent.action, AuditEvent.id).where(AuditEvent.case_id == case.id)).all())
    assert set(events) == {"register_request", "confirm_receipt", "issue_letter"}
    assert message.dedup_key == f"case-event:{events['register_request']}:registered:email"
    assert case.reg_no in message.subject


def test_an_applicant_with_an_email_gets_a_multipart_chinese_message_naming_the_reg_no_and_the_progress_link(
        session, users, today, db_engine, smtp):
    case = register(session, users, today)
    [message] = messages_of(session, case.id)
    assert (message.channel, message.kind, message.status, message.recipient) == \
        ("email", "registered", "queued", "zhangsan@example.cn")

    assert work_pending(db_engine) == 1
    [mail] = smtp.messages()
    assert smtp.received[0][1] == ["zhangsan@example.cn"]
    assert smtp.received[0][0] == "gongkai@testcity.example.cn"
    assert mail["Subject"] == f"您的政府信息公开申请已登记（登记编号 {case.reg_no}）"
    raw = smtp.received[0][2].decode("ascii")  # the header on the wire is RFC 2047-encoded, the body base64/QP
    assert "Subject: =?utf-8?" in raw
    assert mail["Message-ID"].startswith("<gongkai.") and mail["Message-ID"].endswith("@testcity.example.cn>")
    assert mail["Date"].datetime is not None
    assert mail.get_content_type() == "multipart/alternative"
    text = mail.get_body(("plain",)).get_content()
    html = mail.get_body(("html",)).get_content()
    link = f"{PUBLIC_URL}/progress?reg_no="
    for body in (text, html):
        assert case.reg_no in body
        assert link in body
    query = parse_qs(urlsplit(text.split("办理进度查询：")[1].split()[0]).query)
    assert query["reg_no"] == [case.reg_no]
    assert "张三：" in text and "测试市人民政府办公室" in text
    assert messages_of(session, case.id)[0].status == "sent"


def test_a_registration_rolled_back_writes_no_message_and_sends_nothing(session, users, today, db_engine, smtp):
    register(session, users, today, commit=False)
    assert len(messages_of(session)) == 1  # written in the action's transaction …
    session.rollback()
    assert messages_of(session) == []      # … and gone with it, the send job too
    assert session.scalar(select(func.count()).select_from(Job)) == 0
    assert work_pending(db_engine) == 0
    assert smtp.received == []


def test_supplement_consultation_extension_and_signature_each_tell_the_applicant(
        session, users, today, db_engine, smtp):
    case = register(session, users, today)
    services.request_supplement(session, case.id, items=["请写明批复文件的文号或作出日期"], renderer=render,
                                actor=users["clerk"], today=today)
    session.commit()
    kinds = [m.kind for m in messages_of(session, case.id)]
    assert kinds == ["registered", "supplement_requested"]
    work_pending(db_engine)
    subjects = [mail["Subject"] for mail in smtp.messages()]
    assert subjects[1] == f"请补正您的政府信息公开申请（登记编号 {case.reg_no}）"
    assert "请写明批复文件的文号或作出日期" in smtp.messages()[1].get_body(("plain",)).get_content()


def test_a_staff_action_on_a_case_without_an_applicant_address_writes_no_applicant_message(
        session, users, today, smtp):
    case = register(session, users, today, email="", phone="13800000000")
    assert messages_of(session, case.id) == []  # a phone, but no SMS gateway configured


# ---------------------------------------------------------------- outage and recovery

def test_with_the_mail_server_down_the_message_waits_with_the_error_and_goes_out_once_when_it_returns(
        session, users, today, db_engine, smtp):
    smtp.stop()
    case = register(session, users, today)
    assert work_pending(db_engine) == 1
    [message] = messages_of(session, case.id)
    assert (message.status, message.attempts) == ("queued", 1)
    assert "无法连接邮件服务器 127.0.0.1" in message.last_error
    job = session.scalar(select(Job).where(Job.kind == "send_message"))
    run_after = job.run_after if job.run_after.tzinfo else job.run_after.replace(tzinfo=jobs._now().tzinfo)
    assert job.state == "queued" and run_after > jobs._now()
    assert "秒后重试" in job.error
    assert work_pending(db_engine) == 0  # backing off: not retried at once

    backoff_elapses(session)
    assert work_pending(db_engine) == 1  # still down: a second attempt, still waiting
    assert messages_of(session, case.id)[0].attempts == 2

    smtp.start()
    assert work_pending(db_engine) == 0  # the doubled delay has not passed yet
    backoff_elapses(session)
    assert work_pending(db_engine) == 1
    [message] = messages_of(session, case.id)
    assert (message.status, message.attempts, message.last_error) == ("sent", 3, "")
    assert len(smtp.received) == 1

    # The same job handed out again (a redelivered queue entry, a worker presumed dead): nothing is sent twice.
    session.execute(update(Job).where(Job.id == job.id).values(state="queued"))
    session.commit()
    assert jobs.perform(db_engine, job.id) == "done"
    assert len(smtp.received) == 1


def test_after_the_last_attempt_the_message_is_failed_and_the_case_page_shows_the_error(
        session, users, today, db_engine, db_url, smtp):
    smtp.stop()
    case = register(session, users, today)
    session.execute(update(Job).values(max_attempts=2))
    session.commit()
    work_pending(db_engine)
    backoff_elapses(session)
    work_pending(db_engine)
    [message] = messages_of(session, case.id)
    assert (message.status, message.attempts) == ("failed", 2)
    assert session.scalar(select(Job.state).where(Job.kind == "send_message")) == "failed"

    from webui.app import create_app
    from webui.db import get_engine

    app = create_app({"DATABASE_URL": db_url, "TESTING": True, "SECRET_KEY": "t", "WTF_CSRF_ENABLED": False,
                      "GONGKAI_TODAY": today})
    client = app.test_client()
    client.post("/login", data={"username": "clerk", "password": PASSWORD})
    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    section = page.split('id="messages"')[1].split("</section>")[0]
    assert "通知记录" in page and "登记告知" in section and "发送失败" in section
    assert "无法连接邮件服务器" in section and "zhangsan@example.cn" in section
    with app.app_context():
        get_engine().dispose()


# ---------------------------------------------------------------- TLS and login

# aiosmtpd, on each connection, cannot tell that implicit TLS is encryption and warns about AUTH without TLS.
@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")
@pytest.mark.parametrize("mode", ["starttls", "tls"])
def test_mail_goes_over_tls_with_login_and_a_wrong_password_is_reported(
        mode, session, users, today, db_engine, configure, tmp_path):
    cert = self_signed_certificate(tmp_path)
    server = SmtpServer(mode=mode, login=("gongkai", "mail-pass"), cert=cert).start()
    try:
        wrong = server.url.replace("mail-pass", "wrong")
        configure(GONGKAI_SMTP_URL=wrong, GONGKAI_MAIL_FROM=MAIL_FROM)
        case = register(session, users, today)
        work_pending(db_engine)
        [message] = messages_of(session, case.id)
        assert message.status == "queued" and "邮件服务器登录失败" in message.last_error
        assert server.received == []

        configure(GONGKAI_SMTP_URL=server.url)
        backoff_elapses(session)
        work_pending(db_engine)
        assert messages_of(session, case.id)[0].status == "sent"
        [mail] = server.messages()
        assert case.reg_no in mail["Subject"]
    finally:
        server.stop()


# ---------------------------------------------------------------- SMS

def test_an_sms_through_the_gateway_carries_the_signature_reg_no_and_link_and_nothing_personal(
        session, users, today, db_engine, gateway):
    case = register(session, users, today, email="", phone="13800000000")
    [message] = messages_of(session, case.id)
    assert (message.channel, message.recipient) == ("sms", "13800000000")
    assert work_pending(db_engine) == 1
    [call] = gateway.requests
    assert call["method"] == "POST" and call["headers"]["Content-Type"].startswith("application/json")
    assert call["headers"]["Authorization"] == "Basic Z2s6czNjcmV0"  # gk:s3cret
    body = json.loads(call["body"])
    assert body["mobile"] == "13800000000" and body["biz"] == case.reg_no
    assert body["content"].startswith("【测试市政府办】您的政府信息公开申请（登记编号")
    assert case.reg_no in body["content"] and f"{PUBLIC_URL}/progress?reg_no=" in body["content"]
    for personal in ("张三", "11010519491231002X", "解放路", "老旧小区"):
        assert personal not in body["content"]
    assert len(body["content"]) <= 3 * 67  # at most three concatenated UCS-2 segments
    assert messages_of(session, case.id)[0].status == "sent"


def test_an_sms_gateway_that_refuses_or_is_down_loses_nothing_and_the_text_goes_out_once(
        session, users, today, db_engine, gateway):
    gateway.status = 503
    case = register(session, users, today, email="", phone="13800000000")
    work_pending(db_engine)
    assert "短信网关返回 HTTP 503" in messages_of(session, case.id)[0].last_error
    gateway.stop()
    backoff_elapses(session)
    work_pending(db_engine)
    [message] = messages_of(session, case.id)
    assert message.status == "queued" and "无法连接短信网关" in message.last_error
    gateway.status = 200
    gateway.start()
    backoff_elapses(session)
    work_pending(db_engine)
    assert messages_of(session, case.id)[0].status == "sent"
    assert [r["method"] for r in gateway.requests] == ["POST", "POST"]  # the refused one and the one that went out


# ---------------------------------------------------------------- staff

def test_the_handler_is_told_when_a_case_is_assigned_and_when_it_is_returned_for_revision(
        session, users, today, db_engine, smtp):
    users["handler"].email = "handler@testcity.example.cn"
    session.commit()
    case = register(session, users, today, email="")
    accept(session, users, case, today)
    decide_disclosed(session, users, case, today)
    services.submit_for_review(session, case.id, actor=users["handler"], today=today)
    services.return_for_revision(session, case.id, comment="请补充检索范围的说明", actor=users["legal_reviewer"],
                                 today=today)
    session.commit()
    assert [m.kind for m in messages_of(session, case.id)] == ["assigned", "returned_for_revision"]
    work_pending(db_engine)
    assigned, returned = smtp.messages()
    assert assigned["To"] == "handler@testcity.example.cn"
    assert assigned["Subject"] == f"新分办给您的申请：{case.reg_no}"
    assert f"{PUBLIC_URL}/cases/{case.id}" in assigned.get_body(("plain",)).get_content()
    assert "请补充检索范围的说明" in returned.get_body(("plain",)).get_content()


def test_the_daily_digest_lists_due_soon_and_overdue_tasks_once_a_day_and_its_link_unsubscribes_without_login(
        session, users, today, db_engine, db_url, smtp):
    users["handler"].email = "handler@testcity.example.cn"
    session.commit()
    soon = register(session, users, today, email="")
    accept(session, users, soon, today)
    late = register(session, users, today - timedelta(days=40), email="")
    accept(session, users, late, today)
    session.refresh(soon)
    day = soon.due_on - timedelta(days=1)
    assert write_digests(session, day) == 1
    assert write_digests(session, day) == 0  # once a day per user
    session.commit()
    work_pending(db_engine)
    [digest] = [mail for mail in smtp.messages() if mail["Subject"].startswith("每日待办提醒")]
    assert digest["To"] == "handler@testcity.example.cn"
    assert digest["Subject"] == f"每日待办提醒（{day.isoformat()}）：逾期 1 件，3 个工作日内到期 1 件"
    text = digest.get_body(("plain",)).get_content()
    assert soon.reg_no in text and late.reg_no in text and "已逾期" in text
    link = digest["List-Unsubscribe"].strip("<>")
    assert link in text and link.startswith(f"{PUBLIC_URL}/notifications/unsubscribe?token=")

    from webui.app import create_app
    from webui.db import get_engine

    app = create_app({"DATABASE_URL": db_url, "TESTING": True, "SECRET_KEY": "t", "WTF_CSRF_ENABLED": False})
    client = app.test_client()  # not signed in
    path = link.removeprefix(PUBLIC_URL)
    page = client.get(path)
    assert page.status_code == 200 and "确认退订" in page.get_data(as_text=True)
    token = parse_qs(urlsplit(link).query)["token"][0]
    assert client.post("/notifications/unsubscribe", data={"token": token[:-1] + ("1" if token.endswith("0") else "0")}).status_code >= 400
    done = client.post("/notifications/unsubscribe", data={"token": token})
    assert done.status_code == 200 and "已为 handler用户 关闭每日待办提醒" in done.get_data(as_text=True)
    with app.app_context():
        get_engine().dispose()
    session.expire_all()
    assert users["handler"].digest_enabled is False
    assert write_digests(session, day + timedelta(days=1)) == 0


# ---------------------------------------------------------------- the embedded runner: within seconds

HOLD = threading.Event()


@job_kind("test_holds_the_main_lane", "测试：长时间任务")
def holds_the_main_lane(ctx: JobContext) -> JobOutput:
    HOLD.wait(60)
    return JobOutput({"message": "完成"})


def test_the_embedded_runner_sends_the_registration_email_within_seconds_even_while_a_long_job_runs(
        session, users, today, db_url, smtp):
    HOLD.clear()
    stop = threading.Event()
    runner = threading.Thread(target=run_embedded, args=(db_url, stop), daemon=True)
    runner.start()
    try:
        jobs.enqueue(session, "test_holds_the_main_lane")
        session.commit()
        deadline = time.monotonic() + 20
        while session.scalar(select(Job.state).where(Job.kind == "test_holds_the_main_lane")) != "running":
            assert time.monotonic() < deadline, "the long job never started"
            time.sleep(0.1)
            session.expire_all()
        started = time.monotonic()
        case = register(session, users, today)
        while not smtp.received:
            assert time.monotonic() - started < 5, "no e-mail within 5 s"
            time.sleep(0.05)
        assert case.reg_no in smtp.messages()[0]["Subject"]
        session.expire_all()
        assert session.scalar(select(Job.state).where(Job.kind == "test_holds_the_main_lane")) == "running"
    finally:
        HOLD.set()
        stop.set()
        runner.join(timeout=30)
    assert not runner.is_alive()


def test_settings_name_the_smtp_server_and_a_bad_url_is_a_clear_error(configure):
    from engine.services.sending import SendError, parse_smtp_url

    configure(GONGKAI_SMTP_URL="smtps://user%40x:p%3Ass@mail.example.cn", GONGKAI_MAIL_FROM="a@b.cn",
              GONGKAI_DIGEST_HOUR="7")
    settings = load_settings()
    assert settings.digest_hour == 7
    target = parse_smtp_url(settings.smtp_url)
    assert (target.host, target.port, target.implicit_tls, target.username, target.password) == \
        ("mail.example.cn", 465, True, "user@x", "p:ss")
    assert parse_smtp_url("smtp://m.example.cn:2525?starttls=1").starttls
    with pytest.raises(SendError, match="GONGKAI_SMTP_URL 格式不正确"):
        parse_smtp_url("http://mail.example.cn")



def test_the_periodic_digest_job_of_the_scheduler_mails_each_user_once_a_day(
        session, users, today, db_engine, smtp, configure):
    from webui.background.runner import sweep_once

    configure(GONGKAI_DIGEST_HOUR="0")  # any hour of the day is past the digest hour
    users["handler"].email = "handler@testcity.example.cn"
    users["legal_reviewer"].email = "reviewer@testcity.example.cn"
    session.commit()
    case = register(session, users, today, email="")
    accept(session, users, case, today)  # due long before the real today: overdue on the handler's list

    sweep_once(db_engine, dispatch=False)  # what `gongkai scheduler` (or the embedded runner) does each round
    work_pending(db_engine)
    sweep_once(db_engine, dispatch=False)  # the same hour again: no second job, no second digest
    work_pending(db_engine)
    digests = [mail for mail in smtp.messages() if mail["Subject"].startswith("每日待办提醒")]
    assert [mail["To"] for mail in digests] == ["handler@testcity.example.cn"]  # the reviewer has nothing due
    assert "逾期 1 件" in digests[0]["Subject"] and case.reg_no in digests[0].get_body(("plain",)).get_content()
    assert session.scalar(select(func.count()).select_from(Job).where(Job.kind == "staff_digests")) == 1


def test_staff_addresses_come_from_the_cli_and_the_admin_page_and_a_bad_one_is_refused_in_chinese(
        session, users, agency, db_url):
    import os
    import subprocess
    import sys
    from pathlib import Path

    from engine.persistence.models import User

    gongkai = str(Path(sys.executable).with_name("gongkai"))
    env = {**os.environ, "GONGKAI_DATABASE_URL": db_url}
    added = subprocess.run([gongkai, "user", "add", "wang", "--role", "handler", "--agency", agency.code,
                            "--email", "wang@testcity.example.cn"], input="a-long-password\n", capture_output=True,
                           text=True, env=env, timeout=300)
    assert added.returncode == 0, added.stderr
    refused = subprocess.run([gongkai, "user", "add", "li", "--role", "handler", "--agency", agency.code,
                              "--email", "not-an-address"], input="a-long-password\n", capture_output=True,
                             text=True, env=env, timeout=300)
    assert refused.returncode == 2 and "电子邮箱格式不正确" in refused.stderr
    session.expire_all()
    wang = session.scalar(select(User).where(User.username == "wang"))
    assert (wang.email, wang.digest_enabled) == ("wang@testcity.example.cn", True)

    from webui.app import create_app
    from webui.db import get_engine

    app = create_app({"DATABASE_URL": db_url, "TESTING": True, "SECRET_KEY": "t", "WTF_CSRF_ENABLED": False})
    client = app.test_client()
    client.post("/login", data={"username": "admin", "password": PASSWORD})
    assert "电子邮箱与提醒" in client.get("/admin/users").get_data(as_text=True)
    saved = client.post(f"/admin/users/{wang.id}/email", data={"email": "wang2@testcity.example.cn"})
    assert saved.status_code == 303
    bad = client.post(f"/admin/users/{wang.id}/email", data={"email": "wang at city"}, follow_redirects=True)
    assert "电子邮箱格式不正确" in bad.get_data(as_text=True)
    with app.app_context():
        get_engine().dispose()
    session.expire_all()
    assert (wang.email, wang.digest_enabled) == ("wang2@testcity.example.cn", False)  # the box was not ticked
