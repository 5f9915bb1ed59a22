"""Bootstrapping the one-machine stack: database (embedded or DATABASE_URL), migrations, catalogue, demo key."""

from __future__ import annotations

import contextlib
import importlib
import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg

from marquee_local.gateway import LocalGateway
from marquee_local.lambdas import LocalLambdas, lambda_environment
from marquee_local.postgres import EmbeddedPostgres, start_embedded
from marquee_local.server import ServerThread
from marquee_local.template import Template, api_spec, load_template
from movie_common import access
from movie_common.database import Connection, connect
from movie_common.db import movies, plans, usage, users
from movie_common.errors import ConfigurationError, DatabaseUnavailableError, MarqueeError
from movie_common.migrations import migrate
from movie_common.settings import get_settings

REPO_ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = REPO_ROOT / "template.yaml"
BUNDLED_CATALOGUE = REPO_ROOT / "data" / "movies.csv.gz"
CATALOGUE = Path(os.environ.get("MARQUEE_CATALOGUE") or BUNDLED_CATALOGUE)
PORTAL_ORIGIN = "http://127.0.0.1:8080"
# Per-tier gateway key values for handlers run in-process (tests); the local gateway reads the template's own.
LOCAL_USAGE_KEYS = {tier: f"marquee-{tier}-local-usage-plan-key" for tier in ("free", "pro", "unlimited")}


class StackError(Exception):
    """A mistake a user can fix (a missing file, a port in use, an unreachable database): the CLI prints the
    message, which says what is wrong and how to fix it, as one line and exits with status 1."""


def marquee_home() -> Path:
    return Path(os.environ.get("MARQUEE_HOME") or REPO_ROOT / ".marquee").resolve()


def uploads_root(home: Path) -> Path:
    """The folder standing in for the uploads bucket; its `incoming/` is the drop folder (marquee_local.dropfolder).
    UPLOADS_LOCAL_ROOT when the shell sets it (IngestFunction reads the same variable), else `home`/uploads: one
    folder for the drop-folder watcher, the S3 stand-in and the ingest."""
    configured = os.environ.get("UPLOADS_LOCAL_ROOT", "").strip()
    return Path(configured).resolve() if configured else home / "uploads"


def catalogue_path() -> Path:
    """The seed CSV loaded into an empty catalogue: MARQUEE_CATALOGUE, else the bundled data/movies.csv.gz.
    StackError when it is not a readable file."""
    configured = os.environ.get("MARQUEE_CATALOGUE", "").strip()
    path = Path(configured) if configured else BUNDLED_CATALOGUE
    if path.is_file() and os.access(path, os.R_OK):
        return path
    problem = "is not a file" if path.exists() else "does not exist"
    if configured:
        raise StackError(
            f"MARQUEE_CATALOGUE is {configured}, which {problem}; point it at a seed CSV (see data/README.md) "
            f"or unset it to load the bundled {BUNDLED_CATALOGUE.relative_to(REPO_ROOT)}"
        )
    raise StackError(
        f"the bundled catalogue {BUNDLED_CATALOGUE.relative_to(REPO_ROOT)} {problem}; restore it with "
        f"`git checkout -- data/movies.csv.gz`, or set MARQUEE_CATALOGUE to a seed CSV"
    )


@dataclass
class Database:
    url: str
    embedded: EmbeddedPostgres | None

    def stop(self) -> None:
        """Let go of the embedded server (it stops unless another live process holds it); nothing for
        DATABASE_URL."""
        if self.embedded is not None:
            self.embedded.stop()


def open_database(home: Path | None = None) -> Database:
    """DATABASE_URL when set; otherwise the embedded server under $MARQUEE_HOME/pgdata (started if needed)."""
    url = os.environ.get("DATABASE_URL", "").strip()
    if url:
        return Database(url, None)
    embedded = start_embedded((home or marquee_home()) / "pgdata")
    return Database(embedded.url, embedded)


def describe_url(url: str) -> str:
    """Where a PostgreSQL URL points, for messages: host, port, database and user, never the password."""
    try:
        parts = psycopg.conninfo.conninfo_to_dict(url)
    except psycopg.Error:
        return "an unreadable URL"
    shown = [f"{name} {parts[key]}" for key, name in (("host", "host"), ("port", "port"), ("dbname", "database"),
             ("user", "user")) if parts.get(key)]  # fmt: skip
    return ", ".join(shown) or "the libpq defaults"


