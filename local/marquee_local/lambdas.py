"""Local Lambda: each function of template.yaml runs in a pool of warm execution environments, one process each,
with that function's own environment, code and layers on its path (see `lambda_runtime`).

Like Lambda, an environment serves one invocation at a time and is reused while warm; a new one is started (a cold
start) when all are busy, up to `max_environments` per function, beyond which invocations wait. An invocation that
outlives the function's Timeout ends its environment (as Lambda does) and fails with "Task timed out". Because
each environment is its own process, settings read once per process at cold start, Powertools' service name, and
module-level caches never leak from one function into another.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import struct
import subprocess
import sys
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from marquee_local.events import REGION
from marquee_local.template import FunctionSpec

_LENGTH = struct.Struct("!I")
# What every local environment inherits from the machine (Lambda's own are set below); nothing else leaks in.
_PASSED_THROUGH = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "XDG_RUNTIME_DIR", "VIRTUAL_ENV", "SYSTEMROOT")


class FunctionError(Exception):
    """The function failed: it raised (`error_type` is the exception's class), timed out, or could not start."""

    def __init__(self, function: str, message: str, error_type: str = "Error") -> None:
        super().__init__(message)
        self.function, self.message, self.error_type = function, message, error_type


def lambda_environment(
    spec: FunctionSpec, overrides: Mapping[str, str | None] | None = None, *, python_path: Iterable[str] = ()
) -> dict[str, str]:
    """The environment a function's process gets: Lambda's reserved variables, then the template's variables
    (Globals merged), then `overrides` (None removes a variable), and PYTHONPATH = CodeUri + layers (+ extras)."""
    environment = {name: os.environ[name] for name in _PASSED_THROUGH if name in os.environ}
    environment.update(
        {
            "AWS_LAMBDA_FUNCTION_NAME": spec.name,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_mb),
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{spec.name}",
            "AWS_LAMBDA_LOG_STREAM_NAME": "local",
            "AWS_REGION": REGION,
            "AWS_DEFAULT_REGION": REGION,
            "AWS_EXECUTION_ENV": "AWS_Lambda_python3.11",
            "LAMBDA_TASK_ROOT": str(spec.code_uri),
            "_HANDLER": spec.handler,
            "TZ": ":UTC",
            "PYTHONUNBUFFERED": "1",
        }
    )
    environment.update(spec.environment)
    for name, value in (overrides or {}).items():
        if value is None:
            environment.pop(name, None)
        else:
            environment[name] = value
    environment["PYTHONPATH"] = os.pathsep.join([str(spec.code_uri), *map(str, spec.layers), *python_path])
    return environment


@dataclass
class _Environment:
    process: subprocess.Popen[bytes]
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter

    async def call(self, message: dict[str, Any]) -> Any:
        payload = orjson.dumps(message)
        self.writer.write(_LENGTH.pack(len(payload)) + payload)
        return await self.receive()

    async def receive(self) -> Any:
        header = await self.reader.readexactly(_LENGTH.size)
        return orjson.loads(await self.reader.readexactly(_LENGTH.unpack(header)[0]))

    def end(self) -> None:
        with contextlib.suppress(Exception):
            self.writer.close()
        if self.process.poll() is None:
            self.process.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=5)


# A pool keeps up to one busy environment per core, like a worker pool: more CPU-bound processes than cores only
# take turns and thrash the caches (measured: --environments 2 on 2 cores served 784 keyed req/s, 4 served 666).
# Past that it adds an environment (up to max_environments) only for a request that has waited this long for an idle
# one, so a slow invocation (a search running to its statement timeout) never holds the others up for longer.
GROW_AFTER_S = 0.5


