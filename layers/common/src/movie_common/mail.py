"""Outgoing email: one interface (`MailSender.send`), the local outbox and SMTP backends (stdlib); SES lives in the
auth function, the only one that may import boto3. Messages carry a plain-text and an HTML part."""

from __future__ import annotations

import os
import smtplib
import ssl
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Protocol

from movie_common.errors import ConfigurationError


class MailSender(Protocol):
    def send(self, message: EmailMessage) -> str:
        """Deliver one message; returns an identifier of the delivery (file name, Message-ID, SES MessageId)."""
        ...


def compose(*, sender: str, to: str, subject: str, text: str, html: str) -> EmailMessage:
    """A multipart/alternative message: `text` as text/plain, `html` as text/html (both UTF-8), with Date and
    Message-ID set so that every backend sends the same bytes."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = format_datetime(datetime.now(UTC))
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2].strip("> ") or "marquee.local")
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    return message


class OutboxSender:
    """Writes each message to `folder/<UTC time>-<random>.eml` (RFC 5322 bytes, readable by `email.message_from_
    binary_file`): the one-machine stack's stand-in for SES. Files appear whole (written aside, then renamed).
    The messages hold sign-in links (verification, password reset), so the folder and the files are readable by
    their owner only (0700, 0600), whatever the umask: another user of the machine must not take an account."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def send(self, message: EmailMessage) -> str:
        self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.folder.chmod(0o700)
        name = f"{datetime.now(UTC):%Y%m%dT%H%M%S%fZ}-{uuid.uuid4().hex[:8]}.eml"
        partial = self.folder / f".{name}.partial"
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as file:
            file.write(message.as_bytes())
        partial.replace(self.folder / name)
        return name


class SmtpSender:
    """Sends through an SMTP server (stdlib smtplib): `security` is `starttls` (submission, port 587), `ssl`
    (implicit TLS, port 465) or `none` (a relay on a trusted network or a local test server)."""

    def __init__(
        self,
        *,
        host: str,
        port: int,
        security: str = "starttls",
        username: str | None = None,
        password: str | None = None,
        timeout: float = 10.0,
    ) -> None:
        if security not in {"starttls", "ssl", "none"}:
            raise ConfigurationError(f"SMTP_SECURITY must be starttls, ssl or none, got {security!r}")
        self.host, self.port, self.security = host, port, security
        self.username, self.password, self.timeout = username, password, timeout

    def send(self, message: EmailMessage) -> str:
        context = ssl.create_default_context()
        client: smtplib.SMTP
        if self.security == "ssl":
            client = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=context)
        else:
            client = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        with client:
            if self.security == "starttls":
                client.starttls(context=context)
            if self.username:
                client.login(self.username, self.password or "")
            client.send_message(message)
        return str(message["Message-ID"])


@dataclass(frozen=True)
class MailSettings:
    """MAIL_BACKEND (`outbox` locally, `ses` otherwise by default; or `smtp`), MAIL_FROM, OUTBOX_DIR (default
    $MARQUEE_HOME/outbox), SMTP_HOST / SMTP_PORT / SMTP_SECURITY / SMTP_USERNAME / SMTP_PASSWORD,
    SES_REGION (default AWS_REGION) and SES_CONFIGURATION_SET."""

    backend: str
    sender: str
    outbox_dir: Path
    smtp_host: str
    smtp_port: int
    smtp_security: str
    smtp_username: str | None
    smtp_password: str | None
    ses_region: str | None
    ses_configuration_set: str | None


def load_mail_settings(*, local: bool) -> MailSettings:
    """Read the mail settings from the environment; ConfigurationError names a bad or missing one."""
    env = os.environ
    backend = env.get("MAIL_BACKEND", "").strip().lower() or ("outbox" if local else "ses")
    if backend not in {"outbox", "smtp", "ses"}:
        raise ConfigurationError(f"MAIL_BACKEND must be outbox, smtp or ses, got {backend!r}")
    if backend == "outbox" and not local:
        raise ConfigurationError("MAIL_BACKEND=outbox is for the one-machine stack only (MARQUEE_ENV=local)")
    sender = env.get("MAIL_FROM", "").strip() or ("Marquee <no-reply@marquee.local>" if local else "")
    if not sender:
        raise ConfigurationError("MAIL_FROM must be set (a sender address verified in SES or your SMTP relay)")
    home = Path(env.get("MARQUEE_HOME", "").strip() or ".marquee")
    port_text = env.get("SMTP_PORT", "").strip() or "587"
    if not port_text.isdigit():
        raise ConfigurationError(f"SMTP_PORT must be a port number, got {port_text!r}")
    settings = MailSettings(
        backend=backend,
        sender=sender,
        outbox_dir=Path(env.get("OUTBOX_DIR", "").strip() or home / "outbox"),
        smtp_host=env.get("SMTP_HOST", "").strip(),
        smtp_port=int(port_text),
        smtp_security=env.get("SMTP_SECURITY", "").strip().lower() or "starttls",
        smtp_username=env.get("SMTP_USERNAME", "").strip() or None,
        smtp_password=env.get("SMTP_PASSWORD") or None,
        ses_region=(env.get("SES_REGION") or env.get("AWS_REGION") or "").strip() or None,
        ses_configuration_set=env.get("SES_CONFIGURATION_SET", "").strip() or None,
    )
    if backend == "smtp" and not settings.smtp_host:
        raise ConfigurationError("SMTP_HOST must be set when MAIL_BACKEND=smtp")
    return settings


def stdlib_sender(settings: MailSettings) -> MailSender:
    """The outbox or SMTP backend for these settings (SES is built by the auth function, which has boto3)."""
    if settings.backend == "outbox":
        return OutboxSender(settings.outbox_dir)
    if settings.backend == "smtp":
        return SmtpSender(
            host=settings.smtp_host,
            port=settings.smtp_port,
            security=settings.smtp_security,
            username=settings.smtp_username,
            password=settings.smtp_password,
        )
    raise ConfigurationError(f"the {settings.backend} backend is not a standard-library one")
