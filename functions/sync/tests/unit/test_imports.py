"""The sync handler stays a plain handler: importing it pulls in no web framework and no AWS SDK."""

from __future__ import annotations

import json
import subprocess
import sys


def test_handler_imports_neither_fastapi_nor_boto3() -> None:
    probe = (
        "import json, sys; import movie_sync.handler; "
        "print(json.dumps(sorted(m for m in ('fastapi', 'starlette', 'pydantic', 'mangum', 'boto3', 'botocore') "
        "if m in sys.modules)))"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60)
    assert json.loads(result.stdout.strip().splitlines()[-1]) == []
