"""A fake TMDB v3 server on loopback for tests and local runs: TMDB's response shapes, told what to fail and when.

It serves /configuration, /genre/{movie,tv}/list, /{movie,tv}/changes, /trending/{movie,tv}/day, /movie/popular,
/movie/upcoming, /movie/now_playing, /tv/popular and /{movie,tv}/{id} (with append_to_response=credits,external_ids)
from titles a test adds, checks the Bearer token, and answers errors with TMDB's body
{"status_code", "status_message", "success": false}. Faults are told per test: 429 with Retry-After, any status,
slow answers, malformed JSON, 404. Every request is logged with its arrival time (time.monotonic) and the status it
got, so a test can measure the request rate a client really produced. Optionally it enforces a rate limit the way
TMDB does (429 when more than N requests arrived in the last second).
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

PAGE_SIZE = 20
_CUT = "x-fake-cut"  # an internal marker among _decide's headers: answer with a cut body
CHANGES_PAGE_SIZE = 100
MAX_PAGE = 500

MOVIE_GENRES = {
    28: "Action", 12: "Adventure", 16: "Animation", 35: "Comedy", 80: "Crime", 99: "Documentary", 18: "Drama",
    10751: "Family", 14: "Fantasy", 36: "History", 27: "Horror", 10402: "Music", 9648: "Mystery", 10749: "Romance",
    878: "Science Fiction", 10770: "TV Movie", 53: "Thriller", 10752: "War", 37: "Western",
}  # fmt: skip
TV_GENRES = {
    10759: "Action & Adventure", 16: "Animation", 35: "Comedy", 80: "Crime", 99: "Documentary", 18: "Drama",
    10751: "Family", 10762: "Kids", 9648: "Mystery", 10763: "News", 10764: "Reality", 10765: "Sci-Fi & Fantasy",
    10766: "Soap", 10767: "Talk", 10768: "War & Politics", 37: "Western",
}  # fmt: skip

CONFIGURATION: dict[str, Any] = {
    "change_keys": ["adult", "cast", "crew", "genres", "images", "overview", "poster_path", "release_dates", "title"],
    "images": {
        "base_url": "http://image.tmdb.org/t/p/",
        "secure_base_url": "https://image.tmdb.org/t/p/",
        "backdrop_sizes": ["w300", "w780", "w1280", "original"],
        "logo_sizes": ["w45", "w92", "w154", "w185", "w300", "w500", "original"],
        "poster_sizes": ["w92", "w154", "w185", "w342", "w500", "w780", "original"],
        "profile_sizes": ["w45", "w185", "h632", "original"],
        "still_sizes": ["w92", "w185", "w300", "original"],
    },
}

# TMDB's error bodies (status_code, status_message) for the statuses the fake answers.
ERRORS: dict[int, tuple[int, str]] = {
    401: (7, "Invalid API key: You must be granted a valid key."),
    404: (34, "The resource you requested could not be found."),
    422: (22, "Invalid page: Pages start at 1 and max at 500. They are expected to be an integer."),
    429: (25, "Your request count (#) is over the allowed limit of (40)."),
    500: (11, "Internal error: Something went wrong, contact TMDb."),
    502: (24, "Your request to the backend server timed out. Try again."),
    503: (9, "Service offline: This service is temporarily offline, try again later."),
    504: (24, "Your request to the backend server timed out. Try again."),
}


def error_body(status: int) -> dict[str, Any]:
    code, message = ERRORS.get(status, (11, "Internal error: Something went wrong, contact TMDb."))
    return {"status_code": code, "status_message": message, "success": False}


@dataclass
class Fault:
    """What to do instead of (or before) the normal answer for requests whose path matches `path` (a regex).

    kind: 'status' (answer `status` with TMDB's error body, and Retry-After `retry_after` if set: seconds, or an
    HTTP-date as a string), 'slow' (wait `delay` seconds, then answer normally), 'malformed' (200 with a body that
    is not JSON), 'cut' (the normal answer's headers with its full Content-Length, then half its body, then the
    connection closes: a reset mid-body), 'cut_unsized' (the same without Content-Length, the connection closing
    after half the body: what a client reading to the end of the connection sees as a short body), 'drip' (the
    normal answer's headers, then its body a byte every `delay` seconds: each read is quick, the body is slow).
    `times` is how many matching requests it applies to (None: all of them); `query`, when given, narrows it to the
    requests whose query has these values (e.g. {"page": "2"}: only a list's second page).
    """

    path: str
    kind: str
    query: dict[str, str] | None = None
    status: int = 500
    retry_after: int | str | None = None
    delay: float = 0.0
    times: int | None = None
    hits: int = 0


@dataclass(frozen=True)
class LoggedRequest:
    at: float  # time.monotonic() on arrival
    path: str
    query: dict[str, str]
    status: int
    authorization: str | None


@dataclass
class _Title:
    media_type: str
    doc: dict[str, Any]
    credits: dict[str, Any]
    external_ids: dict[str, Any]


def _person(person_id: int, name: str) -> dict[str, Any]:
    return {
        "adult": False,
        "gender": 0,
        "id": person_id,
        "known_for_department": "Acting",
        "name": name,
        "original_name": name,
        "popularity": 1.5,
        "profile_path": None,
    }


@dataclass
class FakeTmdbState:
    token: str
    titles: dict[tuple[str, int], _Title] = field(default_factory=dict)
    lists: dict[str, list[tuple[str, int]]] = field(default_factory=dict)
    changes: dict[tuple[str, date], list[int]] = field(default_factory=dict)
    configuration: dict[str, Any] = field(default_factory=lambda: json.loads(json.dumps(CONFIGURATION)))
    faults: list[Fault] = field(default_factory=list)
    log: list[LoggedRequest] = field(default_factory=list)
    rate_limit: int | None = None
    recent: deque[float] = field(default_factory=deque)
    lock: threading.Lock = field(default_factory=threading.Lock)


class FakeTmdb:
    """The server. Use as a context manager; `url` is the API base (…/3) to give the client as TMDB_API_BASE."""

    def __init__(
        self,
        *,
        token: str = "test-read-token",  # noqa: S107 - a fake server's token
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.state = FakeTmdbState(token=token)
        self.host = host
        self._next_person = 100_000
        state = self.state

        class Handler(_Handler):
            fake_state = state

        self._server = ThreadingHTTPServer((host, port), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def token(self) -> str:
        return self.state.token

    @property
    def url(self) -> str:
        port = self._server.server_address[1]
        return f"http://{self.host}:{port}/3"

    def start(self) -> FakeTmdb:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> FakeTmdb:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- catalogue ------------------------------------------------------------------------------------------------

    def _people(self, names: list[str]) -> list[dict[str, Any]]:
        people = []
        for name in names:
            self._next_person += 1
            people.append(_person(self._next_person, name))
        return people

    def add_movie(
        self,
        tmdb_id: int,
        title: str,
        *,
        release_date: str = "",
        genres: Sequence[str] = (),
        directors: Sequence[str] = (),
        cast: Sequence[str] = (),
        overview: str = "",
        runtime: int | None = 100,
        vote_average: float = 7.0,
        vote_count: int = 100,
        popularity: float = 10.0,
        poster_path: str | None = None,
        imdb_id: str | None = None,
        adult: bool = False,
        original_language: str = "en",
    ) -> dict[str, Any]:
        """Add (or replace) a movie with TMDB's movie-details shape; returns the document (edit it to change it)."""
        genre_ids = {name: gid for gid, name in MOVIE_GENRES.items()}
        doc = {
            "adult": adult,
            "backdrop_path": f"/backdrop{tmdb_id}.jpg",
            "belongs_to_collection": None,
            "budget": 0,
            "genres": [{"id": genre_ids[g], "name": g} for g in genres],
            "homepage": "",
            "id": tmdb_id,
            "imdb_id": imdb_id,
            "origin_country": ["US"],
            "original_language": original_language,
            "original_title": title,
            "overview": overview,
            "popularity": popularity,
            "poster_path": poster_path if poster_path is not None else f"/poster{tmdb_id}.jpg",
            "production_companies": [],
            "production_countries": [{"iso_3166_1": "US", "name": "United States of America"}],
            "release_date": release_date,
            "revenue": 0,
            "runtime": runtime,
            "spoken_languages": [{"english_name": "English", "iso_639_1": "en", "name": "English"}],
            "status": "Released",
            "tagline": "",
            "title": title,
            "video": False,
            "vote_average": vote_average,
            "vote_count": vote_count,
        }
        cast_people = [
            {**p, "cast_id": i + 1, "character": f"Role {i + 1}", "credit_id": f"c{tmdb_id}x{i}", "order": i}
            for i, p in enumerate(self._people(list(cast)))
        ]
        crew = [
            {**p, "known_for_department": "Directing", "credit_id": f"d{tmdb_id}x{i}", "department": "Directing",
             "job": "Director"}
            for i, p in enumerate(self._people(list(directors)))
        ]  # fmt: skip
        crew.append({**_person(99, "Some Writer"), "credit_id": "w", "department": "Writing", "job": "Screenplay"})
        external = {"imdb_id": imdb_id, "wikidata_id": None, "facebook_id": None, "instagram_id": None,
                    "twitter_id": None}  # fmt: skip
        with self.state.lock:
            self.state.titles[("movie", tmdb_id)] = _Title("movie", doc, {"cast": cast_people, "crew": crew}, external)
        return doc

    def add_tv(
        self,
        tmdb_id: int,
        name: str,
        *,
        first_air_date: str = "",
        genres: Sequence[str] = (),
        creators: Sequence[str] = (),
        cast: Sequence[str] = (),
        overview: str = "",
        episode_run_time: Sequence[int] = (),
        vote_average: float = 8.0,
        vote_count: int = 200,
        popularity: float = 20.0,
        poster_path: str | None = None,
        imdb_id: str | None = None,
        original_language: str = "en",
    ) -> dict[str, Any]:
        """Add (or replace) a TV series with TMDB's TV-series-details shape; returns the document."""
        genre_ids = {gname: gid for gid, gname in TV_GENRES.items()}
        doc = {
            "adult": False,
            "backdrop_path": f"/tvbackdrop{tmdb_id}.jpg",
            "created_by": [
                {
                    "id": p["id"],
                    "credit_id": f"cb{tmdb_id}",
                    "name": p["name"],
                    "original_name": p["name"],
                    "gender": 0,
                    "profile_path": None,
                }
                for p in self._people(list(creators))
            ],
            "episode_run_time": list(episode_run_time),
            "first_air_date": first_air_date,
            "genres": [{"id": genre_ids[g], "name": g} for g in genres],
            "homepage": "",
            "id": tmdb_id,
            "in_production": False,
            "languages": [original_language],
            "last_air_date": first_air_date,
            "name": name,
            "networks": [{"id": 174, "logo_path": "/network.png", "name": "AMC", "origin_country": "US"}],
            "number_of_episodes": 10,
            "number_of_seasons": 1,
            "origin_country": ["US"],
            "original_language": original_language,
            "original_name": name,
            "overview": overview,
            "popularity": popularity,
            "poster_path": poster_path if poster_path is not None else f"/tvposter{tmdb_id}.jpg",
            "status": "Ended",
            "tagline": "",
            "type": "Scripted",
            "vote_average": vote_average,
            "vote_count": vote_count,
        }
        cast_people = [
            {**p, "character": f"Role {i + 1}", "credit_id": f"tc{tmdb_id}x{i}", "order": i}
            for i, p in enumerate(self._people(list(cast)))
        ]
        external = {"imdb_id": imdb_id, "freebase_mid": None, "freebase_id": None, "tvdb_id": None,
                    "tvrage_id": None, "wikidata_id": None, "facebook_id": None, "instagram_id": None,
                    "twitter_id": None}  # fmt: skip
        with self.state.lock:
            self.state.titles[("tv", tmdb_id)] = _Title("tv", doc, {"cast": cast_people, "crew": []}, external)
        return doc

    def remove(self, media_type: str, tmdb_id: int) -> None:
        """TMDB deleted the title: its details now answer 404."""
        with self.state.lock:
            self.state.titles.pop((media_type, tmdb_id), None)

    def set_list(self, path: str, ids: list[int], *, media_type: str | None = None) -> None:
        """Set a list's titles in rank order, e.g. set_list('/movie/popular', [550, 238])."""
        kind = media_type or ("tv" if path.startswith("/tv/") or path.startswith("/trending/tv") else "movie")
        with self.state.lock:
            self.state.lists[path] = [(kind, i) for i in ids]

    def add_changes(self, media_type: str, day: date, ids: list[int]) -> None:
        """Report ids as changed on a UTC day in /{media_type}/changes."""
        with self.state.lock:
            self.state.changes.setdefault((media_type, day), []).extend(ids)

    # --- faults and measurement -------------------------------------------------------------------------------------

    def fault(self, path: str, kind: str, **options: Any) -> Fault:
        """Add a fault (see Fault); faults are tried in the order they were added."""
        added = Fault(path=path, kind=kind, **options)
        with self.state.lock:
            self.state.faults.append(added)
        return added

    def clear_faults(self) -> None:
        with self.state.lock:
            self.state.faults.clear()

    def enforce_rate_limit(self, per_second: int | None) -> None:
        """Answer 429 (Retry-After: 1) when more than `per_second` requests arrived in the last second."""
        with self.state.lock:
            self.state.rate_limit = per_second

    @property
    def requests(self) -> list[LoggedRequest]:
        with self.state.lock:
            return list(self.state.log)

    def requests_to(self, pattern: str) -> list[LoggedRequest]:
        """Logged requests whose path matches the regex."""
        return [r for r in self.requests if re.search(pattern, r.path)]

    def max_requests_per_window(self, window: float = 1.0) -> int:
        """The most requests that arrived within any `window` seconds."""
        times = sorted(r.at for r in self.requests)
        best, start = 0, 0
        for end, moment in enumerate(times):
            while moment - times[start] >= window:
                start += 1
            best = max(best, end - start + 1)
        return best


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    fake_state: FakeTmdbState
    server_version = "openresty"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _send(self, status: int, body: bytes, *, headers: dict[str, str] | None = None) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json;charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (its read timeout)

    def _send_cut(self, status: int, body: bytes, *, sized: bool) -> None:
        """Half of `body`, then the connection closes (Content-Length announcing all of it when `sized`)."""
        self.close_connection = True
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json;charset=utf-8")
            if sized:
                self.send_header("Content-Length", str(len(body)))
            else:
                self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            pass

    def _send_drip(self, status: int, body: bytes, *, every: float) -> None:
        """`body` with its Content-Length, a byte every `every` seconds, until it is sent or the client leaves."""
        self.close_connection = True
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json;charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.flush()
            for byte in body:
                time.sleep(every)
                self.wfile.write(bytes([byte]))
                self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError, OSError):
            pass

    def _json(self, status: int, data: dict[str, Any], *, headers: dict[str, str] | None = None) -> None:
        self._send(status, json.dumps(data).encode(), headers=headers)

    def do_GET(self) -> None:
        state = self.fake_state
        arrived = time.monotonic()
        split = urlsplit(self.path)
        path = split.path.removeprefix("/3")
        query = {k: v[-1] for k, v in parse_qs(split.query).items()}
        auth = self.headers.get("Authorization")
        status, body, headers, delay = self._decide(state, arrived, path, query, auth)
        with state.lock:
            state.log.append(LoggedRequest(arrived, path, query, status, auth))
        if delay:
            time.sleep(delay)
        cut = headers.pop(_CUT, None)
        if cut is not None and cut.startswith("drip:") and body is not None:
            self._send_drip(status, json.dumps(body).encode(), every=float(cut.removeprefix("drip:")))
        elif cut is not None and body is not None:
            self._send_cut(status, json.dumps(body).encode(), sized=cut == "cut")
        elif body is None:
            self._send(200, b'{"page": 1, "results": [{"id": 1,')  # cut short: not JSON
        else:
            self._json(status, body, headers=headers)

    def _decide(
        self, state: FakeTmdbState, arrived: float, path: str, query: dict[str, str], auth: str | None
    ) -> tuple[int, dict[str, Any] | None, dict[str, str], float]:
        """(status, JSON body or None for a malformed one, extra headers, delay before answering)."""
        if auth != f"Bearer {state.token}":
            return 401, error_body(401), {}, 0.0
        delay = 0.0
        with state.lock:
            if state.rate_limit is not None:
                while state.recent and arrived - state.recent[0] >= 1.0:
                    state.recent.popleft()
                state.recent.append(arrived)
                if len(state.recent) > state.rate_limit:
                    return 429, error_body(429), {"Retry-After": "1"}, 0.0
            for fault in state.faults:
                if (fault.times is not None and fault.hits >= fault.times) or not re.search(fault.path, path):
                    continue
                if fault.query is not None and any(query.get(k) != v for k, v in fault.query.items()):
                    continue
                fault.hits += 1
                if fault.kind == "status":
                    headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else {}
                    return fault.status, error_body(fault.status), headers, 0.0
                if fault.kind == "malformed":
                    return 200, None, {}, 0.0
                if fault.kind == "slow":
                    delay = max(delay, fault.delay)
                if fault.kind == "drip":
                    status, body = self._route(state, path, query)
                    return status, body, {_CUT: f"drip:{fault.delay}"}, 0.0
                if fault.kind in ("cut", "cut_unsized"):
                    status, body = self._route(state, path, query)
                    return status, body, {_CUT: fault.kind}, delay
            status, body = self._route(state, path, query)
        return status, body, {}, delay

    def _route(self, state: FakeTmdbState, path: str, query: dict[str, str]) -> tuple[int, dict[str, Any]]:
        try:
            page = int(query.get("page", "1"))
        except ValueError:
            return 422, error_body(422)
        if not 1 <= page <= MAX_PAGE:
            return 422, error_body(422)
        if path == "/configuration":
            return 200, state.configuration
        if path in ("/genre/movie/list", "/genre/tv/list"):
            names = MOVIE_GENRES if "movie" in path else TV_GENRES
            return 200, {"genres": [{"id": i, "name": n} for i, n in names.items()]}
        match = re.fullmatch(r"/(movie|tv)/changes", path)
        if match:
            return self._changes(state, match.group(1), query, page)
        if path in state.lists:
            return 200, self._list(state, path, page)
        if re.fullmatch(r"/(movie/(popular|upcoming|now_playing|top_rated)|tv/popular|trending/(movie|tv)/day)", path):
            return 200, self._list(state, path, page)
        match = re.fullmatch(r"/(movie|tv)/(\d+)", path)
        if match:
            title = state.titles.get((match.group(1), int(match.group(2))))
            if title is None:
                return 404, error_body(404)
            doc = dict(title.doc)
            appended = {part.strip() for part in query.get("append_to_response", "").split(",")}
            if "credits" in appended:
                doc["credits"] = title.credits
            if "external_ids" in appended:
                doc["external_ids"] = title.external_ids
            return 200, doc
        return 404, error_body(404)

    @staticmethod
    def _changes(state: FakeTmdbState, media_type: str, query: dict[str, str], page: int) -> tuple[int, dict[str, Any]]:
        try:
            start = date.fromisoformat(query["start_date"])
            end = date.fromisoformat(query.get("end_date", query["start_date"]))
        except (KeyError, ValueError):
            return 422, {"status_code": 22, "status_message": "Invalid date range.", "success": False}
        if end < start or (end - start).days > 14:
            return 422, {
                "status_code": 22,
                "status_message": "Invalid date range: Should be a range no longer than 14 days.",
                "success": False,
            }
        ids: list[int] = []
        day = start
        while day <= end:  # both ends inclusive
            for i in state.changes.get((media_type, day), []):
                if i not in ids:
                    ids.append(i)
            day += timedelta(days=1)
        total_pages = max(1, -(-len(ids) // CHANGES_PAGE_SIZE))
        chunk = ids[(page - 1) * CHANGES_PAGE_SIZE : page * CHANGES_PAGE_SIZE]
        adult = {i for (m, i), t in state.titles.items() if m == media_type and t.doc.get("adult")}
        return 200, {
            "results": [{"id": i, "adult": i in adult} for i in chunk],
            "page": page,
            "total_pages": total_pages,
            "total_results": len(ids),
        }

    @staticmethod
    def _list(state: FakeTmdbState, path: str, page: int) -> dict[str, Any]:
        entries = state.lists.get(path, [])
        chunk = entries[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
        results = []
        for media_type, tmdb_id in chunk:
            title = state.titles.get((media_type, tmdb_id))
            doc: dict[str, Any] = title.doc if title is not None else {"id": tmdb_id, "adult": False}
            item: dict[str, Any] = {
                "adult": doc.get("adult", False),
                "backdrop_path": doc.get("backdrop_path"),
                "genre_ids": [g["id"] for g in doc.get("genres") or []],
                "id": tmdb_id,
                "original_language": doc.get("original_language"),
                "overview": doc.get("overview", ""),
                "popularity": doc.get("popularity", 0.0),
                "poster_path": doc.get("poster_path"),
                "vote_average": doc.get("vote_average", 0.0),
                "vote_count": doc.get("vote_count", 0),
            }
            if media_type == "movie":
                item |= {
                    "original_title": doc.get("original_title", ""),
                    "release_date": doc.get("release_date", ""),
                    "title": doc.get("title", ""),
                    "video": False,
                }
            else:
                item |= {
                    "origin_country": doc.get("origin_country", []),
                    "original_name": doc.get("original_name", ""),
                    "first_air_date": doc.get("first_air_date", ""),
                    "name": doc.get("name", ""),
                }
            if path.startswith("/trending/"):
                item["media_type"] = media_type
            results.append(item)
        body: dict[str, Any] = {
            "page": page,
            "results": results,
            "total_pages": max(1, -(-len(entries) // PAGE_SIZE)),
            "total_results": len(entries),
        }
        if path in ("/movie/upcoming", "/movie/now_playing"):
            today = date.today()
            body = {"dates": {"maximum": (today + timedelta(days=30)).isoformat(), "minimum": today.isoformat()}} | body
        return body
