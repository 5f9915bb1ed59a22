"""What a local execution environment writes to the terminal when a handler raises: a traceback for a failure, as
Lambda logs it, but one line for an authorizer's Exception("Unauthorized"), API Gateway's convention for a 401."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from marquee_local import lambda_runtime

HANDLERS = """
def unauthorized(event, context):
    raise Exception("Unauthorized")


def crash(event, context):
    raise RuntimeError("boom")
"""


@pytest.mark.parametrize(
    ("handler", "error_type", "logged", "not_logged"),
    [
        ("unauthorized", "Exception", "Unauthorized (API Gateway answers 401)", "Traceback"),
        ("crash", "RuntimeError", "Traceback", "API Gateway answers 401"),
    ],
)
def test_a_raised_error_is_returned_and_logged_as_lambda_would(
    tmp_path: Path, handler: str, error_type: str, logged: str, not_logged: str
) -> None:
    (tmp_path / "local_handlers.py").write_text(HANDLERS)
    parent, child = socket.socketpair()
    process = subprocess.Popen(
        [sys.executable, "-m", "marquee_local.lambda_runtime", str(child.fileno()), f"local_handlers.{handler}"],
        pass_fds=(child.fileno(),),
        stderr=subprocess.PIPE,
        text=True,
        env={"PYTHONPATH": f"{tmp_path}:{':'.join(sys.path)}", "AWS_LAMBDA_FUNCTION_NAME": "KeyAuthorizerFunction"},
    )
    child.close()
    try:
        assert lambda_runtime._receive(parent) == {"ready": True}
        deadline_ms = int((time.time() + 10) * 1000)
        lambda_runtime._send(parent, {"event": {}, "requestId": "r-1", "deadlineMs": deadline_ms})
        reply = lambda_runtime._receive(parent)
    finally:
        parent.close()  # the environment's loop ends when its socket closes
        _, stderr = process.communicate(timeout=10)
    assert reply["error"]["errorType"] == error_type
    assert logged in stderr and not_logged not in stderr
