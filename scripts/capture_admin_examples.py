"""Captures the README's admin examples (`make examples`): the one-machine stack's gateway on its own database
folder, an admin and a few developers made for the occasion, every admin route called over HTTP; rewrites the
README section between the `admin-examples` markers. Request ids, times, tokens and keys differ each run."""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import re
import time
from pathlib import Path
from typing import Any

import httpx

from marquee_local.run import RunContext

REPO = Path(__file__).resolve().parents[1]
README = REPO / "README.md"
START, END = "<!-- admin-examples:start -->", "<!-- admin-examples:end -->"
CLI_START, CLI_END = "<!-- admin-cli:start -->", "<!-- admin-cli:end -->"
SHOWN_HEADERS = ("content-type", "location", "retry-after", "allow")
ADMIN_EMAIL, ADMIN_PASSWORD = "ops@example.com", "correct horse battery staple"


def _shorten(value: Any, limit: int = 100, items: int = 3) -> Any:
    """Long strings cut and lists shortened, each cut marked with …; nothing else changes."""
    if isinstance(value, str) and len(value) > limit:
        return value[:limit] + "…"
    if isinstance(value, list):
        return [_shorten(v, limit, items) for v in value[:items]] + (["…"] if len(value) > items else [])
    if isinstance(value, dict):
        return {k: _shorten(v, limit, items) for k, v in value.items()}
    return value


class Capture:
    def __init__(self, client: httpx.Client) -> None:
        self.client = client
        self.token = ""
        self.parts: list[str] = []

    def call(
        self,
        title: str,
        method: str,
        path: str,
        *,
        body: Any = None,
        auth: bool = True,
        items: int = 3,
        latest_days: bool = False,
        **kw: Any,
    ) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.token}"} if auth else {}
        headers.update(kw.get("headers", {}))
        options = {k: v for k, v in kw.items() if k != "headers"}
        response = self.client.request(method, path, json=body, headers=headers, **options)
        query = ("?" + str(response.request.url.query, "ascii")) if response.request.url.query else ""
        sent = [f"{method} {path}{query}"]
        if auth:
            sent.append("Authorization: Bearer $ADMIN_TOKEN")
        sent += [f"{k}: {v}" for k, v in kw.get("headers", {}).items()]
        if body is not None:
            sent.append(json.dumps(body, indent=2))
        lines = [f"{response.status_code} {response.reason_phrase}"]
        lines += [f"{name}: {response.headers[name]}" for name in SHOWN_HEADERS if name in response.headers]
        text = response.text
        if "json" in response.headers.get("content-type", ""):
            data = response.json()
            if latest_days:  # the overview's last days, not its first (empty) ones
                data["days"] = ["…", *data["days"][-items:]]
                shown_data = {k: v if k == "days" else _shorten(v, items=items) for k, v in data.items()}
            else:
                shown_data = _shorten(data, items=items)
            text = json.dumps(shown_data, indent=2, ensure_ascii=False)
        elif text:
            text = "\n".join(text.splitlines()[:4]) + "\n…"
        shown = "\n".join(lines) + ("\n\n" + text if text else "")
        self.parts.append(f"#### {title}\n\n```http\n" + "\n".join(sent) + f"\n```\n\n```text\n{shown}\n```\n")
        return response


