"""Response models every HTTP function shares: the RFC 9457 problem document as the OpenAPI schema shows it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from movie_common.problems import PROBLEM_MEDIA_TYPE


class InvalidParam(BaseModel):
    name: str
    location: str = Field(alias="in")
    reason: str


class Problem(BaseModel):
    """RFC 9457 problem details, plus a stable `code` and the `request_id` to quote to support. `instance` is absent
    from API Gateway's own answers (the 401 for a missing key, the authorizer's 403, the gateway's throttle)."""

    type: str
    title: str
    status: int
    detail: str
    instance: str | None = None
    code: str
    request_id: str
    errors: list[InvalidParam] | None = None
    limit: int | None = None
    reset_at: datetime | None = None
    retry_after: int | None = None


PROBLEM_SCHEMA_REF = {"$ref": "#/components/schemas/Problem"}


def problem_response(description: str) -> dict[str, Any]:
    """An OpenAPI `responses` entry for a problem answer: Problem's schema by reference (movie_web.app adds it to
    the document's components). Not as a `model`: FastAPI builds a pydantic TypeAdapter for every route's every
    `model` response when the route is declared, about 0.35 ms each, 56 of them on the public API's list routes alone,
    all paid at each cold start for a document that needs the schema once."""
    return {"description": description, "content": {PROBLEM_MEDIA_TYPE: {"schema": PROBLEM_SCHEMA_REF}}}


def problem_schemas() -> dict[str, Any]:
    """The components/schemas entries of Problem and what it refers to, as FastAPI would write them."""
    schema = Problem.model_json_schema(ref_template="#/components/schemas/{model}", mode="serialization")
    definitions: dict[str, Any] = schema.pop("$defs", {})
    schemas = {**definitions, "Problem": schema}
    for model in schemas.values():  # FastAPI leaves out a `default` of null, as a generated client needs none
        for field in model.get("properties", {}).values():
            if "default" in field and field["default"] is None:
                del field["default"]
    return schemas


COMMON_RESPONSES: dict[int | str, dict[str, Any]] = {
    422: problem_response("A parameter is invalid (`validation_error`); `errors` names each one."),
    503: problem_response("The database is unavailable (`database_unavailable`); retry after `Retry-After`."),
    504: problem_response("The query took too long and was cancelled (`query_timeout`); narrow it."),
}