@contextlib.contextmanager
def opened_database(home: Path | None = None) -> Iterator[Database]:
    """The database of the local stack for one command: the embedded server (started if needed, let go of at the
    end) or DATABASE_URL, with the handlers' environment set and the settings read (a malformed setting raises
    ConfigurationError naming it). StackError when DATABASE_URL cannot be reached: that is a configuration
    mistake, not an outage to wait out."""
    db = open_database(home)
    try:
        configure_environment(db.url)
        get_settings.cache_clear()  # read again: this command may have changed the environment
        get_settings()
        if db.embedded is None:
            try:
                connect_admin(db.url).close()
            except DatabaseUnavailableError as error:
                reason = " ".join(str(error.__cause__ or error).split())
                raise StackError(
                    f"cannot connect to the PostgreSQL of DATABASE_URL ({describe_url(db.url)}): "
                    f"{reason.rstrip('.?')}; check that it runs there and that the URL's host, port, user and "
                    "password are right, or unset DATABASE_URL to use the embedded PostgreSQL"
                ) from None
        yield db
    finally:
        db.stop()


def configure_environment(database_url: str) -> None:
    """The environment the handlers read (movie_common.settings), as template.yaml sets it in AWS."""
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("MARQUEE_ENV", "local")
    os.environ.setdefault("CORS_ALLOW_ORIGIN", PORTAL_ORIGIN)
    os.environ.setdefault("OUTBOX_DIR", str(marquee_home() / "outbox"))  # the portal's mail, read on /outbox/
    os.environ.setdefault("USAGE_PLAN_KEYS", json.dumps(LOCAL_USAGE_KEYS))
    os.environ.setdefault("UPLOADS_LOCAL_ROOT", str(uploads_root(marquee_home())))


def migrate_schema(conn: Connection) -> list[str]:
    """Apply pending migrations and make this month's usage partitions. Returns the migrations applied."""
    applied = migrate(conn)
    usage.ensure_partitions(conn)
    return applied


def check_default_plan(conn: Connection) -> None:
    """DEFAULT_PLAN from this shell must name a row of `plans`: the plans live in the database, so the start's
    settings check cannot tell, and an unknown one made every email confirmation a 500 (the new key's plan refers to
    no plan). A ConfigurationError naming the variable, as for a malformed setting."""
    wanted = os.environ.get("DEFAULT_PLAN", "").strip()
    known = plans.plan_ids(conn)
    if wanted and wanted not in known:
        raise ConfigurationError(
            f"DEFAULT_PLAN is {wanted!r}, which is not a plan; plans: {', '.join(known)} (read by AuthFunction)"
        )


def catalogue_is_empty(conn: Connection) -> bool:
    return movies.count_movies(conn) == 0


@dataclass(frozen=True)
class LoadedCatalogue:
    """What a catalogue load did: movies inserted, and rows refused by the ingest's checks (each in its job)."""

    inserted: int
    refused: int


def load_catalogue(conn: Connection, catalogue: Path) -> LoadedCatalogue:
    """Load a CSV into the catalogue through the CSV ingest, like any upload (checked row by row, recorded as an
    ingest job; its merge is COPY into a staging table and set-based statements in one transaction, so a cancelled
    or failed load leaves the catalogue as it was). The first start fills an empty catalogue with it. StackError
    naming the file when the job does not finish."""
    from movie_ingest.services import ingest_path

    job = ingest_path(conn, catalogue, origin="catalogue", requested_by="marquee")
    if job.status != "done":
        raise StackError(f"{catalogue}: {job.error_detail}")
    return LoadedCatalogue(inserted=job.counts.inserted, refused=job.counts.invalid)


def prepare(conn: Connection, *, catalogue: Path | None = None) -> tuple[list[str], int]:
    """Migrate, and load the catalogue (default: `catalogue_path()`) if the movies table is empty.
    Returns (migrations applied, movies loaded)."""
    applied = migrate_schema(conn)
    loaded = 0
    if catalogue_is_empty(conn):
        loaded = load_catalogue(conn, catalogue or catalogue_path()).inserted
    return applied, loaded


def template_parameters() -> dict[str, str]:
    """The parameter overrides of the local stack (the rest keep their defaults)."""
    return {"PortalOrigin": os.environ.get("CORS_ALLOW_ORIGIN", PORTAL_ORIGIN), "Stage": "local"}


def local_template() -> Template:
    return load_template(TEMPLATE, template_parameters())


# Mail settings a developer may set in the shell for the local stack (movie_common.mail); none is in the template.
LOCAL_MAIL_SETTINGS = ("MAIL_BACKEND", "SMTP_HOST", "SMTP_PORT", "SMTP_SECURITY", "SMTP_USERNAME", "SMTP_PASSWORD")

# Local stand-ins for what a function reads from Secrets Manager in AWS, and local redirections: taken from this
# shell when it sets them (e.g. TMDB_API_TOKEN instead of the token secret, TMDB_API_BASE for a fake TMDB).
LOCAL_SETTINGS: dict[str, tuple[str, ...]] = {
    "SyncFunction": ("TMDB_API_TOKEN", "TMDB_API_BASE"),
    "IngestFunction": ("UPLOADS_LOCAL_ROOT",),  # the folder standing in for the uploads bucket
}


