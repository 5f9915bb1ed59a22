"""The portal's emails (verification, password reset, and a reset asked for an unconfirmed account): a plain-text and
an HTML part, the link in both."""

from __future__ import annotations

import html
from email.message import EmailMessage
from urllib.parse import urlencode

from movie_common.mail import compose


def portal_link(portal_url: str, page: str, token: str) -> str:
    """`<portal>/<page>?token=<token>`: the site's page reads the token and asks for a submitted form before using
    it (the verify page: the sign-up's password; the reset page: a new password)."""
    return f"{portal_url.rstrip('/')}/{page}?{urlencode({'token': token})}"


def _html(greeting: str, lines: list[str], link: str, button: str, footer: str) -> str:
    body = "".join(f"<p>{html.escape(line)}</p>" for line in lines)
    href = html.escape(link, quote=True)
    return (
        '<!doctype html><html><body style="font-family:Arial,sans-serif;line-height:1.5;color:#212529">'
        f"<p>{html.escape(greeting)}</p>{body}"
        f'<p><a href="{href}" style="display:inline-block;padding:10px 18px;background:#0d6efd;color:#ffffff;'
        f'text-decoration:none;border-radius:6px">{html.escape(button)}</a></p>'
        f'<p style="font-size:13px;color:#6c757d">Or paste this address into your browser:<br>{html.escape(link)}</p>'
        f'<p style="font-size:13px;color:#6c757d">{html.escape(footer)}</p></body></html>'
    )


# Mail to an address nobody has confirmed greets no one by name: the name is whatever the sign-up typed, and anyone
# may sign up with anyone's address, so "Hello <name>" would put a stranger's words (a URL, "your account is
# locked...") into mail Marquee sends to that mailbox. Mail to a confirmed account uses the name its owner chose.
UNCONFIRMED_GREETING = "Hello,"


def verification_email(*, sender: str, to: str, link: str) -> EmailMessage:
    """The sign-up confirmation: the link opens verify.html, which confirms with the password chosen at that sign-up
    (valid 24 hours). No name: see UNCONFIRMED_GREETING."""
    greeting = UNCONFIRMED_GREETING
    lines = [
        "Thanks for signing up for Marquee. Confirm your email address, with the password you chose, to get your "
        "API key.",
        "The link works for 24 hours, once. If you did not choose a password for this sign-up, sign up again "
        "instead: that cancels this link.",
    ]
    footer = (
        "If you did not sign up for Marquee, ignore this email: without the password chosen at sign-up, the link "
        "confirms nothing."
    )
    text = "\n\n".join([greeting, *lines, f"Confirm your email: {link}", footer]) + "\n"
    return compose(
        sender=sender,
        to=to,
        subject="Confirm your email for Marquee",
        text=text,
        html=_html(greeting, lines, link, "Confirm my email", footer),
    )


def password_reset_email(*, sender: str, to: str, name: str, link: str) -> EmailMessage:
    """The password-reset link (valid 1 hour, once); using it signs out every session."""
    greeting = f"Hello {name},"
    lines = [
        "Someone (hopefully you) asked to reset the password of your Marquee account.",
        "The link works for 1 hour, once. Choosing a new password signs out every session.",
    ]
    footer = "If you did not ask for this, ignore this email: your password stays as it is."
    text = "\n\n".join([greeting, *lines, f"Choose a new password: {link}", footer]) + "\n"
    return compose(
        sender=sender,
        to=to,
        subject="Reset your Marquee password",
        text=text,
        html=_html(greeting, lines, link, "Choose a new password", footer),
    )


def unconfirmed_reset_email(*, sender: str, to: str, link: str) -> EmailMessage:
    """The answer to a password reset asked for an account not confirmed yet: it has no password to reset (the one
    chosen at sign-up only confirms it), so the link opens the sign-up page. Signing up again with the same address
    gives the account the new password and cancels the earlier confirmation links. No name: see
    UNCONFIRMED_GREETING."""
    greeting = UNCONFIRMED_GREETING
    lines = [
        "Someone (hopefully you) asked to reset the password of a Marquee account that is not confirmed yet.",
        "If you forgot the password you chose, sign up again with this address and a new password: that replaces "
        "the earlier sign-up, and we send you a new confirmation link.",
    ]
    footer = "If you did not ask for this, ignore this email: nothing changes."
    text = "\n\n".join([greeting, *lines, f"Sign up again: {link}", footer]) + "\n"
    return compose(
        sender=sender,
        to=to,
        subject="Finish signing up for Marquee",
        text=text,
        html=_html(greeting, lines, link, "Sign up again", footer),
    )
