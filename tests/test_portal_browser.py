"""The developer portal end to end in headless Chromium (Playwright, the system's Chromium) against the
one-machine stack started by `marquee run` in a subprocess on free ports: sign-up, the verification mail read
from the outbox, one-click confirmation, the key shown once, a call from the playground, usage and request log,
refusals shown at the field, a second developer who sees none of the first one's data; screenshots of the
dashboard at desktop and phone widths are written to .marquee/screenshots/."""

from __future__ import annotations

import email
import email.policy
import re
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, BrowserType, Page, Route, expect

from movie_common.database import connect
from movie_common.mail import compose
from tests.browser_stack import assert_back_after_sign_out_leaves, marquee_run, watch_console

pytestmark = [pytest.mark.slow, pytest.mark.commit]

REPO = Path(__file__).resolve().parents[1]
SCREENSHOTS = REPO / ".marquee" / "screenshots"
PASSWORD = "velvet-orbit-canyon-42"
RUN = uuid.uuid4().hex[:8]
# Cold starts of the stack's functions (bcrypt, zxcvbn, FastAPI) on a busy 2-core machine can take seconds.
expect.set_options(timeout=30_000)


@dataclass
class Stack:
    api: str
    portal: str
    outbox: Path
    process: subprocess.Popen[str]


@pytest.fixture(scope="module")
def stack(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """`marquee run` on free ports with its own MARQUEE_HOME (so its own outbox) and the test database."""
    home = tmp_path_factory.mktemp("marquee-home")
    try:
        with marquee_run(home=home, database_url=database_url) as running:
            urls = running.urls
            yield Stack(api=urls["API"], portal=urls["Portal"], outbox=home / "outbox", process=running.process)
    finally:
        with connect(database_url) as conn:
            conn.execute(
                """WITH gone AS (DELETE FROM users WHERE canonical_email LIKE %s RETURNING id)
                   DELETE FROM sessions WHERE role = 'developer' AND subject_id IN (SELECT id FROM gone)""",
                (f"%{RUN}%",),
            )
            conn.execute("DELETE FROM usage_logs WHERE api_key_id NOT IN (SELECT id FROM api_keys)")
            conn.execute("DELETE FROM usage_daily WHERE api_key_id NOT IN (SELECT id FROM api_keys)")
            # Every browser module signs up from the loopback: its attempts must not count against the next one's.
            conn.execute(
                "DELETE FROM auth_attempts WHERE subject IN ('127.0.0.1', '::1') OR subject LIKE %s", (f"%{RUN}%",)
            )


def _address(who: str) -> str:
    return f"{who}.{RUN}@gmail.com"


def _context(browser: Browser, *, width: int = 1280) -> BrowserContext:
    context = browser.new_context(viewport={"width": width, "height": 900})
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    return context


def _latest_mail(outbox: Path, to: str) -> email.message.EmailMessage:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        for path in sorted(outbox.glob("*.eml"), reverse=True):
            with path.open("rb") as handle:
                message = email.message_from_binary_file(handle, policy=email.policy.default)
            if message["To"] == to and isinstance(message, email.message.EmailMessage):
                return message
        time.sleep(0.1)
    raise AssertionError(f"no mail to {to} in {outbox}")


def _verification_row(database_url: str, address: str) -> dict[str, Any]:
    with connect(database_url) as conn:
        row = conn.execute(
            """SELECT u.verified,
                      (SELECT count(*) FROM email_verifications v WHERE v.user_id = u.id AND v.used_at IS NOT NULL)
                          AS used,
                      (SELECT count(*) FROM api_keys k WHERE k.owner_id = u.id) AS keys
               FROM users u WHERE u.email = %s""",
            (address,),
        ).fetchone()
    assert row is not None
    return dict(row)


def _sign_up(page: Page, stack: Stack, name: str, address: str) -> None:
    page.goto(stack.portal + "/signup.html")
    page.get_by_label("Name").fill(name)
    page.get_by_label("Email").fill(address)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("heading", name="Check your inbox")).to_be_visible()
    expect(page.locator("[data-sent-to]")).to_have_text(address)