# The settings of the README's configuration table that a developer may set in the shell of `marquee run` (as
# `DB_STATEMENT_TIMEOUT_MS=1000 make run`): each one set there reaches every function, over the template's value. The
# rest are the stack's own (DATABASE_URL, MARQUEE_ENV, the secrets' ARNs, the buckets; CORS_ALLOW_ORIGIN and PORTAL_URL
# are the portal's origin) or passed above.
SHELL_SETTINGS = (
    "DB_CONNECT_TIMEOUT",
    "DB_STATEMENT_TIMEOUT_MS",
    "DB_PREPARE_THRESHOLD",
    "DB_SYNCHRONOUS_COMMIT",
    "AUTHORIZER_CACHE_SECONDS",
    "SESSION_TTL_SECONDS",
    "POWERTOOLS_LOG_LEVEL",
    "TMDB_LIST_PAGES",
    "TMDB_REFRESH_AFTER_DAYS",
    "TMDB_CONFIGURATION_MAX_AGE_DAYS",
    "TMDB_REQUESTS_PER_SECOND",
    "TMDB_CONCURRENCY",
    "TMDB_INCLUDE_ADULT",
    "TMDB_MAX_CAST",
    "TMDB_LANGUAGE",
    "SYNC_STOP_MARGIN_SECONDS",
    "INGEST_MAX_BAD_ROW_SHARE",
    "INGEST_MAX_RECORD_CHARS",
    "INGEST_MAX_REPORTED_ERRORS",
    "INGEST_LOCK_TIMEOUT_MS",
    "INGEST_LOCK_ATTEMPTS",
    "INGEST_BATCH_ROWS",
    "DEFAULT_PLAN",
    "MAIL_FROM",
    "SES_REGION",
    "SES_CONFIGURATION_SET",
    "EXPORT_BASE_URL",
    "EXPORT_STATEMENT_TIMEOUT_MS",
    "ADMIN_MAX_FAILED_LOGINS",
    "ADMIN_LOCKOUT_MINUTES",
    "ADMIN_MAX_FAILED_LOGINS_ACCOUNT",
)


def function_overrides(template: Template, database_url: str | None = None) -> dict[str, dict[str, str | None]]:
    """What the local stack changes in each function's environment: the database URL instead of the Secrets
    Manager secret; the outbox folder (and mail settings from the shell); for variables the template declares but
    that cannot be known locally (a parameter without default), the value from this shell when it sets one; and
    the function's LOCAL_SETTINGS from this shell; and, while `marquee run`'s AWS stand-ins serve, their endpoints
    and credentials (boto3's S3 and EventBridge calls go there), the local uploads bucket, and whether a TMDB token
    is set (the admin function then lets a sync be requested)."""
    from marquee_local.local_aws import function_environment
    from movie_common.ingest_uploads import LOCAL_BUCKET

    url = database_url or os.environ["DATABASE_URL"]
    local_aws = function_environment()
    overrides: dict[str, dict[str, str | None]] = {}
    for name, spec in template.functions.items():
        values: dict[str, str | None] = {var: os.environ[var] for var in spec.unresolved if var in os.environ}
        values.update({var: os.environ[var] for var in LOCAL_SETTINGS.get(name, ()) if os.environ.get(var)})
        values.update({"DATABASE_URL": url, "DATABASE_SECRET_ARN": None})  # never the secret, whatever the shell has
        # The portal's mail: the outbox this stack shows on /outbox/, or what the shell chose (e.g. a real SMTP relay).
        values["OUTBOX_DIR"] = os.environ.get("OUTBOX_DIR") or str(marquee_home() / "outbox")
        # Sessions are signed with the local development secret (or SESSION_SECRET from the shell), never a
        # Secrets Manager secret: the template's is a resource that exists only in AWS.
        values["SESSION_SECRET_ARN"] = None
        if "SESSION_SECRET" in os.environ:
            values["SESSION_SECRET"] = os.environ["SESSION_SECRET"]
        values.update({var: os.environ[var] for var in LOCAL_MAIL_SETTINGS if var in os.environ})
        values.update({var: os.environ[var] for var in SHELL_SETTINGS if var in os.environ})
        if "EXPORT_BUCKET" in spec.environment:
            # Admin exports go to a folder the admin function serves itself; the template's bucket is AWS's.
            values["EXPORT_BUCKET"] = None
            values["EXPORT_FOLDER"] = os.environ.get("EXPORT_FOLDER") or str(marquee_home() / "exports")
        if "UPLOADS_BUCKET" in spec.environment:
            values["UPLOADS_BUCKET"] = LOCAL_BUCKET  # the S3 stand-in's bucket, over $MARQUEE_HOME/uploads
        if "TMDB_SYNC_ENABLED" in spec.environment:
            values["TMDB_SYNC_ENABLED"] = "true" if os.environ.get("TMDB_API_TOKEN", "").strip() else "false"
        values.update(local_aws)
        overrides[name] = values
    return overrides


