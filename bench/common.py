"""Shared plumbing of the benchmarks (bench/): the database, machine facts, statistics and the results files."""

from __future__ import annotations

import contextlib
import datetime as dt
import gzip
import hashlib
import json
import math
import os
import platform
import subprocess
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import psycopg
from psycopg import sql

if TYPE_CHECKING:
    from marquee_local.postgres import EmbeddedPostgres

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "bench" / "results"
QUICK_RESULTS = REPO / ".marquee" / "bench" / "quick"  # --quick runs never overwrite the committed figures
PGDATA = REPO / ".marquee" / "bench" / "pgdata"
BENCHMARKS = ("hot_path", "search", "cold_start", "gateway", "ingest", "admin", "first_start")
TIMES, DASH, MINUS, DIVIDE = "\u00d7", "\u2013", "\u2212", "\u00f7"  # escapes: ruff flags the characters

# Read before any benchmark points DATABASE_URL at its own database (bench/__main__ imports this module first).
_ORIGINAL_DATABASE_URL = os.environ.get("DATABASE_URL", "").strip() or None
_embedded: EmbeddedPostgres | None = None


def server_url() -> str:
    """DATABASE_URL as it was when the run started, or the embedded server under .marquee/bench (started once)."""
    global _embedded
    if _ORIGINAL_DATABASE_URL:
        return _ORIGINAL_DATABASE_URL
    if _embedded is None:
        from marquee_local.postgres import start_embedded

        _embedded = start_embedded(PGDATA)
    return _embedded.url


def database_url(name: str) -> str:
    return psycopg.conninfo.make_conninfo(server_url(), dbname=name)


def fresh_database(name: str) -> str:
    """Drop and create a database on the benchmark server; returns its URL."""
    with psycopg.connect(server_url(), autocommit=True) as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return database_url(name)


def drop_database(name: str) -> None:
    with psycopg.connect(server_url(), autocommit=True) as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def database_exists(name: str) -> bool:
    with psycopg.connect(server_url(), autocommit=True) as admin:
        return admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is not None


def use_database(url: str, *, function: str | None = None) -> None:
    """Point the handlers' settings (read once, cached) at `url`, as template.yaml's environment would; with
    `function` (a template logical id), also that function's database session settings (its `DB_*` variables,
    e.g. ApiFunction's DB_SYNCHRONOUS_COMMIT), so a benchmark measures the session the deployed function opens."""
    os.environ["DATABASE_URL"] = url
    os.environ["MARQUEE_ENV"] = "local"
    os.environ.pop("DATABASE_SECRET_ARN", None)
    if function is not None:
        from marquee_local import stack

        for name, value in stack.local_template().functions[function].environment.items():
            if name.startswith("DB_"):
                os.environ[name] = value
    from movie_common.database import close_connection
    from movie_common.settings import get_settings

    get_settings.cache_clear()
    close_connection()


def catalogue_path() -> Path:
    """The bundled catalogue: MARQUEE_CATALOGUE, else data/movies.csv.gz."""
    for candidate in (os.environ.get("MARQUEE_CATALOGUE"), REPO / "data" / "movies.csv.gz"):
        if candidate and Path(candidate).exists():
            return Path(candidate)
    raise FileNotFoundError("no catalogue: set MARQUEE_CATALOGUE or run `make catalogue`")


def catalogue_digest(path: Path) -> str:
    """SHA-256 of the decompressed catalogue (gzip headers carry timestamps, the content is what matters)."""
    digest = hashlib.sha256()
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as raw:
        for chunk in iter(lambda: raw.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _git(*args: str) -> str:
    try:
        return subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return ""


def _cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def machine_info() -> dict[str, Any]:
    """What the figures depend on; the PostgreSQL version comes from the server the run used."""
    with psycopg.connect(server_url(), autocommit=True) as conn:
        row = conn.execute("SHOW server_version").fetchone()
        settings = dict(
            conn.execute(
                """SELECT name, setting || coalesce(unit, '') FROM pg_settings
                   WHERE name IN ('shared_buffers', 'work_mem', 'jit', 'synchronous_commit', 'fsync')"""
            ).fetchall()
        )
    return {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "cpu_count": os.cpu_count(),
        "cpu_model": _cpu_model(),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "python": platform.python_version(),
        "platform": platform.platform(),
        "postgresql": row[0] if row else "unknown",
        "postgresql_server": "DATABASE_URL" if _ORIGINAL_DATABASE_URL else "embedded (.marquee/bench/pgdata)",
        "postgresql_settings": settings,
        "git_commit": _git("rev-parse", "--short", "HEAD"),
        "git_dirty": bool(_git("status", "--porcelain", "--untracked-files=no")),
    }


def percentile(values: Sequence[float], q: float) -> float:
    """Linear interpolation between closest ranks (numpy's default), q in [0, 100]."""
    ordered = sorted(values)
    if not ordered:
        return math.nan
    position = (len(ordered) - 1) * q / 100
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def summarize_ns(samples_ns: Sequence[int]) -> dict[str, float]:
    """n, median, p95, p99, mean, min and max of nanosecond samples, in milliseconds."""
    ms = [s / 1e6 for s in samples_ns]
    return {
        "n": len(ms),
        "median_ms": round(percentile(ms, 50), 4),
        "p95_ms": round(percentile(ms, 95), 4),
        "p99_ms": round(percentile(ms, 99), 4),
        "mean_ms": round(sum(ms) / len(ms), 4) if ms else math.nan,
        "min_ms": round(min(ms), 4) if ms else math.nan,
        "max_ms": round(max(ms), 4) if ms else math.nan,
    }


@dataclass
class Figure:
    """One row of a results table. `budget_on` says what the budget bounds: the value itself or the ratio."""

    name: str
    value: float
    unit: str  # ms | s | x | % | count | bool | req/s
    baseline: float | None = None
    baseline_name: str = ""
    budget: float | None = None
    budget_on: str = "value"  # value | ratio
    at_least: bool = False  # the budget is a floor (throughput), not a ceiling
    budget_text: str = ""
    note: str = ""

    @property
    def ratio(self) -> float | None:
        if self.baseline is None or self.baseline == 0:
            return None
        return self.value / self.baseline

    @property
    def verdict(self) -> str:
        if self.budget is None:
            return "info"
        bounded = self.value if self.budget_on == "value" else self.ratio
        if bounded is None or math.isnan(bounded):
            return "n/a"
        within = bounded >= self.budget if self.at_least else bounded <= self.budget
        return "pass" if within else ("UNDER BUDGET" if self.at_least else "OVER BUDGET")

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["ratio"] = None if self.ratio is None else round(self.ratio, 4)
        data["verdict"] = self.verdict
        return data


def write_result(name: str, result: dict[str, Any], *, quick: bool) -> Path:
    folder = QUICK_RESULTS if quick else RESULTS
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.json"
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(result, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8")
    tmp.replace(path)
    return path


def read_results(folder: Path = RESULTS) -> Iterator[dict[str, Any]]:
    for name in BENCHMARKS:
        path = folder / f"{name}.json"
        if path.exists():
            yield json.loads(path.read_text(encoding="utf-8"))