def main() -> None:
    os.environ.setdefault("MARQUEE_HOME", str(REPO / ".marquee" / "examples"))
    os.environ["EXPORT_FOLDER"] = str(Path(os.environ["MARQUEE_HOME"]) / "exports")
    from marquee_local import stack

    db = stack.open_database()
    stack.configure_environment(db.url)
    from movie_admin.audit import Actor
    from movie_admin.services import admins
    from movie_common.db import key_requests, users

    with stack.connect_admin(db.url) as conn:
        stack.prepare(conn)
        if not conn.execute("SELECT 1 FROM admins WHERE email = %s", (ADMIN_EMAIL,)).fetchone():
            admins.create_admin(conn, Actor.cli(), email=ADMIN_EMAIL, password=ADMIN_PASSWORD)
        conn.execute(  # the admin sign-in's failure counts and locks start afresh
            "DELETE FROM auth_attempts WHERE scope IN ('admin_login_failure_address', 'admin_login_failure_account')"
        )
        conn.execute(  # the examples' own accounts start afresh, so that each capture shows the same story
            "DELETE FROM users WHERE canonical_email IN (%s, %s, %s)",
            ("ada.examples@gmail.com", "bo.examples@gmail.com", "partner@example.org"),
        )
        dev = stack.create_key(conn, owner_email="ada.examples@gmail.com", plan="free", name="Ada Example")
        lost = stack.create_key(conn, owner_email="bo.examples@gmail.com", plan="pro", name="Bo Example")
        bo_id = users.find_user_by_email(conn, canonical_email="bo.examples@gmail.com")
        conn.execute("DELETE FROM key_requests WHERE user_id = %s", (bo_id,))
        filed = key_requests.file_request(conn, user_id=bo_id or 0, api_key_id=lost.key_id, reason="Laptop stolen.")
        if filed is None:
            raise SystemExit("could not file the example's reissue request")

    # The S3 and EventBridge stand-ins of `marquee run`, and a fake TMDB for the sync: their endpoints and the TMDB
    # token go into the functions' environments, so they are set before the gateway starts them.
    from marquee_local import local_aws
    from marquee_local.fake_tmdb import FakeTmdb

    tmdb = FakeTmdb().start()
    tmdb.add_movie(90001, "Harbor Lights", release_date="2024-03-01", genres=["Drama"], directors=["Ann Lee"])
    tmdb.add_movie(90002, "Night Orbit", release_date="2023-07-14", genres=["Science Fiction"], cast=["Ray Moss"])
    tmdb.set_list("/movie/popular", [90001, 90002])
    os.environ.update(TMDB_API_TOKEN=tmdb.token, TMDB_API_BASE=tmdb.url)
    aws_args = argparse.Namespace(aws_host="127.0.0.1", aws_port=0)
    local_aws.before_run(aws_args)
    try:
        server = stack.serve_gateway("127.0.0.1", 8000, database_url=db.url, max_environments=2)
    except OSError:
        server = stack.serve_gateway("127.0.0.1", 0, database_url=db.url, max_environments=2)
    run = RunContext(
        args=aws_args,
        home=Path(os.environ["MARQUEE_HOME"]),
        database_url=db.url,
        gateway=server.server.config.app if server.server else None,
        log=lambda _: None,
    )
    aws_service = local_aws.service(run)
    aws_service.start()
    with httpx.Client(base_url=server.url, timeout=30) as client:
        for _ in range(3):
            client.get("/movies?per_page=1", headers={"X-API-KEY": dev.raw_key})
        c = Capture(client)
        c.token = c.call(
            "Sign in", "POST", "/admin/login", body={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}, auth=False
        ).json()["access_token"]
        c.call(
            "Wrong password (the same answer for an unknown address)",
            "POST",
            "/admin/login",
            body={"email": ADMIN_EMAIL, "password": "not it"},
            auth=False,
        )
        c.call("No session: every admin route but login refuses", "GET", "/admin/keys", auth=False)
        c.call(
            "Keys, filtered and sorted on the server",
            "GET",
            "/admin/keys",
            params={"q": "examples", "sort": "usage_today.desc", "per_page": 2},
        )
        created = c.call(
            "Create a key for a named owner (shown once)",
            "POST",
            "/admin/keys",
            body={"plan": "pro", "owner_email": "partner@example.org", "owner_name": "Partner Ltd"},
        )
        new_id = created.json()["key"]["id"]
        c.call("Suspend a key", "POST", f"/admin/keys/{dev.key_id}/suspend")
        refused = httpx.get(server.url + "/movies", headers={"X-API-KEY": dev.raw_key}, timeout=30)
        c.parts.append(
            "#### …and its next request is refused\n\n```http\nGET /movies\nX-API-KEY: $ADA_KEY\n```\n\n```text\n"
            f"{refused.status_code} {refused.reason_phrase}\n\n{json.dumps(refused.json(), indent=2)}\n```\n"
        )
        c.call("Reactivate it", "POST", f"/admin/keys/{dev.key_id}/reactivate")
        c.call(
            "Reset its usage (today's and this minute's counts start over)",
            "POST",
            f"/admin/keys/{dev.key_id}/reset-usage",
        )
        c.call("Move it to another plan", "POST", f"/admin/keys/{dev.key_id}/plan", body={"plan": "pro"})
        c.call("Revoke a key", "POST", f"/admin/keys/{new_id}/revoke")
        c.call("A revoked key cannot come back", "POST", f"/admin/keys/{new_id}/reactivate")
        c.call("Delete a key", "DELETE", f"/admin/keys/{new_id}")
        c.call("Developers", "GET", "/admin/developers", params={"q": "examples", "sort": "last_active.desc"})
        c.call(
            "One developer (keys, usage, latest requests, reissue requests, timeline)",
            "GET",
            f"/admin/developers/{dev_id(client, c.token)}",
            items=2,
        )
        c.call("Reissue requests waiting", "GET", "/admin/key-requests", params={"status": "pending"})
        c.call(
            "Approve one (the old key is revoked; the developer reveals the new one once)",
            "POST",
            f"/admin/key-requests/{filed.id}/approve",
        )
        c.call("Plans", "GET", "/admin/plans")
        c.call(
            "Edit a plan's limits (from each key's next request)", "PATCH", "/admin/plans/free", body={"per_minute": 60}
        )
        c.call("Bad limits, each named", "PATCH", "/admin/plans/free", body={"per_minute": 0, "gateway_tier": "gold"})
        c.call(
            "Request log, newest first (cursor pages)",
            "GET",
            "/admin/requests",
            params={"owner_id": dev_id(client, c.token), "per_page": 2},
        )
        c.call(
            "The whole filtered log as CSV: 303 to the file",
            "GET",
            "/admin/requests.csv",
            params={"status_class": "2xx"},
            headers={"Accept": "text/csv"},
            follow_redirects=False,
        )
        c.call(
            "…or its description, for the admin pages",
            "GET",
            "/admin/requests.csv",
            params={"status_class": "2xx"},
            headers={"Accept": "application/json"},
        )
        c.call("Analytics overview", "GET", "/admin/overview", params={"days": 7}, items=1, latest_days=True)
        c.call(
            "Add a movie (the CSV ingest's rules)",
            "POST",
            "/admin/movies",
            body={"title": "The Example (2024)", "genre": "Drama, Mystery", "runtime": "1h 52m", "rating": "7.9"},
        )
        c.call("The same title and year again", "POST", "/admin/movies", body={"title": "the  example", "year": 2024})
        c.call(
            "Bad fields, each with the rule's code",
            "POST",
            "/admin/movies",
            body={"title": "", "year": "1700", "poster_url": "ftp://x", "tmdb_id": 1},
        )
        _uploads_and_sync(c, run)
        c.call("Audit log", "GET", "/admin/audit", params={"per_page": 2}, items=2)
    aws_service.stop()
    server.stop()
    tmdb.stop()
    cli_text = _cli_session(dev.key_id)
    with stack.connect_admin(db.url) as conn:  # leave the examples database as it was for the next capture
        conn.execute("DELETE FROM movies WHERE source = 'admin'")
        conn.execute("DELETE FROM movies WHERE title = ANY(%s)", (list(UPLOAD_TITLES),))
        conn.execute("DELETE FROM movies WHERE media_type = 'movie' AND tmdb_id IN (90001, 90002)")
        conn.execute("UPDATE plans SET per_minute = 30 WHERE id = 'free'")
    text = _replace(README.read_text(), START, END, "\n".join(c.parts))
    README.write_text(_replace(text, CLI_START, CLI_END, f"```text\n{cli_text}```\n"))
    print(f"README admin examples captured: {sum(p.startswith('####') for p in c.parts)} requests")


