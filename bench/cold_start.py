"""Cold-start benchmark (bench/): import time of the Lambda handlers in fresh interpreters, beside their frameworks."""

from __future__ import annotations

import importlib.util
import json
import os
import random
import re
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from typing import Any

from bench import common

PYTHON = str(common.REPO / ".venv" / "bin" / "python")
VARIANTS = {
    "api_handler": "import movie_api.handler",
    "fastapi_mangum": "import fastapi, mangum; from aws_lambda_powertools import Logger",
    "auth_handler": "import movie_auth.authorizer",
    "powertools": "from aws_lambda_powertools import Logger",
    "interpreter": "pass",
}
BASELINE = "import fastapi, mangum and Powertools' Logger, net"
# Handlers that must never pull in the web framework (docs/architecture.md §8), and what counts as the framework.
FRAMEWORK_FREE = ("movie_auth.authorizer", "movie_migrate.handler", "movie_ingest.handler", "movie_sync.handler")
FRAMEWORK = ("fastapi", "pydantic", "pydantic_core", "starlette", "mangum")
# What the API handler must never import: sessions and passwords (the portals' business) and the AWS SDK's
# machinery. (Powertools imports the bare `botocore` package wherever it is installed, as in every Lambda runtime,
# for its user-agent hook; sessions and clients are what cost.)
NOT_ON_THE_HOT_PATH = ("bcrypt", "jwt", "boto3", "botocore.session", "botocore.client")
HEAVY = ("boto3", "botocore.session", "aws_xray_sdk", "httpx", "yaml", "numpy", "bcrypt", "jwt")
_IMPORTTIME = re.compile(r"^import time:\s+(\d+) \|\s+(\d+) \|(\s+)(\S+)$")


def _env() -> dict[str, str]:
    """What the function's environment holds at import; the URL is never connected to while importing."""
    env = dict(os.environ)
    env.pop("DATABASE_SECRET_ARN", None)
    env.pop("PYTHONPROFILEIMPORTTIME", None)
    env["DATABASE_URL"] = "postgresql://bench@127.0.0.1:9/never_connected"
    env["MARQUEE_ENV"] = "local"
    env["USAGE_PLAN_KEYS"] = json.dumps({tier: f"bench-{tier}-usage-plan-key" for tier in ("free", "pro", "unlimited")})
    return env


# The statement under test, timed from inside too; os._exit skips interpreter teardown (100 ms with FastAPI
# loaded here), which a Lambda environment never pays between its init and its first request.
_PROBE = """import time as _t
_s = _t.perf_counter_ns()
{code}
_e = _t.perf_counter_ns()
import os as _o
_o.write(1, str(_e - _s).encode())
_o._exit(0)
"""


def _run_ns(code: str, env: dict[str, str]) -> tuple[int, int]:
    """(wall time of a fresh `python -c`, time of the statement itself measured inside that process)."""
    started = time.perf_counter_ns()
    out = subprocess.run([PYTHON, "-c", _PROBE.format(code=code)], env=env, check=True, capture_output=True).stdout
    return time.perf_counter_ns() - started, int(out)


def loaded_modules(module: str, env: dict[str, str]) -> list[str]:
    code = f"import json, sys\nimport {module}\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([PYTHON, "-c", code], env=env, check=True, capture_output=True, text=True).stdout
    return list(json.loads(out))


def _top_level(modules: list[str], roots: tuple[str, ...]) -> list[str]:
    """Which of `roots` (packages, or dotted modules such as botocore.session) were imported."""
    loaded = set(modules)
    return sorted(root for root in roots if root in loaded)


