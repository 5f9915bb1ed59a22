"""The developer portal keeps a database error's meaning too: a sign-up whose insert waits on another session's
uncommitted sign-up of the same address past lock_timeout is 503 `lock_timeout` (retry shortly), not "the database
is unavailable", and changes nothing. Through AuthFunction's real handler on the real PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import psycopg
import pytest

from marquee_local import events
from marquee_local.lambda_context import LocalLambdaContext

EVENTS = Path(__file__).resolve().parents[2] / "events"


def _signup(email: str) -> dict[str, Any]:
    from movie_auth.handler import handler

    body = {"name": "Racing Dev", "email": email, "password": "velvet-orbit-canyon-42"}
    event = events.adjust(
        json.loads((EVENTS / "me.json").read_text()),
        method="POST",
        resource="/auth/signup",
        path="/auth/signup",
        headers={"Authorization": None, "Content-Type": "application/json"},
        body=json.dumps(body),
    )
    response: dict[str, Any] = handler(event, LocalLambdaContext(function_name="AuthFunction"))
    response["json"] = json.loads(response["body"])
    return response


@pytest.mark.slow
def test_a_sign_up_waiting_on_a_concurrent_one_past_lock_timeout_is_a_lock_timeout(
    conn: Any, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from movie_auth.mailer import get_mail_sender
    from movie_auth.settings import auth_settings

    monkeypatch.setenv("OUTBOX_DIR", str(tmp_path / "outbox"))
    monkeypatch.delenv("MAIL_BACKEND", raising=False)
    auth_settings.cache_clear()
    get_mail_sender.cache_clear()
    conn.execute("SET LOCAL lock_timeout = '100ms'")
    try:
        with psycopg.connect(database_url) as holder:  # a sign-up of the same address, not yet committed
            holder.execute(
                "INSERT INTO users (name, email, canonical_email) VALUES ('Holder', %s, %s)",
                ("racing.dev@gmail.com", "racingdev@gmail.com"),
            )
            answer = _signup("racing.dev@gmail.com")
            holder.rollback()
    finally:
        monkeypatch.undo()
        auth_settings.cache_clear()
        get_mail_sender.cache_clear()
    assert answer["statusCode"] == 503, answer["body"]
    assert answer["json"]["code"] == "lock_timeout" and "unavailable" not in answer["json"]["detail"]
    assert conn.execute("SELECT 1 FROM users WHERE email = 'racing.dev@gmail.com'").fetchone() is None
