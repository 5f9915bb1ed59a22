"""The SES backend sends the raw MIME message through SES (moto), both parts and the link intact."""

from __future__ import annotations

import email
import email.policy
from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends

from movie_auth.ses_mail import SesSender
from movie_common.mail import compose

LINK = "https://portal.example.com/verify.html?token=abc_DEF-123"


@pytest.fixture
def ses(monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        client = boto3.client("ses", region_name="us-east-1")
        client.verify_email_identity(EmailAddress="no-reply@example.com")
        yield client


@pytest.mark.slow
def test_ses_sends_the_raw_message_with_both_parts(ses: object) -> None:
    message = compose(
        sender="Marquee <no-reply@example.com>",
        to="jane.doe@gmail.com",
        subject="Confirm your email",
        text=f"Confirm: {LINK}",
        html=f'<a href="{LINK}">Confirm</a>',
    )
    message_id = SesSender(region="us-east-1", client=ses).send(message)
    sent = ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sent_messages
    assert len(sent) == 1 and sent[0].id == message_id
    assert sent[0].destinations == ["jane.doe@gmail.com"]
    parsed = email.message_from_string(sent[0].raw_data, policy=email.policy.default)
    texts = {p.get_content_type(): p.get_content() for p in parsed.walk() if p.get_content_maintype() == "text"}
    assert LINK in texts["text/plain"] and LINK in texts["text/html"]


@pytest.mark.slow
def test_ses_refuses_an_unverified_sender(ses: object) -> None:
    message = compose(sender="someone@else.example", to="jane.doe@gmail.com", subject="x", text="x", html="<p>x</p>")
    with pytest.raises(Exception, match="MessageRejected"):
        SesSender(region="us-east-1", client=ses).send(message)
