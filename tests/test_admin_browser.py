"""The admin portal end to end in headless Chromium (Playwright, the system's Chromium) against the one-machine stack
started by `marquee run` in a subprocess on free ports: an admin signs in, suspends a developer's key (which then
gets 403 key_suspended from /movies) and reactivates it; resets a key's usage (the developer's dashboard shows zero);
approves a reissue request (the developer reveals the new key once). Screenshots of the overview and the keys table
go to .marquee/screenshots/ (git-ignored); at 375 px, count lines and a long reissue reason are shown whole."""

from __future__ import annotations

import email
import email.policy
import re
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from playwright.sync_api import Browser, BrowserType, Locator, Page, Route, expect

from movie_admin.audit import Actor
from movie_admin.services import admins
from movie_common.database import connect
from tests.browser_stack import assert_back_after_sign_out_leaves, marquee_run, watch_console

pytestmark = [pytest.mark.slow, pytest.mark.commit]

REPO = Path(__file__).resolve().parents[1]
SCREENSHOTS = REPO / ".marquee" / "screenshots"
RUN = uuid.uuid4().hex[:8]
ADMIN_EMAIL = f"ops.{RUN}@marquee.example"
ADMIN_PASSWORD = "admin-lantern-harbor-77"
DEV_PASSWORD = "velvet-orbit-canyon-42"
expect.set_options(timeout=30_000)


@dataclass
class Stack:
    api: str
    portal: str
    outbox: Path


