"""ApiFunction's settings, read once at cold start: the shared database settings and the portal origin."""

from __future__ import annotations

import functools
from dataclasses import dataclass

from movie_common.settings import Settings, get_settings
from movie_web.settings import cors_allow_origin


@dataclass(frozen=True)
class ApiSettings:
    common: Settings
    cors_allow_origin: str


def load_api_settings() -> ApiSettings:
    """Fails naming the variable when one is missing or malformed (movie_common.errors.ConfigurationError)."""
    common = get_settings()
    return ApiSettings(common=common, cors_allow_origin=cors_allow_origin(common))


@functools.cache
def api_settings() -> ApiSettings:
    return load_api_settings()
