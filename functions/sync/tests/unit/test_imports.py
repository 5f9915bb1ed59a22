"""The sync handler stays a plain handler: importing it pulls in no web framework and no AWS SDK client."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

# Powertools probes `import botocore` (the bare package, for its user-agent hook) wherever botocore is installed,
# as it is in every Lambda runtime; what must never load is an SDK session or client, or boto3 itself.
FORBIDDEN = ("fastapi", "starlette", "pydantic", "mangum", "boto3", "botocore.session", "botocore.client")


@pytest.mark.slow
def test_handler_imports_neither_fastapi_nor_an_aws_sdk_client() -> None:
    probe = (
        "import json, sys; import movie_sync.handler; "
        f"print(json.dumps(sorted(m for m in {FORBIDDEN!r} if m in sys.modules)))"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60)
    assert json.loads(result.stdout.strip().splitlines()[-1]) == []