UPLOAD_TITLES = ("Paper Lanterns", "Salt Road")
UPLOAD = (
    "title,year,genre,director\nPaper Lanterns,2019,Drama,Mia Hart\nGlass Harbor,PG,Thriller,Leo Park\n"
    "Salt Road,2021,Western,\n"
)


def _uploads_and_sync(c: Capture, run: RunContext) -> None:
    """A CSV upload (signed, sent to the S3 stand-in, ingested from the drop folder as `marquee run` does), its job
    and report; a sync requested through the EventBridge stand-in, and its run."""
    from marquee_local import dropfolder, stack

    ticket = c.call(
        "Start a CSV upload (a presigned POST into the uploads bucket)",
        "POST",
        "/admin/ingest/uploads",
        body={"file_name": "new releases.csv", "mode": "upsert"},
        items=12,
    ).json()
    upload = ticket["upload"]
    sent = httpx.post(upload["url"], data=upload["fields"], files={"file": ("new releases.csv", UPLOAD.encode())})
    c.parts.append(
        "#### …then the browser sends the file straight to the bucket\n\n```http\n"
        f"POST {upload['url']}\nContent-Type: multipart/form-data; boundary=…\n\n"
        "(the fields above, then the file as `file`)\n```\n\n```text\n"
        f"{sent.status_code} {sent.reason_phrase}\netag: {sent.headers.get('etag', '')}\n```\n"
    )
    watcher = dropfolder.DropFolderWatcher(
        stack.uploads_root(run.home),
        lambda event: run.lambdas.invoke_threadsafe("IngestFunction", event),
        report=lambda _: None,
    )
    deadline = time.monotonic() + 30
    while not any(job["id"] == ticket["job"]["id"] for job in watcher.scan()) and time.monotonic() < deadline:
        time.sleep(0.2)
    job_id = ticket["job"]["id"]
    c.call("One ingest job, with its reported rows", "GET", f"/admin/ingest/jobs/{job_id}", items=20)
    c.call("Ingest jobs, newest first", "GET", "/admin/ingest/jobs", params={"per_page": 1}, items=1)
    c.call(
        "Its error report: a short-lived signed URL",
        "GET",
        f"/admin/ingest/jobs/{job_id}/report",
        headers={"Accept": "application/json"},
    )
    c.call("The sync's status", "GET", "/admin/sync")
    asked = c.call("Run the sync now (a Sync Requested event on EventBridge)", "POST", "/admin/sync/runs")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        latest = c.client.get(
            "/admin/sync/runs", params={"per_page": 1}, headers={"Authorization": f"Bearer {c.token}"}
        )
        runs = latest.json()["results"]
        if runs and runs[0]["triggered_by"] == "admin" and runs[0]["finished_at"] and asked.status_code == 202:
            break
        time.sleep(0.3)
    c.call("Sync runs with their counts and errors", "GET", "/admin/sync/runs", params={"per_page": 1}, items=3)