def test_sign_up_verify_see_the_key_once_call_the_api_and_see_the_usage(
    browser: Browser, stack: Stack, database_url: str
) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    address = _address("jane")
    context = _context(browser)
    page = context.new_page()
    console = watch_console(page)

    _sign_up(page, stack, "Jane Doe", address)

    # The mail, read back with Python's email package: both parts carry the link to the portal's verify page.
    message = _latest_mail(stack.outbox, address)
    plain, html = message.get_body(("plain",)), message.get_body(("html",))
    assert plain is not None and html is not None
    link = re.search(r"http://\S+/verify\.html\?token=[A-Za-z0-9_-]{43}", plain.get_content())
    assert link and link.group(0).startswith(stack.portal)
    assert link.group(0) in html.get_content()

    # ... and on the outbox page, from which the link is followed as a person would.
    page.goto(stack.portal + "/outbox/")
    page.get_by_role("link", name="Confirm your email for Marquee").first.click()
    page.locator("[data-outbox-link]", has_text="verify.html").first.click()
    expect(page.get_by_role("button", name="Confirm my email")).to_be_visible()
    # Opening the link (what a mail scanner does) changed nothing.
    assert _verification_row(database_url, address) == {"verified": False, "used": 0, "keys": 0}

    # The page asks for the password chosen at sign-up: a wrong one is shown at the field and spends nothing.
    page.get_by_label("Password").fill("amber-tundra-pelican-77")
    page.get_by_role("button", name="Confirm my email").click()
    field = page.get_by_label("Password")
    expect(field).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#password-feedback")).to_contain_text("not the password chosen at the sign-up")
    expect(field).to_be_focused()
    expect(page.get_by_role("link", name="Sign up again")).to_be_visible()
    assert _verification_row(database_url, address) == {"verified": False, "used": 0, "keys": 0}

    field.fill(PASSWORD)
    field.press("Enter")  # the keyboard submits the form
    page.wait_for_url("**/dashboard.html")
    new_key = page.locator("[data-new-key-value]")
    expect(new_key).to_be_visible()
    raw_key = new_key.input_value()
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", raw_key)
    expect(page.get_by_text("this is the only time it is shown")).to_be_visible()
    page.get_by_role("button", name="Copy", exact=True).click()  # not Swagger UI's "Copy path to clipboard"
    expect(page.locator("[data-copy-status]")).to_have_text("Copied to the clipboard.")
    assert page.evaluate("navigator.clipboard.readText()") == raw_key
    # Shown once, so readable whole on a phone too: the field holds all 36 characters (it used to cut them at 23).
    for width in (375, 320):
        page.set_viewport_size({"width": width, "height": 812})
        assert new_key.evaluate("e => e.scrollWidth <= e.clientWidth"), f"the key is cut off at {width} px"
    page.set_viewport_size({"width": 1280, "height": 900})
    assert _verification_row(database_url, address)["verified"] is True
    expect(page.locator("[data-key-masked]")).to_contain_text(raw_key[-4:])
    # The masked key is one line in its half-width card (the 36-character mask wrapped in the middle).
    for width in (1280, 375):
        page.set_viewport_size({"width": width, "height": 900})
        lines = page.locator("[data-key-masked]").evaluate(
            "e => e.getBoundingClientRect().height / parseFloat(getComputedStyle(e).lineHeight)"
        )
        assert lines < 1.5, f"the masked key takes {lines:.1f} lines at {width} px"
    page.set_viewport_size({"width": 1280, "height": 900})

    # The playground, with the key just shown: GET /movies through the real API.
    expect(page.locator("[data-pg-key]")).to_have_value(raw_key)
    page.get_by_label("Endpoint", exact=True).select_option(label="GET /movies")
    # Without a key, the reason is shown under the key's field (in an input group: it used to stay hidden).
    page.locator("[data-pg-key]").fill("")
    page.get_by_role("button", name="Send request").click()
    expect(page.locator("#pg-key-feedback")).to_be_visible()
    expect(page.locator("#pg-key-feedback")).to_have_text("Paste your API key first.")
    expect(page.locator("[data-pg-key]")).to_be_focused()
    page.locator("[data-pg-key]").fill(raw_key)
    page.get_by_role("button", name="Send request").click()
    expect(page.locator("[data-pg-status]")).to_have_text(re.compile(r"^200"))
    expect(page.locator("[data-pg-body]")).to_contain_text('"results"')
    expect(page.locator("[data-pg-headers]")).to_contain_text('"day";r=99')

    # The usage bar and the request log show the call.
    expect(page.locator('[data-window="day"] [data-window-text]')).to_contain_text("1 of 100")
    first_row = page.locator("[data-log-row]").first
    expect(first_row).to_contain_text("/movies")
    expect(first_row).to_contain_text("200")
    expect(page.locator("[data-chart-summary]")).to_contain_text(
        "1 request answered in the last 30 days across /movies"
    )
    # By outcome, the API's "2xx" (which counts free 304s) is labelled 2xx/3xx, as the admin overview labels it.
    page.locator("label[for=chart-by-outcome]").click()
    expect(page.locator("[data-chart-summary]")).to_contain_text("across 429, 2xx/3xx, 4xx, 5xx.")
    page.locator("label[for=chart-by-endpoint]").click()

    # Title autocomplete from /search/suggest (with the same key).
    page.get_by_label("Endpoint", exact=True).select_option(label="GET /search")
    page.get_by_label("title").fill("godfa")
    expect(page.locator("[data-pg-suggestions] option").first).to_have_attribute("value", re.compile("Godfather"))

    # The playground offers every GET route the API's OpenAPI document lists (now_playing was missing from a
    # hand-kept list), each with the parameters it declares; a path parameter is required and checked.
    document = httpx.get(stack.api + "/openapi.json", timeout=30).json()
    served = [f"GET {path}" for path, operations in document["paths"].items() if "get" in operations]
    offered = page.locator("[data-pg-endpoint] option").all_inner_texts()
    assert offered == served and "GET /movies/now_playing" in offered
    page.get_by_label("Endpoint", exact=True).select_option(label="GET /movies/now_playing")
    expect(page.get_by_label("type", exact=True)).to_be_visible()
    page.get_by_label("Endpoint", exact=True).select_option(label="GET /movies/{id}")
    page.get_by_label("id (required)").fill("01")
    page.get_by_role("button", name="Send request").click()
    expect(page.locator("#pg-param-id-feedback")).to_contain_text("a whole number")
    page.get_by_label("id (required)").fill("1")
    page.get_by_role("button", name="Send request").click()
    expect(page.locator("[data-pg-url]")).to_have_text(re.compile(r"/movies/1$"))
    expect(page.locator("[data-pg-status]")).to_have_text(re.compile(r"^200"))

    page.screenshot(path=str(SCREENSHOTS / "dashboard-desktop.png"), full_page=True)

    # Reloaded, the key is masked: it is never shown again.
    page.reload()
    expect(page.locator("[data-key-masked]")).to_contain_text(raw_key[-4:])
    expect(page.locator("[data-new-key]")).to_be_hidden()
    assert raw_key not in page.content()

    # The same dashboard on a phone: nothing wider than the screen.
    phone = context.new_page()
    phone.set_viewport_size({"width": 375, "height": 812})
    phone.goto(stack.portal + "/dashboard.html")
    expect(phone.locator("[data-log-row]").first).to_be_visible()
    assert phone.evaluate("document.documentElement.scrollWidth") <= 375
    phone.screenshot(path=str(SCREENSHOTS / "dashboard-phone.png"), full_page=True)

    # Dark theme, remembered across pages.
    page.get_by_role("button", name="Switch to dark theme").click()
    page.goto(stack.portal + "/index.html")
    assert page.evaluate("document.documentElement.getAttribute('data-bs-theme')") == "dark"
    expect(page.locator("[data-plan=free]")).to_contain_text("100")

    assert console == []
    context.close()