# What each function reads at cold start, or on its first request (sessions), besides movie_common.settings.
SETTINGS_LOADERS: dict[str, tuple[str, ...]] = {
    "ApiFunction": ("movie_api.settings:load_api_settings",),
    "KeyAuthorizerFunction": ("movie_auth.settings:load_authorizer_settings",),
    "AuthFunction": ("movie_auth.settings:load_auth_settings", "movie_common.sessions:load_session_settings"),
    "AdminFunction": ("movie_admin.settings:load_admin_settings", "movie_common.sessions:load_session_settings"),
    "SyncFunction": ("movie_sync.settings:load_settings",),
    "IngestFunction": ("movie_ingest.settings:load_ingest_settings",),
}


def check_function_settings() -> None:
    """Read every function's settings from the environment its local environments will get, before anything
    starts: a malformed setting is a ConfigurationError naming the variable and the function at `marquee run`'s
    start (one line), not a traceback from a function's process or a 5xx on some later request. Runs in this
    process with each function's environment in turn; this process's own is put back. The database URL is
    DATABASE_URL's, or a stand-in for the embedded server's (not started yet)."""
    template = local_template()
    overrides = function_overrides(template, os.environ.get("DATABASE_URL") or "postgresql://127.0.0.1/marquee")
    saved = dict(os.environ)
    try:
        for name, spec in template.functions.items():
            os.environ.clear()
            os.environ.update(lambda_environment(spec, overrides.get(name)))
            get_settings.cache_clear()
            for loader in ("movie_common.settings:load_settings", *SETTINGS_LOADERS.get(name, ())):
                module, _, function = loader.partition(":")
                try:
                    getattr(importlib.import_module(module), function)()
                except ConfigurationError as error:
                    raise ConfigurationError(f"{error} (read by {name})") from None
    finally:
        os.environ.clear()
        os.environ.update(saved)
        get_settings.cache_clear()


def local_lambdas(*, database_url: str | None = None, max_environments: int = 4) -> LocalLambdas:
    """Every function of template.yaml in its own pool of local execution environments."""
    template = local_template()
    return LocalLambdas(
        template.functions,
        per_function=function_overrides(template, database_url),
        max_environments=max_environments,
    )


def local_gateway(
    *,
    public_host: str = "127.0.0.1:8000",
    database_url: str | None = None,
    max_environments: int = 4,
    warm: bool = True,
    access_log: Callable[[str], None] | None = None,
) -> LocalGateway:
    """The local API Gateway for template.yaml, as `marquee run` serves it; `public_host` is the address clients
    use (API Gateway's own Host in every event)."""
    template = local_template()
    lambdas = LocalLambdas(
        template.functions,
        per_function=function_overrides(template, database_url),
        max_environments=max_environments,
    )
    return LocalGateway(api_spec(template), lambdas, public_host=public_host, warm=warm, access_log=access_log)


def serve_gateway(
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    database_url: str | None = None,
    max_environments: int = 4,
    access_log: Callable[[str], None] | None = None,
) -> ServerThread:
    """Bind, build the gateway for that address and serve it under uvicorn in a background thread (warm
    environments started before this returns). Stop it with `.stop()`; `.server.config.app` is the gateway."""
    server = ServerThread(host, port, name="gateway")
    try:
        gateway = local_gateway(
            public_host=server.authority,
            database_url=database_url,
            max_environments=max_environments,
            access_log=access_log,
        )
        return server.start(gateway)
    except BaseException:
        server.stop()
        raise


def create_key(conn: Connection, *, owner_email: str, plan: str, name: str | None = None) -> access.IssuedKey:
    email = owner_email.strip()
    owner_id = users.ensure_user(
        conn, name=name or email.split("@")[0], email=email, canonical_email=email.lower(), verified=True
    )
    return access.issue_key(conn, owner_id=owner_id, plan=plan)


def demo_key(conn: Connection, home: Path) -> str:
    """A pro key for trying the API, kept in $MARQUEE_HOME/demo-key (git-ignored) and reused while it works."""
    saved = home / "demo-key"
    if saved.exists():
        raw = saved.read_text().strip()
        try:
            access.check_key(conn, raw)
            return raw
        except MarqueeError:
            pass
    issued = create_key(conn, owner_email="demo@localhost", plan="pro", name="Local demo")
    home.mkdir(parents=True, exist_ok=True)
    saved.write_text(issued.raw_key + "\n")
    saved.chmod(0o600)
    return issued.raw_key


def connect_admin(url: str) -> Connection:
    """For migrations, seeding and key creation: no request-path statement timeout."""
    return connect(url, statement_timeout_ms=0)
