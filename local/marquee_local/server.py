"""uvicorn serving one ASGI app (the local gateway, the site) from a background thread, on a socket bound before the
app is built, so port 0 works and the app knows its own address. Used by `marquee run`, the tests and the bench."""

from __future__ import annotations

import contextlib
import errno
import json
import socket
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from movie_common.problems import PROBLEM_MEDIA_TYPE, problem_type

LISTEN_BACKLOG = 2048  # uvicorn's default; the kernel caps it at net.core.somaxconn
# Most bytes of one request's line and headers (API Gateway's own limit is 10,240 bytes): past it, a 400 problem.
MAX_HEAD_BYTES = 64 * 1024


class ProblemHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, except that a request it cannot parse as HTTP/1.1 is answered with an RFC 9457
    problem (400 `bad_request`, JSON, saying what is usually wrong) instead of uvicorn's plain-text "Invalid HTTP
    request received.": clients parse every Marquee error the same way. The commonest cause is a URL with raw
    non-ASCII characters (`/search?title=amélie`), which HTTP does not allow: the detail says to percent-encode."""

    _chunk = b""
    _in_head = False  # between a request's first byte and the end of its headers
    _head_bytes = 0  # bytes received meanwhile

    def data_received(self, data: bytes) -> None:
        self._chunk = data  # the chunk being parsed, for send_400_response's detail
        super().data_received(data)
        # httptools keeps a request line and headers in memory however long they grow: one client sending a header
        # without end took the whole stack's memory with it (169 MB in, +700 MB resident). Counted per chunk, so a
        # head is refused at most one chunk past the limit; a body, read once the headers end, is not counted.
        if self._in_head and not self.transport.is_closing():
            self._head_bytes += len(data)
            if self._head_bytes > MAX_HEAD_BYTES:
                self._in_head = False
                self.send_400_response("request head too large")

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._in_head, self._head_bytes = True, 0

    def on_headers_complete(self) -> None:
        self._in_head = False
        super().on_headers_complete()

    def send_400_response(self, msg: str) -> None:
        line = self._chunk.split(b"\r\n", 1)[0] if self._chunk else b""
        if msg == "request head too large":
            detail = (
                f"The request line and headers are over {MAX_HEAD_BYTES // 1024} KiB; API Gateway takes at most "
                "10,240 bytes of them. Send long values in the body."
            )
        elif any(byte > 0x7F for byte in line):
            detail = (
                "The request line holds characters outside ASCII, which HTTP does not allow in a URL: "
                "percent-encode them as UTF-8 (é is %C3%A9; curl does it with --data-urlencode and -G)."
            )
        else:
            detail = (
                "The request could not be read as HTTP/1.1: check the method and the request line (a URL of "
                "ASCII characters, not tens of kilobytes long), the header syntax, and Content-Length (a whole "
                "number of bytes, at most the body sent)."
            )
        body = json.dumps(
            {
                "type": problem_type("bad_request"),
                "title": "Bad request",
                "status": 400,
                "detail": detail,
                "code": "bad_request",
                "request_id": str(uuid.uuid4()),
            },
            ensure_ascii=False,
        ).encode()
        head = [b"HTTP/1.1 400 Bad Request\r\n"]
        head.extend(name + b": " + value + b"\r\n" for name, value in self.server_state.default_headers)
        head.append(f"content-type: {PROBLEM_MEDIA_TYPE}\r\ncontent-length: {len(body)}\r\n".encode())
        self.transport.write(b"".join([*head, b"connection: close\r\n\r\n", body]))
        self.transport.close()


class AddressUnavailableError(OSError):
    """The server cannot listen where asked: the port is taken, or the host is no address of this machine. The
    message says which, and how to choose another (one line, for the CLI)."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.errno = code


class ServerThread:
    """Bind now (`host`, `port`; 0 picks a free port), serve later with `start(app)`, stop with `stop()`."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, name: str = "server") -> None:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.socket = socket.create_server((host, port), family=family, backlog=LISTEN_BACKLOG)
        self.name = name
        self.server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    @classmethod
    def bind(cls, host: str, port: int, *, name: str, hint: str, host_option: str = "--host") -> ServerThread:
        """As the constructor, but a port in use or a host that is not this machine's raises
        AddressUnavailableError saying so, followed by `hint` (how to choose another). A bad host names the option
        that chose it (`host_option`: `--site-host 999.1.1.1` was told to use `--host`, which changed nothing)."""
        try:
            return cls(host, port, name=name)
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                raise AddressUnavailableError(error.errno, f"port {port} on {host} is already in use; {hint}") from None
            # A name that does not resolve: socket.create_server re-raises getaddrinfo's gaierror as a plain
            # OSError with its negative EAI_* number (`--host nosuch.invalid`, `--site-host 999.1.1.1`).
            unresolved = isinstance(error, socket.gaierror) or (error.errno or 0) < 0
            if error.errno in (errno.EADDRNOTAVAIL, errno.EACCES) or unresolved:
                reason = "needs root below 1024" if error.errno == errno.EACCES else "is not an address of this machine"
                raise AddressUnavailableError(
                    error.errno or 0, f"cannot listen on {host}:{port} ({reason}); use {host_option} 127.0.0.1 (this "
                    "machine only) or 0.0.0.0 (every interface) and a port from 1024 up"
                ) from None  # fmt: skip
            raise

    @property
    def reachable_authority(self) -> str:
        """host:port as a client on this machine reaches the server: a wildcard address (0.0.0.0, ::) is not one
        a client can connect to, so its loopback stands in."""
        if self.host == "0.0.0.0":  # noqa: S104 - recognising the wildcard, not binding to it
            return f"127.0.0.1:{self.port}"
        if self.host == "::":
            return f"[::1]:{self.port}"
        return self.authority

    @property
    def host(self) -> str:
        return str(self.socket.getsockname()[0])

    @property
    def port(self) -> int:
        return int(self.socket.getsockname()[1])

    @property
    def authority(self) -> str:
        """host:port as clients write it in URLs (IPv6 in brackets)."""
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"

    @property
    def url(self) -> str:
        return f"http://{self.authority}"

    def start(self, app: Callable[..., Any], *, timeout: float = 120.0, **config: Any) -> ServerThread:
        """Serve `app` (lifespan on: its startup runs before this returns). RuntimeError if it fails to start.
        `config` goes to uvicorn.Config (e.g. timeout_keep_alive, limit_concurrency)."""
        settings: dict[str, Any] = {
            "lifespan": "on",
            "http": ProblemHttpToolsProtocol,
            "loop": "uvloop",
            "log_config": None,
            "access_log": False,
            "server_header": False,
            "backlog": LISTEN_BACKLOG,
            "timeout_graceful_shutdown": 5,
            # The client is the TCP peer, as API Gateway's sourceIp is: uvicorn would otherwise take X-Forwarded-For
            # from any loopback client (its default trusts 127.0.0.1), so a local caller could pick its own address
            # and slip past the per-IP sign-in and sign-up limits, or look remote to the outbox.
            "proxy_headers": False,
            **config,
        }
        self.server = uvicorn.Server(uvicorn.Config(app, **settings))
        self._thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.socket]}, name=self.name, daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"{self.name} did not start on {self.url} (see the log above)")
            time.sleep(0.01)
        return self

    def stop(self, timeout: float = 15.0) -> None:
        """Stop serving (open connections get a graceful close), run the app's shutdown, close the socket."""
        if self.server is not None:
            self.server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout)
        with contextlib.suppress(OSError):
            self.socket.close()

    def __enter__(self) -> ServerThread:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
