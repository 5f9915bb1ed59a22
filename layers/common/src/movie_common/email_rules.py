"""Who may sign up: address syntax (email-validator), allowed providers, disposable domains, canonical form.

email-validator and disposable-email-domains are imported when first used and ship with the functions that call
this module (functions/auth), not with the layer: FastAPI imports email_validator whenever it is installed."""

from __future__ import annotations

import re
from dataclasses import dataclass

from movie_common.errors import DisposableEmailError, EmailDomainNotAllowedError, InvalidEmailError

GMAIL = "gmail"
YAHOO = "yahoo"
OUTLOOK = "outlook"

# The providers' own mail domains, listed: a pattern such as `yahoo.<any suffix>` let in domains anyone can register
# (yahoo.xyz, outlook.dev, live.biz). Yahoo Mail: yahoo.com and Yahoo's country domains, ymail.com, rocketmail.com,
# myyahoo.com. Outlook.com: outlook.com, hotmail.com, live.com, msn.com and their country domains.
_YAHOO_COUNTRIES = (
    "com co.uk fr de it es ie ca com.au co.nz com.br com.mx com.ar cl com.co com.pe com.ve co.in in com.sg com.hk "
    "com.tw com.ph co.id com.my com.vn co.th com.tr gr se dk no fi pl ro at be ch nl pt cz hu co.za co.kr"
)
_HOTMAIL_COUNTRIES = (
    "com co.uk fr de it es ca com.au com.br com.ar com.mx be nl se no dk fi gr ch at ie co.jp co.kr co.in co.za "
    "co.nz com.tr cz hu pl pt rs sg my ph co.id co.th com.vn"
)
_LIVE_COUNTRIES = (
    "com co.uk fr de it es ca com.au com.ar com.mx cl com.pe be nl se no dk fi ch at ie jp cn co.kr in co.za "
    "com.sg com.my ph hk pt ru"
)
_OUTLOOK_COUNTRIES = (
    "com fr de it es co.uk ie at be dk pt cz hu com.gr com.br com.ar cl com.au co.nz jp kr sa in sg my ph co.id "
    "co.th com.vn com.tr co.il lv sk"
)
_PROVIDER_DOMAINS: dict[str, str] = {
    "gmail.com": GMAIL,
    "googlemail.com": GMAIL,
    **{f"yahoo.{suffix}": YAHOO for suffix in _YAHOO_COUNTRIES.split()},
    "ymail.com": YAHOO,
    "rocketmail.com": YAHOO,
    "myyahoo.com": YAHOO,
    **{f"hotmail.{suffix}": OUTLOOK for suffix in _HOTMAIL_COUNTRIES.split()},
    **{f"live.{suffix}": OUTLOOK for suffix in _LIVE_COUNTRIES.split()},
    **{f"outlook.{suffix}": OUTLOOK for suffix in _OUTLOOK_COUNTRIES.split()},
    "msn.com": OUTLOOK,
}
ALLOWED_PROVIDERS_TEXT = "Gmail, Yahoo or Outlook/Hotmail/Live"


@dataclass(frozen=True)
class DeveloperEmail:
    """An accepted address: `address` as typed but normalised by email-validator (domain lower-cased),
    `canonical` the mailbox it reaches (the uniqueness key, users.canonical_email), `provider` gmail|yahoo|outlook.
    """

    address: str
    canonical: str
    provider: str


MAX_ADDRESS_CHARS = 254  # RFC 5321's path limit less its angle brackets: the longest address mail can carry


def provider_of(domain: str) -> str | None:
    """`gmail`, `yahoo` or `outlook` for an allowed (lower-case, ASCII) domain; None for any other."""
    return _PROVIDER_DOMAINS.get(domain)


def is_disposable(domain: str) -> bool:
    """True when the domain or any parent domain is on the `disposable-email-domains` blocklist."""
    from disposable_email_domains import blocklist

    labels = domain.split(".")
    return any(".".join(labels[i:]) in blocklist for i in range(len(labels) - 1))


def _one_edit_apart(typed: str, known: str) -> bool:
    """True when `known` is `typed` with one letter added, dropped, changed, or two neighbours swapped."""
    if typed == known or abs(len(typed) - len(known)) > 1:
        return False
    start = 0
    while start < min(len(typed), len(known)) and typed[start] == known[start]:
        start += 1
    a, b = typed[start:], known[start:]
    return a[1:] == b[1:] or a == b[1:] or a[1:] == b or (len(a) > 1 and a[1] + a[0] + a[2:] == b)


def likely_meant(domain: str) -> str | None:
    """The allowed domain that `domain` (lower-case, as typed) misspells by one letter (gmial.com, gmail.co,
    hotmial.com, outlok.com, yahooo.com), or None. The first letter must match, so another provider's domain
    (mail.com, email.com) is not taken for one of ours."""
    if domain in _PROVIDER_DOMAINS:
        return None
    for known in _PROVIDER_DOMAINS:
        if known[0] == domain[:1] and _one_edit_apart(domain, known):
            return known
    return None


