"""/docs works offline: Swagger UI's script and stylesheet come from the API itself (the fastapi-offline package),
so a browser with no network beyond the API lists every operation. Headless Chromium through the local gateway."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, Route

from marquee_local import stack
from marquee_local.server import ServerThread

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(database_url: str) -> Iterator[ServerThread]:
    gateway_server = stack.serve_gateway("127.0.0.1", 0, database_url=database_url, max_environments=2)
    yield gateway_server
    gateway_server.stop()


def test_docs_list_every_operation_with_no_network_but_the_api(server: ServerThread, page: Page) -> None:
    api_host = urlsplit(server.url).netloc
    refused: list[str] = []

    def only_the_api(route: Route) -> None:
        if urlsplit(route.request.url).netloc == api_host:
            route.continue_()
        else:  # what a firewall or an offline laptop would do to a CDN
            refused.append(route.request.url)
            route.abort()

    page.route("**/*", only_the_api)
    page.goto(f"{server.url}/docs")
    page.wait_for_selector(".opblock", timeout=20_000)
    operations = page.locator(".opblock-summary-path").all_inner_texts()
    paths = {text.replace("\u200b", "").strip() for text in operations}
    assert {"/movies", "/movies/{id}", "/search", "/search/suggest", "/genres", "/usage", "/health"} <= paths
    assert refused == []
    assert page.locator(".info .title").inner_text().startswith("Marquee API")