def test_the_outbox_pages_header_leads_to_the_portals_pages(browser: Browser, stack: Stack) -> None:
    """The outbox is served from /outbox/: its header's links are the portal's pages, not /outbox/login.html and the
    like, which were "No such message" (found by the tenth tester)."""
    context = _context(browser)
    page = context.new_page()
    console = watch_console(page)
    page.goto(stack.portal + "/outbox/")
    header = page.locator("[data-site-header]")
    for name, href in (("Marquee", "/index.html"), ("Home", "/index.html"), ("API reference", "/docs.html")):
        expect(header.get_by_role("link", name=name, exact=True)).to_have_attribute("href", href)
    expect(header.get_by_role("link", name="Home", exact=True)).not_to_have_attribute("aria-current", "page")
    expect(header.get_by_role("link", name="Get an API key")).to_have_attribute("href", "/signup.html")
    header.get_by_role("link", name="Sign in").click()
    expect(page).to_have_url(stack.portal + "/login.html")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    assert console == []
    context.close()


def test_an_outbox_message_fits_a_phone(browser: Browser, stack: Stack) -> None:
    """A confirmation link (a 43-character token) in the message page's list of links wrapped nowhere and widened
    the page past a 390-pixel screen (found by the tenth tester)."""
    link = "http://127.0.0.1:8080/verify.html?token=" + "fJDPC7UvdMo5wLl9y8nKfnbyEkprBm54-jcByEjOYWY"
    message = compose(sender="Marquee <no-reply@example.com>", to=_address("phone"), subject="Confirm", text=link,
                      html=f'<a href="{link}">Confirm</a>')  # fmt: skip
    name = f"20261201T000000000000Z-{uuid.uuid4().hex[:8]}.eml"
    stack.outbox.mkdir(mode=0o700, exist_ok=True)  # made by the first mail the stack sends
    (stack.outbox / name).write_bytes(message.as_bytes())
    context = _context(browser, width=390)
    page = context.new_page()
    page.goto(stack.portal + "/outbox/" + name)
    expect(page.locator("[data-outbox-link]")).to_have_text(link)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    context.close()


def test_the_outbox_list_fits_a_phone(browser: Browser, stack: Stack) -> None:
    """The tester's case: at 375 px the outbox's list of messages was 437 px wide (an address such as
    sam.4f2a9c375@outlook.com does not wrap), so the whole page scrolled sideways to read a confirmation mail."""
    to = f"samantha.{RUN}.tester@outlook.com"
    message = compose(sender="Marquee <no-reply@example.com>", to=to, subject="Confirm your email for Marquee",
                      text="Confirm: http://127.0.0.1:8080/verify.html?token=x", html="<p>Confirm</p>")  # fmt: skip
    stack.outbox.mkdir(mode=0o700, exist_ok=True)  # made by the first mail the stack sends
    (stack.outbox / f"20261201T000000000001Z-{uuid.uuid4().hex[:8]}.eml").write_bytes(message.as_bytes())
    context = _context(browser, width=375)
    page = context.new_page()
    page.goto(stack.portal + "/outbox/")
    expect(page.locator("[data-outbox-message]", has_text=to)).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    context.close()


@pytest.mark.parametrize(
    ("address", "message"),
    [("jane@example.com", "not one of them"), ("jane@mailinator.com", "disposable")],
)
def test_refused_addresses_show_the_reason_at_the_email_field_and_focus_it(
    browser: Browser, stack: Stack, address: str, message: str
) -> None:
    context = _context(browser)
    page = context.new_page()
    page.goto(stack.portal + "/signup.html")
    page.get_by_label("Name").fill("Jane")
    page.get_by_label("Email").fill(address)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("Password").press("Enter")  # the keyboard submits the form
    field = page.get_by_label("Email")
    expect(field).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#email-feedback")).to_contain_text(message)
    expect(field).to_be_focused()
    context.close()


def test_sign_up_shows_every_fields_problem_at_once_and_leaves_the_rest_to_the_api(
    browser: Browser, stack: Stack
) -> None:
    """An empty form showed only the name's problem (the API answers one refusal per request), so it took three
    tries to learn what the form wanted. The page now checks what needs no server, every field at once, and sends
    nothing; what it cannot judge (the address's provider) is still the API's answer."""
    context = _context(browser)
    page = context.new_page()
    console = watch_console(page)
    signups: list[str] = []
    page.on("request", lambda request: signups.append(request.url) if "/auth/signup" in request.url else None)
    page.goto(stack.portal + "/signup.html")
    name, address, password = page.get_by_label("Name"), page.get_by_label("Email"), page.get_by_label("Password")
    create = page.get_by_role("button", name="Create account")

    def shown(expected: dict[str, str]) -> None:
        for field, locator in (("name", name), ("email", address), ("password", password)):
            feedback = page.locator(f"#{field}-feedback")
            if field in expected:
                expect(locator).to_have_attribute("aria-invalid", "true")
                expect(feedback).to_have_text(expected[field])
                expect(feedback).to_be_visible()
            else:
                expect(locator).not_to_have_attribute("aria-invalid", "true")
                expect(feedback).to_be_empty()

    create.click()
    shown(
        {
            "name": "Enter your name: 1 to 100 printable characters.",
            "email": "Enter your email address.",
            "password": "Choose a password: at least 10 characters.",
        }
    )
    expect(name).to_be_focused()

    # Obviously wrong values, each at its field; a right one clears its own problem.
    name.fill("   ")
    address.fill("jane.doe gmail.com")
    password.fill("short")
    create.click()
    shown(
        {
            "name": "Enter your name: 1 to 100 printable characters.",
            "email": "This is not an email address: it reads like jane.doe@gmail.com.",
            "password": "Use at least 10 characters.",
        }
    )
    name.fill("Jane")
    password.fill("\u00e9" * 40)  # 40 characters, 80 bytes of UTF-8: over the API's 72
    password.press("Enter")
    shown(
        {
            "email": "This is not an email address: it reads like jane.doe@gmail.com.",
            "password": "Use at most 72 bytes (about 72 plain characters).",
        }
    )
    expect(address).to_be_focused()
    assert signups == []

    # What the page lets through goes to the API, which stays the judge of the rest: the provider here.
    address.fill(f"jane.{RUN}@example.com")
    password.fill(PASSWORD)
    create.click()
    expect(address).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#email-feedback")).to_contain_text("example.com is not one of them")
    for field in (name, password):
        expect(field).not_to_have_attribute("aria-invalid", "true")
    expect(address).to_be_focused()
    assert len(signups) == 1
    assert console == []
    context.close()


