"""The local portal server: static pages with security headers, /config.js, and the outbox pages."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from marquee_local.site_server import SITE_DIR, create_site_app
from movie_common.mail import OutboxSender, compose

API = "http://127.0.0.1:8123"
LINK = "http://127.0.0.1:8080/verify.html?token=" + "A" * 43


@pytest.fixture
def outbox(tmp_path: Path) -> Path:
    return tmp_path / "outbox"


LOOPBACK = ("127.0.0.1", 50000)


@pytest.fixture
def client(outbox: Path) -> TestClient:
    return TestClient(
        create_site_app(api_base=API + "/", outbox_dir=outbox), client=LOOPBACK, base_url="http://127.0.0.1:8080"
    )


def test_config_points_at_the_api(client: TestClient) -> None:
    response = client.get("/config.js")
    assert response.status_code == 200
    assert response.text == 'window.MARQUEE_CONFIG = {"apiBase": "http://127.0.0.1:8123"};\n'
    assert response.headers["content-type"].startswith("text/javascript")


@pytest.mark.parametrize(
    "page",
    [
        "/",
        "/index.html",
        "/signup.html",
        "/login.html",
        "/verify.html",
        "/resend.html",
        "/forgot.html",
        "/reset.html",
        "/dashboard.html",
        "/docs.html",
    ],
)
def test_pages_carry_the_security_headers(client: TestClient, page: str) -> None:
    response = client.get(page)
    assert response.status_code == 200 and "<html" in response.text
    csp = response.headers["content-security-policy"]
    assert "script-src 'self';" in csp and "frame-ancestors 'none'" in csp
    assert f"connect-src 'self' {API};" in csp
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["x-frame-options"] == "DENY"
    assert "unsafe-inline" not in csp


def test_pages_have_no_inline_script_or_style(client: TestClient) -> None:
    for page in SITE_DIR.glob("*.html"):
        text = page.read_text()
        assert "<script>" not in text and " style=" not in text and "onclick" not in text, page.name


def test_every_page_has_an_icon_that_is_served(client: TestClient) -> None:
    """Without one, browsers ask for /favicon.ico and every page logs a 404 in the console."""
    pages = [*SITE_DIR.glob("*.html"), *SITE_DIR.glob("admin/*.html")]
    for page in pages:
        assert '<link rel="icon" href="/favicon.svg" type="image/svg+xml">' in page.read_text(), page.name
    icon = client.get("/favicon.svg")
    assert icon.status_code == 200 and icon.headers["content-type"].startswith("image/svg+xml")
    assert 'rel="icon"' in client.get("/outbox/").text


def test_the_sign_up_forms_limits_are_the_apis() -> None:
    """signup.js checks the fields before POST /auth/signup, all at once, with the limits its inputs carry: they
    must be the API's, or the page would refuse what the API accepts (or send what it refuses)."""
    from movie_auth.accounts import NAME_MAX
    from movie_common.password_policy import MAX_BYTES, MIN_LENGTH

    text = (SITE_DIR / "signup.html").read_text()
    inputs = {match.group(1): match.group(0) for match in re.finditer(r'<input id="(\w+)"[^>]*>', text)}
    assert f'maxlength="{NAME_MAX}"' in inputs["name"]
    assert f'minlength="{MIN_LENGTH}"' in inputs["password"] and f'data-max-bytes="{MAX_BYTES}"' in inputs["password"]


TMDB_NOTICE = "This product uses the TMDB API but is not endorsed or certified by TMDB."
ATTRIBUTION = r"\s+".join(map(re.escape, TMDB_NOTICE.split()))  # however the HTML wraps it


@pytest.mark.parametrize("page", ["/", "/dashboard.html", "/admin/movies.html", "/admin/sync.html"])
def test_pages_with_tmdb_data_credit_tmdb_as_its_terms_ask(client: TestClient, page: str) -> None:
    """The landing page, the playground (under its results), the admin movie and sync pages: TMDB's sentence and a
    link to themoviedb.org, text only (no logo from a CDN)."""
    text = client.get(page).text
    [credit] = re.findall(r'<[^>]*class="[^"]*tmdb-attribution[^"]*"[^>]*>(.*?)</(?:p|div)>', text, re.DOTALL)
    assert re.search(ATTRIBUTION, credit), credit
    assert '<a href="https://www.themoviedb.org/"' in credit and "<img" not in credit


def test_the_upload_origin_is_allowed_by_the_csp_only_when_given(outbox: Path) -> None:
    uploads = TestClient(create_site_app(api_base=API, outbox_dir=outbox, upload_origins=["http://127.0.0.1:4599"]))
    csp = uploads.get("/admin/ingest.html").headers["content-security-policy"]
    assert f"connect-src 'self' {API} http://127.0.0.1:4599;" in csp
    plain = TestClient(create_site_app(api_base=API, outbox_dir=outbox)).get("/admin/ingest.html")
    assert f"connect-src 'self' {API};" in plain.headers["content-security-policy"]


def test_build_inputs_are_not_published(client: TestClient) -> None:
    assert client.get("/package.json").status_code == 404
    assert client.get("/node_modules/bootstrap/package.json").status_code == 404