def _usable_cores() -> int:
    """The cores this process may run on (its CPU affinity where the platform has one), at least 1."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return os.cpu_count() or 1


class FunctionPool:
    """The warm environments of one function. Use on one event loop only.

    Up to `base_environments` (default: one per CPU core, at most max_environments) start as soon as every one is
    busy; more, up to `max_environments`, only for a request that waited `grow_after_s` for an idle one."""

    def __init__(
        self,
        spec: FunctionSpec,
        environment: Mapping[str, str],
        *,
        max_environments: int,
        base_environments: int | None = None,
        grow_after_s: float = GROW_AFTER_S,
    ) -> None:
        self.spec = spec
        self.environment = dict(environment)
        self.max_environments = max(1, max_environments)
        base = base_environments if base_environments is not None else _usable_cores()
        self.base_environments = max(1, min(base, self.max_environments))
        self.grow_after_s = grow_after_s
        self.cold_starts = 0
        self._idle: list[_Environment] = []
        self._size = 0
        self._changed = asyncio.Condition()
        self._closed = False

    async def _start(self) -> _Environment:
        parent, child = socket.socketpair()
        try:
            process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
                [sys.executable, "-m", "marquee_local.lambda_runtime", str(child.fileno()), self.spec.handler],
                env=self.environment,
                pass_fds=(child.fileno(),),
                stdin=subprocess.DEVNULL,
            )
        finally:
            child.close()
        reader, writer = await asyncio.open_unix_connection(sock=parent, limit=64 * 1024 * 1024)
        environment = _Environment(process, reader, writer)
        self.cold_starts += 1
        try:
            hello = await asyncio.wait_for(environment.receive(), timeout=max(30.0, self.spec.timeout_seconds))
        except (TimeoutError, asyncio.IncompleteReadError, ConnectionError):
            environment.end()
            raise FunctionError(
                self.spec.name, "the execution environment did not start", "Runtime.ExitError"
            ) from None
        if "initError" in hello:
            environment.end()
            error = hello["initError"]
            raise FunctionError(
                self.spec.name, error["errorMessage"], f"Runtime.ImportModuleError:{error['errorType']}"
            )
        return environment

    async def _acquire(self) -> _Environment:
        loop = asyncio.get_running_loop()
        grow_at: float | None = None
        async with self._changed:
            while True:
                if self._closed:
                    raise FunctionError(self.spec.name, "the local Lambda service is stopping", "ServiceException")
                if self._idle:
                    return self._idle.pop()  # the most recently used: warmest, like Lambda
                if self._size < self.base_environments:
                    self._size += 1
                    break
                if self._size < self.max_environments:
                    now = loop.time()
                    grow_at = now + self.grow_after_s if grow_at is None else grow_at
                    if now >= grow_at:  # waited long enough: the busy ones are slow, add one
                        self._size += 1
                        break
                    with contextlib.suppress(TimeoutError):
                        async with asyncio.timeout(grow_at - now):
                            await self._changed.wait()
                else:
                    await self._changed.wait()
        try:
            return await self._start()
        except BaseException:
            async with self._changed:
                self._size -= 1
                self._changed.notify()
            raise

    async def _release(self, environment: _Environment) -> None:
        async with self._changed:
            if self._closed:
                environment.end()
                return
            self._idle.append(environment)
            self._changed.notify()

    async def _discard(self, environment: _Environment) -> None:
        environment.end()
        async with self._changed:
            self._size -= 1
            self._changed.notify()

    async def invoke(self, event: Any, *, request_id: str | None = None) -> Any:
        """Run the handler on `event` in a warm (or new) environment; returns its JSON result.
        Raises FunctionError when it raises, times out, or its environment dies."""
        environment = await self._acquire()
        deadline = time.time() + self.spec.timeout_seconds
        message = {"event": event, "requestId": request_id or str(uuid.uuid4()), "deadlineMs": int(deadline * 1000)}
        try:
            async with asyncio.timeout(self.spec.timeout_seconds):  # no extra task per call, unlike wait_for
                reply = await environment.call(message)
        except TimeoutError:
            await self._discard(environment)
            raise FunctionError(
                self.spec.name, f"Task timed out after {self.spec.timeout_seconds:.2f} seconds", "Sandbox.Timedout"
            ) from None
        except (asyncio.IncompleteReadError, ConnectionError):
            await self._discard(environment)
            raise FunctionError(self.spec.name, "the execution environment exited", "Runtime.ExitError") from None
        except BaseException:
            await self._discard(environment)  # cancelled mid-call: its reply can no longer be matched
            raise
        await self._release(environment)
        if "error" in reply:
            error = reply["error"]
            raise FunctionError(self.spec.name, str(error.get("errorMessage")), str(error.get("errorType")))
        return reply["result"]

    @property
    def pids(self) -> list[int]:
        """Process ids of this function's idle environments."""
        return [environment.process.pid for environment in self._idle]

    async def warm(self) -> None:
        """Start one environment ahead of the first invocation (so the first request is not a cold start)."""
        environment = await self._acquire()
        await self._release(environment)

    async def close(self) -> None:
        async with self._changed:
            self._closed = True
            idle, self._idle = self._idle, []
            self._changed.notify_all()
        for environment in idle:
            environment.end()


class LocalLambdas:
    """Every function of the template, each in its own pool. Start and stop it on the event loop that invokes it;
    other threads invoke through `invoke_threadsafe` (the drop folder and the scheduler do)."""

    def __init__(
        self,
        functions: Mapping[str, FunctionSpec],
        *,
        overrides: Mapping[str, str | None] | None = None,
        per_function: Mapping[str, Mapping[str, str | None]] | None = None,
        max_environments: int = 4,
    ) -> None:
        self.functions = dict(functions)
        self._overrides = dict(overrides or {})
        self._per_function = {name: dict(values) for name, values in (per_function or {}).items()}
        self._max_environments = max_environments
        self._pools: dict[str, FunctionPool] = {}
        self.loop: asyncio.AbstractEventLoop | None = None

    def environment(self, function: str) -> dict[str, str]:
        spec = self.functions[function]
        return lambda_environment(spec, {**self._overrides, **self._per_function.get(function, {})})

    def pool(self, function: str) -> FunctionPool:
        pool = self._pools.get(function)
        if pool is None:
            if function not in self.functions:
                raise KeyError(f"no function {function!r} in the template")
            pool = FunctionPool(
                self.functions[function], self.environment(function), max_environments=self._max_environments
            )
            self._pools[function] = pool
        return pool

    async def start(self, warm: Iterable[str] = ()) -> None:
        """Bind to the running loop and start one environment of each function in `warm`, concurrently."""
        self.loop = asyncio.get_running_loop()
        await asyncio.gather(*(self.pool(name).warm() for name in warm))

    async def invoke(self, function: str, event: Any, *, request_id: str | None = None) -> Any:
        return await self.pool(function).invoke(event, request_id=request_id)

    def invoke_threadsafe(self, function: str, event: Any, *, timeout: float | None = None) -> Any:
        """Invoke from another thread (not the loop's): blocks until the result; raises FunctionError."""
        if self.loop is None:
            raise RuntimeError("LocalLambdas.start() has not run")
        future = asyncio.run_coroutine_threadsafe(self.invoke(function, event), self.loop)
        return future.result(timeout)

    def pids(self) -> dict[str, list[int]]:
        """Process ids of the idle environments of each function (for tests and diagnostics)."""
        return {name: pool.pids for name, pool in self._pools.items()}

    async def stop(self) -> None:
        await asyncio.gather(*(pool.close() for pool in self._pools.values()))
        # Busy environments end as their invocations return (close() refuses new work and ends released ones).
