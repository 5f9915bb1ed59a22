"""The portal site on the one-machine stack (what S3 + CloudFront serve in AWS): site/ as static files with the
same security headers, /config.js pointing at the local API, and the local outbox's pages (/outbox/)."""

from __future__ import annotations

import argparse
import email
import email.policy
import html
import ipaddress
import json
import os
import re
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import urlsplit

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from marquee_local import arguments
from marquee_local.run import RunContext
from marquee_local.server import ServerThread

REPO_ROOT = Path(__file__).resolve().parents[2]
SITE_DIR = REPO_ROOT / "site"
_EML_NAME = re.compile(r"^[0-9TZ]+-[0-9a-f]{8}\.eml$")
_LINK = re.compile(r"https?://[^\s\"'<>]+")


def origin_of(url: str) -> str:
    """`scheme://host[:port]` of a URL (the CSP's connect-src needs the API's origin, not its path)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


def content_security_policy(api_base: str, upload_origins: Iterable[str] = ()) -> str:
    """The portal's CSP: scripts and styles from the site itself only (no inline code, no CDN), API calls to
    the site and the API's origin (and the admin portal's uploads to the uploads bucket's origins), nothing may
    frame the portal. The same policy is set by CloudFront in AWS."""
    connect = " ".join(filter(None, ["'self'", origin_of(api_base), *map(origin_of, upload_origins)]))
    return (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: https:; "
        f"font-src 'self' data:; connect-src {connect}; object-src 'none'; base-uri 'none'; "
        "form-action 'self'; frame-ancestors 'none'"
    )


def security_headers(api_base: str, upload_origins: Iterable[str] = ()) -> dict[str, str]:
    return {
        "Content-Security-Policy": content_security_policy(api_base, upload_origins),
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        # Tokens travel in verify/reset links: never leak a page's URL to another origin.
        "Referrer-Policy": "no-referrer",
        "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
        "Cross-Origin-Opener-Policy": "same-origin",
    }


class SecurityHeaders:
    """Adds the security headers to every response; HTML and /config.js are never cached (deploys change them)."""

    def __init__(self, app: ASGIApp, *, headers: dict[str, str]) -> None:
        self.app = app
        self.headers = [(k.lower().encode(), v.encode()) for k, v in headers.items()]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [h for h in message.get("headers", []) if h[0] not in {k for k, _ in self.headers}]
                headers.extend(self.headers)
                if path.endswith((".html", "/", ".js")) and not path.startswith("/vendor/"):
                    headers.append((b"cache-control", b"no-cache"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


@dataclass(frozen=True)
class OutboxEntry:
    name: str
    to: str
    subject: str
    date: str


def read_message(path: Path) -> EmailMessage:
    with path.open("rb") as handle:
        message = email.message_from_binary_file(handle, policy=email.policy.default)
    if not isinstance(message, EmailMessage):  # policy.default always builds one; this narrows the type
        raise TypeError(f"{path} did not parse as an email message")
    return message


def list_outbox(folder: Path) -> list[OutboxEntry]:
    """The outbox's messages, newest first (file names start with their UTC time)."""
    if not folder.is_dir():
        return []
    entries = []
    for path in sorted(folder.glob("*.eml"), reverse=True):
        message = read_message(path)
        entries.append(OutboxEntry(path.name, str(message["To"]), str(message["Subject"]), str(message["Date"])))
    return entries