def _replace(text: str, start: str, end: str, body: str) -> str:
    head, _, rest = text.partition(start)
    _, _, tail = rest.partition(end)
    note = "<!-- generated by `make examples` (scripts/capture_admin_examples.py) -->"
    return f"{head}{start}\n{note}\n\n{body}\n{end}{tail}"


def _cli_session(key_id: int) -> str:
    """`marquee keys …` and `marquee create-admin` run in this process, their output as a terminal shows it."""
    from marquee_local import cli

    shown = []
    for argv in (
        ["keys", "list", "--owner", "ada.examples@gmail.com"],
        ["keys", "suspend", str(key_id)],
        ["keys", "reactivate", str(key_id)],
        ["keys", "reset-usage", str(key_id)],
        ["keys", "set-plan", str(key_id), "free"],
        ["keys", "revoke", "nonsense"],
        ["create-admin", "--email", "second.admin@example.com"],
    ):
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            status = cli.main(argv)
        shown.append(f"$ marquee {' '.join(argv)}" + ("" if status == 0 else f"   # exit status {status}"))
        printed = out.getvalue() + err.getvalue()
        if argv[0] == "create-admin":
            printed = re.sub(r"(?m)^[A-Za-z0-9_-]{24}$", "…", printed)  # the generated password
        shown.append(printed.rstrip("\n"))
    from movie_common.database import connect

    with connect() as conn:
        conn.execute("DELETE FROM admins WHERE email = %s", ("second.admin@example.com",))
    return "\n".join(shown) + "\n"


def dev_id(client: httpx.Client, token: str) -> int:
    found = client.get("/admin/developers", params={"q": "ada.examples"}, headers={"Authorization": f"Bearer {token}"})
    return int(found.json()["results"][0]["id"])


if __name__ == "__main__":
    main()
