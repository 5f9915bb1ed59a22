"""The admin part of `marquee run` (a SERVICE_MODULES entry): the first admin account, made on the first start with
ADMIN_EMAIL and ADMIN_PASSWORD, or a generated password printed once, as AWS makes it from a secret at deploy."""

from __future__ import annotations

import argparse
import os

from marquee_local import stack
from marquee_local.run import RunContext

DEFAULT_ADMIN_EMAIL = "admin@marquee.example"
SITE_ADMIN_PATH = "/admin/"


def add_run_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--admin-email",
        default=os.environ.get("ADMIN_EMAIL") or DEFAULT_ADMIN_EMAIL,
        help=f"email of the first admin, made when there is none (default ADMIN_EMAIL or {DEFAULT_ADMIN_EMAIL})",
    )


def before_run(args: argparse.Namespace) -> None:
    """The first admin's email and password, checked before anything starts as the functions' settings are: a bad
    ADMIN_EMAIL (or --admin-email) or a short ADMIN_PASSWORD stopped `marquee run` only after its database and
    catalogue load had started, with "admin did not start: 'bad' is not a valid email address", naming neither."""
    from movie_admin.services import admins
    from movie_common.errors import ConfigurationError, RequestValidationError

    email = str(getattr(args, "admin_email", None) or DEFAULT_ADMIN_EMAIL)
    source = "ADMIN_EMAIL" if os.environ.get("ADMIN_EMAIL") == email else "--admin-email"
    try:
        admins.normalize_email(email)
    except RequestValidationError as error:
        raise ConfigurationError(f"{source} {error.detail}") from None
    password = os.environ.get("ADMIN_PASSWORD")
    if password:
        try:
            admins.check_password(password)
        except RequestValidationError as error:
            raise ConfigurationError(f"ADMIN_PASSWORD: {error.detail}") from None


class AdminService:
    """Makes the first admin when there is none; says how to sign in to the admin portal."""

    name = "admin"

    def __init__(self, run: RunContext) -> None:
        self.run = run
        self.lines: list[str] = []

    def start(self) -> None:
        from movie_admin.audit import Actor
        from movie_admin.services import admins

        email = str(getattr(self.run.args, "admin_email", None) or DEFAULT_ADMIN_EMAIL)
        password = os.environ.get("ADMIN_PASSWORD") or None
        with stack.connect_admin(self.run.database_url) as conn:
            created = admins.ensure_first_admin(conn, Actor.cli(), email=email, password=password)
            count = admins.count(conn)
        site = (os.environ.get("PORTAL_URL") or stack.PORTAL_ORIGIN).rstrip("/")  # set by the portal's before_run
        self.lines = [f"Admin      {site}{SITE_ADMIN_PATH}   (API {self.run.api_url}/admin/, {count} admin(s))"]
        if created is not None and created.generated_password:
            self.lines.append(
                f"           first admin {created.admin.email}, password {created.generated_password}   (shown once)"
            )
        elif created is not None:
            self.lines.append(f"           first admin {created.admin.email}, password from ADMIN_PASSWORD")

    def stop(self) -> None:
        pass

    def describe(self) -> list[str]:
        return self.lines


def service(run: RunContext) -> AdminService:
    return AdminService(run)
