"""Mail backends: the local outbox read back with Python's email package, SMTP against a real SMTP server
(aiosmtpd) on loopback."""

from __future__ import annotations

import email
import email.policy
import os
import smtplib
import socket
import stat
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword, Session

from movie_common.errors import ConfigurationError
from movie_common.mail import OutboxSender, SmtpSender, compose, load_mail_settings, stdlib_sender

LINK = "http://127.0.0.1:8080/verify.html?token=abc_DEF-123"


def _message() -> EmailMessage:
    return compose(
        sender="Marquee <no-reply@marquee.local>",
        to="jane.doe@gmail.com",
        subject="Confirm your email",
        text=f"Hello Jane,\n\nConfirm here: {LINK}\n",
        html=f'<p>Hello Jane,</p><p><a href="{LINK}">Confirm</a></p>',
    )


def _parts(raw: bytes) -> dict[str, str]:
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    return {
        part.get_content_type(): part.get_content() for part in parsed.walk() if part.get_content_maintype() == "text"
    }


def test_outbox_writes_one_eml_file_per_message_with_both_parts(tmp_path: Path) -> None:
    outbox = OutboxSender(tmp_path / "outbox")
    first = outbox.send(_message())
    second = outbox.send(_message())
    files = sorted(p.name for p in (tmp_path / "outbox").iterdir())
    assert files == sorted([first, second]) and all(name.endswith(".eml") for name in files)
    with (tmp_path / "outbox" / first).open("rb") as handle:
        parsed = email.message_from_binary_file(handle, policy=email.policy.default)
    assert parsed["To"] == "jane.doe@gmail.com"
    assert parsed["Subject"] == "Confirm your email"
    assert parsed.get_content_type() == "multipart/alternative"
    parts = _parts((tmp_path / "outbox" / first).read_bytes())
    assert LINK in parts["text/plain"]
    assert f'href="{LINK}"' in parts["text/html"]


def test_outbox_messages_are_readable_by_their_owner_only_whatever_the_umask(tmp_path: Path) -> None:
    folder = tmp_path / "outbox"
    folder.mkdir(mode=0o755)  # made by someone else first, open to all
    previous = os.umask(0o000)
    try:
        name = OutboxSender(folder).send(_message())
    finally:
        os.umask(previous)
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert stat.S_IMODE((folder / name).stat().st_mode) == 0o600


class _Recorder:
    def __init__(self) -> None:
        self.envelopes: list[Envelope] = []

    async def handle_DATA(self, server: Any, session: Session, envelope: Envelope) -> str:
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
def smtp_server() -> Iterator[tuple[_Recorder, int]]:
    recorder = _Recorder()

    def authenticate(server: Any, session: Session, envelope: Envelope, mechanism: str, data: Any) -> AuthResult:
        ok = isinstance(data, LoginPassword) and (data.login, data.password) == (b"relay-user", b"relay-secret")
        return AuthResult(success=ok, handled=False)

    controller = Controller(
        recorder, hostname="127.0.0.1", port=_free_port(), authenticator=authenticate, auth_require_tls=False
    )
    controller.start()
    try:
        yield recorder, controller.port
    finally:
        controller.stop()


def test_smtp_delivers_the_message_to_a_real_server(smtp_server: tuple[_Recorder, int]) -> None:
    recorder, port = smtp_server
    sender = SmtpSender(host="127.0.0.1", port=port, security="none", username="relay-user", password="relay-secret")
    message_id = sender.send(_message())
    assert len(recorder.envelopes) == 1
    envelope = recorder.envelopes[0]
    assert envelope.rcpt_tos == ["jane.doe@gmail.com"]
    assert envelope.mail_from == "no-reply@marquee.local"
    raw = envelope.original_content or b""
    assert message_id in raw.decode()
    parts = _parts(raw)
    assert LINK in parts["text/plain"] and LINK in parts["text/html"]


def test_smtp_wrong_credentials_are_an_error_not_a_silent_drop(smtp_server: tuple[_Recorder, int]) -> None:
    recorder, port = smtp_server
    sender = SmtpSender(host="127.0.0.1", port=port, security="none", username="relay-user", password="wrong")
    with pytest.raises(smtplib.SMTPAuthenticationError):
        sender.send(_message())
    assert recorder.envelopes == []


def test_smtp_starttls_refuses_a_server_without_tls(smtp_server: tuple[_Recorder, int]) -> None:
    recorder, port = smtp_server
    with pytest.raises(smtplib.SMTPNotSupportedError):
        SmtpSender(host="127.0.0.1", port=port, security="starttls").send(_message())
    assert recorder.envelopes == []


def test_settings_choose_the_backend(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("MAIL_BACKEND", "MAIL_FROM", "OUTBOX_DIR", "SMTP_HOST"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MARQUEE_HOME", str(tmp_path))
    local = load_mail_settings(local=True)
    assert local.backend == "outbox" and local.outbox_dir == tmp_path / "outbox"
    assert isinstance(stdlib_sender(local), OutboxSender)
    with pytest.raises(ConfigurationError, match="MAIL_FROM"):
        load_mail_settings(local=False)
    monkeypatch.setenv("MAIL_FROM", "Marquee <no-reply@example.com>")
    assert load_mail_settings(local=False).backend == "ses"
    monkeypatch.setenv("MAIL_BACKEND", "outbox")
    with pytest.raises(ConfigurationError, match="one-machine"):
        load_mail_settings(local=False)
    monkeypatch.setenv("MAIL_BACKEND", "smtp")
    with pytest.raises(ConfigurationError, match="SMTP_HOST"):
        load_mail_settings(local=False)
    monkeypatch.setenv("SMTP_HOST", "smtp.example.com")
    assert isinstance(stdlib_sender(load_mail_settings(local=False)), SmtpSender)
    monkeypatch.setenv("MAIL_BACKEND", "pigeon")
    with pytest.raises(ConfigurationError, match="MAIL_BACKEND"):
        load_mail_settings(local=True)
