"""Captures the README's example requests and responses from a live local stack (`make examples`).

It starts the one-machine stack on its own database folder, creates the keys it needs, calls every endpoint
through the local gateway, and rewrites the README section between the `examples` markers.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[1]
README = REPO / "README.md"
START, END = "<!-- examples:start -->", "<!-- examples:end -->"
SHOWN_HEADERS = (
    "content-type",
    "etag",
    "cache-control",
    "link",
    "retry-after",
    "x-ratelimit-limit",
    "x-ratelimit-remaining",
    "x-ratelimit-reset",
    "ratelimit-policy",
    "ratelimit",
)


def _shorten(value: Any, limit: int = 160) -> Any:
    """Long plot texts would drown the examples; strings are cut (marked with …), nothing else changes."""
    if isinstance(value, str) and len(value) > limit:
        return value[:limit] + "…"
    if isinstance(value, list):
        return [_shorten(v, limit) for v in value[:6]] + (
            ["…"] if len(value) > 6 and not isinstance(value[0], dict) else []
        )
    if isinstance(value, dict):
        return {k: _shorten(v, limit) for k, v in value.items()}
    return value


def _example(
    client: httpx.Client,
    title: str,
    path: str,
    *,
    key: str | None,
    shown_key: str = "$MARQUEE_KEY",
    headers: dict[str, str] | None = None,
    bearer: bool = False,
) -> str:
    sent = dict(headers or {})
    curl_headers = "".join(f' -H "{k}: {v}"' for k, v in sent.items())
    if key is not None:
        if bearer:
            sent["Authorization"] = f"Bearer {key}"
            curl_headers = f' -H "Authorization: Bearer {shown_key}"' + curl_headers
        else:
            sent["X-API-KEY"] = key
            curl_headers = f' -H "X-API-KEY: {shown_key}"' + curl_headers
    response = client.get(path, headers=sent)
    lines = [f"HTTP/1.1 {response.status_code} {response.reason_phrase}"]
    lines += [f"{name}: {response.headers[name]}" for name in SHOWN_HEADERS if name in response.headers]
    body = response.text
    if "json" in response.headers.get("content-type", ""):
        body = json.dumps(_shorten(response.json()), indent=2, ensure_ascii=False)
    elif body:
        body = body[:200] + ("…" if len(body) > 200 else "")
    shown = "\n".join(lines) + ("\n\n" + body if body else "")
    return f'#### {title}\n\n```sh\ncurl -i{curl_headers} "http://127.0.0.1:8000{path}"\n```\n\n```http\n{shown}\n```\n'


def main() -> None:
    os.environ.setdefault("MARQUEE_HOME", str(REPO / ".marquee" / "examples"))
    from marquee_local import stack

    db = stack.open_database()
    stack.configure_environment(db.url)
    from movie_common import access

    with stack.connect_admin(db.url) as conn:
        stack.prepare(conn)
        pro = stack.create_key(conn, owner_email="examples-pro@gmail.com", plan="pro").raw_key
        free = stack.create_key(conn, owner_email="examples-free@gmail.com", plan="free").raw_key
        spent = stack.create_key(conn, owner_email="examples-spent@gmail.com", plan="free").raw_key
        conn.execute("UPDATE api_keys SET usage_count = 100 WHERE key = %s", (access.hash_key(spent),))
        suspended = stack.create_key(conn, owner_email="examples-suspended@gmail.com", plan="free").raw_key
        conn.execute("UPDATE api_keys SET status = 'suspended' WHERE key = %s", (access.hash_key(suspended),))
        godfather = conn.execute("SELECT id FROM movies WHERE title = 'The Godfather' AND year = 1972").fetchone()["id"]

    try:  # the port the README's curl lines use, when it is free
        server = stack.serve_gateway("127.0.0.1", 8000, database_url=db.url, max_environments=2)
    except OSError:
        server = stack.serve_gateway("127.0.0.1", 0, database_url=db.url, max_environments=2)
    parts: list[str] = []
    with httpx.Client(base_url=server.url, timeout=30) as client:
        etag = client.get(f"/movies/{godfather}", headers={"X-API-KEY": pro}).headers["etag"]
        cursor = client.get("/movies?per_page=2&sort=year.desc", headers={"X-API-KEY": pro}).json()["next_cursor"]
        parts += [
            "### Movies\n",
            _example(client, "List movies", "/movies?per_page=2&sort=year.desc", key=pro),
            _example(client, "The next page by cursor", f"/movies?per_page=2&sort=year.desc&cursor={cursor}", key=pro),
            _example(client, "One movie", f"/movies/{godfather}", key=pro),
            _example(client, "Not modified (ETag)", f"/movies/{godfather}", key=pro, headers={"If-None-Match": etag}),
            _example(client, "Similar movies", f"/movies/{godfather}/similar?per_page=2", key=pro),
            _example(client, "Genres with counts", "/genres", key=pro, bearer=True),
            _example(
                client, "TMDB's trending TV (filled by the TMDB sync)", "/movies/trending?type=tv&per_page=2", key=pro
            ),
            "### Search\n",
            _example(client, "Typo-tolerant title", "/search?title=godfater&per_page=2", key=pro),
            _example(
                client, "Genre and year range", "/search?genre=western&year_from=1950&year_to=1959&per_page=2", key=pro
            ),
            _example(client, "Director, actor, free text", "/search?director=spielberg&q=shark&per_page=1", key=pro),
            _example(client, "Punctuation and sequel numerals", "/search?title=rocky%202&per_page=2", key=pro),
            _example(client, "Names across punctuation", "/search?actor=OBrien&per_page=1", key=pro),
            _example(client, "Autocomplete", "/search/suggest?q=godfather", key=pro),
            "### Your quota, health, docs\n",
            _example(client, "Usage (free: does not count)", "/usage", key=free, shown_key="$FREE_KEY"),
            _example(client, "Health (no key)", "/health", key=None),
            "### Errors\n",
            _example(client, "No key", "/movies", key=None),
            _example(
                client,
                "Unknown key",
                "/movies",
                key="3f2b8a9e-5c1d-4e7f-9a0b-1c2d3e4f5a6b",
                shown_key="3f2b8a9e-5c1d-4e7f-9a0b-1c2d3e4f5a6b",
            ),
            _example(client, "Suspended key", "/movies", key=suspended, shown_key="$SUSPENDED_KEY"),
            _example(client, "Bad parameters", "/movies?per_page=0&sort=sideways", key=pro),
            _example(client, "Empty search", "/search?genre%5B%5D=Drama", key=pro),
            _example(client, "A parameter sent twice", "/search?year=1999&year=2000", key=pro),
            _example(
                client, "A search that would cost too much", "/search?q=-alien%20-shark%20-storm%20-ghost", key=pro
            ),
            _example(client, "Unknown movie", "/movies/999999999", key=pro),
            _example(client, "Daily quota used up (429)", "/genres", key=spent, shown_key="$SPENT_FREE_KEY"),
        ]
    server.stop()
    text = README.read_text()
    head, _, rest = text.partition(START)
    _, _, tail = rest.partition(END)
    generated = "\n".join(parts)
    README.write_text(
        f"{head}{START}\n<!-- generated by `make examples` (scripts/capture_examples.py) -->\n\n"
        f"{generated}\n{END}{tail}"
    )
    print(f"README examples captured: {sum(p.startswith('####') for p in parts)} requests")


if __name__ == "__main__":
    main()