def test_a_second_developer_sees_only_their_own_data(browser: Browser, stack: Stack) -> None:
    # The first developer, through the API (the browser flow is the test above), with one call of their own.
    jane, bob = _address("jane2"), _address("bob")
    keys = {}
    for who, address in (("jane2", jane), ("bob", bob)):
        signed = httpx.post(
            stack.api + "/auth/signup", json={"name": who, "email": address, "password": PASSWORD}, timeout=30
        )
        assert signed.status_code == 202, signed.text
        link = re.search(
            r"token=([A-Za-z0-9_-]{43})", _latest_mail(stack.outbox, address).get_body(("plain",)).get_content()
        )  # type: ignore[union-attr]
        assert link
        verified = httpx.post(
            stack.api + "/auth/verify", json={"token": link.group(1), "password": PASSWORD}, timeout=30
        )
        assert verified.status_code == 200, verified.text
        keys[who] = verified.json()["api_key"]
    assert httpx.get(stack.api + "/genres", headers={"X-API-KEY": keys["jane2"]}, timeout=30).status_code == 200

    context = _context(browser)
    page = context.new_page()
    page.goto(stack.portal + "/login.html")
    page.get_by_label("Email").fill(bob)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/dashboard.html")
    expect(page.locator("[data-welcome]")).to_contain_text(bob)
    expect(page.locator("[data-key-masked]")).to_contain_text(keys["bob"][-4:])
    expect(page.locator("[data-request-log] tbody")).to_contain_text("No requests yet")
    expect(page.locator('[data-window="day"] [data-window-text]')).to_contain_text("0 of 100")
    body = page.content()
    assert jane not in body and keys["jane2"][-4:] not in page.locator("[data-key-masked]").inner_text()
    assert "/genres" not in page.locator("[data-request-log]").inner_text()

    # Signing out ends the session on the server: the old token is refused.
    token = page.evaluate("JSON.parse(localStorage.getItem('marquee.session')).token")
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/index.html")
    refused = httpx.get(stack.api + "/auth/me", headers={"Authorization": f"Bearer {token}"}, timeout=30)
    assert refused.status_code == 401 and refused.json()["code"] == "session_revoked"
    context.close()


def test_the_mailbox_owner_takes_a_squatted_sign_up_back_and_the_squatter_never_gets_in(
    browser: Browser, stack: Stack, database_url: str
) -> None:
    # The owner signs up in the browser; before they confirm, someone else signs up for the same Outlook mailbox
    # (a +tag) with their own password, and the link that takeover mails lands in the owner's inbox.
    owner, squat = f"owner.{RUN}@outlook.com", f"owner.{RUN}+x@outlook.com"
    squat_password = "amber-tundra-pelican-77"
    context = _context(browser)
    page = context.new_page()
    console = watch_console(page)
    _sign_up(page, stack, "Owner", owner)
    signed = httpx.post(
        stack.api + "/auth/signup", json={"name": "Squat", "email": squat, "password": squat_password}, timeout=30
    )
    assert signed.status_code == 202, signed.text
    plain = _latest_mail(stack.outbox, squat).get_body(("plain",))
    assert plain is not None
    link = re.search(r"http://\S+/verify\.html\?token=[A-Za-z0-9_-]{43}", plain.get_content())
    assert link

    # The owner opens the newest link and enters their own password: refused, told what to do, nothing confirmed.
    page.goto(link.group(0))
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Confirm my email").click()
    expect(page.locator("#password-feedback")).to_contain_text("sign up again")
    assert _verification_row(database_url, squat) == {"verified": False, "used": 0, "keys": 0}
    refused = httpx.post(stack.api + "/auth/login", json={"email": squat, "password": squat_password}, timeout=30)
    assert (refused.status_code, refused.json()["code"]) == (403, "email_not_verified")

    # "Sign up again" with their own password takes the account back; the new link confirms it with that password.
    page.get_by_role("link", name="Sign up again").click()
    page.wait_for_url("**/signup.html")
    _sign_up(page, stack, "Owner", owner)
    plain = _latest_mail(stack.outbox, owner).get_body(("plain",))
    assert plain is not None
    own_link = re.search(r"http://\S+/verify\.html\?token=[A-Za-z0-9_-]{43}", plain.get_content())
    assert own_link and own_link.group(0) != link.group(0)
    page.goto(own_link.group(0))
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Confirm my email").click()
    page.wait_for_url("**/dashboard.html")
    expect(page.locator("[data-welcome]")).to_contain_text(owner)
    assert _verification_row(database_url, owner)["verified"] is True

    # The squatter's link and password get nothing.
    stale = httpx.post(
        stack.api + "/auth/verify",
        json={"token": link.group(0).rsplit("=", 1)[1], "password": squat_password},
        timeout=30,
    )
    assert (stale.status_code, stale.json()["code"]) == (400, "invalid_token")
    refused = httpx.post(stack.api + "/auth/login", json={"email": squat, "password": squat_password}, timeout=30)
    assert (refused.status_code, refused.json()["code"]) == (401, "invalid_credentials")
    assert console == []
    context.close()


def _signed_up_through_the_api(stack: Stack, who: str, address: str, database_url: str) -> str:
    """Sign up and confirm through the API; returns the key issued on confirmation. The module signs everyone up
    from the loopback, more than SIGNUP_PER_IP allows in an hour: the loopback's count starts over first."""
    with connect(database_url) as conn:
        conn.execute("DELETE FROM auth_attempts WHERE scope = 'signup_ip' AND subject IN ('127.0.0.1', '::1')")
    signed = httpx.post(
        stack.api + "/auth/signup", json={"name": who, "email": address, "password": PASSWORD}, timeout=30
    )
    assert signed.status_code == 202, signed.text
    body = _latest_mail(stack.outbox, address).get_body(("plain",))
    assert body is not None
    link = re.search(r"token=([A-Za-z0-9_-]{43})", body.get_content())
    assert link
    verified = httpx.post(stack.api + "/auth/verify", json={"token": link.group(1), "password": PASSWORD}, timeout=30)
    assert verified.status_code == 200, verified.text
    return str(verified.json()["api_key"])


