"""Request-body string fields whose limit is the service's, not the schema's.

A schema bound that refuses a value the service would refuse anyway gives one problem two codes: a 201-character
password was a generic `validation_error` from the schema while a 73-byte one was the service's
`password_too_long`, and an over-long email, token, name or reason likewise. `capped(n)` keeps the schema's
protection (no megabyte string reaches a parser: `email_validator` spends seconds on 5 MB) without its code: a longer
value is cut to n + 1 characters, which is still over every service limit it stands for, so the service refuses it
with its own code, in its own order (rate limits and sign-in failures count it as they count any other). Use it only
where the service refuses anything longer than n; the OpenAPI document states n as `maxLength`."""

from __future__ import annotations

from typing import Any

from pydantic import BeforeValidator


def cut_to(limit: int) -> BeforeValidator:
    """The Annotated metadata of such a field, `Annotated[str, cut_to(200)]`, with `Field(json_schema_extra=
    {"maxLength": 200})` beside it for the document."""

    def cut(value: Any) -> Any:
        return value[: limit + 1] if isinstance(value, str) and len(value) > limit else value

    return BeforeValidator(cut)