def test_vendor_files_are_served_when_built(client: TestClient) -> None:
    if not (SITE_DIR / "vendor" / ".built").exists():
        pytest.skip("run `make site` first")
    for path in (
        "/vendor/bootstrap/css/bootstrap.min.css",
        "/vendor/bootstrap/js/bootstrap.bundle.min.js",
        "/vendor/chart.js/chart.umd.js",
        "/vendor/swagger-ui/swagger-ui-bundle.js",
        "/vendor/swagger-ui/swagger-ui.css",
    ):
        assert client.get(path).status_code == 200, path


def test_outbox_lists_and_shows_messages_with_their_links(client: TestClient, outbox: Path) -> None:
    assert "No messages yet" in client.get("/outbox/").text
    name = OutboxSender(outbox).send(
        compose(
            sender="Marquee <no-reply@marquee.local>",
            to="jane@gmail.com",
            subject="Confirm <your> email",
            text=f"Open {LINK}",
            html=f'<a href="{LINK}">Confirm</a>',
        )
    )
    listing = client.get("/outbox/")
    assert "Confirm &lt;your&gt; email" in listing.text and f'href="/outbox/{name}"' in listing.text
    page = client.get(f"/outbox/{name}")
    assert page.status_code == 200
    assert f'href="{LINK}"' in page.text
    raw = client.get(f"/outbox/{name}?raw=1")
    assert raw.headers["content-type"].startswith("message/rfc822") and b"jane@gmail.com" in raw.content


@pytest.mark.parametrize("name", ["..%2F..%2Fetc%2Fpasswd", "nope.eml", "20260101T000000Z-zzzzzzzz.eml"])
def test_outbox_serves_only_its_own_files(client: TestClient, name: str) -> None:
    assert client.get(f"/outbox/{name}").status_code == 404


@pytest.mark.parametrize("address", ["192.168.1.23", "10.0.0.7", "2001:db8::5", "testclient"])
def test_the_outbox_is_shown_to_this_machine_only(outbox: Path, address: str) -> None:
    """`make run SITE_HOST=0.0.0.0` serves the portal to the network, but not the mail with every reset link."""
    name = OutboxSender(outbox).send(
        compose(sender="Marquee <no-reply@marquee.local>", to="a@gmail.com", subject="Reset", text=LINK, html=LINK)
    )
    app = create_site_app(api_base=API, outbox_dir=outbox)
    remote = TestClient(app, client=(address, 50000), follow_redirects=False)
    for path in ("/outbox", "/outbox/", f"/outbox/{name}", f"/outbox/{name}?raw=1"):
        response = remote.get(path)
        assert response.status_code == 403 and "this machine only" in response.text and "token" not in response.text
    assert remote.get("/signup.html").status_code == 200  # the portal itself is served to the network
    for host in ("127.0.0.1", "127.0.0.2", "::1"):
        local = TestClient(app, client=(host, 50000), base_url="http://127.0.0.1:8080")
        assert local.get(f"/outbox/{name}").status_code == 200


@pytest.mark.parametrize("host", ["attacker.example:8080", "attacker.example", "127.0.0.1.nip.io:8080", "testserver"])
def test_the_outbox_refuses_a_loopback_request_for_another_name(outbox: Path, host: str) -> None:
    """DNS rebinding: a page at attacker.example, whose name then resolves to 127.0.0.1, reaches the portal over
    loopback but sends its own name as Host; it must not read the reset links."""
    name = OutboxSender(outbox).send(
        compose(sender="Marquee <no-reply@marquee.local>", to="a@gmail.com", subject="Reset", text=LINK, html=LINK)
    )
    app = create_site_app(api_base=API, outbox_dir=outbox)
    rebound = TestClient(app, client=LOOPBACK, follow_redirects=False)
    for path in ("/outbox/", f"/outbox/{name}", f"/outbox/{name}?raw=1"):
        response = rebound.get(path, headers={"Host": host})
        assert response.status_code == 403 and "token" not in response.text
    for named in ("127.0.0.1:8080", "localhost:8080", "[::1]:8080", "LOCALHOST"):
        assert rebound.get(f"/outbox/{name}", headers={"Host": named}).status_code == 200


def test_without_an_outbox_the_pages_do_not_exist(tmp_path: Path) -> None:
    client = TestClient(create_site_app(api_base=API, outbox_dir=None))
    assert client.get("/outbox/").status_code == 404


@pytest.mark.parametrize("path", ["/no-such-page.html", "/admin/no-such-page.html", "/missing/<b>deep</b>"])
def test_an_unknown_page_is_a_404_page_that_links_home(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["content-security-policy"].startswith("default-src 'self'")
    assert (
        "<title>Page not found · Marquee</title>" in response.text and '<a href="/">Marquee home</a>' in response.text
    )
    assert "<b>deep</b>" not in response.text  # the path is shown, escaped
    assert re.search(r"<script>[^<]", response.text) is None and "style=" not in response.text


def test_the_sites_own_404_page_is_served_when_it_has_one(tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").write_text("<!doctype html><title>Home</title>")
    (site / "404.html").write_text("<!doctype html><title>Lost</title><a href='/'>home</a>")
    client = TestClient(create_site_app(api_base=API, outbox_dir=None, site_dir=site), client=LOOPBACK)
    response = client.get("/nowhere")
    assert (response.status_code, response.text) == (404, "<!doctype html><title>Lost</title><a href='/'>home</a>")