def _sign_in(browser: Browser, stack: Stack, address: str) -> tuple[BrowserContext, Page]:
    context = _context(browser)
    page = context.new_page()
    page.goto(stack.portal + "/login.html")
    page.get_by_label("Email").fill(address)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/dashboard.html")
    return context, page


def test_a_password_reset_says_every_session_ends_and_this_browsers_does(
    browser: Browser, stack: Stack, database_url: str
) -> None:
    # reset.html said "every other session is signed out" while the reset ends every one, this browser's too.
    address = _address("reset")
    _signed_up_through_the_api(stack, "Reset", address, database_url)
    context, page = _sign_in(browser, stack, address)
    console = watch_console(page)
    token = page.evaluate("JSON.parse(localStorage.getItem('marquee.session')).token")
    other = httpx.post(stack.api + "/auth/login", json={"email": address, "password": PASSWORD}, timeout=30)
    assert other.status_code == 200, other.text
    forgot = httpx.post(stack.api + "/auth/password/forgot", json={"email": address}, timeout=30)
    assert forgot.status_code == 202, forgot.text
    link = None
    deadline = time.monotonic() + 15
    while link is None and time.monotonic() < deadline:  # the mail is sent after the answer (EventBridge)
        body = _latest_mail(stack.outbox, address).get_body(("plain",))
        assert body is not None
        link = re.search(r"http://\S+/reset\.html\?token=[A-Za-z0-9_-]{43}", body.get_content())
        time.sleep(0.1)
    assert link

    page.goto(link.group(0))
    page.get_by_label("New password", exact=True).fill("amber-tundra-pelican-77")
    page.get_by_label("Repeat the new password").fill("amber-tundra-pelican-77")
    page.get_by_role("button", name="Change password").click()
    done = page.locator("[data-done]")
    expect(done).to_be_visible()
    expect(done).to_contain_text("every session is signed out, this browser's too")
    assert "every other session" not in done.inner_text()
    # What it says is so: this browser's session is gone, on the server and in the page, as is the other one.
    assert page.evaluate("localStorage.getItem('marquee.session')") is None
    for ended in (token, other.json()["access_token"]):
        refused = httpx.get(stack.api + "/auth/me", headers={"Authorization": f"Bearer {ended}"}, timeout=30)
        assert refused.status_code == 401, refused.text
    page.goto(stack.portal + "/dashboard.html")
    page.wait_for_url("**/login.html**")
    assert console == []
    context.close()


def test_a_developer_with_two_keys_sees_each_keys_windows_and_names_the_one_to_replace(
    browser: Browser, stack: Stack, database_url: str
) -> None:
    from movie_common import access

    address = _address("twokeys")
    first = _signed_up_through_the_api(stack, "twokeys", address, database_url)
    with connect(database_url) as conn:  # an admin gives the developer a second key (POST /admin/keys)
        owner = conn.execute("SELECT id FROM users WHERE email = %s", (address,)).fetchone()
        assert owner is not None
        second = access.issue_key(conn, owner_id=owner["id"], plan="free").raw_key
    for _ in range(3):
        assert httpx.get(stack.api + "/genres", headers={"X-API-KEY": first}, timeout=30).status_code == 200
    assert httpx.get(stack.api + "/genres", headers={"X-API-KEY": second}, timeout=30).status_code == 200
    context, page = _sign_in(browser, stack, address)
    me = page.evaluate(
        """async () => {
             const token = JSON.parse(localStorage.getItem('marquee.session')).token;
             return (await fetch(window.MARQUEE_CONFIG.apiBase + '/auth/me',
                                 {headers: {Authorization: 'Bearer ' + token}})).json();
           }"""
    )
    ids = {key["last4"]: key["id"] for key in me["keys"]}
    assert set(ids) == {first[-4:], second[-4:]}
    expect(page.locator("[data-keys] [data-key]")).to_have_count(2)
    expect(page.locator(f'[data-key="{ids[first[-4:]]}"] [data-key-masked]')).to_contain_text(first[-4:])
    expect(page.locator(f'[data-key="{ids[second[-4:]]}"] [data-key-masked]')).to_contain_text(second[-4:])
    first_usage = page.locator(f'[data-key-usage="{ids[first[-4:]]}"] [data-window="day"] [data-window-text]')
    expect(first_usage).to_contain_text("3 of 100")
    second_usage = page.locator(f'[data-key-usage="{ids[second[-4:]]}"] [data-window="day"] [data-window-text]')
    expect(second_usage).to_contain_text("1 of 100")
    expect(page.locator("[data-requests-today]")).to_have_text("4")

    page.locator("[data-key-request-box] summary").click()
    expect(page.get_by_label("Which key?")).to_be_visible()
    page.get_by_label("Which key?").select_option(str(ids[first[-4:]]))
    page.get_by_label("Why do you need a new key?").fill("The old laptop was stolen.")
    page.get_by_role("button", name="Request a new key").click()
    expect(page.locator("[data-key-request] [data-key-request-key]")).to_have_text("Key \u2026" + first[-4:])
    context.close()


def test_a_password_made_from_the_address_is_refused_at_the_password_field(browser: Browser, stack: Stack) -> None:
    context = _context(browser)
    page = context.new_page()
    page.goto(stack.portal + "/signup.html")
    page.get_by_label("Name").fill("Jane")
    page.get_by_label("Email").fill(f"jane.b3{RUN}@gmail.com")
    page.get_by_label("Password").fill(f"jane.b3{RUN}gmail")
    page.get_by_role("button", name="Create account").click()
    field = page.get_by_label("Password")
    expect(field).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#password-feedback")).to_contain_text("made from your email address")
    expect(field).to_be_focused()
    context.close()


