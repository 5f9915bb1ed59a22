"""The README's configuration table as `marquee run` applies it: a setting of the table set in the shell of
`marquee run` reaches every function (over the template's value), and the table names no setting the stack
silently drops. Before, the functions under `marquee run` got only the template's environment, so
`POWERTOOLS_LOG_LEVEL=ERROR make run` or `DB_STATEMENT_TIMEOUT_MS=1000 make run` changed nothing."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from marquee_local import stack
from marquee_local.lambdas import lambda_environment
from marquee_local.template import Template

README = Path(__file__).resolve().parents[1] / "README.md"
# Set by the stack itself under `marquee run` (or AWS-only), not taken from the shell: the README says which.
STACK_OWNED = {
    "DATABASE_URL",  # the embedded server's, or DATABASE_URL itself: passed as the stack's database
    "DATABASE_SECRET_ARN",
    "MARQUEE_ENV",
    "CORS_ALLOW_ORIGIN",  # the portal's origin (--site-host, --site-port)
    "PORTAL_URL",
    "USAGE_PLAN_KEYS",
    "SESSION_SECRET_ARN",
    "TMDB_API_TOKEN_SECRET_ARN",
    "EXPORT_BUCKET",
    "MARQUEE_HOME",  # read by `marquee run` itself
    "MARQUEE_CATALOGUE",
    "ADMIN_EMAIL",
    "ADMIN_PASSWORD",
}
# Passed by name elsewhere in stack.function_overrides (mail, the session secret, TMDB, folders).
PASSED_ELSEWHERE = {
    "SESSION_SECRET",
    "TMDB_API_TOKEN",
    "TMDB_API_BASE",
    "UPLOADS_LOCAL_ROOT",
    "OUTBOX_DIR",
    "EXPORT_FOLDER",
    *stack.LOCAL_MAIL_SETTINGS,
}


def _table_variables() -> set[str]:
    text = README.read_text()
    section = text[text.index("## Configuration") : text.index("## Deploying with SAM")]
    first_cells = [line.split("|")[1] for line in section.splitlines() if line.startswith("| `")]
    return {name for cell in first_cells for name in re.findall(r"`([A-Z][A-Z0-9_]+)`", cell)}


def test_every_setting_of_the_readme_table_is_taken_from_the_shell_or_named_as_the_stacks() -> None:
    table = _table_variables()
    assert len(table) > 40  # the parse found the table
    assert table - set(stack.SHELL_SETTINGS) - STACK_OWNED - PASSED_ELSEWHERE == set()
    assert set(stack.SHELL_SETTINGS) <= table  # and nothing is passed that the README does not describe


@pytest.fixture(scope="module")
def template() -> Template:
    return stack.local_template()


@pytest.mark.slow
@pytest.mark.parametrize("variable", ["DB_STATEMENT_TIMEOUT_MS", "POWERTOOLS_LOG_LEVEL", "AUTHORIZER_CACHE_SECONDS"])
def test_a_setting_from_the_shell_reaches_every_function_over_the_template(
    variable: str, template: Template, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(variable, raising=False)
    before = stack.function_overrides(template, "postgresql://127.0.0.1/marquee")
    monkeypatch.setenv(variable, "1234")
    after = stack.function_overrides(template, "postgresql://127.0.0.1/marquee")
    for name, spec in template.functions.items():
        assert variable not in before[name]  # the template's value (or the code's default) when the shell has none
        assert lambda_environment(spec, after[name])[variable] == "1234", name


# Read by the functions but set by the template (or by `marquee run` from what it knows), never by a developer:
# whether a TMDB token is configured, the bus of "Sync Requested" events, the uploads bucket's name.
TEMPLATE_SET = {"TMDB_SYNC_ENABLED", "SYNC_EVENT_BUS", "UPLOADS_BUCKET"}
SETTING_READ = re.compile(
    r"\b(?:env_str|env_int|env_bool|env_required|env_json_object|_float|_share)\(\s*\"([A-Z][A-Z0-9_]+)\""
)


def test_every_setting_the_functions_read_is_in_the_readme_table() -> None:
    """TMDB_CONFIGURATION_MAX_AGE_DAYS was read by the sync (how long TMDB's /configuration and genre lists are
    cached) but named nowhere in the README: a setting a developer cannot discover is one they cannot use."""
    sources = [
        *sorted(README.parent.glob("functions/*/src/**/*.py")),
        *sorted(README.parent.glob("layers/*/src/**/*.py")),
    ]
    read = {name for path in sources for name in SETTING_READ.findall(path.read_text())}
    assert {"DB_STATEMENT_TIMEOUT_MS", "TMDB_LIST_PAGES", "INGEST_BATCH_ROWS"} <= read  # the scan found them
    assert read - _table_variables() - TEMPLATE_SET == set()
    assert read >= TEMPLATE_SET  # and no name is excused that the code no longer reads


# Values of the template that the table describes in words: the tier keys' JSON, the portal's origin, the bucket.
DESCRIBED_IN_WORDS = {"USAGE_PLAN_KEYS", "PORTAL_URL", "EXPORT_BUCKET"}


def test_the_readme_table_gives_every_value_the_template_sets(template: Template) -> None:
    """The table said DB_STATEMENT_TIMEOUT_MS is 5000 and DB_CONNECT_TIMEOUT 3, but the template gives the
    authorizer 2000 and 2, and the sync 120000: a reader could not know the limits the functions ran under."""
    text = README.read_text()
    section = text[text.index("## Configuration") : text.index("## Deploying with SAM")]
    rows = {
        name: line.split("|")[2]
        for line in section.splitlines()
        if line.startswith("| `")
        for name in re.findall(r"`([A-Z][A-Z0-9_]+)`", line.split("|")[1])
    }
    missing = sorted(
        f"{name}={value} ({function})"
        for function, spec in template.functions.items()
        for name, value in spec.environment.items()
        if name in rows and name not in DESCRIBED_IN_WORDS and not name.endswith("_ARN") and value not in rows[name]
    )
    assert "DB_STATEMENT_TIMEOUT_MS" in rows and missing == []
