"""AdminFunction's two event handlers stay plain handlers: importing them pulls in no web framework and no AWS SDK
client (the admin API's handler is the one FastAPI app of the folder)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

FORBIDDEN = ("fastapi", "starlette", "mangum", "movie_web", "boto3", "botocore.session", "botocore.client")


@pytest.mark.slow
@pytest.mark.parametrize("module", ["movie_admin.setup", "movie_admin.scheduled"])
def test_event_handlers_import_no_web_framework_and_no_aws_sdk(module: str) -> None:
    probe = (
        f"import json, sys; import {module}; print(json.dumps(sorted(m for m in {FORBIDDEN!r} if m in sys.modules)))"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60)
    assert json.loads(result.stdout.strip().splitlines()[-1]) == []


@pytest.mark.slow
def test_the_admin_api_loads_boto3_only_when_exports_go_to_s3() -> None:
    probe = "import json, sys; import movie_admin.handler; print(json.dumps('boto3' in sys.modules))"
    env_less = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60)
    assert json.loads(env_less.stdout.strip().splitlines()[-1]) is False
