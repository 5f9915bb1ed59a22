"""Reads the database URL from Secrets Manager through the AWS Parameters and Secrets Lambda Extension.

The extension serves secrets on localhost, so the layer needs no boto3 (and pays none of its import time).
"""

from __future__ import annotations

import json
import os
import urllib.parse
import urllib.request
from typing import Any

from movie_common.errors import ConfigurationError


def database_url_from_secret_string(secret: str) -> str:
    """Accept a plain URL, `{"url": ...}` / `{"DATABASE_URL": ...}`, or RDS-style JSON fields."""
    text = secret.strip()
    if text.startswith(("postgres://", "postgresql://")):
        return text
    try:
        data: dict[str, Any] = json.loads(text)
    except ValueError:
        raise ConfigurationError("the database secret is neither a PostgreSQL URL nor JSON") from None
    for key in ("url", "DATABASE_URL", "database_url"):
        if isinstance(data.get(key), str):
            return str(data[key])
    try:
        user = urllib.parse.quote(str(data["username"]), safe="")
        password = urllib.parse.quote(str(data["password"]), safe="")
        host = data["host"]
    except KeyError as missing:
        raise ConfigurationError(f"the database secret lacks {missing.args[0]!r}") from None
    port = data.get("port", 5432)
    dbname = data.get("dbname", "postgres")
    return f"postgresql://{user}:{password}@{host}:{port}/{dbname}"


def fetch_secret_string(secret_arn: str, *, timeout: float = 3.0) -> str:
    port = os.environ.get("PARAMETERS_SECRETS_EXTENSION_HTTP_PORT", "2773")
    token = os.environ.get("AWS_SESSION_TOKEN", "")
    query = urllib.parse.urlencode({"secretId": secret_arn})
    request = urllib.request.Request(
        f"http://localhost:{port}/secretsmanager/get?{query}",
        headers={"X-Aws-Parameters-Secrets-Token": token},
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
        payload: dict[str, Any] = json.load(response)
    return str(payload["SecretString"])
