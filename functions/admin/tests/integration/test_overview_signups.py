"""The overview's "Signups" counts developer accounts that signed themselves up through the portal in the window
(and, of them, the ones that confirmed their address): not the local demo owner, not owners an admin or
`marquee create-key --owner` named. Against the real PostgreSQL, with the portal's sign-up use case and mail
captured, and the admin API's own key creation."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from marquee_local import stack
from movie_admin.audit import Actor
from movie_admin.services import analytics, keys
from movie_auth import accounts
from movie_auth.accounts import Portal
from movie_auth.settings import AuthSettings
from movie_common.mail import MailSettings

PASSWORD = "velvet-orbit-canyon-42"
IP = "203.0.113.9"


@dataclass
class _Mail:
    sent: list[EmailMessage] = field(default_factory=list)

    def send(self, message: EmailMessage) -> str:
        self.sent.append(message)
        return str(len(self.sent))


class _NoBus:
    """The portal's event bus: sign-up and verification put nothing on it."""

    def put(self, entry: dict[str, Any]) -> str:
        raise AssertionError(f"unexpected event {entry}")


def _portal(tmp_path: Path, mail: _Mail) -> Portal:
    settings = MailSettings(
        backend="outbox", sender="Marquee <no-reply@marquee.local>", outbox_dir=tmp_path / "outbox", smtp_host="",
        smtp_port=587, smtp_security="starttls", smtp_username=None, smtp_password=None, ses_region=None,
        ses_configuration_set=None,
    )  # fmt: skip
    return Portal(AuthSettings(portal_url="http://127.0.0.1:8080", default_plan="free", mail=settings), mail, _NoBus())


def _signups(conn: Any) -> tuple[int, int]:
    today = analytics.overview(conn, days=7).days[-1]
    return today.signups, today.verified_signups


@pytest.mark.slow  # 0.4 s or more alone
def test_signups_count_self_serve_accounts_and_say_how_many_confirmed(
    conn: Any, tmp_path: Path, actor: Actor, admin_api: Callable[..., Any], admin_token: str
) -> None:
    before = _signups(conn)
    mail = _Mail()
    portal = _portal(tmp_path, mail)

    # Not signups: the local demo owner, an owner named through the admin API (what `create-key --owner` does).
    stack.create_key(conn, owner_email="demo@localhost", plan="pro", name="Local demo")
    keys.create_key(conn, actor, plan="free", owner_email="partner@gmail.com", owner_name="A Partner")
    created = admin_api(
        "POST", "/admin/keys", token=admin_token, body={"plan": "free", "owner_email": "another.partner@gmail.com"}
    )
    assert created.status == 201, created.body
    assert _signups(conn) == before

    # Signups: two developers through the sign-up form; one confirms their address.
    accounts.signup(conn, portal, name="Self Serve", email="self.serve@gmail.com", password=PASSWORD, client_ip=IP)
    text = mail.sent[-1].get_body(preferencelist=("plain",))
    assert text is not None
    token = re.search(r"/verify.html\?token=([A-Za-z0-9_-]+)", text.get_content())
    assert token is not None
    accounts.signup(conn, portal, name="Never Confirms", email="unconfirmed@gmail.com", password=PASSWORD, client_ip=IP)
    assert _signups(conn) == (before[0] + 2, before[1])
    accounts.verify_email(conn, portal, token=token.group(1), password=PASSWORD, client_ip=IP)
    assert _signups(conn) == (before[0] + 2, before[1] + 1)

    # Through the admin API: each day says both figures, and a sign-up outside the window is not counted.
    conn.execute(
        """UPDATE users SET signed_up_at = signed_up_at - interval '10 days',
                              created_at = created_at - interval '10 days'
           WHERE email = 'unconfirmed@gmail.com'"""
    )
    days = admin_api("GET", "/admin/overview", token=admin_token, query={"days": "7"}).json["days"]
    assert (days[-1]["signups"], days[-1]["verified_signups"]) == (before[0] + 1, before[1] + 1)
    month = analytics.overview(conn, days=30).days
    ten_days_ago = month[-11]
    assert ten_days_ago.day == month[-1].day - timedelta(days=10) and ten_days_ago.signups >= 1
