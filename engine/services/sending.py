"""The two ways a message leaves: SMTP (standard library `smtplib`/`email`) and an HTTP SMS gateway (`urllib`).

`GONGKAI_SMTP_URL` is `smtp://[user:password@]host:port` (plain, or `?starttls=1` to upgrade), or `smtps://…`
(implicit TLS, port 465 by default); `?cafile=PATH` trusts a private CA (otherwise the system's, or
`SSL_CERT_FILE`). Certificates are always verified. Every failure raises `SendError` with a Chinese reason,
recorded on the message.
"""

from __future__ import annotations

import base64
import json
import smtplib
import ssl
from dataclasses import dataclass
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from urllib import error as urlerror
from urllib import request as urlrequest
from urllib.parse import parse_qs, unquote, urlencode, urlsplit

from engine.config import SmsSettings

SMTP_TIMEOUT_SECONDS = 20  # well under the job's staleness limit: a hung server cannot make two senders


class SendError(Exception):
    """The message could not be handed over (the reason is in Chinese, for the case page)."""


@dataclass(frozen=True)
class SmtpTarget:
    host: str
    port: int
    implicit_tls: bool
    starttls: bool
    username: str
    password: str
    cafile: str | None


def parse_smtp_url(url: str) -> SmtpTarget:
    """`smtp://[user:password@]host:port[?starttls=1]` or `smtps://…`; a bad URL raises SendError."""
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise SendError(f"GONGKAI_SMTP_URL 格式不正确（应为 smtp://[用户名:密码@]主机:端口 或 smtps://…）：{parts.scheme}://…")
    query = parse_qs(parts.query)
    implicit = parts.scheme == "smtps"
    starttls = (query.get("starttls") or ["0"])[0].lower() in ("1", "true", "yes")
    try:
        port = parts.port or (465 if implicit else 587 if starttls else 25)
    except ValueError as error:
        raise SendError(f"GONGKAI_SMTP_URL 的端口不正确：{error}") from error
    return SmtpTarget(parts.hostname, port, implicit, starttls and not implicit, unquote(parts.username or ""),
                      unquote(parts.password or ""), (query.get("cafile") or [None])[0])


def build_email(*, mail_from: str, to: str, subject: str, text: str, html: str, message_id: str,
                date: datetime, headers: dict[str, str] | None = None) -> EmailMessage:
    """multipart/alternative (plain text first, then HTML), the subject RFC 2047-encoded by the email policy."""
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = mail_from
    message["To"] = to
    message["Date"] = format_datetime(date)
    message["Message-ID"] = message_id
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(text, subtype="plain", charset="utf-8")
    if html:
        message.add_alternative(html, subtype="html", charset="utf-8")
    return message


def message_id_for(dedup_key: str, mail_from: str) -> str:
    """Stable over retries: a receiving system can recognise a message it already has."""
    import hashlib

    domain = parseaddr(mail_from)[1].rpartition("@")[2] or "gongkai.invalid"
    return f"<gongkai.{hashlib.sha256(dedup_key.encode()).hexdigest()[:24]}@{domain}>"


def send_email(smtp_url: str, message: EmailMessage) -> None:
    target = parse_smtp_url(smtp_url)
    context = ssl.create_default_context(cafile=target.cafile)
    try:
        if target.implicit_tls:
            client = smtplib.SMTP_SSL(target.host, target.port, timeout=SMTP_TIMEOUT_SECONDS, context=context)
        else:
            client = smtplib.SMTP(target.host, target.port, timeout=SMTP_TIMEOUT_SECONDS)
        with client:
            if target.starttls:
                client.starttls(context=context)
            if target.username:
                client.login(target.username, target.password)
            sender = Address(addr_spec=parseaddr(message["From"])[1]).addr_spec
            refused = client.send_message(message, from_addr=sender)
            if refused:
                raise SendError(f"邮件服务器拒收收件人：{'、'.join(refused)}")
    except SendError:
        raise
    except smtplib.SMTPAuthenticationError as error:
        raise SendError(f"邮件服务器登录失败（{error.smtp_code}）") from error
    except smtplib.SMTPNotSupportedError as error:
        raise SendError(f"邮件服务器不支持所需的扩展（{error}）：请检查 GONGKAI_SMTP_URL 的 TLS 与登录设置") from error
    except smtplib.SMTPRecipientsRefused as error:
        raise SendError(f"邮件服务器拒收收件人：{'、'.join(error.recipients)}") from error
    except smtplib.SMTPResponseException as error:
        raise SendError(f"邮件服务器拒绝（{error.smtp_code}）：{_text(error.smtp_error)}") from error
    except ssl.SSLError as error:
        raise SendError(f"与邮件服务器的 TLS 连接失败：{error.reason or error}") from error
    except (OSError, smtplib.SMTPException) as error:
        raise SendError(f"无法连接邮件服务器 {target.host}:{target.port}：{error}") from error


def send_sms(gateway: SmsSettings, *, phone: str, text: str, signature: str, reg_no: str) -> str:
    """One text through the configured gateway; the gateway's answer (shortened), or SendError."""
    values = {"phone": phone, "text": text, "signature": signature, "reg_no": reg_no}
    params = {name: _fill(str(template), values) for name, template in gateway.params.items()}
    headers = {name: _fill(str(value), values) for name, value in gateway.headers.items()}
    if gateway.username or gateway.password:
        token = base64.b64encode(f"{gateway.username}:{gateway.password}".encode()).decode()
        headers["Authorization"] = f"Basic {token}"
    url, body = gateway.url, None
    if gateway.method == "GET":
        url = f"{url}{'&' if '?' in url else '?'}{urlencode(params)}"
    elif gateway.body_format == "json":
        body = json.dumps(params, ensure_ascii=False).encode()
        headers.setdefault("Content-Type", "application/json; charset=utf-8")
    else:
        body = urlencode(params).encode()
        headers.setdefault("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
    call = urlrequest.Request(url, data=body, headers=headers, method=gateway.method)
    try:
        with urlrequest.urlopen(call, timeout=gateway.timeout_seconds) as answer:  # noqa: S310 - configured URL
            return answer.read(500).decode("utf-8", "replace")
    except urlerror.HTTPError as error:
        raise SendError(f"短信网关返回 HTTP {error.code}：{error.read(200).decode('utf-8', 'replace')}") from error
    except (TimeoutError, urlerror.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        raise SendError(f"无法连接短信网关：{reason}") from error


def _fill(template: str, values: dict[str, str]) -> str:
    """Replace {phone}/{text}/{signature}/{reg_no}; other braces stay as they are (no str.format surprises)."""
    for name, value in values.items():
        template = template.replace("{" + name + "}", value)
    return template


def _text(raw) -> str:
    return raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
