"""The admin lists' filters are honest: a filter a list has narrows it, a value it does not know is a 422 naming the
parameter, and a query parameter the route does not read at all is a 422 naming it too, never the unfiltered list
answered as if it were filtered (`GET /admin/ingest/jobs?status=failed` answered every job). Through AdminFunction's
real handler; the routes are enumerated from the admin OpenAPI document, and the filters the admin pages send are
read from the pages themselves."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from movie_admin.handler import app
from movie_common.db import ingest_jobs, sync_runs

SITE = Path(__file__).resolve().parents[4] / "site" / "admin"


def _jobs(conn: Any) -> dict[str, int]:
    """One cli job in each status but queued-by-upload (closed as abandoned by the list), by status."""
    made = {}
    for status in ("queued", "loading", "done", "failed"):
        job = ingest_jobs.create_job(conn, mode="upsert", origin="cli", file_name=f"{status}.csv")
        conn.execute("UPDATE ingest_jobs SET status = %s WHERE id = %s", (status, job.id))
        made[status] = job.id
    return made


def test_ingest_jobs_filter_by_status(conn: Any, admin_api: Callable[..., Any], admin_token: str) -> None:
    made = _jobs(conn)
    everything = admin_api("GET", "/admin/ingest/jobs", token=admin_token, query={"per_page": "100"}).json
    assert set(made.values()) <= {job["id"] for job in everything["results"]}

    failed = admin_api("GET", "/admin/ingest/jobs", token=admin_token, query={"status": "failed", "per_page": "100"})
    assert failed.status == 200, failed.body
    assert {job["status"] for job in failed.json["results"]} == {"failed"}
    assert made["failed"] in {job["id"] for job in failed.json["results"]}
    assert failed.json["total_results"] == len(failed.json["results"]) < everything["total_results"]

    done = admin_api("GET", "/admin/ingest/jobs", token=admin_token, query={"status": "done"}).json
    assert {job["status"] for job in done["results"]} == {"done"}


def test_sync_runs_filter_by_status(conn: Any, admin_api: Callable[..., Any], admin_token: str) -> None:
    counts = sync_runs.SyncCounts()
    ok = sync_runs.start_run(conn, triggered_by="admin")
    sync_runs.finish_run(conn, run_id=ok.id, counts=counts, status="succeeded", message=None)
    bad = sync_runs.start_run(conn, triggered_by="admin")
    sync_runs.finish_run(conn, run_id=bad.id, counts=counts, status="failed", message="TMDB refused every request")

    failed = admin_api("GET", "/admin/sync/runs", token=admin_token, query={"status": "failed"})
    assert failed.status == 200, failed.body
    assert [run["id"] for run in failed.json["results"]] == [bad.id]
    assert failed.json["total_results"] == 1
    succeeded = admin_api("GET", "/admin/sync/runs", token=admin_token, query={"status": "succeeded"}).json
    assert [run["id"] for run in succeeded["results"]] == [ok.id]


@pytest.mark.parametrize("path", ["/admin/ingest/jobs", "/admin/sync/runs", "/admin/keys", "/admin/developers"])
def test_an_unknown_status_is_a_422_naming_it(admin_api: Callable[..., Any], admin_token: str, path: str) -> None:
    answer = admin_api("GET", path, token=admin_token, query={"status": "fialed"})
    assert answer.status == 422, answer.body
    assert answer.json["code"] == "validation_error"
    assert [(e["name"], e["in"]) for e in answer.json["errors"]] == [("status", "query")]


def _get_operations() -> list[tuple[str, set[str]]]:
    """(path with ids filled in, the query parameters it documents) of every GET in the admin OpenAPI document."""
    found = []
    for path, operations in app.openapi()["paths"].items():
        if "get" in operations and path.startswith("/admin/") and path not in ("/admin/exports/{name}",):
            names = {p["name"] for p in operations["get"].get("parameters", []) if p["in"] == "query"}
            found.append((re.sub(r"\{[^}]+\}", "1", path), names))
    return sorted(found)


GETS = _get_operations()


def test_the_enumeration_finds_the_lists() -> None:
    paths = {path for path, _ in GETS}
    assert {"/admin/ingest/jobs", "/admin/sync/runs", "/admin/keys", "/admin/audit", "/admin/requests"} <= paths
    assert dict(GETS)["/admin/ingest/jobs"] == {"status", "page", "per_page"}


@pytest.mark.parametrize(("path", "documented"), GETS)
def test_a_query_parameter_a_route_does_not_read_is_refused(
    admin_api: Callable[..., Any], admin_token: str, path: str, documented: set[str]
) -> None:
    answer = admin_api("GET", path, token=admin_token, query={"no_such_filter": "x"})
    assert answer.status == 422, answer.body
    assert answer.json["code"] == "validation_error"
    assert [(e["name"], e["in"]) for e in answer.json["errors"]] == [("no_such_filter", "query")]
    for name in documented:  # the refusal says what the route does take
        assert name in answer.json["errors"][0]["reason"]
    # Without a session it is still the 401, not a 422 that would tell an anonymous caller about the route.
    anonymous = admin_api("GET", path, query={"no_such_filter": "x"})
    assert anonymous.status == 401


def test_a_write_is_not_refused_for_its_query_string(admin_api: Callable[..., Any], admin_token: str) -> None:
    """Writes read their body: a stray query parameter on one is no filter pretending to work (404 here: no key)."""
    answer = admin_api("POST", "/admin/keys/987654321/suspend", token=admin_token, query={"status": "x"})
    assert (answer.status, answer.json["code"]) == (404, "not_found")


def _page_filters() -> dict[str, set[str]]:
    """What each admin list page sends: the names of its filter form's fields, by the API path its list loads."""
    found: dict[str, set[str]] = {}
    for page in SITE.glob("*.html"):
        html = page.read_text()
        form = re.search(r"<form[^>]*data-filters[^>]*>(.*?)</form>", html, re.S)
        script = re.search(r'src="/admin/assets/pages/([a-z_]+\.js)"', html)
        if form is None or script is None:
            continue
        code = (SITE / "assets" / "pages" / script.group(1)).read_text()
        path = re.search(r'ListPage\(\{\s*path:\s*"([^"]+)"', code)
        assert path is not None, page.name
        found[path.group(1)] = set(re.findall(r'<(?:input|select)[^>]*\bname="([^"]+)"', form.group(1)))
    return found


def test_every_filter_an_admin_page_sends_is_one_its_list_reads() -> None:
    documented = dict(GETS)
    sent = _page_filters()
    assert len(sent) >= 8  # audit, developers, ingest, key requests, keys, movies, requests, sync
    assert "status" in sent["/admin/ingest/jobs"]  # the upload page's "failed only" toggle
    unread = {path: names - documented[path] for path, names in sent.items() if names - documented[path]}
    assert unread == {}
