"""Parameter rules every HTTP function shares: an integer in a path or query string is written in plain decimal
digits, so one resource has one URL (`/movies/1`, never `/movies/01`, `/movies/+1` or `/movies/1.0`) and no
spelling is silently read as another number (`1_0` is not 10)."""

from __future__ import annotations

import re
from typing import Any

from pydantic import BeforeValidator

_PLAIN_DECIMAL = re.compile(r"-?(?:0|[1-9][0-9]*)\Z")


def _plain_decimal(value: Any) -> Any:
    """Pass `value` on when it is not a string, or is an integer in plain decimal digits (an optional minus, no
    leading zeros, no sign, spaces, separators, exponent or fraction); otherwise raise ValueError."""
    if isinstance(value, str) and not _PLAIN_DECIMAL.match(value):
        raise ValueError("must be a whole number written in plain decimal digits, e.g. 42")
    return value


# Put after the Path(...) or Query(...) in an Annotated parameter (that order keeps OpenAPI's minimum/maximum):
#     id: Annotated[int, Path(ge=1), PLAIN_INTEGER]
PLAIN_INTEGER = BeforeValidator(_plain_decimal)