def test_older_in_the_request_log_shows_no_row_twice_while_requests_arrive(
    browser: Browser, stack: Stack, database_url: str
) -> None:
    address = _address("pager")
    key = _signed_up_through_the_api(stack, "pager", address, database_url)
    headers = {"X-API-KEY": key}
    with httpx.Client(base_url=stack.api, headers=headers, timeout=30) as client:
        for _ in range(5):  # the oldest five
            assert client.get("/genres").status_code == 200
        for _ in range(20):  # the newest twenty: page 1 of the dashboard's log
            assert client.get("/movies").status_code == 200
        context, page = _sign_in(browser, stack, address)
        log = page.locator("[data-request-log] [data-log-row]")
        expect(log).to_have_count(20)
        expect(page.locator("[data-log-page]")).to_have_text("Page 1 of 2")
        for _ in range(3):  # requests arrive while the developer reads page 1
            assert client.get("/search", params={"title": "matrix"}).status_code == 200
    page.get_by_role("button", name="Older").click()
    expect(log).to_have_count(5)
    expect(log.filter(has_text="/genres")).to_have_count(5)  # the rest, none of page 1 again
    expect(page.get_by_role("button", name="Older")).to_be_disabled()
    page.get_by_role("button", name="Newer").click()
    expect(log.filter(has_text="/search")).to_have_count(3)  # page 1 read afresh
    expect(page.get_by_role("button", name="Newer")).to_be_disabled()
    context.close()


def test_a_playground_request_refused_in_the_page_clears_the_previous_response(
    browser: Browser, stack: Stack, database_url: str
) -> None:
    """The tester's case: GET /movies/{id} with id `../../usage` was refused in the page (the id is a whole
    number), but the previous endpoint's 200 stayed on screen under the new request, to be read as its answer. Each
    refusal (a bad parameter, no key, an API out of reach) takes the previous response away."""
    address = _address("stale")
    key = _signed_up_through_the_api(stack, "stale", address, database_url)
    context, page = _sign_in(browser, stack, address)
    console = watch_console(page)
    result, status, body = (page.locator(f"[data-pg-{part}]") for part in ("result", "status", "body"))
    endpoint = page.get_by_label("Endpoint", exact=True)
    page.locator("[data-pg-key]").fill(key)

    def answered(path: str) -> None:
        endpoint.select_option(label=f"GET {path}")
        page.get_by_role("button", name="Send request").click()
        expect(status).to_have_text(re.compile(r"^200"))
        expect(page.locator("[data-pg-url]")).to_have_text(re.compile(re.escape(path) + "$"))
        expect(body).not_to_be_empty()

    def refused() -> None:
        expect(result).to_be_hidden()
        for part in ("[data-pg-status]", "[data-pg-url]", "[data-pg-headers]", "[data-pg-body]"):
            expect(page.locator(part)).to_be_empty()

    answered("/genres")
    endpoint.select_option(label="GET /movies/{id}")
    page.get_by_label("id (required)").fill("../../usage")
    page.get_by_role("button", name="Send request").click()
    expect(page.locator("#pg-param-id-feedback")).to_contain_text("a whole number")
    refused()

    answered("/genres")
    page.locator("[data-pg-key]").fill("")
    page.get_by_role("button", name="Send request").click()
    expect(page.locator("#pg-key-feedback")).to_have_text("Paste your API key first.")
    refused()

    page.locator("[data-pg-key]").fill(key)
    answered("/genres")
    page.route(re.compile(r".*/genres$"), lambda route: route.abort())
    page.get_by_role("button", name="Send request").click()
    expect(page.locator("[data-playground-form] [data-form-alert]")).to_contain_text("could not be reached")
    refused()
    page.unroute(re.compile(r".*/genres$"))

    # A request the page lets through shows its answer again.
    endpoint.select_option(label="GET /movies/{id}")
    page.get_by_label("id (required)").fill("1")
    page.get_by_role("button", name="Send request").click()
    expect(status).to_have_text(re.compile(r"^200"))
    expect(page.locator("[data-pg-url]")).to_have_text(re.compile(r"/movies/1$"))
    expect(result).to_be_visible()
    assert console == []
    context.close()


def test_back_after_signing_out_does_not_show_the_dashboard_again(
    browser_type: BrowserType, browser_type_launch_args: dict[str, Any], stack: Stack, database_url: str
) -> None:
    """The tester's case: in Chromium as people run it (Playwright turns the back/forward cache off; this browser
    has it on), Back after Sign out restored the dashboard as it was, the developer's name, address, keys and
    request log on the screen of a shared computer. The restored page now leaves for the sign-in page."""
    address = _address("backcache")
    _signed_up_through_the_api(stack, "Back Cache", address, database_url)
    browser = browser_type.launch(**browser_type_launch_args, ignore_default_args=["--disable-back-forward-cache"])
    try:
        context, page = _sign_in(browser, stack, address)
        expect(page.locator("[data-welcome]")).to_contain_text(address)
        assert_back_after_sign_out_leaves(page, signed_out_url="**/index.html", private_text=address)
        context.close()
    finally:
        browser.close()


def test_signing_out_in_one_tab_signs_out_the_dashboard_in_another(
    browser: Browser, stack: Stack, database_url: str
) -> None:
    """The tester's case: with the dashboard open in two tabs, Sign out in one left the other showing the account
    (and a key shown once) until something on it was clicked. Every tab of the portal shares the session: each
    leaves for the sign-in page when it ends, and shows the new account when someone else signs in."""
    address, other = _address("tabone"), _address("tabtwo")
    _signed_up_through_the_api(stack, "Tab One", address, database_url)
    _signed_up_through_the_api(stack, "Tab Two", other, database_url)
    context, first = _sign_in(browser, stack, address)
    expect(first.locator("[data-welcome]")).to_contain_text(address)
    second = context.new_page()
    second.goto(stack.portal + "/dashboard.html")
    expect(second.locator("[data-welcome]")).to_contain_text(address)
    second.get_by_role("button", name="Sign out").click()
    second.wait_for_url("**/index.html")
    expect(first).to_have_url(re.compile(r"/login\.html\?next=dashboard\.html&ended=1$"))
    expect(first.locator("[data-session-ended]")).to_be_visible()  # and says why it is there
    assert address not in first.content()

    # Signed in as someone else in one tab: the other tab's dashboard is theirs now, not a mix of both accounts.
    first.goto(stack.portal + "/dashboard.html")  # the sign-in page again
    second.goto(stack.portal + "/login.html")
    first.get_by_label("Email").fill(address)
    first.get_by_label("Password").fill(PASSWORD)
    first.get_by_role("button", name="Sign in").click()
    expect(first.locator("[data-welcome]")).to_contain_text(address)
    second.get_by_label("Email").fill(other)
    second.get_by_label("Password").fill(PASSWORD)
    second.get_by_role("button", name="Sign in").click()
    expect(second.locator("[data-welcome]")).to_contain_text(other)
    expect(first.locator("[data-welcome]")).to_contain_text(other)
    context.close()


