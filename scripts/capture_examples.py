"""Captures the README's example requests and responses from a live local stack (`make examples`).

It starts the one-machine stack on its own database folder, creates the keys it needs, calls every endpoint
through the local gateway, and rewrites the README section between the `examples` markers.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
from pathlib import Path
from typing import Any

import httpx

from marquee_local import cli, stack

REPO = Path(__file__).resolve().parents[1]
README = REPO / "README.md"
START, END = "<!-- examples:start -->", "<!-- examples:end -->"
# Left out of every example, and named in the README: the same on every response (CORS, set by CORS_ALLOW_ORIGIN),
# or new on every request and of no use to a reader (date, length, API Gateway's own request id).
HIDDEN_HEADERS = (
    "date",
    "content-length",
    "x-amzn-requestid",
    "access-control-allow-origin",
    "access-control-expose-headers",
    "vary",
)
STRING_LIMIT, LIST_LIMIT = 160, 6
CUT = "\u2026"  # …, as an escape: ruff flags the character in code


def _shorten(value: Any) -> Any:
    """Long plot texts and long lists would drown the examples: strings are cut to STRING_LIMIT characters and lists
    to LIST_LIMIT entries, each cut marked with … (a list's as a last entry); nothing else changes."""
    if isinstance(value, str) and len(value) > STRING_LIMIT:
        return value[:STRING_LIMIT] + CUT
    if isinstance(value, list):
        return [_shorten(v) for v in value[:LIST_LIMIT]] + ([CUT] if len(value) > LIST_LIMIT else [])
    if isinstance(value, dict):
        return {k: _shorten(v) for k, v in value.items()}
    return value


def _shown(response: httpx.Response) -> str:
    lines = [f"HTTP/1.1 {response.status_code} {response.reason_phrase}"]
    lines += [f"{name}: {value}" for name, value in response.headers.items() if name not in HIDDEN_HEADERS]
    body = response.text
    if "json" in response.headers.get("content-type", ""):
        body = json.dumps(_shorten(response.json()), indent=2, ensure_ascii=False)
    elif body:
        body = body[:200] + (CUT if len(body) > 200 else "")
    return "\n".join(lines) + ("\n\n" + body if body else "")


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
    return (
        f'#### {title}\n\n```sh\ncurl -i{curl_headers} "http://127.0.0.1:8000{path}"\n```\n\n'
        f"```http\n{_shown(response)}\n```\n"
    )


def _etag_example(client: httpx.Client, path: str, *, key: str) -> str:
    """The conditional GET as a reader repeats it: take the ETag from a first response, send it back (quotes and
    all) in If-None-Match."""
    etag = client.get(path, headers={"X-API-KEY": key}).headers["etag"]
    response = client.get(path, headers={"X-API-KEY": key, "If-None-Match": etag})
    url = f"http://127.0.0.1:8000{path}"
    return (
        "#### Not modified (ETag)\n\n"
        "The ETag is the movie's own (it changes when the movie does); send it back as it came, quotes included:\n\n"
        "```sh\n"
        f'ETAG=$(curl -s -o /dev/null -D - -H "X-API-KEY: $MARQUEE_KEY" "{url}" '
        """| tr -d '\\r' | awk 'tolower($1) == "etag:" {print $2}')\n"""
        f'echo "$ETAG"   # {etag}\n'
        f'curl -i -H "X-API-KEY: $MARQUEE_KEY" -H "If-None-Match: $ETAG" "{url}"\n'
        "```\n\n"
        f"```http\n{_shown(response)}\n```\n"
    )


def _new_key(plan: str, owner: str) -> str:
    """A key made as the README tells readers to make theirs: `marquee create-key` (its last line is the key)."""
    output = io.StringIO()
    with contextlib.redirect_stdout(output):
        status = cli.main(["create-key", "--plan", plan, "--owner", owner])
    if status != 0:
        raise SystemExit(f"marquee create-key failed ({status})")
    return output.getvalue().strip().splitlines()[-1]


def _marquee(*args: str) -> None:
    with contextlib.redirect_stdout(io.StringIO()):
        status = cli.main(list(args))
    if status != 0:
        raise SystemExit(f"marquee {' '.join(args)} failed ({status})")


def main() -> None:
    os.environ.setdefault("MARQUEE_HOME", str(REPO / ".marquee" / "examples"))
    with stack.opened_database() as db:
        with stack.connect_admin(db.url) as conn:
            stack.prepare(conn)
            row = conn.execute("SELECT id FROM movies WHERE title = 'The Godfather' AND year = 1972").fetchone()
            godfather = row["id"] if row else 1
        # The keys of the examples, made with the commands the README gives ("Keys for the examples").
        pro = _new_key("pro", "examples-pro@example.com")
        free = _new_key("free", "examples@example.com")
        suspended = _new_key("free", "examples@example.com")
        _marquee("keys", "suspend", suspended)
        spent = _new_key("free", "examples@example.com")
        with stack.connect_admin(db.url) as conn:
            conn.execute(SPEND_TODAY, (spent,))
        capture(db.url, godfather=godfather, pro=pro, free=free, suspended=suspended, spent=spent)


# What the README's `marquee psql -c` line runs: today's 100 free requests used up.
SPEND_TODAY = "UPDATE api_keys SET usage_count = 100 WHERE key = sha256(convert_to(%s, 'UTF8'))"


def capture(url: str, *, godfather: int, pro: str, free: str, suspended: str, spent: str) -> None:
    try:  # the port the README's curl lines use, when it is free
        server = stack.serve_gateway("127.0.0.1", 8000, database_url=url, max_environments=2)
    except OSError:
        server = stack.serve_gateway("127.0.0.1", 0, database_url=url, max_environments=2)
    authority = server.authority
    parts: list[str] = []
    with httpx.Client(base_url=server.url, timeout=30) as client:
        cursor = client.get("/movies?per_page=2&sort=year.desc", headers={"X-API-KEY": pro}).json()["next_cursor"]
        parts += [
            "### Movies\n",
            _example(client, "List movies", "/movies?per_page=2&sort=year.desc", key=pro),
            _example(client, "The next page by cursor", f"/movies?per_page=2&sort=year.desc&cursor={cursor}", key=pro),
            _example(client, "One movie", f"/movies/{godfather}", key=pro),
            _etag_example(client, f"/movies/{godfather}", key=pro),
            _example(client, "Similar movies", f"/movies/{godfather}/similar?per_page=2", key=pro),
            _example(client, "Genres with counts", "/genres", key=pro, bearer=True),
            _example(
                client, "TMDB's trending TV (filled by the TMDB sync)", "/movies/trending?type=tv&per_page=2", key=pro
            ),
            _example(
                client,
                "TMDB's popular films (an empty page until the first TMDB sync, like the lists below)",
                "/movies/popular?per_page=2",
                key=pro,
            ),
            _example(client, "Films about to open (films only)", "/movies/upcoming?per_page=2", key=pro),
            _example(client, "Films in cinemas now", "/movies/now_playing?per_page=2", key=pro),
            "### Search\n",
            _example(client, "Typo-tolerant title", "/search?title=godfater&per_page=2", key=pro),
            _example(
                client, "Genre and year range", "/search?genre=western&year_from=1950&year_to=1959&per_page=2", key=pro
            ),
            _example(client, "Director, actor, free text", "/search?director=spielberg&q=shark&per_page=1", key=pro),
            _example(client, "Punctuation and sequel numerals", "/search?title=rocky%202&per_page=2", key=pro),
            _example(client, "Names across punctuation", "/search?actor=OBrien&per_page=1", key=pro),
            _example(client, "Autocomplete", "/search/suggest?q=godfather", key=pro),
            "### Your quota and health\n",
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
            _example(client, "Empty search", "/search?colour=red", key=pro),
            _example(client, "A parameter under another API's name", "/movies?sort_by=vote_average.desc", key=pro),
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
    # On another port (8000 taken), the links the API built name that port: the README's curl lines use 8000.
    generated = "\n".join(parts).replace(f"//{authority}/", "//127.0.0.1:8000/")
    README.write_text(
        f"{head}{START}\n<!-- generated by `make examples` (scripts/capture_examples.py) -->\n\n"
        f"{generated}\n{END}{tail}"
    )
    print(f"README examples captured: {sum(p.startswith('####') for p in parts)} requests")


if __name__ == "__main__":
    main()
