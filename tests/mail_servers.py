"""Real servers on loopback for the notification tests: an SMTP server (aiosmtpd; plain, STARTTLS or implicit TLS,
with or without login) that keeps what it received, and an HTTP SMS gateway that keeps the requests it answered.
Both can be stopped and started again on the same port (an outage and the recovery)."""

from __future__ import annotations

import datetime
import ipaddress
import socket
import ssl
import threading
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 (IP SAN) and its key, written as PEM files."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = folder / "smtp-cert.pem", folder / "smtp-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


class _Keep:
    def __init__(self, received: list):
        self.received = received

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        self.received.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content
                              or envelope.content))
        return "250 OK"


class SmtpServer:
    """aiosmtpd on 127.0.0.1:`port`; `mode` is plain, starttls or tls (implicit); `login` = (user, password)."""

    def __init__(self, *, mode: str = "plain", login: tuple[str, str] | None = None,
                 cert: tuple[Path, Path] | None = None):
        self.port = free_port()
        self.mode, self.login, self.cert = mode, login, cert
        self.received: list = []
        self.controller: Controller | None = None

    @property
    def url(self) -> str:
        scheme = "smtps" if self.mode == "tls" else "smtp"
        auth = f"{self.login[0]}:{self.login[1]}@" if self.login else ""
        query = []
        if self.mode == "starttls":
            query.append("starttls=1")
        if self.cert:
            query.append(f"cafile={self.cert[0]}")
        return f"{scheme}://{auth}127.0.0.1:{self.port}" + (f"?{'&'.join(query)}" if query else "")

    def _authenticate(self, server, session, envelope, mechanism, data):
        if isinstance(data, LoginPassword) and self.login and \
                (data.login.decode(), data.password.decode()) == self.login:
            return AuthResult(success=True)
        return AuthResult(success=False, handled=False)

    def start(self) -> SmtpServer:
        kwargs: dict = {}
        context = None
        if self.cert:
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(*map(str, self.cert))
        if self.mode == "starttls":
            kwargs.update(tls_context=context, require_starttls=True)
        if self.login:
            kwargs.update(authenticator=self._authenticate, auth_required=True,
                          auth_require_tls=self.mode == "starttls")  # implicit TLS: aiosmtpd only knows STARTTLS
        self.controller = Controller(_Keep(self.received), hostname="127.0.0.1", port=self.port,
                                     ssl_context=context if self.mode == "tls" else None,
                                     server_hostname="127.0.0.1", **kwargs)
        self.controller.start()
        return self

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def messages(self) -> list[EmailMessage]:
        return [message_from_bytes(raw, policy=policy.default) for _from, _to, raw in self.received]


class SmsGateway:
    """An HTTP gateway on loopback: answers `status` (200 by default) and keeps every request it saw."""

    def __init__(self):
        self.port = free_port()
        self.requests: list[dict] = []
        self.status = 200
        self.server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/sms/send"

    def start(self) -> SmsGateway:
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self):
                length = int(self.headers.get("Content-Length") or 0)
                gateway.requests.append({"method": self.command, "path": self.path, "headers": dict(self.headers),
                                         "body": self.rfile.read(length).decode()})
                body = b'{"code":0,"msg":"ok"}' if gateway.status == 200 else b'{"code":1,"msg":"busy"}'
                self.send_response(gateway.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = _answer  # noqa: N815 - http.server's hook names

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None