def import_times(code: str, env: dict[str, str], runs: int) -> list[dict[str, Any]]:
    """-X importtime of `code`, per imported module: median self and cumulative time over the runs."""
    cumulative: dict[str, list[int]] = defaultdict(list)
    own: dict[str, list[int]] = defaultdict(list)
    depth: dict[str, int] = {}
    for _ in range(runs):
        err = subprocess.run(
            [PYTHON, "-X", "importtime", "-c", code], env=env, check=True, capture_output=True, text=True
        ).stderr
        for line in err.splitlines():
            match = _IMPORTTIME.match(line)
            if match:
                name = match.group(4)
                own[name].append(int(match.group(1)))
                cumulative[name].append(int(match.group(2)))
                depth[name] = (len(match.group(3)) - 1) // 2
    rows = [
        {
            "module": name,
            "depth": depth[name],
            "cumulative_ms": round(statistics.median(values) / 1000, 2),
            "self_ms": round(statistics.median(own[name]) / 1000, 2),
        }
        for name, values in cumulative.items()
    ]
    return sorted(rows, key=lambda r: -r["cumulative_ms"])


def run(*, quick: bool = False) -> dict[str, Any]:
    runs = 5 if quick else 20
    env = _env()
    for code in VARIANTS.values():  # compile .pyc files and warm the page cache before timing
        _run_ns(code, env)
    rng = random.Random(15)
    samples: dict[str, list[int]] = {name: [] for name in VARIANTS}
    inside: dict[str, list[int]] = {name: [] for name in VARIANTS}
    started = time.perf_counter()
    for index in range(runs):
        order = list(VARIANTS)
        rng.shuffle(order)
        for name in order:
            wall, own = _run_ns(VARIANTS[name], env)
            samples[name].append(wall)
            inside[name].append(own)
        if (index + 1) % 5 == 0:
            print(f"cold_start: {index + 1}/{runs} runs of each")
    timing_seconds = time.perf_counter() - started
    median = {name: statistics.median(values) / 1e9 for name, values in samples.items()}
    net = {name: median[name] - median["interpreter"] for name in VARIANTS}
    own = {name: statistics.median(values) / 1e9 for name, values in inside.items()}

    framework_checks: dict[str, Any] = {}
    for module in FRAMEWORK_FREE:
        package = module.split(".")[0]
        if importlib.util.find_spec(package) is None:
            framework_checks[module] = {"present": False}
            continue
        modules = loaded_modules(module, env)
        framework_checks[module] = {
            "present": True,
            "framework_imported": _top_level(modules, FRAMEWORK),
            "heavy_imported": _top_level(modules, HEAVY),
            "modules": len(modules),
        }
    api_modules = loaded_modules("movie_api.handler", env)
    api_heavy = _top_level(api_modules, HEAVY)
    top = import_times(VARIANTS["api_handler"], env, 3 if quick else 5)
    baseline_modules = {r["module"] for r in import_times(VARIANTS["fastapi_mangum"], env, 1)}
    beyond: dict[str, float] = defaultdict(float)  # self time of modules the baseline does not import
    for row in top:
        if row["module"] not in baseline_modules:
            beyond[row["module"].split(".")[0]] += row["self_ms"]
    beyond_rows = sorted(beyond.items(), key=lambda item: -item[1])
    auth = framework_checks["movie_auth.authorizer"]
    api_forbidden = _top_level(api_modules, NOT_ON_THE_HOT_PATH)
    missing = [m for m, check in framework_checks.items() if not check["present"]]

    figures = [
        common.Figure(
            "import movie_api.handler, net of interpreter start",
            round(net["api_handler"], 4),
            "s",
            round(net["fastapi_mangum"], 4),
            BASELINE,
            budget=1.6,
            budget_on="ratio",
            budget_text=f"≤ 1.6{common.TIMES}",
            note=f"medians of {runs} fresh processes each, minus `python -c pass` "
            f"({median['interpreter'] * 1000:.0f} ms)",
        ),
        common.Figure(
            "import movie_api.handler, timed inside the process",
            round(own["api_handler"], 4),
            "s",
            round(own["fastapi_mangum"], 4),
            "the same frameworks, timed inside",
            note="perf_counter around the import statement: no interpreter start in either",
        ),
        common.Figure(
            "python -c 'import movie_api.handler', whole process",
            round(median["api_handler"], 4),
            "s",
            round(median["fastapi_mangum"], 4),
            "python -c 'import fastapi, mangum; from aws_lambda_powertools import Logger'",
        ),
        common.Figure(
            "session, password and AWS SDK packages imported by movie_api.handler",
            len(api_forbidden),
            "count",
            budget=0,
            budget_text="none (" + ", ".join(NOT_ON_THE_HOT_PATH) + ")",
            note=", ".join(api_forbidden) or "none",
        ),
        common.Figure(
            "import movie_auth.authorizer, net of interpreter start",
            round(net["auth_handler"], 4),
            "s",
            round(net["powertools"], 4),
            "from aws_lambda_powertools import Logger, net",
        ),
        common.Figure("python -c pass (interpreter start)", round(median["interpreter"], 4), "s"),
        common.Figure(
            "framework packages imported by movie_auth.authorizer",
            len(auth["framework_imported"]),
            "count",
            budget=0,
            budget_text="none (FastAPI, Starlette, Pydantic, Mangum)",
            note=", ".join(auth["framework_imported"]) or "none",
        ),
    ]
    notes = [
        f"Wall time of `.venv/bin/python -c <code>` in fresh processes, {runs} runs of each variant"
        " in a shuffled order per round after one untimed run each (so .pyc files exist); "
        "DATABASE_URL and MARQUEE_ENV=local are set and no connection is opened at import. Each process ends "
        "with os._exit(0) right after the import: interpreter teardown (about 0.1 s once FastAPI is loaded) is "
        "not part of a Lambda cold start.",
        f"movie_api.handler also imports: {', '.join(api_heavy) or 'none of ' + ', '.join(HEAVY)}; "
        f"movie_auth.authorizer imports: {', '.join(auth['heavy_imported']) or 'none of ' + ', '.join(HEAVY)}.",
    ]
    if missing:
        notes.append(
            f"{' and '.join(missing)} do not exist yet: their never-import-FastAPI check runs once they do "
            "(this benchmark looks for their packages)."
        )
    for module, check in framework_checks.items():
        if check["present"] and module != "movie_auth.authorizer":
            figures.append(
                common.Figure(
                    f"framework packages imported by {module}",
                    len(check["framework_imported"]),
                    "count",
                    budget=0,
                    budget_text="none",
                    note=", ".join(check["framework_imported"]) or "none",
                )
            )
    return {
        "benchmark": "cold_start",
        "title": "Cold start: importing the handlers (budgets: docs/architecture.md §8)",
        "parameters": {"runs_per_variant": runs, "python": PYTHON, "variants": VARIANTS, "interpreter": sys.version},
        "figures": [f.as_dict() for f in figures],
        "tables": [
            {
                "title": "Median wall time per variant (s)",
                "columns": ["python -c", "median", "net of interpreter", "timed inside", "min", "max"],
                "rows": [
                    [
                        code,
                        round(median[name], 4),
                        round(net[name], 4),
                        round(own[name], 4),
                        round(min(samples[name]) / 1e9, 4),
                        round(max(samples[name]) / 1e9, 4),
                    ]
                    for name, code in VARIANTS.items()
                ],
            },
            {
                "title": "Largest imports of movie_api.handler (-X importtime, cumulative, median of runs, ms)",
                "columns": ["module", "depth", "cumulative", "self"],
                "rows": [[r["module"], r["depth"], r["cumulative_ms"], r["self_ms"]] for r in top[:10]],
            },
            {
                "title": "Imports of movie_api.handler beyond its frameworks (-X importtime self time, ms)",
                "columns": ["package", "self time", "share of the extra"],
                "rows": [
                    [name, round(ms, 1), f"{ms / max(sum(beyond.values()), 1e-9):.0%}"] for name, ms in beyond_rows[:12]
                ],
            },
        ],
        "details": {
            "beyond_fastapi_mangum_self_ms": {name: round(ms, 2) for name, ms in beyond_rows},
            "median_seconds": {k: round(v, 4) for k, v in median.items()},
            "inside_median_seconds": {k: round(v, 4) for k, v in own.items()},
            "samples_seconds": {k: [round(v / 1e9, 4) for v in values] for k, values in samples.items()},
            "framework_checks": framework_checks,
            "api_handler_heavy_imports": api_heavy,
            "api_handler_modules": len(api_modules),
            "importtime_top30": top[:30],
            "timing_seconds": round(timing_seconds, 1),
        },
        "notes": notes,
    }
