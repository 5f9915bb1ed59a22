"""Lambda entry point of ApiFunction: the FastAPI app behind Mangum (lifespan off: no startup work)."""

from mangum import Mangum
from mangum.adapter import DEFAULT_TEXT_MIME_TYPES

from movie_api.app import create_app

# Problem documents must travel as text: API Gateway without binary media types would otherwise hand the
# client Mangum's base64 encoding of them.
handler = Mangum(create_app(), lifespan="off", text_mime_types=[*DEFAULT_TEXT_MIME_TYPES, "application/problem+json"])