def _text_part(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    return part.get_content() if part is not None else ""


def _links(message: EmailMessage) -> list[str]:
    found: list[str] = []
    for part in message.walk():
        if part.get_content_maintype() == "text":
            for link in _LINK.findall(part.get_content()):
                link = html.unescape(link)
                if link not in found:
                    found.append(link)
    return found


def _page(title: str, body: str, *, status_code: int = 200, suffix: str = "Marquee local outbox") -> HTMLResponse:
    return HTMLResponse(
        f"""<!doctype html>
<html lang="en" data-bs-theme="light">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="/favicon.svg" type="image/svg+xml">
<title>{html.escape(title)} · {html.escape(suffix)}</title>
<link rel="stylesheet" href="/vendor/bootstrap/css/bootstrap.min.css"><link rel="stylesheet" href="/assets/app.css">
<script src="/config.js"></script><script src="/assets/app.js"></script></head>
<body><header data-site-header data-site-root="/"></header>
<main id="main" class="container py-4">{body}</main></body></html>""",
        status_code=status_code,
    )


NOT_FOUND_PAGE = "404.html"  # the site's own page for a missing one, when it has one (StaticFiles' convention)


def not_found_handler(site_dir: Path) -> Callable[[Request, Exception], Awaitable[Response]]:
    """What a page that does not exist answers (404): the site's own 404.html when it has one, else a small page in
    the site's look that names the path and links home (a bare "Not Found" left a visitor nowhere)."""

    async def not_found(request: Request, error: Exception) -> Response:
        own = site_dir / NOT_FOUND_PAGE
        if own.is_file():
            return FileResponse(own, status_code=404, media_type="text/html")
        path = html.escape(request.url.path)
        return _page(
            "Page not found",
            f'<h1 class="h3">Page not found</h1><p>There is no page at <code>{path}</code>.</p>'
            '<p><a href="/">Marquee home</a> &middot; <a href="/docs.html">API docs</a> &middot; '
            '<a href="/dashboard.html">Dashboard</a></p>',
            status_code=404,
            suffix="Marquee",
        )

    return not_found


def _rows(entries: Iterable[OutboxEntry]) -> str:
    return "".join(
        f"<tr data-outbox-message><td>{html.escape(e.date)}</td><td class='text-break'>{html.escape(e.to)}</td>"
        f'<td><a href="/outbox/{html.escape(e.name)}">{html.escape(e.subject)}</a></td></tr>'
        for e in entries
    )


def _is_loopback_address(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _from_this_machine(request: Request) -> bool:
    """Whether the request came over the loopback interface (127.0.0.0/8, ::1) and names this machine in its Host
    (a loopback address or localhost). The second half stops DNS rebinding: a page the developer opens at a name
    its DNS then points at 127.0.0.1 reaches this port over loopback too, but under its own name, and could
    otherwise read every reset link in the outbox."""
    client = request.client.host if request.client else ""
    named = (request.url.hostname or "").lower()
    return _is_loopback_address(client) and (named == "localhost" or _is_loopback_address(named))


OUTBOX_ELSEWHERE = (
    "The local outbox holds every confirmation and password-reset link, so it is shown on this machine only: "
    "open /outbox/ at http://127.0.0.1:<site port>/ there."
)


def outbox_routes(folder: Path) -> list[Route]:
    """The outbox pages: /outbox/ lists the .eml files, /outbox/<name> shows one (its links clickable),
    ?raw=1 downloads it. Only to this machine: with `--site-host 0.0.0.0` (a phone trying the portal) anyone on
    the network could otherwise read every developer's reset link and take the account."""

    def local_only(endpoint: Callable[[Request], Awaitable[Response]]) -> Callable[[Request], Awaitable[Response]]:
        async def guarded(request: Request) -> Response:
            if not _from_this_machine(request):
                return PlainTextResponse(OUTBOX_ELSEWHERE, status_code=403)
            return await endpoint(request)

        return guarded

    async def outbox(request: Request) -> Response:
        entries = list_outbox(folder)
        table = (
            # The addresses wrap, and the table scrolls in its own box if it must: an address typed in full made
            # the list wider than a phone's screen (437 px at 375), so the whole page scrolled sideways.
            '<div class="table-responsive"><table class="table table-sm"><thead><tr><th scope="col">Sent</th>'
            '<th scope="col">To</th><th scope="col">Subject</th></tr></thead>'
            f"<tbody>{_rows(entries)}</tbody></table></div>"
            if entries
            else '<p class="text-body-secondary" data-outbox-empty>No messages yet.</p>'
        )
        return _page(
            "Outbox",
            f'<h1 class="h3">Local outbox</h1><p class="small text-body-secondary">Mail the one-machine stack would '
            f"have sent, newest first, from <code>{html.escape(str(folder))}</code>.</p>{table}",
        )

    async def outbox_message(request: Request) -> Response:
        name = request.path_params["name"]
        path = folder / name
        if not _EML_NAME.match(name) or not path.is_file():
            return PlainTextResponse("No such message", status_code=404)
        if request.query_params.get("raw") == "1":
            return FileResponse(path, media_type="message/rfc822", filename=name)
        message = read_message(path)
        links = "".join(
            f'<li><a href="{html.escape(link)}" data-outbox-link>{html.escape(link)}</a></li>'
            for link in _links(message)
        )
        return _page(
            str(message["Subject"]),
            f'<p><a href="/outbox/">&larr; Outbox</a></p><h1 class="h4">{html.escape(str(message["Subject"]))}</h1>'
            f'<dl class="row small"><dt class="col-3 col-md-2">From</dt><dd class="col-9 col-md-10">'
            f'{html.escape(str(message["From"]))}</dd><dt class="col-3 col-md-2">To</dt><dd class="col-9 col-md-10">'
            f'{html.escape(str(message["To"]))}</dd><dt class="col-3 col-md-2">Date</dt><dd class="col-9 col-md-10">'
            f'{html.escape(str(message["Date"]))}</dd></dl><h2 class="h6">Links</h2><ul class="text-break">{links}</ul>'
            f'<h2 class="h6">Plain-text part</h2><pre class="bg-body-tertiary border rounded p-3 code-sample" '
            f"data-outbox-text>{html.escape(_text_part(message))}</pre>"
            f'<p><a href="/outbox/{html.escape(name)}?raw=1">Download the .eml</a></p>',
        )

    async def outbox_redirect(request: Request) -> Response:
        return RedirectResponse("/outbox/", status_code=308)

    return [
        Route("/outbox", local_only(outbox_redirect)),
        Route("/outbox/", local_only(outbox)),
        Route("/outbox/{name}", local_only(outbox_message)),
    ]


def create_site_app(
    *, api_base: str, outbox_dir: Path | None, site_dir: Path = SITE_DIR, upload_origins: Iterable[str] = ()
) -> ASGIApp:
    """The portal as an ASGI app: `api_base` is the public API's URL (written into /config.js and the CSP);
    `outbox_dir` enables the outbox pages (None hides them, as in AWS); `upload_origins` are where the admin
    portal's CSV uploads go (the S3 stand-in of `marquee run`), allowed by the CSP."""
    config_js = "window.MARQUEE_CONFIG = " + json.dumps({"apiBase": api_base.rstrip("/")}) + ";\n"

    async def config(request: Request) -> Response:
        return Response(config_js, media_type="text/javascript")

    async def not_published(request: Request) -> Response:
        return PlainTextResponse("Not found", status_code=404)

    # Build inputs stay out of the site, as they stay out of the S3 bucket.
    routes: list[Route | Mount] = [
        Route("/config.js", config),
        Route("/node_modules/{rest:path}", not_published),
        Route("/package.json", not_published),
        Route("/package-lock.json", not_published),
    ]
    if outbox_dir is not None:
        routes += outbox_routes(outbox_dir)
    routes.append(Mount("/", StaticFiles(directory=site_dir, html=True, check_dir=True)))
    app = Starlette(routes=routes, exception_handlers={404: not_found_handler(site_dir)})
    return SecurityHeaders(app, headers=security_headers(api_base, upload_origins))


class SiteService:
    """`marquee run`'s portal: the site on --site-host/--site-port (default 127.0.0.1:8080) with /config.js pointing
    at the local API and the outbox pages. Its socket is bound in `before_run`, before the gateway starts, because
    the portal's origin is what the functions' CORS and the emailed links need (port 0 picks a free one)."""

    name = "portal site"

    def __init__(self, run: RunContext, server: ServerThread) -> None:
        self.run = run
        self.server = server
        self.outbox = Path(os.environ.get("OUTBOX_DIR") or run.home / "outbox")

    def start(self) -> None:
        from marquee_local.local_aws import URL_VARIABLE

        uploads = [os.environ[URL_VARIABLE]] if os.environ.get(URL_VARIABLE) else []
        app = create_site_app(api_base=self.run.api_url, outbox_dir=self.outbox, upload_origins=uploads)
        self.server.start(app, lifespan="off")

    def stop(self) -> None:
        self.server.stop()

    def describe(self) -> list[str]:
        url = self.server.url
        return [f"Portal     {url}   (sign up, dashboard, playground)", f"Outbox     {url}/outbox/   ({self.outbox})"]


def add_run_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--site-host", default="127.0.0.1", help="address the portal site listens on")
    parser.add_argument(
        "--site-port", type=arguments.port, default=8080, help="port of the portal site (default 8080; 0: any)"
    )


def before_run(args: argparse.Namespace) -> None:
    """Bind the portal's socket and make its origin the one the functions allow (CORS) and link to (emails)."""
    server = ServerThread.bind(
        args.site_host, args.site_port, name="portal", hint="choose other ports with `marquee run --site-port 8081 "
        "--port 8001` (or `make run SITE_PORT=8081 PORT=8001`), or stop the other stack (`marquee stop` stops this "
        "folder's)", host_option="--site-host"
    )  # fmt: skip
    args.site_server = server
    os.environ["CORS_ALLOW_ORIGIN"] = server.url
    os.environ["PORTAL_URL"] = server.url


def service(run: RunContext) -> SiteService:
    server: ServerThread | None = getattr(run.args, "site_server", None)
    if server is None:  # before_run was not called (a caller that builds services itself)
        before_run(run.args)
        server = run.args.site_server
    return SiteService(run, server)