def test_the_empty_request_log_is_read_whole_at_375_px(browser: Browser, stack: Stack, database_url: str) -> None:
    """The tester's case: on a phone a new developer's request log said "No requests yet. Try the playground be",
    the rest past the edge of its box: the sentence, kept on one line, made the table wider than the card."""
    address = _address("phonelog")
    _signed_up_through_the_api(stack, "Phone Log", address, database_url)
    context = _context(browser, width=375)
    page = context.new_page()
    page.goto(stack.portal + "/login.html")
    page.get_by_label("Email").fill(address)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    log = page.locator("[data-request-log]")
    expect(log.locator("tbody")).to_have_text("No requests yet. Try the playground below.")
    box = log.locator("xpath=..")
    assert box.evaluate("node => node.scrollWidth <= node.clientWidth"), "the log scrolls sideways"
    context.close()


def test_a_developer_deletes_their_account_from_the_dashboard(
    browser: Browser, stack: Stack, database_url: str
) -> None:
    """There was no way to delete one's own account. The dashboard's last card does it, with the password: a wrong
    one is shown at the field and deletes nothing; the right one signs out for good and the key stops working."""
    address = f"delete.me.{RUN}@gmail.com"
    key = _signed_up_through_the_api(stack, "Delete Me", address, database_url)
    assert httpx.get(stack.api + "/movies?per_page=1", headers={"X-API-KEY": key}, timeout=30).status_code == 200
    context, page = _sign_in(browser, stack, address)
    console = watch_console(page)
    page.locator("[data-delete-box] summary").click()
    page.get_by_label("Your password, to confirm").fill("not my password at all")
    page.get_by_role("button", name="Delete my account").click()
    expect(page.locator("#delete-password-feedback")).to_contain_text("not your password")
    assert httpx.get(stack.api + "/movies?per_page=1", headers={"X-API-KEY": key}, timeout=30).status_code == 200
    page.get_by_label("Your password, to confirm").fill(PASSWORD)
    page.get_by_role("button", name="Delete my account").click()
    page.wait_for_url("**/login.html?deleted=1")
    expect(page.locator("[data-deleted]")).to_be_visible()
    refused = httpx.get(stack.api + "/movies?per_page=1", headers={"X-API-KEY": key}, timeout=30)
    assert refused.status_code in (401, 403), refused.text
    page.goto(stack.portal + "/dashboard.html")
    page.wait_for_url("**/login.html?next=*")  # signed out in this browser too
    assert console == []
    context.close()


def _reset_link(stack: Stack, address: str) -> str:
    """Ask for a password reset through the API and return the emailed reset.html link (sent after the answer)."""
    forgot = httpx.post(stack.api + "/auth/password/forgot", json={"email": address}, timeout=30)
    assert forgot.status_code == 202, forgot.text
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        body = _latest_mail(stack.outbox, address).get_body(("plain",))
        assert body is not None
        link = re.search(r"http://\S+/reset\.html\?token=[A-Za-z0-9_-]{43}", body.get_content())
        if link:
            return link.group(0)
        time.sleep(0.1)
    raise AssertionError(f"no reset mail to {address}")


def test_a_reset_link_that_cannot_work_offers_a_new_link_and_a_used_one_sign_in_too(
    browser: Browser, stack: Stack, database_url: str
) -> None:
    """The tester's case: a used, expired or damaged reset link said "ask for a new one" above a form that refuses
    every password, with no link to ask: the page offers a new link (and, for a used one, signing in)."""
    address = _address("deadlink")
    _signed_up_through_the_api(stack, "Dead link", address, database_url)
    link = _reset_link(stack, address)
    used = httpx.post(
        stack.api + "/auth/password/reset",
        json={"token": link.split("token=")[1], "password": "amber-tundra-pelican-77"},
        timeout=30,
    )
    assert used.status_code == 200, used.text
    context = _context(browser, width=375)
    page = context.new_page()
    console = watch_console(page)
    help_ = page.locator("[data-reset-help]")

    def change_password() -> None:
        page.get_by_label("New password", exact=True).fill("amber-tundra-pelican-78")
        page.get_by_label("Repeat the new password").fill("amber-tundra-pelican-78")
        page.get_by_role("button", name="Change password").click()

    page.goto(link)
    expect(help_).to_be_hidden()
    change_password()
    expect(page.locator("[data-reset-form] [data-form-alert]")).to_contain_text("already used")
    expect(help_.get_by_role("link", name="Ask for a new link")).to_have_attribute("href", "forgot.html")
    expect(help_.get_by_role("link", name="Sign in")).to_be_visible()

    page.goto(stack.portal + "/reset.html?token=damaged")
    change_password()
    expect(page.locator("[data-reset-form] [data-form-alert]")).to_contain_text("incomplete or damaged")
    expect(help_.get_by_role("link", name="Ask for a new link")).to_be_visible()
    expect(help_.get_by_role("link", name="Sign in")).to_be_hidden()
    help_.get_by_role("link", name="Ask for a new link").click()
    page.wait_for_url("**/forgot.html")
    expect(page.get_by_role("button", name="Email me a reset link")).to_be_visible()
    assert console == []
    context.close()


