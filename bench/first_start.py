"""First-start benchmark (bench/): a first `marquee run` on a fresh data folder (initdb, migrations, demo key, the
gateway) until the API answers, and until the bundled catalogue is in, beside raw COPY of the same file into a bare
table measured in the same run."""

from __future__ import annotations

import argparse
import gzip
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from bench import common
from bench.common import Figure

DATABASE = "marquee_bench_first_start"
HOMES = common.REPO / ".marquee" / "bench" / "first-start"
PORT = 8000  # inside the benchmark's own network namespace
LOADED = re.compile(r"catalogue loaded: ([\d,]+) movies from .* in ([\d.]+) s")


def raw_copy_seconds(url: str, catalogue: Path) -> tuple[float, int]:
    """The baseline: the same file's CSV bytes (decompressed as they stream) COPYed into a bare table of seven text
    columns: no parsing in Python, no checks, no indexes. Returns (seconds, rows)."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS bench_raw_copy")
        conn.execute("CREATE TABLE bench_raw_copy (" + ", ".join(f"c{i} text" for i in range(7)) + ")")
        opener = gzip.open if catalogue.suffix == ".gz" else open
        started = time.perf_counter()
        with (
            conn.cursor().copy("COPY bench_raw_copy FROM STDIN (FORMAT csv, HEADER true)") as copy,
            opener(catalogue, "rb") as data,
        ):
            while chunk := data.read(1 << 20):
                copy.write(chunk)
        seconds = time.perf_counter() - started
        row = conn.execute("SELECT count(*) FROM bench_raw_copy").fetchone()
        conn.execute("DROP TABLE bench_raw_copy")
    return seconds, int(row[0]) if row else 0


def load_seconds(url: str, catalogue: Path) -> tuple[float, int]:
    """What the first start's background load runs (`stack.load_catalogue`: COPY into a staging table, one
    set-based upsert, ANALYZE), into a freshly migrated database. Returns (seconds, movies loaded)."""
    from marquee_local import stack

    with stack.connect_admin(url) as conn:
        stack.migrate_schema(conn)
        started = time.perf_counter()
        loaded = stack.load_catalogue(conn, catalogue).inserted
        return time.perf_counter() - started, loaded


def _answers(url: str) -> dict[str, Any] | None:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - our own loopback URL
            return dict(json.loads(response.read())) if response.status == 200 else None
    except (urllib.error.URLError, ConnectionError, TimeoutError, ValueError):
        return None


def _left_running(home: Path) -> list[str]:
    """Processes still naming the data folder (the PostgreSQL server does) once the stack has stopped."""
    import psutil

    left = []
    for process in psutil.process_iter(["cmdline"]):
        cmdline = " ".join(process.info["cmdline"] or [])
        if str(home) in cmdline:
            left.append(cmdline)
    return left


def _start(home: Path, catalogue: Path, log: Path) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "XDG_RUNTIME_DIR"}}
    env.update(MARQUEE_HOME=str(home), MARQUEE_CATALOGUE=str(catalogue))
    with log.open("ab") as output:
        return subprocess.Popen(
            [str(Path(sys.executable).with_name("marquee")), "run", "--port", str(PORT), "--quiet"],
            cwd=common.REPO,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )


def _stop(process: subprocess.Popen[bytes]) -> float:
    started = time.perf_counter()
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=120)
    return time.perf_counter() - started


def _one_start(home: Path, catalogue: Path, *, expect_load: bool, timeout: float = 300.0) -> dict[str, Any]:
    log = home.parent / f"{home.name}-{'first' if expect_load else 'second'}.log"
    log.unlink(missing_ok=True)
    started = time.perf_counter()
    process = _start(home, catalogue, log)
    answered = loaded = None
    load_reported = None
    movies = 0
    try:
        while time.perf_counter() - started < timeout:
            if process.poll() is not None:
                raise RuntimeError(f"marquee run exited with {process.returncode}:\n{log.read_text()[-3000:]}")
            health = _answers(f"http://127.0.0.1:{PORT}/health")
            if health is not None and answered is None:
                answered = time.perf_counter() - started
            if health is not None:
                movies = int(health["movies"])
            found = LOADED.search(log.read_text(errors="replace"))
            if found and loaded is None:
                loaded, load_reported = time.perf_counter() - started, float(found.group(2))
            if answered is not None and (loaded is not None or not expect_load):
                break
            time.sleep(0.05)
        else:
            raise RuntimeError(f"marquee run did not get ready in {timeout:.0f} s:\n{log.read_text()[-3000:]}")
    finally:
        stop_seconds = _stop(process)
    return {
        "answered_seconds": answered,
        "catalogue_in_seconds": loaded,
        "load_reported_seconds": load_reported,
        "movies": movies,
        "stop_seconds": stop_seconds,
        "exit_status": process.returncode,
        "left_running": _left_running(home),
    }


def inside(config: dict[str, Any]) -> dict[str, Any]:
    """Runs in `unshare -n` (its own loopback, so port 8000 is free): each round a first start on a fresh folder,
    then a second start on the same folder."""
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    catalogue = Path(config["catalogue"])
    rounds = []
    for number in range(config["rounds"]):
        home = HOMES / f"round-{number + 1}"
        shutil.rmtree(home, ignore_errors=True)
        home.mkdir(parents=True)
        first = _one_start(home, catalogue, expect_load=True)
        second = _one_start(home, catalogue, expect_load=False)
        rounds.append({"round": number + 1, "first": first, "second": second})
        shutil.rmtree(home, ignore_errors=True)
    return {"rounds": rounds}


def run(*, quick: bool = False) -> dict[str, Any]:
    if shutil.which("unshare") is None:
        raise SystemExit("the first-start benchmark needs unshare (util-linux)")
    rounds = 1 if quick else 3
    catalogue = common.catalogue_path()
    url = common.fresh_database(DATABASE)
    copy_seconds, copy_rows = raw_copy_seconds(url, catalogue)
    print(f"first_start: raw COPY of {copy_rows:,} rows in {copy_seconds:.2f} s")
    common.drop_database(DATABASE)
    url = common.fresh_database(DATABASE)
    common.use_database(url)
    alone_seconds, alone_loaded = load_seconds(url, catalogue)
    print(f"first_start: stack.load_catalogue: {alone_loaded:,} movies in {alone_seconds:.2f} s")
    common.drop_database(DATABASE)
    HOMES.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        ["unshare", "-n", sys.executable, "-m", "bench.first_start", "--inside",
         json.dumps({"rounds": rounds, "catalogue": str(catalogue)})],
        cwd=common.REPO,
        capture_output=True,
        text=True,
        timeout=3600,
        check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"first-start benchmark failed:\n{done.stderr[-4000:]}")
    measured = json.loads(done.stdout.strip().splitlines()[-1])["rounds"]
    firsts = [r["first"] for r in measured]
    seconds = [r["second"] for r in measured]
    for r in measured:
        print(
            f"first_start: round {r['round']}: answered {r['first']['answered_seconds']:.2f} s, catalogue in "
            f"{r['first']['catalogue_in_seconds']:.2f} s; restart answered {r['second']['answered_seconds']:.2f} s"
        )
    assert all(f["movies"] == alone_loaded for f in firsts), [f["movies"] for f in firsts]
    left = sum(len(r[k]["left_running"]) for r in measured for k in ("first", "second"))
    bad_exits = sum(r[k]["exit_status"] != 0 for r in measured for k in ("first", "second"))

    def median(values: list[dict[str, Any]], key: str) -> float:
        return round(statistics.median(v[key] for v in values), 2)

    figures = [
        Figure(
            "first `marquee run` answers (fresh folder: initdb, migrations, demo key, gateway), median",
            median(firsts, "answered_seconds"),
            "s",
            round(copy_seconds, 2),
            "raw COPY of the same catalogue into a bare table",
            budget=10.0,
            budget_text="≤ 10 s",
            note="process start to the first /health 200; the catalogue then loads in the background",
        ),
        Figure(
            f"first start: the bundled catalogue ({alone_loaded:,} movies) is in, median",
            median(firsts, "catalogue_in_seconds"),
            "s",
            round(copy_seconds, 2),
            "raw COPY of the same catalogue into a bare table",
            note="process start to the log's `catalogue loaded`; the API answers all along",
        ),
        Figure(
            "the background load alone, as the first start reports it, median",
            median(firsts, "load_reported_seconds"),
            "s",
            round(copy_seconds, 2),
            "raw COPY of the same catalogue into a bare table",
            note="stack.load_catalogue: COPY into a staging table, one set-based upsert, ANALYZE",
        ),
        Figure(
            "the same load with nothing else running (stack.load_catalogue, fresh database)",
            round(alone_seconds, 2),
            "s",
            round(copy_seconds, 2),
            "raw COPY of the same catalogue into a bare table",
        ),
        Figure(
            "second `marquee run` on the same folder answers, median",
            median(seconds, "answered_seconds"),
            "s",
            median(firsts, "answered_seconds"),
            "first start answers",
        ),
        Figure(
            "SIGTERM to a running stack: seconds until it and its PostgreSQL have stopped, median",
            median(firsts + seconds, "stop_seconds"),
            "s",
        ),
        Figure(
            "processes left running after the stops, and non-zero exits",
            left + bad_exits,
            "count",
            budget=0,
            budget_text="none",
        ),
    ]
    return {
        "benchmark": "first_start",
        "title": "First start: a fresh `marquee run` until it answers and until the catalogue is in",
        "parameters": {"rounds": rounds, "catalogue": str(catalogue.relative_to(common.REPO))},
        "figures": [f.as_dict() for f in figures],
        "tables": [
            {
                "title": "Rounds (seconds from process start)",
                "columns": ["round", "first start answers", "catalogue in", "load (reported)", "restart answers"],
                "rows": [
                    [
                        r["round"],
                        round(r["first"]["answered_seconds"], 2),
                        round(r["first"]["catalogue_in_seconds"], 2),
                        r["first"]["load_reported_seconds"],
                        round(r["second"]["answered_seconds"], 2),
                    ]
                    for r in measured
                ],
            }
        ],
        "details": {"rounds": measured, "raw_copy_rows": copy_rows},
        "notes": [
            "Each round starts `.venv/bin/marquee run --port 8000 --quiet` inside `unshare -n` (a private loopback) "
            "on a fresh MARQUEE_HOME under .marquee/bench/first-start/ (so PostgreSQL is initialised too), polls "
            "GET /health until it answers 200, waits for the log line `catalogue loaded`, stops it with SIGTERM and "
            "checks that no process naming the folder is left; then starts it again on the same folder.",
            "The baseline is raw COPY of the same file (its CSV bytes, decompressed as they stream) into a bare "
            "table of seven text columns on the benchmark server, measured in the same run.",
        ],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--inside", help="internal: run the starts in this process (a private network namespace)")
    args = parser.parse_args()
    if args.inside:
        print(json.dumps(inside(json.loads(args.inside))))
    else:
        print(json.dumps(run(quick=True), indent=2))


if __name__ == "__main__":
    main()
