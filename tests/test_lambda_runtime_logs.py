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


def int_keys(event, context):
    return {1: "one"}


def a_datetime(event, context):
    import datetime
    return {"at": datetime.datetime(2026, 1, 1)}
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
    reply, stderr = _invoke(tmp_path, handler, function_name="KeyAuthorizerFunction")
    error = reply["error"]
    assert isinstance(error, dict) and error["errorType"] == error_type
    assert logged in stderr and not_logged not in stderr


def _invoke(tmp_path: Path, handler: str, *, function_name: str = "ApiFunction") -> tuple[dict[str, object], str]:
    """One invocation of `handler` (from HANDLERS) in a real local execution environment: its reply and stderr."""
    (tmp_path / "local_handlers.py").write_text(HANDLERS)
    parent, child = socket.socketpair()
    process = subprocess.Popen(
        [sys.executable, "-m", "marquee_local.lambda_runtime", str(child.fileno()), f"local_handlers.{handler}"],
        pass_fds=(child.fileno(),),
        stderr=subprocess.PIPE,
        text=True,
        env={"PYTHONPATH": f"{tmp_path}:{':'.join(sys.path)}", "AWS_LAMBDA_FUNCTION_NAME": function_name},
    )
    child.close()
    try:
        assert lambda_runtime._receive(parent) == {"ready": True}
        deadline_ms = int((time.time() + 10) * 1000)
        lambda_runtime._send(parent, {"event": {}, "requestId": "r-1", "deadlineMs": deadline_ms})
        reply = lambda_runtime._receive(parent)
    finally:
        parent.close()
        _, stderr = process.communicate(timeout=10)
    return reply, stderr


@pytest.mark.slow
def test_a_result_is_serialised_as_lambdas_python_runtime_does(tmp_path: Path) -> None:
    """The json module's rules, not a faster encoder's: int keys become strings, and a result Lambda could not
    send (a datetime) fails locally too, instead of working here and failing once deployed."""
    reply, _ = _invoke(tmp_path, "int_keys")
    assert reply == {"result": {"1": "one"}}
    reply, stderr = _invoke(tmp_path, "a_datetime")
    error = reply["error"]
    assert isinstance(error, dict) and error["errorType"] == "TypeError"
    assert "not JSON serializable" in str(error["errorMessage"]) and "Traceback" in stderr
