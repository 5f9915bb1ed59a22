"""A database that answers but refuses one statement is not "unavailable" on the admin API either: an edit that
waits past lock_timeout on a movie another session holds is 503 `lock_timeout` (retry shortly), and changes nothing.
Through AdminFunction's real handler, on the real PostgreSQL, with a second session holding the row."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import psycopg
import pytest


@pytest.mark.slow
def test_an_edit_that_times_out_on_a_held_row_is_a_lock_timeout_not_an_outage(
    conn: Any, database_url: str, admin_api: Callable[..., Any], admin_token: str
) -> None:
    movie = conn.execute("SELECT id, title FROM movies ORDER BY id LIMIT 1").fetchone()
    assert movie is not None  # the bundled catalogue
    conn.execute("SET LOCAL lock_timeout = '100ms'")
    with psycopg.connect(database_url) as holder:
        holder.execute("SELECT 1 FROM movies WHERE id = %s FOR UPDATE", (movie["id"],))
        answer = admin_api(
            "PATCH", f"/admin/movies/{movie['id']}", token=admin_token, body={"title": "Held While Edited"}
        )
        holder.rollback()
    assert answer.status == 503, answer.body
    assert answer.json["code"] == "lock_timeout"
    assert "unavailable" not in answer.json["detail"]
    assert answer.headers["retry-after"] == "5"
    # The refusal rolled back only its own savepoint: the test's transaction (the admin's session) goes on.
    assert conn.execute("SELECT title FROM movies WHERE id = %s", (movie["id"],)).fetchone()["title"] == movie["title"]
    assert admin_api("GET", f"/admin/movies/{movie['id']}", token=admin_token).status == 200
