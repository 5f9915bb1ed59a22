"""Baselines of the gateway benchmark (bench/): constant routes on FastAPI, served by uvicorn like the gateway.

`/constant` is FastAPI's own first example (an `async def` returning a dict): the baseline the budgets are stated
against. `/constant-response` skips the JSON encoding (a prepared Response, like hot_path's constant route) and
`/constant-sync` is a plain `def` (run in the thread pool): context for reading the ratios.
"""

from typing import Any

from fastapi import FastAPI, Response

app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)


@app.get("/constant")
async def constant() -> dict[str, Any]:
    return {"ok": True}


@app.get("/constant-response")
async def constant_response() -> Response:
    return Response(b'{"ok":true}', media_type="application/json")


@app.get("/constant-sync")
def constant_sync() -> dict[str, Any]:
    return {"ok": True}
