"""The first `marquee run` on an empty database: the API answers at once, the catalogue loads in the background
(one transaction: all or nothing) and the log says when it is in, or why it is not."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
import time
import types
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest

from marquee_local import cli, first_start, run, stack
from movie_common.database import close_connection
from movie_common.settings import get_settings

SEED = (
    "title,year,genre,director,actors,plot,poster_url\n"
    "First Start One,2001,Drama,A. Director,One|Two,A plot.,\n"
    "First Start Two,2002,Comedy|Drama,B. Director,Three,Another plot.,\n"
)


@pytest.fixture
def empty_database(database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[str]:
    """A database of its own on the test server, never migrated, as DATABASE_URL; MARQUEE_HOME in tmp_path."""
    name = f"marquee_test_first_start_{os.getpid()}"
    with psycopg.connect(database_url, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    url = psycopg.conninfo.make_conninfo(database_url, dbname=name)
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("MARQUEE_HOME", str(tmp_path))
    try:
        yield url
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()
        close_connection()
        with psycopg.connect(database_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class _Watcher:
    """A service started after the loader: while the API answers /health, waits until the catalogue holds `movies`
    rows (or, for 0, watches a while), records the counts it saw, then stops the stack with SIGTERM."""

    name = "watcher"

    def __init__(self, context: run.RunContext, movies: int) -> None:
        self.context, self.movies = context, movies
        self.seen: list[int] = []
        self.health: list[int] = []

    def start(self) -> None:
        threading.Thread(target=self._watch, daemon=True).start()

    def _watch(self) -> None:
        deadline = time.monotonic() + 120
        load: first_start.CatalogueLoadService = self.context.extra["catalogue_load"]
        with psycopg.connect(self.context.database_url, autocommit=True) as conn:
            while time.monotonic() < deadline:
                self.health.append(httpx.get(self.context.api_url + "/health", timeout=30).status_code)
                row = conn.execute("SELECT count(*) FROM movies").fetchone()
                self.seen.append(int(row[0]) if row else -1)
                if load.finished.is_set() and self.seen[-1] == self.movies:
                    break
                time.sleep(0.1)
        os.kill(os.getpid(), signal.SIGTERM)

    def stop(self) -> None:
        pass

    def describe(self) -> list[str]:
        return []


def _with_watcher(monkeypatch: pytest.MonkeyPatch, movies: int) -> list[_Watcher]:
    made: list[_Watcher] = []
    module = types.ModuleType("first_start_watcher")

    def service(context: run.RunContext) -> _Watcher:
        made.append(_Watcher(context, movies))
        return made[-1]

    module.service = service  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "first_start_watcher", module)
    monkeypatch.setattr(cli, "SERVICE_MODULES", ("first_start_watcher",))
    return made


@pytest.mark.slow
def test_first_run_serves_then_loads_the_catalogue_in_the_background(
    empty_database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    seed = tmp_path / "seed.csv"
    seed.write_text(SEED, encoding="utf-8")
    monkeypatch.setenv("MARQUEE_CATALOGUE", str(seed))
    watchers = _with_watcher(monkeypatch, movies=2)

    assert cli.main(["run", "--port", "0", "--quiet", "--environments", "1"]) == 0

    out = capsys.readouterr().out
    assert f"Catalogue  loading {seed} in the background" in out
    assert f"catalogue loaded: 2 movies from {seed} in " in out
    assert watchers[0].seen[-1] == 2 and set(watchers[0].health) == {200}
    with psycopg.connect(empty_database) as conn:
        titles = [r[0] for r in conn.execute("SELECT title FROM movies ORDER BY title").fetchall()]
    assert titles == ["First Start One", "First Start Two"]


@pytest.mark.slow
def test_a_catalogue_that_fails_to_load_is_reported_and_the_api_still_serves(
    empty_database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = tmp_path / "broken.csv"
    broken.write_text("foo,bar\n1,2\n", encoding="utf-8")
    monkeypatch.setenv("MARQUEE_CATALOGUE", str(broken))
    watchers = _with_watcher(monkeypatch, movies=0)

    assert cli.main(["run", "--port", "0", "--quiet", "--environments", "1"]) == 0

    out = capsys.readouterr().out
    [line] = [line for line in out.splitlines() if line.startswith("catalogue did not load")]
    assert line.startswith(f"catalogue did not load: {broken}: No title column: the header row has to name one")
    assert "The API serves an empty catalogue" in line and "marquee seed --file FILE" in line
    assert set(watchers[0].seen) == {0} and set(watchers[0].health) == {200}


@pytest.mark.slow
def test_stopping_before_the_load_began_writes_nothing_and_says_so(empty_database: str, tmp_path: Path) -> None:
    seed = tmp_path / "seed.csv"
    seed.write_text(SEED, encoding="utf-8")
    lines: list[str] = []
    context = run.RunContext(args=argparse.Namespace(), home=tmp_path, database_url=empty_database, log=lines.append)
    with stack.connect_admin(empty_database) as conn:
        stack.migrate_schema(conn)
    service = first_start.CatalogueLoadService(context, seed)
    service._stopping = True  # stop() ran before the thread got its connection
    service.start()
    service.stop()
    assert lines == ["catalogue load cancelled: nothing was written; the next start loads it again"]
    with psycopg.connect(empty_database) as conn:
        row = conn.execute("SELECT count(*) FROM movies").fetchone()
    assert row is not None and row[0] == 0


@pytest.mark.slow
def test_the_banner_is_not_the_load_line_and_one_movie_is_singular(empty_database: str, tmp_path: Path) -> None:
    # The banner said "... once the log says `catalogue loaded`" while the load ran: a script waiting for the text
    # `catalogue loaded` matched the banner, before the load had ended. And one movie was "1 movies".
    seed = tmp_path / "one.csv"
    seed.write_text(SEED.rsplit("\n", 2)[0] + "\n", encoding="utf-8")
    lines: list[str] = []
    context = run.RunContext(args=argparse.Namespace(), home=tmp_path, database_url=empty_database, log=lines.append)
    with stack.connect_admin(empty_database) as conn:
        stack.migrate_schema(conn)
    service = first_start.CatalogueLoadService(context, seed)
    [banner] = service.describe()
    assert banner.startswith(f"Catalogue  loading {seed} in the background")
    assert "catalogue loaded" not in banner.lower()
    service.start()
    assert service.finished.wait(60)
    [line] = lines
    assert line.startswith(f"catalogue loaded: 1 movie from {seed} in ")
    assert service.describe() == [f"Catalogue  1 movie loaded from {seed}"]


@pytest.mark.slow
def test_listening_on_every_interface_links_through_the_loopback(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # --host 0.0.0.0 is no address a client can use: the banner and the API's links name 127.0.0.1 instead.
    monkeypatch.setenv("MARQUEE_HOME", str(tmp_path))
    module = types.ModuleType("wildcard_watcher")
    seen: dict[str, str] = {}

    class Probe:
        name = "probe"

        def __init__(self, context: run.RunContext) -> None:
            self.context = context

        def start(self) -> None:
            seen["api_url"] = self.context.api_url
            response = httpx.get(
                self.context.api_url + "/movies?per_page=1", headers={"X-API-KEY": _demo_key(tmp_path)}
            )
            seen["link"] = response.headers["link"]
            threading.Timer(0.2, os.kill, (os.getpid(), signal.SIGTERM)).start()

        def stop(self) -> None:
            pass

        def describe(self) -> list[str]:
            return []

    module.service = Probe  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "wildcard_watcher", module)
    monkeypatch.setattr(cli, "SERVICE_MODULES", ("wildcard_watcher",))

    wildcard = "0.0.0.0"  # noqa: S104 - what is tested: listening on every interface
    assert cli.main(["run", "--host", wildcard, "--port", "0", "--quiet", "--environments", "1"]) == 0

    port = seen["api_url"].rsplit(":", 1)[1]
    assert seen["api_url"] == f"http://127.0.0.1:{port}"
    assert f"<http://127.0.0.1:{port}/movies?per_page=1&page=1>" in seen["link"]
    out = capsys.readouterr().out
    assert f"API        http://127.0.0.1:{port}" in out
    assert f"Listening  0.0.0.0:{port}, every interface" in out


def _demo_key(home: Path) -> str:
    return (home / "demo-key").read_text().strip()


@pytest.mark.slow
def test_services_that_write_movies_wait_for_the_first_start_load(tmp_path: Path) -> None:
    context = run.RunContext(args=argparse.Namespace(), home=tmp_path, database_url="unused")
    stopped = threading.Event()
    assert first_start.wait_for_catalogue(context, stopped)  # no first-start load: nothing to wait for
    load = first_start.CatalogueLoadService(context, tmp_path / "seed.csv")  # registers itself in context.extra
    outcomes: list[bool] = []
    waiter = threading.Thread(
        target=lambda: outcomes.append(first_start.wait_for_catalogue(context, stopped, interval=0.05))
    )
    waiter.start()
    time.sleep(0.3)
    assert waiter.is_alive() and outcomes == []  # still waiting: the load has not ended
    load.finished.set()
    waiter.join(5)
    assert outcomes == [True]
    load.finished.clear()
    stopped.set()
    assert first_start.wait_for_catalogue(context, stopped, interval=0.05) is False  # the stack stops meanwhile