@pytest.fixture(scope="module")
def stack(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """`marquee run` on free ports with its own MARQUEE_HOME and the test database, and an admin of this run."""
    with connect(database_url) as conn:
        admins.create_admin(conn, Actor.cli(), email=ADMIN_EMAIL, password=ADMIN_PASSWORD)
    home = tmp_path_factory.mktemp("marquee-home")
    try:
        with marquee_run(home=home, database_url=database_url, banner=("API", "Portal", "Admin")) as running:
            urls = running.urls
            assert urls["Admin"] == urls["Portal"] + "/admin/"  # the banner says where the admin portal is
            yield Stack(api=urls["API"], portal=urls["Portal"], outbox=home / "outbox")
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
            conn.execute("DELETE FROM admin_audit_log WHERE actor = %s OR after->>'email' = %s", (ADMIN_EMAIL,) * 2)
            conn.execute("DELETE FROM sessions WHERE role = 'admin'")
            conn.execute("DELETE FROM admins WHERE email = %s", (ADMIN_EMAIL,))


@dataclass
class Developer:
    email: str
    key: str


def _developer(stack: Stack, who: str) -> Developer:
    """A developer signed up and verified through the portal's API (the mail read from the outbox)."""
    address = f"{who}.{RUN}@gmail.com"
    signed = httpx.post(
        stack.api + "/auth/signup", json={"name": who.title(), "email": address, "password": DEV_PASSWORD}, timeout=30
    )
    assert signed.status_code == 202, signed.text
    deadline = time.monotonic() + 10
    token = None
    while token is None and time.monotonic() < deadline:
        for path in stack.outbox.glob("*.eml"):
            with path.open("rb") as handle:
                message = email.message_from_binary_file(handle, policy=email.policy.default)
            plain = message.get_body(("plain",)) if isinstance(message, email.message.EmailMessage) else None
            if message["To"] == address and plain is not None:
                found = re.search(r"token=([A-Za-z0-9_-]{43})", plain.get_content())
                token = found.group(1) if found else None
        time.sleep(0.1)
    assert token, f"no verification mail for {address}"
    verified = httpx.post(stack.api + "/auth/verify", json={"token": token, "password": DEV_PASSWORD}, timeout=30)
    assert verified.status_code == 200, verified.text
    return Developer(address, verified.json()["api_key"])


def _movies(stack: Stack, key: str) -> tuple[int, str | None]:
    response = httpx.get(stack.api + "/movies", headers={"X-API-KEY": key}, timeout=30)
    return response.status_code, (response.json().get("code") if response.status_code >= 400 else None)


def _admin_page(browser: Browser, stack: Stack, width: int = 1400) -> Page:
    page = browser.new_context(viewport={"width": width, "height": 900}).new_page()
    page.goto(stack.portal + "/admin/keys.html")
    page.wait_for_url("**/admin/login.html?next=keys.html")  # no session: sign in first, then back
    page.get_by_label("Email").fill(ADMIN_EMAIL)
    page.get_by_label("Password").fill(ADMIN_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/admin/keys.html")
    return page


def _key_row(page: Page, developer: Developer) -> object:
    page.get_by_label("Search").fill(developer.email)
    page.get_by_role("button", name="Filter").click()
    row = page.locator("tr[data-key-id]", has_text=developer.email)
    expect(row).to_have_count(1)
    expect(row).to_contain_text(developer.key[-4:])
    return row


def _confirm(page: Page, button: str) -> None:
    dialog = page.locator("#confirm-modal")
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name=button).click()
    expect(dialog).to_be_hidden()


def _developer_dashboard(browser: Browser, stack: Stack, developer: Developer) -> Page:
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    page.goto(stack.portal + "/login.html")
    page.get_by_label("Email").fill(developer.email)
    page.get_by_label("Password").fill(DEV_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/dashboard.html")
    return page


def test_an_admin_suspends_a_key_which_is_refused_then_reactivates_it(browser: Browser, stack: Stack) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    developer = _developer(stack, "kate")
    assert _movies(stack, developer.key) == (200, None)
    page = _admin_page(browser, stack)
    console = watch_console(page)
    row = _key_row(page, developer)

    row.get_by_role("button", name="Suspend").click()  # type: ignore[attr-defined]
    expect(page.locator("#confirm-modal")).to_contain_text("403 key_suspended")
    _confirm(page, "Suspend")
    expect(row).to_contain_text("suspended")  # type: ignore[arg-type]
    assert _movies(stack, developer.key) == (403, "key_suspended")

    row.get_by_role("button", name="Reactivate").click()  # type: ignore[attr-defined]
    _confirm(page, "Reactivate")
    expect(row.locator(".badge")).to_have_text("active")  # type: ignore[attr-defined]
    assert _movies(stack, developer.key) == (200, None)

    # A destructive action waits for the confirmation: Cancel leaves the key as it was.
    row.get_by_role("button", name="Revoke").click()  # type: ignore[attr-defined]
    page.locator("#confirm-modal").get_by_role("button", name="Cancel").click()
    expect(row.locator(".badge")).to_have_text("active")  # type: ignore[attr-defined]
    assert _movies(stack, developer.key) == (200, None)

    # The keys table, every key (the demo key of `marquee run` and this test's), for the screenshot.
    page.get_by_label("Search").fill("")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("tr[data-key-id]")).not_to_have_count(1)
    page.screenshot(path=str(SCREENSHOTS / "admin-keys.png"), full_page=True)
    # At 1280 px every action of every key is on screen: none cut off at the table's edge (Delete was).
    page.set_viewport_size({"width": 1280, "height": 900})
    cut = page.evaluate(
        """() => [...document.querySelectorAll("tr[data-key-id] button")].filter(button => {
             const box = button.getBoundingClientRect();
             const frame = (button.closest(".table-responsive") || document.documentElement).getBoundingClientRect();
             return box.right > Math.min(frame.right, document.documentElement.clientWidth) || box.left < frame.left;
           }).map(button => button.textContent)"""
    )
    assert cut == []
    page.screenshot(path=str(SCREENSHOTS / "admin-keys-1280.png"), full_page=True)

    # The audit page shows what was done, by whom.
    page.goto(stack.portal + "/admin/audit.html")
    expect(page.locator("tbody tr").first).to_contain_text("api_key.reactivate")
    expect(page.locator("tbody")).to_contain_text("api_key.suspend")
    expect(page.locator("tbody")).to_contain_text(ADMIN_EMAIL)

    # The overview charts the traffic, screenshot included.
    page.goto(stack.portal + "/admin/index.html")
    expect(page.locator("main[data-loaded]")).to_have_attribute("data-loaded", "30")
    assert int(page.locator('[data-kpi="requests"]').inner_text().replace(",", "")) >= 3
    page.screenshot(path=str(SCREENSHOTS / "admin-overview.png"), full_page=True)
    # Its window is kept in the URL, as the lists keep their filters: a reload shows the window chosen.
    page.get_by_label("Window").select_option("90")
    expect(page.locator("main[data-loaded]")).to_have_attribute("data-loaded", "90")
    assert "days=90" in page.url
    page.reload()
    expect(page.locator("main[data-loaded]")).to_have_attribute("data-loaded", "90")
    expect(page.get_by_label("Window")).to_have_value("90")

    # The keys table on a phone: the table scrolls inside its box, the page does not.
    phone = _admin_page(browser, stack, width=375)
    _key_row(phone, developer)
    assert phone.evaluate("document.documentElement.scrollWidth") <= 375
    phone.screenshot(path=str(SCREENSHOTS / "admin-keys-phone.png"), full_page=True)
    assert console == []


# The whole of an element's text is on the screen: nothing cut by its own box, nothing past the viewport's edges.
_WHOLE = """element => {
  const box = element.getBoundingClientRect();
  return {text: element.textContent, scroll: element.scrollWidth, client: element.clientWidth,
          left: box.left, right: box.right, viewport: document.documentElement.clientWidth};
}"""


def _assert_whole(locator: Locator) -> str:
    seen = locator.evaluate(_WHOLE)
    assert seen["scroll"] <= seen["client"], seen
    assert seen["left"] >= 0 and seen["right"] <= seen["viewport"], seen
    return str(seen["text"])


def test_count_lines_and_long_text_are_whole_at_375_px(browser: Browser, stack: Stack, database_url: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    developer = _developer(stack, "pia")
    # Enough keys for a four-digit count and a two-digit page count.
    with connect(database_url) as conn:
        conn.execute(
            """INSERT INTO api_keys (owner_id, key, last4, plan)
               SELECT u.id, sha256(convert_to(u.email || '-' || g, 'UTF8')), lpad(g::text, 4, '0'), 'free'
               FROM users u, generate_series(1, 1234) AS g WHERE u.email = %s""",
            (developer.email,),
        )
    phone = _admin_page(browser, stack, width=375)
    phone.set_viewport_size({"width": 375, "height": 812})
    console = watch_console(phone)
    phone.get_by_label("Search").fill(developer.email)
    phone.get_by_role("button", name="Filter").click()
    summary = phone.locator("[data-summary]")
    expect(summary).to_have_text("1,235 keys match")
    assert _assert_whole(summary) == "1,235 keys match"
    expect(phone.locator("[data-page-of]")).to_have_text("Page 1 of 62")
    _assert_whole(phone.locator("[data-pager]"))
    assert phone.evaluate("document.documentElement.scrollWidth") <= 375
    phone.locator("[data-summary]").scroll_into_view_if_needed()
    phone.screenshot(path=str(SCREENSHOTS / "admin-keys-count-phone.png"), full_page=True)
    phone.goto(f"{stack.portal}/admin/developers.html")
    phone.get_by_label("Search").fill(developer.email)
    phone.get_by_role("button", name="Filter").click()
    expect(summary).to_have_text("1 developer matches")

    # The developer's page: each masked key on one line (the table scrolls in its box, its cells do not break).
    phone.goto(f"{stack.portal}/admin/keys.html")
    phone.get_by_label("Search").fill(developer.email)
    phone.get_by_role("button", name="Filter").click()
    phone.get_by_role("link", name=developer.email).first.click()
    phone.wait_for_url("**/admin/developer.html?id=*")
    masked = phone.locator("[data-dev-keys] .key-value")
    expect(masked.first).to_be_visible()
    assert masked.first.evaluate("e => e.getClientRects().length") == 1
    assert phone.evaluate("document.documentElement.scrollWidth") <= 375

    # The developer's dashboard: a long reissue reason wraps, whole, instead of ending in an ellipsis.
    dashboard = _developer_dashboard(browser, stack, developer)
    dashboard.set_viewport_size({"width": 375, "height": 812})
    reason = "My laptop, with the key in a dotfile, was stolen from a train between Lyon and Marseille last night."
    dashboard.get_by_text("Lost your key?").click()
    # With 1,235 keys the request names one: wait for the dashboard to list them (it raced the submit), then choose.
    which = dashboard.get_by_label("Which key?")
    expect(which).to_be_visible()
    which.select_option(label="\u20261234 (free, active)")
    dashboard.get_by_label("Why do you need a new key?").fill(reason)
    dashboard.get_by_role("button", name="Request a new key").click()
    shown = dashboard.locator("[data-key-request-reason]").first
    expect(shown).to_have_text(reason)
    assert _assert_whole(shown) == reason
    assert dashboard.evaluate("document.documentElement.scrollWidth") <= 375
    shown.scroll_into_view_if_needed()
    dashboard.screenshot(path=str(SCREENSHOTS / "dashboard-reissue-phone.png"))
    assert console == []


def test_an_admin_resets_usage_and_the_developer_dashboard_shows_zero(browser: Browser, stack: Stack) -> None:
    developer = _developer(stack, "liam")
    for _ in range(3):
        assert _movies(stack, developer.key) == (200, None)
    dashboard = _developer_dashboard(browser, stack, developer)
    expect(dashboard.locator('[data-window="day"] [data-window-text]')).to_contain_text("3 of 100")

    page = _admin_page(browser, stack)
    row = _key_row(page, developer)
    expect(row.locator("[data-usage-today]")).to_have_text("3")  # type: ignore[attr-defined]
    row.get_by_role("button", name="Reset usage").click()  # type: ignore[attr-defined]
    _confirm(page, "Reset usage")
    expect(row.locator("[data-usage-today]")).to_have_text("0")  # type: ignore[attr-defined]

    dashboard.reload()
    expect(dashboard.locator('[data-window="day"] [data-window-text]')).to_contain_text("0 of 100")


def test_an_admin_approves_a_reissue_and_the_developer_sees_the_new_key_once(browser: Browser, stack: Stack) -> None:
    developer = _developer(stack, "mona")
    dashboard = _developer_dashboard(browser, stack, developer)
    dashboard.get_by_text("Lost your key?").click()
    dashboard.get_by_label("Why do you need a new key?").fill("My laptop was stolen.")
    dashboard.get_by_role("button", name="Request a new key").click()
    expect(dashboard.locator("[data-key-requests]")).to_contain_text("My laptop was stolen.")

    page = _admin_page(browser, stack)
    page.goto(stack.portal + "/admin/key-requests.html")
    request = page.locator("tr[data-request-id]", has_text=developer.email)
    expect(request).to_contain_text("My laptop was stolen.")
    request.get_by_role("button", name="Approve").click()
    _confirm(page, "Approve")
    # Approved requests leave the default (pending) list; the old key stops at once.
    expect(page.locator("tr[data-request-id]", has_text=developer.email)).to_have_count(0)
    assert _movies(stack, developer.key) == (403, "key_revoked")
    # The developer's timeline shows the old key revoked at the approval, above the approval itself.
    page.goto(stack.portal + "/admin/developers.html")
    page.get_by_label("Search").fill(developer.email)
    page.get_by_role("button", name="Filter").click()
    page.get_by_role("link", name="Mona").click()
    timeline = page.locator("[data-timeline] li")
    revoked = f"Key …{developer.key[-4:]} revoked (reissue request "
    expect(timeline.first).to_contain_text(revoked)
    expect(timeline.nth(1)).to_contain_text("key_request.approve")

    dashboard.reload()
    dashboard.get_by_role("button", name="Reveal my new key").click()
    new_key = dashboard.locator("[data-new-key-value]")
    expect(new_key).to_be_visible()
    raw = new_key.input_value()
    assert raw != developer.key and _movies(stack, raw) == (200, None)
    # The usage panel shows the new key's windows at once (it said "No key" until a reload).
    windows = dashboard.locator("[data-key-windows] [data-window-text]")
    expect(windows.first).not_to_have_text("No key")
    expect(windows).not_to_contain_text(["No key"])
    # …and, once revealed (and used), the new key above the revocation: issued later, to replace the old key.
    page.reload()
    created = f"Key …{raw[-4:]} created on the free plan to replace …{developer.key[-4:]}"
    expect(timeline.filter(has_text=created)).to_have_count(1)
    events = timeline.all_inner_texts()
    [created_at] = [i for i, text in enumerate(events) if created in text]
    [revoked_at] = [i for i, text in enumerate(events) if revoked in text]
    assert events[0].endswith(f"Key …{raw[-4:]} last used") and created_at < revoked_at, events
    assert all(" \u2014 " in events[i] for i in (created_at, revoked_at))  # each with its time

    dashboard.reload()  # shown once: never again
    expect(dashboard.locator("[data-new-key]")).to_be_hidden()
    expect(dashboard.get_by_role("button", name="Reveal my new key")).to_have_count(0)
    assert raw not in dashboard.content()


def test_every_admin_page_loads_and_its_forms_show_problems_at_the_field(browser: Browser, stack: Stack) -> None:
    developer = _developer(stack, "nico")
    assert _movies(stack, developer.key) == (200, None)
    page = _admin_page(browser, stack)
    console = watch_console(page)

    page.goto(stack.portal + "/admin/developers.html")
    page.get_by_label("Search").fill(developer.email)
    page.get_by_role("button", name="Filter").click()
    row = page.locator("[data-rows] tr", has_text=developer.email)
    expect(row).to_be_visible()
    expect(row).not_to_contain_text("added by an admin")  # a sign-up, not an owner an admin named
    page.get_by_role("link", name="Nico").click()
    page.wait_for_url("**/admin/developer.html?id=*")
    expect(page.locator("[data-dev-email]")).to_have_text(developer.email)
    expect(page.locator("main")).to_contain_text("Signed up")
    expect(page.locator("[data-recent]")).to_contain_text("GET /movies")
    expect(page.locator("[data-timeline]")).to_contain_text("Signed up as " + developer.email)

    page.goto(stack.portal + "/admin/requests.html")
    expect(page.locator("tbody tr").first).to_contain_text("/movies")
    with page.expect_download() as download:
        page.get_by_role("button", name="Download CSV").click()
    csv_text = Path(download.value.path()).read_text()
    assert csv_text.startswith("timestamp,id,api_key_id,key_last4,owner_id,owner_email,method,endpoint,status")
    assert developer.email in csv_text

    page.goto(stack.portal + "/admin/movies.html")
    page.get_by_role("button", name="Add a movie").click()
    dialog = page.locator("#movie-modal")
    expect(dialog.get_by_label("Title")).to_be_focused()  # typing starts at the title
    dialog.get_by_label("Title").fill("The Browser Test")
    dialog.get_by_label("Year").fill("1700")
    dialog.get_by_label("Runtime").fill("forever")
    dialog.get_by_role("button", name="Save").click()
    expect(dialog.get_by_label("Year")).to_have_attribute("aria-invalid", "true")
    # the rule's sentence, as people read it; the stable code (not_a_duration) is for programs, in the API's answer
    expect(dialog.locator("#m-runtime-feedback")).to_have_text("a runtime is written like 142, 142 min or 2h 22m")
    dialog.get_by_label("Year").fill("2024")
    dialog.get_by_label("Runtime").fill("1h 40m")
    dialog.get_by_role("button", name="Save").click()
    expect(dialog).to_be_hidden()
    page.get_by_label("Title contains").fill("browser test")
    page.get_by_role("button", name="Filter").click()
    row = page.locator("tr[data-movie-id]", has_text="The Browser Test")
    expect(row).to_contain_text("2024")
    row.get_by_role("button", name="Delete").click()
    _confirm(page, "Delete")
    expect(page.locator("tr[data-movie-id]")).to_have_count(0)

    page.goto(stack.portal + "/admin/plans.html")
    pro = page.locator("form[data-plan=pro]")
    pro.get_by_label("Requests per minute").fill("0")
    pro.get_by_role("button", name="Save pro").click()
    _confirm(page, "Save")
    expect(pro.get_by_label("Requests per minute")).to_have_attribute("aria-invalid", "true")
    # Another admin saves the plan while this form is open: this save is refused in the form (412), theirs kept.
    token = httpx.post(
        stack.api + "/admin/login", json={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}, timeout=30
    ).json()["access_token"]
    auth = {"Authorization": f"Bearer {token}"}
    before = httpx.get(stack.api + "/admin/plans/pro", headers=auth, timeout=30).json()["per_minute"]
    other = httpx.patch(stack.api + "/admin/plans/pro", json={"per_minute": before + 1}, headers=auth, timeout=30)
    assert other.status_code == 200, other.text
    pro.get_by_label("Requests per minute").fill(str(before + 2))
    pro.get_by_role("button", name="Save pro").click()
    _confirm(page, "Save")
    expect(pro.locator("[data-form-alert]")).to_contain_text("changed since you read it")
    assert httpx.get(stack.api + "/admin/plans/pro", headers=auth, timeout=30).json()["per_minute"] == before + 1
    page.reload()  # read again, the save works
    pro.get_by_label("Requests per minute").fill(str(before))
    pro.get_by_role("button", name="Save pro").click()
    with page.expect_response(lambda r: r.url.endswith("/admin/plans/pro") and r.request.method == "PATCH") as saved:
        _confirm(page, "Save")
    assert saved.value.status == 200
    assert httpx.get(stack.api + "/admin/plans/pro", headers=auth, timeout=30).json()["per_minute"] == before

    for name in ("index", "keys", "key-requests", "audit"):
        page.goto(f"{stack.portal}/admin/{name}.html")
        expect(page.locator("[data-page-alert]")).to_be_hidden()

    # An empty list says "Nothing matches." only under a filter: this stack has no TMDB token, so no sync runs, and
    # the page had said they did not match (the twenty-second tester looked for the filter).
    page.goto(stack.portal + "/admin/sync.html")
    expect(page.locator("[data-rows]")).to_have_text("No runs yet.")
    page.goto(stack.portal + "/admin/movies.html?q=no+title+has+these+words+xq")
    expect(page.locator("[data-rows]")).to_have_text("Nothing matches.")
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/admin/login.html")
    assert console == []


def test_a_list_past_its_last_page_shows_the_last_page(browser: Browser, stack: Stack, database_url: str) -> None:
    """The last row of the last page deleted (or suspended, revoked under a filter), or an old link: the list went to
    the same page number, showed "Nothing matches." beside "20 movies match" and "Page 2 of 1", and Previous stepped
    back one page at a time from `?page=99999` (found by the fifteenth tester). It now shows the last page."""
    token = httpx.post(
        stack.api + "/admin/login", json={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}, timeout=30
    ).json()["access_token"]
    marker = f"Pager {RUN}"
    try:
        for i in range(21):
            made = httpx.post(
                stack.api + "/admin/movies",
                json={"title": f"{marker} {i:02}", "year": 2001},
                headers={"Authorization": f"Bearer {token}"},
                timeout=30,
            )
            assert made.status_code == 201, made.text
        page = _admin_page(browser, stack)
        console = watch_console(page)
        page.goto(f"{stack.portal}/admin/movies.html?q={marker.replace(' ', '+')}&sort=title.asc&page=2")
        expect(page.locator("[data-pager] [data-page-of]")).to_have_text("Page 2 of 2")
        row = page.locator("tr[data-movie-id]", has_text=f"{marker} 20")
        row.get_by_role("button", name="Delete").click()
        _confirm(page, "Delete")
        expect(page.locator("[data-pager] [data-page-of]")).to_have_text("Page 1 of 1")
        expect(page.locator("tr[data-movie-id]")).to_have_count(20)
        expect(page.locator("[data-summary]")).to_have_text("20 movies match")
        assert not re.search(r"[?&]page=", page.url)  # the URL follows (page 1 is left out)

        for asked in ("99999", "abc", "-3", "1.5"):
            page.goto(f"{stack.portal}/admin/movies.html?q={marker.replace(' ', '+')}&page={asked}")
            expect(page.locator("[data-pager] [data-page-of]")).to_have_text("Page 1 of 1")
            expect(page.locator("tr[data-movie-id]")).to_have_count(20)
            expect(page.locator("[data-page-alert]")).to_be_hidden()
        assert console == []
    finally:
        with connect(database_url) as conn:
            conn.execute("DELETE FROM movies WHERE title LIKE %s", (f"{marker}%",))


def test_back_after_signing_out_does_not_show_the_admin_page_again(
    browser_type: BrowserType, browser_type_launch_args: dict[str, Any], stack: Stack
) -> None:
    """The tester's case: in Chromium as people run it (Playwright turns the back/forward cache off; this browser
    has it on), Back after Sign out restored the admin page as it was (developers' addresses and keys). The restored
    page now leaves for the sign-in page."""
    browser = browser_type.launch(**browser_type_launch_args, ignore_default_args=["--disable-back-forward-cache"])
    try:
        page = _admin_page(browser, stack)
        expect(page.locator("[data-admin-email]")).to_have_text(ADMIN_EMAIL)
        assert_back_after_sign_out_leaves(page, signed_out_url="**/admin/login.html", private_text=ADMIN_EMAIL)
    finally:
        browser.close()


def test_an_edit_form_opened_before_another_admins_save_cannot_undo_it(
    browser: Browser, stack: Stack, database_url: str
) -> None:
    """Two admins edit one movie: the form was filled from the list's row and saved its changed fields with no
    condition, so the admin who saved second silently put back what the first had just changed (a lost update), and
    a Delete confirmed for a row that had changed meanwhile deleted it anyway. The form now starts from the movie as
    stored and saves with If-Match: the stale save is refused in the form (412 precondition_failed), nothing lost."""
    token = httpx.post(
        stack.api + "/admin/login", json={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}, timeout=30
    ).json()["access_token"]
    auth = {"Authorization": f"Bearer {token}"}
    title = f"Lost Update {RUN}"
    try:
        made = httpx.post(
            stack.api + "/admin/movies", json={"title": title, "genre": "Drama"}, headers=auth, timeout=30
        )
        assert made.status_code == 201, made.text
        movie_id = made.json()["id"]
        page = _admin_page(browser, stack)
        console = watch_console(page)
        page.goto(f"{stack.portal}/admin/movies.html?q={title.replace(' ', '+')}")
        row = page.locator(f"tr[data-movie-id='{movie_id}']")
        expect(row).to_contain_text("Drama")

        # The list is older than the movie: the form shows the movie as stored now.
        other = httpx.patch(
            f"{stack.api}/admin/movies/{movie_id}", json={"genre": "Drama, Crime"}, headers=auth, timeout=30
        )
        assert other.status_code == 200, other.text
        row.get_by_role("button", name="Edit").click()
        dialog = page.locator("#movie-modal")
        expect(dialog.get_by_label("Genre")).to_have_value("Drama, Crime")

        # Another admin saves while this form is open: this save is refused, theirs kept.
        again = httpx.patch(f"{stack.api}/admin/movies/{movie_id}", json={"genre": "Crime"}, headers=auth, timeout=30)
        assert again.status_code == 200, again.text
        dialog.get_by_label("Genre").fill("Drama, Crime, Mystery")
        dialog.get_by_role("button", name="Save").click()
        expect(dialog.locator("[data-form-alert]")).to_contain_text("changed since you read it")
        expect(dialog).to_be_visible()
        stored = httpx.get(f"{stack.api}/admin/movies/{movie_id}", headers=auth, timeout=30).json()
        assert stored["genre"] == ["Crime"]
        dialog.get_by_role("button", name="Cancel").click()
        expect(dialog).to_be_hidden()

        # A Delete confirmed for the row as listed, changed since: nothing deleted, the page says why.
        page.reload()
        expect(row).to_contain_text("Crime")
        renamed = httpx.patch(
            f"{stack.api}/admin/movies/{movie_id}", json={"plot": "Changed meanwhile."}, headers=auth, timeout=30
        )
        assert renamed.status_code == 200, renamed.text
        row.get_by_role("button", name="Delete").click()
        _confirm(page, "Delete")
        expect(page.locator("[data-page-alert]")).to_contain_text("nothing was deleted")
        assert httpx.get(f"{stack.api}/admin/movies/{movie_id}", headers=auth, timeout=30).status_code == 200

        # Fresh, both work.
        page.reload()
        row.get_by_role("button", name="Edit").click()
        dialog.get_by_label("Genre").fill("Crime, Mystery")
        dialog.get_by_role("button", name="Save").click()
        expect(dialog).to_be_hidden()
        expect(row).to_contain_text("Crime, Mystery")
        row.get_by_role("button", name="Delete").click()
        _confirm(page, "Delete")
        expect(page.locator(f"tr[data-movie-id='{movie_id}']")).to_have_count(0)
        assert console == []
    finally:
        with connect(database_url) as conn:
            conn.execute("DELETE FROM movies WHERE title = %s", (title,))


def _wait_until(page: Page, condition: Callable[[], bool], seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        page.wait_for_timeout(50)  # lets Playwright dispatch the page's events (a routed request) meanwhile


def test_a_slow_answer_to_earlier_filters_does_not_replace_the_list_of_later_ones(
    browser: Browser, stack: Stack
) -> None:
    """A search that answers slowly, then a status chosen before it answered: the later filters' answer came first,
    and the earlier one, arriving after it, drew its rows under the later filters (Status: revoked, the URL saying
    status=revoked, and an active key listed with "1 key matches"). The overview's window did the same (90 days
    answers slower than 7). An answer to a load that a later one replaced is now dropped."""
    developer = _developer(stack, "slowsearch")
    page = _admin_page(browser, stack)
    console = watch_console(page)
    held: list[Route] = []

    def hold_the_search(route: Route) -> None:
        query = parse_qs(urlsplit(route.request.url).query)
        if query.get("q") == [developer.email] and "status" not in query:
            held.append(route)  # answered only after the later load has been drawn
        else:
            route.continue_()

    expect(page.locator("[data-summary]")).to_contain_text("match")  # the page's first load is done
    page.route("**/admin/keys?*", hold_the_search)
    page.get_by_label("Search").fill(developer.email)
    page.get_by_role("button", name="Filter").click()
    _wait_until(page, lambda: len(held) == 1)
    page.get_by_label("Status").select_option("revoked")
    expect(page.locator("[data-summary]")).to_have_text("0 keys match")
    with page.expect_response(lambda response: response.request == held[0].request):
        held[0].continue_()
    page.wait_for_timeout(500)  # the page's script reads the answer (and, before the fix, drew it)
    expect(page.locator("[data-summary]")).to_have_text("0 keys match")
    expect(page.locator("[data-rows]")).to_have_text("Nothing matches.")
    expect(page.locator("tr[data-key-id]")).to_have_count(0)
    page.unroute("**/admin/keys?*")

    held.clear()

    def hold_ninety_days(route: Route) -> None:
        if "days=90" in route.request.url:
            held.append(route)
        else:
            route.continue_()

    page.route("**/admin/overview?*", hold_ninety_days)
    page.goto(f"{stack.portal}/admin/index.html?days=30")
    expect(page.locator("main")).to_have_attribute("data-loaded", "30")
    page.locator("#days").select_option("90")
    _wait_until(page, lambda: len(held) == 1)
    page.locator("#days").select_option("7")
    expect(page.locator("main")).to_have_attribute("data-loaded", "7")
    with page.expect_response(lambda response: response.request == held[0].request):
        held[0].continue_()
    page.wait_for_timeout(500)  # the page's script reads the answer (and, before the fix, drew it)
    expect(page.locator("main")).to_have_attribute("data-loaded", "7")
    assert "days=7" in page.url
    page.unroute("**/admin/overview?*")
    assert console == []


def test_a_row_action_refused_as_the_row_changed_redraws_the_list_and_shows_why_in_view(
    browser: Browser, stack: Stack
) -> None:
    """Another admin revoked a key after this list was drawn; Suspend on its row, far down the page, answered 409
    key_state_conflict: the reason went to the alert above the table, out of view, the focus to the body, and the
    row still said active with its Suspend button, so nothing seemed to happen (or to have been refused at all). The
    list is now drawn again as it is, and the reason is brought into view and focused."""
    token = httpx.post(
        stack.api + "/admin/login", json={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}, timeout=30
    ).json()["access_token"]
    auth = {"Authorization": f"Bearer {token}"}
    marker = f"conflict.{RUN}"
    ids = []
    for i in range(15):
        made = httpx.post(
            stack.api + "/admin/keys",
            json={"plan": "free", "owner_email": f"{marker}.{i:02}@example.com"},
            headers=auth,
            timeout=30,
        )
        assert made.status_code == 201, made.text
        ids.append(made.json()["key"]["id"])
    page = _admin_page(browser, stack, width=1280)
    page.set_viewport_size({"width": 1280, "height": 600})
    console = watch_console(page)
    page.goto(f"{stack.portal}/admin/keys.html?q={marker}&sort=created.asc")
    expect(page.locator("[data-summary]")).to_have_text("15 keys match")
    last = page.locator(f"tr[data-key-id='{ids[-1]}']")
    revoked = httpx.post(f"{stack.api}/admin/keys/{ids[-1]}/revoke", headers=auth, timeout=30)
    assert revoked.status_code == 200, revoked.text

    last.get_by_role("button", name="Suspend").click()
    _confirm(page, "Suspend")
    alert = page.locator("[data-page-alert]")
    expect(alert).to_contain_text(f"Key {ids[-1]} is revoked")
    expect(alert).to_be_in_viewport()
    expect(alert).to_be_focused()
    expect(last.locator(".badge")).to_have_text("revoked")
    expect(last.get_by_role("button", name="Suspend")).to_have_count(0)
    assert httpx.get(f"{stack.api}/admin/keys/{ids[-1]}", headers=auth, timeout=30).json()["status"] == "revoked"
    assert console == []


LOW_CONTRAST = r"""() => {
  const rgb = (s) => s.match(/[\d.]+/g).map(Number);
  const lum = (c) => {
    const a = c.slice(0, 3).map((v) => {
      v /= 255;
      return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
    });
    return 0.2126 * a[0] + 0.7152 * a[1] + 0.0722 * a[2];
  };
  const background = (e) => {
    for (; e; e = e.parentElement) {
      const c = rgb(getComputedStyle(e).backgroundColor);
      if (c.length < 4 || c[3] > 0.5) return c;
    }
    return [255, 255, 255];
  };
  const low = [];
  for (const e of document.querySelectorAll("body *")) {
    if (!e.offsetParent || e.matches(":disabled")) continue;  // WCAG exempts inactive controls
    const text = [...e.childNodes].filter((n) => n.nodeType === 3).map((n) => n.textContent.trim()).join("");
    if (!text) continue;
    const style = getComputedStyle(e);
    const [l1, l2] = [lum(rgb(style.color)), lum(background(e))];
    const ratio = (Math.max(l1, l2) + 0.05) / (Math.min(l1, l2) + 0.05);
    const size = parseFloat(style.fontSize);
    const large = size >= 24 || (size >= 18.66 && Number(style.fontWeight) >= 700);
    if (ratio < (large ? 3 : 4.5)) low.push(`${text.slice(0, 30)} (${e.className}): ${ratio.toFixed(2)}:1`);
  }
  return low;
}"""


def test_the_admin_pages_text_meets_aa_contrast_in_both_themes(browser: Browser, stack: Stack) -> None:
    """The keys table's Suspend (Bootstrap's warning outline) was yellow on white, 1.6:1; the header's theme toggle
    4.45:1 on the tinted bar; and in the dark theme every outline button (Filter, Edit, Delete, Revoke, the pager's)
    2.8 to 3.4:1, under WCAG AA's 4.5:1. Every enabled text on these pages now meets it, in both themes."""
    token = httpx.post(
        stack.api + "/admin/login", json={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}, timeout=30
    ).json()["access_token"]
    auth = {"Authorization": f"Bearer {token}"}
    made = [
        httpx.post(
            stack.api + "/admin/keys",
            json={"plan": "free", "owner_email": f"contrast.{RUN}.{i}@example.com"},
            headers=auth,
            timeout=30,
        ).json()["key"]["id"]
        for i in range(2)
    ]
    assert httpx.post(f"{stack.api}/admin/keys/{made[1]}/suspend", headers=auth, timeout=30).status_code == 200
    page = _admin_page(browser, stack, width=1280)
    console = watch_console(page)
    for theme in ("light", "dark"):
        if (page.locator("html").get_attribute("data-bs-theme") or "light") != theme:
            page.locator("[data-theme-toggle]").click()
        for path, ready in (
            (f"keys.html?q=contrast.{RUN}", "tr[data-key-id] [data-action=reactivate]"),
            ("movies.html", "tr[data-movie-id]"),
            ("requests.html", "[data-summary]:has-text('shown')"),
        ):
            page.goto(f"{stack.portal}/admin/{path}")
            expect(page.locator(ready).first).to_be_visible()
            assert page.evaluate(LOW_CONTRAST) == [], (theme, path)
    assert console == []


def test_a_time_range_kept_in_the_page_url_is_still_applied_after_a_reload(browser: Browser, stack: Stack) -> None:
    """The request log's and the audit log's From and Before are the browser's local time, kept in the page URL in
    UTC (as the API is sent them): the datetime-local field refused that form, so a reload or a shared link of a
    filtered log left the field empty and listed every row (the URL losing the range at the next load). The field
    now shows the URL's time in local time, and the list stays filtered."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, timezone_id="Europe/Paris")
    page = context.new_page()
    page.goto(stack.portal + "/admin/login.html?next=requests.html")
    page.get_by_label("Email").fill(ADMIN_EMAIL)
    page.get_by_label("Password").fill(ADMIN_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/admin/requests.html*")
    console = watch_console(page)
    httpx.get(stack.api + "/movies", headers={"X-API-KEY": _developer(stack, "timerange").key}, timeout=30)
    summary = page.locator("[data-summary]")
    page.reload()
    expect(summary).not_to_have_text(re.compile(r"^0 requests"))
    page.get_by_label("From (local time)").fill("2030-01-01T10:00")
    page.get_by_role("button", name="Filter").click()
    expect(summary).to_have_text("0 requests shown")
    assert "since=2030-01-01T09%3A00%3A00.000Z" in page.url  # 10:00 in Paris is 09:00 UTC
    page.reload()
    expect(page.get_by_label("From (local time)")).to_have_value("2030-01-01T10:00")
    expect(summary).to_have_text("0 requests shown")
    assert "since=2030-01-01T09%3A00%3A00.000Z" in page.url

    page.goto(f"{stack.portal}/admin/audit.html?until=2001-01-01T00%3A00%3A00.000Z")
    expect(page.get_by_label("Before (local time)")).to_have_value("2001-01-01T01:00")
    expect(page.locator("[data-rows]")).to_have_text("Nothing matches.")
    assert console == []
    context.close()


def test_a_developers_page_after_a_usage_reset_tells_requests_today_from_the_quota_count(
    browser: Browser, stack: Stack
) -> None:
    """After Reset usage the developer's page said "Requests today 0" beside its chart's bar and its list of today's
    requests: the fact was the keys' count toward today's quota, which the reset sets to zero. The page now gives
    today's requests as the chart counts them, and the quota count under its own name."""
    developer = _developer(stack, "resetcount")
    for _ in range(3):
        assert _movies(stack, developer.key)[0] == 200
    page = _admin_page(browser, stack, width=1280)
    console = watch_console(page)
    row = _key_row(page, developer)
    owner = row.get_by_role("link", name=developer.email)  # type: ignore[attr-defined]
    row.get_by_role("button", name="Reset usage").click()  # type: ignore[attr-defined]
    _confirm(page, "Reset usage")
    expect(row.locator("[data-usage-today]")).to_have_text("0")  # type: ignore[attr-defined]
    owner.click()
    page.wait_for_url("**/admin/developer.html?id=*")
    expect(page.locator("[data-fact='Requests today (UTC)']")).to_have_text("3")
    expect(page.locator('[data-fact="Counted toward today\'s quota"]')).to_have_text("0")
    expect(page.locator("[data-fact='Requests in all']")).to_have_text("3")
    assert console == []


def test_an_admin_sees_the_tmdb_titles_deleted_and_allows_one_again_from_the_movies_page(
    browser: Browser, stack: Stack, database_url: str
) -> None:
    """Deleting a movie from TMDB blocks it from the sync, and the confirmation told the admin to call GET
    /admin/movies/blocked and DELETE /admin/movies/blocked/movie/… by hand: the portal had no list of those titles
    and no way to let the sync add one again. The movies page now lists them, and Allow again (confirmed, audited
    tmdb_title.allow) unblocks one."""
    title = f"Blocked Here {RUN}"
    tmdb_id = 880_000 + int(RUN[:4], 16)
    with connect(database_url) as conn:
        conn.execute(
            "INSERT INTO movies (title, year, media_type, tmdb_id, source) VALUES (%s, 2011, 'movie', %s, 'tmdb')",
            (title, tmdb_id),
        )
    try:
        page = _admin_page(browser, stack, width=1280)
        console = watch_console(page)
        page.goto(f"{stack.portal}/admin/movies.html?q={title.replace(' ', '+')}")
        page.locator("tr[data-movie-id]", has_text=title).get_by_role("button", name="Delete").click()
        expect(page.locator("#confirm-modal")).to_contain_text("TMDB titles deleted here")
        _confirm(page, "Delete")
        expect(page.locator("[data-summary]")).to_have_text("0 movies match")
        blocked = page.locator(f"tr[data-blocked='movie:{tmdb_id}']")
        expect(blocked).to_contain_text(f"{title} (2011)")
        expect(blocked).to_contain_text(ADMIN_EMAIL)
        page.get_by_role("button", name="Year").click()  # the movies' sort header sorts the movies only
        expect(page.locator("[data-page-alert]")).to_be_hidden()

        blocked.get_by_role("button", name=f"Allow again: {title} (2011)").click()
        _confirm(page, "Allow again")
        expect(blocked).to_have_count(0)
        with connect(database_url) as conn:
            still = conn.execute("SELECT count(*) AS n FROM tmdb_blocked_titles WHERE tmdb_id = %s", (tmdb_id,))
            assert still.fetchone()["n"] == 0
            audited = conn.execute(
                "SELECT actor FROM admin_audit_log WHERE action = 'tmdb_title.allow' AND target_id = %s",
                (f"movie:{tmdb_id}",),
            ).fetchall()
        assert [row["actor"] for row in audited] == [ADMIN_EMAIL]
        assert console == []
    finally:
        with connect(database_url) as conn:
            conn.execute("DELETE FROM tmdb_blocked_titles WHERE tmdb_id = %s", (tmdb_id,))
            conn.execute("DELETE FROM movies WHERE tmdb_id = %s", (tmdb_id,))