def test_a_dashboard_error_goes_away_once_a_later_refresh_succeeds(
    browser: Browser, stack: Stack, database_url: str
) -> None:
    """The tester's case: one failed refresh after a playground call (the database out for a moment) put "The
    database is unavailable" above the dashboard, and it stayed there after the next call's refresh succeeded,
    above figures that had loaded since."""
    address = _address("transient")
    key = _signed_up_through_the_api(stack, "Transient", address, database_url)
    context, page = _sign_in(browser, stack, address)
    console = watch_console(page)
    alert = page.locator("[data-page-alert]")
    failures = {"left": 1}

    def fail_once(route: Route) -> None:
        if failures["left"]:
            failures["left"] -= 1
            route.fulfill(
                status=503,
                content_type="application/problem+json",
                body='{"type": "https://marquee.dev/problems/database_unavailable", "title": "Service unavailable",'
                ' "status": 503, "detail": "The database is unavailable; retry in a few seconds.",'
                ' "code": "database_unavailable"}',
            )
        else:
            route.continue_()

    expect(page.locator("[data-requests-today]")).to_have_text("0")
    page.route(re.compile(r".*/auth/usage$"), fail_once)
    page.locator("[data-pg-key]").fill(key)
    page.get_by_label("Endpoint", exact=True).select_option(label="GET /genres")
    page.get_by_role("button", name="Send request").click()
    expect(alert).to_have_text("The database is unavailable; retry in a few seconds.")
    page.get_by_role("button", name="Send request").click()
    expect(page.locator("[data-requests-today]")).to_have_text("2")
    expect(alert).to_be_hidden()
    expect(alert).to_be_empty()
    assert console == []
    context.close()


def test_a_session_that_runs_out_or_is_ended_sends_the_developer_to_sign_in_saying_why(
    browser: Browser, stack: Stack, database_url: str
) -> None:
    """The tester's case: the session ran out while the developer used the playground, and the next call left for
    the sign-in page, which said nothing of why. It says so now (run out here, or ended on the server), and signing
    in goes back to the dashboard; a first visit without a session says nothing of the kind."""
    address = _address("ended")
    key = _signed_up_through_the_api(stack, "Ended", address, database_url)

    context, page = _sign_in(browser, stack, address)
    console = watch_console(page)
    ended = page.locator("[data-session-ended]")
    page.locator("[data-pg-key]").fill(key)
    page.get_by_label("Endpoint", exact=True).select_option(label="GET /genres")
    # The session the page keeps runs out (as it does after SESSION_TTL_SECONDS) while the dashboard is open.
    page.evaluate(
        """(() => { const kept = JSON.parse(localStorage.getItem('marquee.session'));
                    kept.expiresAt = Date.now() - 1000;
                    localStorage.setItem('marquee.session', JSON.stringify(kept)); })()"""
    )
    page.get_by_role("button", name="Send request").click()
    page.wait_for_url("**/login.html?next=dashboard.html&ended=1")
    expect(ended).to_be_visible()
    expect(ended).to_contain_text("Your session has ended")
    page.get_by_label("Email").fill(address)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/dashboard.html")
    expect(page.locator("[data-welcome]")).to_contain_text(address)

    # Ended on the server (signed out with this token elsewhere): the next read is a 401, and the page says why.
    token = page.evaluate("JSON.parse(localStorage.getItem('marquee.session')).token")
    out = httpx.post(stack.api + "/auth/logout", headers={"Authorization": f"Bearer {token}"}, timeout=30)
    assert out.status_code == 204, out.text
    page.locator("[data-pg-key]").fill(key)
    page.get_by_role("button", name="Send request").click()
    page.wait_for_url("**/login.html?next=dashboard.html&ended=1")
    expect(ended).to_be_visible()

    # Never signed in here: the dashboard sends to the sign-in page without a word about an ended session.
    fresh = _context(browser)
    page_notice = fresh.new_page()
    page_notice.goto(stack.portal + "/dashboard.html")
    page_notice.wait_for_url("**/login.html?next=dashboard.html")
    expect(page_notice.get_by_role("button", name="Sign in")).to_be_visible()
    expect(page_notice.locator("[data-session-ended]")).to_be_hidden()
    assert console == []
    fresh.close()
    context.close()


def test_a_used_confirmation_link_opened_while_signed_in_leads_to_the_dashboard(
    browser: Browser, stack: Stack, database_url: str
) -> None:
    """The tester's case: a developer who confirmed, then opened the mail's link again (signed in, as most are), read
    "This link was already used" with only a Sign in button; signed out, Sign in stays the way on."""
    address = _address("usedlink")
    with connect(database_url) as conn:
        conn.execute("DELETE FROM auth_attempts WHERE scope = 'signup_ip' AND subject IN ('127.0.0.1', '::1')")
    signed = httpx.post(
        stack.api + "/auth/signup", json={"name": "Used", "email": address, "password": PASSWORD}, timeout=30
    )
    assert signed.status_code == 202, signed.text
    body = _latest_mail(stack.outbox, address).get_body(("plain",))
    assert body is not None
    link = re.search(r"http://\S+/verify\.html\?token=[A-Za-z0-9_-]{43}", body.get_content())
    assert link
    token = link.group(0).split("token=")[1]
    verified = httpx.post(stack.api + "/auth/verify", json={"token": token, "password": PASSWORD}, timeout=30)
    assert verified.status_code == 200, verified.text
    context, page = _sign_in(browser, stack, address)
    console = watch_console(page)
    help_ = page.locator("[data-verify-help]")

    def confirm_again() -> None:
        page.goto(link.group(0))
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Confirm my email").click()
        expect(page.locator("[data-verify-form] [data-form-alert]")).to_contain_text("already used")

    confirm_again()
    expect(help_.get_by_role("link", name="Open your dashboard")).to_have_attribute("href", "dashboard.html")
    expect(help_.get_by_role("link", name="Sign in")).to_have_count(0)
    page.evaluate("localStorage.removeItem('marquee.session')")
    confirm_again()
    expect(help_.get_by_role("link", name="Sign in")).to_have_attribute("href", "login.html")
    assert console == []
    context.close()
