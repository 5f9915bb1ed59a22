"""Settings every HTTP function reads the same way: the portal origin that CORS allows."""

from __future__ import annotations

from movie_common.errors import ConfigurationError
from movie_common.settings import Settings, env_str

LOCAL_PORTAL_ORIGIN = "http://127.0.0.1:8080"


def cors_allow_origin(settings: Settings) -> str:
    """CORS_ALLOW_ORIGIN (the portal site's origin, scheme://host[:port]); the local site's origin in local mode.

    Outside local mode it must be set: a default would let the wrong site read responses, or no site at all."""
    origin = env_str("CORS_ALLOW_ORIGIN")
    if origin is None:
        if not settings.is_local:
            raise ConfigurationError("CORS_ALLOW_ORIGIN must be set outside local mode")
        return LOCAL_PORTAL_ORIGIN
    if origin != "*" and (not origin.startswith(("http://", "https://")) or origin.rstrip("/") != origin):
        raise ConfigurationError(f"CORS_ALLOW_ORIGIN must be scheme://host[:port] without a path, got {origin!r}")
    return origin
