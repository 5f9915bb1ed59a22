"""The inside of one local Lambda execution environment: a process that imports one handler (its cold start) and
then runs invocations one at a time, like the Lambda Python runtime, for `marquee_local.lambdas`.

Run as `python -m marquee_local.lambda_runtime FD MODULE.ATTRIBUTE` with the function's environment. It talks to
the parent over the socket FD in frames of a 4-byte big-endian length and a JSON document:
parent -> {"event": ..., "requestId": "...", "deadlineMs": <epoch ms>}; child -> {"result": ...} or
{"error": {"errorMessage", "errorType", "stackTrace"}} (the shape Lambda reports). The first frame the child
sends is {"ready": true} or {"initError": {...}}. Events and results travel as JSON, exactly as through Lambda,
so a handler that returns something JSON cannot hold fails here as it would there.
"""

from __future__ import annotations

import importlib
import json
import os
import signal
import socket
import struct
import sys
import time
import traceback
from typing import Any

import orjson

from marquee_local.lambda_context import LocalLambdaContext

_LENGTH = struct.Struct("!I")


def _receive(sock: socket.socket) -> Any | None:
    header = _read_exactly(sock, _LENGTH.size)
    if header is None:
        return None
    payload = _read_exactly(sock, _LENGTH.unpack(header)[0])
    return None if payload is None else orjson.loads(payload)


def _read_exactly(sock: socket.socket, size: int) -> bytes | None:
    chunks, remaining = [], size
    while remaining:
        chunk = sock.recv(remaining)
        if not chunk:
            return None
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def _send(sock: socket.socket, message: Any) -> None:
    # Encoded as Lambda's Python runtime encodes a handler's result (the json module): what it cannot serialise
    # (a datetime, a set) fails here as it would there, and int keys become strings as there. Decoding is orjson's.
    payload = json.dumps(message, separators=(",", ":"), ensure_ascii=False).encode()
    sock.sendall(_LENGTH.pack(len(payload)) + payload)


def _error(error: BaseException) -> dict[str, Any]:
    return {
        "errorMessage": str(error),
        "errorType": type(error).__name__,
        "stackTrace": traceback.format_tb(error.__traceback__),
    }


def main(argv: list[str]) -> int:
    fd, handler_path = int(argv[1]), argv[2]
    # Ctrl-C reaches the whole process group; the gateway ends its environments itself (closing the socket ends
    # this loop, and a dead gateway's socket reads as closed too).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    sock = socket.socket(fileno=fd)
    try:
        module_name, _, attribute = handler_path.rpartition(".")
        handler = getattr(importlib.import_module(module_name), attribute)
    except Exception as error:
        traceback.print_exc()
        _send(sock, {"initError": _error(error)})
        return 1
    _send(sock, {"ready": True})
    function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "local")
    memory = int(os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128"))
    while True:
        message = _receive(sock)
        if message is None:  # the gateway closed the environment
            return 0
        deadline_ms = int(message["deadlineMs"])
        context = LocalLambdaContext(
            function_name=function_name,
            memory_limit_in_mb=memory,
            timeout_seconds=max(0.0, deadline_ms / 1000 - time.time()),
            aws_request_id=message["requestId"],
        )
        try:
            reply: dict[str, Any] = {"result": handler(message["event"], context)}
            _send(sock, reply)
        except Exception as error:
            # Lambda logs the failure to the function's log and returns the error document. An authorizer's
            # Exception("Unauthorized") is not a failure but API Gateway's convention for a 401: one line, not a
            # traceback that reads like a crash on every keyless request.
            if str(error) == "Unauthorized":
                sys.stderr.write(f"[INFO] {function_name}: Unauthorized (API Gateway answers 401)\n")
            else:
                traceback.print_exc()
            _send(sock, {"error": _error(error)})


if __name__ == "__main__":
    sys.exit(main(sys.argv))