def canonical_address(local: str, domain: str, provider: str) -> str:
    """The mailbox an address delivers to, lower-cased: Gmail ignores dots and `+tags` in the local part and treats
    googlemail.com as gmail.com; Outlook, Hotmail and Live ignore `+tags`; Yahoo's disposable form is
    `base-keyword`, so everything from the first `-` is a tag."""
    local, domain = local.lower(), domain.lower()
    if provider == GMAIL:
        return local.split("+", 1)[0].replace(".", "") + "@gmail.com"
    if provider == OUTLOOK:
        return local.split("+", 1)[0] + "@" + domain
    if provider == YAHOO:
        return local.split("-", 1)[0] + "@" + domain
    return local + "@" + domain


# An address pasted with what surrounds it where it was copied from: a mailto: link, a mail client's
# `Name <address>` or `<address>`, quotes, a sentence's full stop. email-validator names the first character it
# cannot take ("invalid characters before the @-sign: ':'"), which does not say what to remove.
_ADDRESS = r"(?P<address>[^\s<>\"'@]+@[^\s<>\"'@]*[^\s<>\"'@.,;])"
_QUOTES = "\"'\u2018\u2019\u201c\u201d"
_WRAPPINGS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"(?i)mailto:\s*" + _ADDRESS), "the mailto: in front"),
    (re.compile(r"<\s*" + _ADDRESS + r"\s*>"), "the angle brackets"),
    (re.compile(r"(?:\"[^\"]*\"|[^<>\"@]+)\s*<\s*" + _ADDRESS + r"\s*>"), "the name and the angle brackets"),
    (re.compile(f"[{_QUOTES}]" + _ADDRESS + f"[{_QUOTES}]"), "the quotes"),
    (re.compile(_ADDRESS + r"[.,;]+"), "the punctuation after it"),
)


def _unwrapped(typed: str) -> tuple[str, str] | None:
    """(the address, what was around it) when `typed` is one address wrapped as _WRAPPINGS lists, else None."""
    for pattern, wrapping in _WRAPPINGS:
        match = pattern.fullmatch(typed)
        if match is not None:
            return match.group("address"), wrapping
    return None


def check_developer_email(raw: str) -> DeveloperEmail:
    """Accept a sign-up address or raise: InvalidEmailError (syntax, checked by email-validator without DNS),
    DisposableEmailError (on the disposable-email-domains list), EmailDomainNotAllowedError (not Gmail, Yahoo
    or Outlook/Hotmail/Live). A one-letter slip of an allowed domain is named first, with the address it was likely
    meant to be; then disposable is checked before the provider so that each refusal names its reason."""
    # Imported here: the package ships only with the functions that check addresses (see their requirements).
    from email_validator import EmailNotValidError, validate_email

    if len(raw.strip()) > MAX_ADDRESS_CHARS:
        # One reason at any length: a schema cuts an overlong field to its bound plus one (movie_web.fields.cut_to),
        # which can cut the @ away, and email-validator would then say "must have an @-sign" instead.
        raise InvalidEmailError(f"An email address is at most {MAX_ADDRESS_CHARS} characters.")
    unwrapped = _unwrapped(raw.strip())
    if unwrapped is not None:
        address, wrapping = unwrapped
        raise InvalidEmailError(f"Remove {wrapping} and give the address alone: {address}.")
    try:
        # No DNS: the allowed providers' domains are known to accept mail, and tests must not need a network.
        # strict: the part before the @ at most 64 characters (RFC 5321), which email-validator checks only then;
        # a longer one names no mailbox that any provider hands out, and mail to it is refused.
        valid = validate_email(raw.strip(), check_deliverability=False, allow_smtputf8=False, strict=True)
    except EmailNotValidError as error:
        raise InvalidEmailError(str(error)) from None
    domain = valid.ascii_domain.lower()
    # Named as typed: an internationalised domain that looks like a provider's ("gma\u0131l.com", a dotless i) is
    # shown so, with its ASCII form, not as the xn--… form alone, which the person never typed.
    shown = domain if valid.domain.lower() == domain else f"{valid.domain.lower()} ({domain})"
    meant = likely_meant(valid.domain.lower())
    if meant is not None:
        # A slip of the keyboard: said so, with the address it was probably meant to be. Some such domains are on the
        # disposable list (gmial.com, hotmial.com), whose refusal ("disposable") told a person who mistyped Gmail
        # nothing they could act on.
        raise EmailDomainNotAllowedError(
            f"Marquee accepts {ALLOWED_PROVIDERS_TEXT} addresses only; {shown} is not one of them. "
            f"Did you mean {valid.local_part}@{meant}?"
        )
    if is_disposable(domain):
        raise DisposableEmailError(f"Addresses at {shown} are disposable; use a {ALLOWED_PROVIDERS_TEXT} address.")
    provider = provider_of(domain)
    if provider is None:
        raise EmailDomainNotAllowedError(
            f"Marquee accepts {ALLOWED_PROVIDERS_TEXT} addresses only; {shown} is not one of them."
        )
    canonical = canonical_address(valid.local_part, domain, provider)
    if canonical.startswith("@"):  # "+tag@gmail.com" or "-x@yahoo.com": nothing left of the mailbox name
        raise InvalidEmailError("The part before the @ names no mailbox.")
    return DeveloperEmail(address=valid.normalized, canonical=canonical, provider=provider)


def canonical_or_none(raw: str) -> str | None:
    """The canonical form of any syntactically valid address (for look-ups at login, resend and reset, where an
    address that could never have signed up must behave exactly like one that did not); None if invalid."""
    try:
        return check_developer_email(raw).canonical
    except (InvalidEmailError, DisposableEmailError, EmailDomainNotAllowedError):
        return None
