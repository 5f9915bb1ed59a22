"""The interactive API reference (Swagger UI) served by the function itself, offline: its assets come from the
`fastapi-offline` package (which ships Swagger UI's distribution files) through our own routes, so /docs works
behind a firewall, with no CDN, locally and behind API Gateway's stage prefix."""

from __future__ import annotations

from importlib import resources
from typing import Annotated

from fastapi import APIRouter, Path, Request, Response
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse

from movie_common.errors import NotFoundError
from movie_web.paths import base_path

# The asset name in the URL -> (file in the package, media type). Text types only: Mangum returns them as text,
# so API Gateway needs no binary media types.
ASSETS = {
    "swagger-ui-bundle.js": ("swagger-ui-bundle.js", "text/javascript; charset=utf-8"),
    "swagger-ui.css": ("swagger-ui.css", "text/css; charset=utf-8"),
}
ASSET_CACHE_CONTROL = "public, max-age=86400"
# No favicon request at all (the default points at a CDN).
_NO_FAVICON = "data:,"


def _asset(name: str) -> bytes:
    return (resources.files("fastapi_offline") / "static" / name).read_bytes()


def docs_router(*, title: str, openapi_path: str = "/openapi.json") -> APIRouter:
    """`GET /docs` (Swagger UI reading `openapi_path`) and `GET /docs/{asset}` (its script and stylesheet)."""
    router = APIRouter(include_in_schema=False)

    @router.get("/docs")
    async def docs(request: Request) -> HTMLResponse:
        prefix = base_path(request)
        return get_swagger_ui_html(
            openapi_url=f"{prefix}{openapi_path}",
            title=title,
            swagger_js_url=f"{prefix}/docs/swagger-ui-bundle.js",
            swagger_css_url=f"{prefix}/docs/swagger-ui.css",
            swagger_favicon_url=_NO_FAVICON,
        )

    @router.get("/docs/{asset}")
    async def docs_asset(asset: Annotated[str, Path(max_length=64)]) -> Response:
        if asset not in ASSETS:
            raise NotFoundError(f"No documentation asset is called {asset!r}.")
        filename, media_type = ASSETS[asset]
        return Response(_asset(filename), media_type=media_type, headers={"Cache-Control": ASSET_CACHE_CONTROL})

    return router
