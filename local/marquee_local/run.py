"""`marquee run`: the one-machine stack as a set of services started in order and stopped in reverse, the local
API Gateway first. Other modules add services (drop-folder watcher, site server, scheduler) through
`marquee_local.cli.SERVICE_MODULES`: each such module defines

    def add_run_arguments(parser: argparse.ArgumentParser) -> None   # optional: its own `marquee run` options
    def before_run(args: argparse.Namespace) -> None                  # optional: runs before any service starts
    def service(run: RunContext) -> Service | None                    # None when it has nothing to do

and its Service starts in the background (`start()` returns once it serves), stops cleanly (`stop()` returns once
it has stopped; it may be called after a failed start), and says what it serves (`describe()`: banner lines).
"""

from __future__ import annotations

import argparse
import contextlib
import re
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from marquee_local import arguments, stack
from marquee_local.gateway import LocalGateway
from marquee_local.lambdas import LocalLambdas
from marquee_local.server import ServerThread


class Service(Protocol):
    name: str

    def start(self) -> None: ...

    def stop(self) -> None: ...

    def describe(self) -> list[str]: ...


@dataclass
class RunContext:
    """What services of `marquee run` may use. `lambdas` invokes any function of template.yaml in its warm local
    environments, from any thread: `run.lambdas.invoke_threadsafe("IngestFunction", event)`."""

    args: argparse.Namespace
    home: Path
    database_url: str
    api_url: str = ""  # the local API Gateway's base URL, once it serves
    gateway: LocalGateway | None = None
    log: Callable[[str], None] = print
    extra: dict[str, Any] = field(default_factory=dict)  # for services to share what they start

    @property
    def lambdas(self) -> LocalLambdas:
        if self.gateway is None:
            raise RuntimeError("the gateway has not started yet")
        return self.gateway.lambdas


class GatewayService:
    """The local API Gateway under uvicorn on --host/--port, every function in warm local environments."""

    name = "gateway"

    def __init__(self, run: RunContext) -> None:
        self.run = run
        self.server: ServerThread | None = None

    def start(self) -> None:
        args = self.run.args
        self.server = ServerThread.bind(
            args.host, args.port, name="gateway", hint="choose another with `marquee run --port 8001` (or "
            "`make run PORT=8001`), or stop the other stack (`marquee stop` stops this folder's)"
        )  # fmt: skip
        public_host = args.public_host or self.server.reachable_authority
        gateway = stack.local_gateway(
            public_host=public_host,
            database_url=self.run.database_url,
            max_environments=args.environments,
            access_log=None if args.quiet else self.run.log,
        )
        self.server.start(gateway)
        self.run.gateway = gateway
        self.run.api_url = f"http://{public_host}"

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()

    def describe(self) -> list[str]:
        url = self.run.api_url
        lines = [f"API        {url}", f"API docs   {url}/docs", f"OpenAPI    {url}/openapi.json"]
        if self.server is not None and self.server.authority != self.server.reachable_authority:
            lines.append(
                f"Listening  {self.server.authority}, every interface (links in responses use {url}; "
                "--public-host sets the name other machines use)"
            )
        return lines


def add_run_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="address the API listens on (default 127.0.0.1)")
    parser.add_argument("--port", type=arguments.port, default=8000, help="port of the API (default 8000; 0: any)")
    parser.add_argument(
        "--public-host", default=None, help="host[:port] clients use, if not --host:--port (sent as the API's Host)"
    )
    parser.add_argument(
        "--environments",
        "--workers",
        type=arguments.int_at_least(1),
        default=4,
        help="most warm execution environments (processes) per function (default 4); past one per CPU core, one "
        "starts only for a request that waited 0.5 s",
    )
    parser.add_argument("--quiet", action="store_true", help="no access log")


# The options that give a server of `marquee run` its port (each module adds its own), and what listens there.
PORT_OPTIONS = (
    ("--port", "port", "the API"),
    ("--site-port", "site_port", "the portal"),
    ("--aws-port", "aws_port", "the S3 and EventBridge stand-ins"),
)


def check_ports(args: argparse.Namespace) -> None:
    """Refuse, before anything binds, two servers of the stack given the same port (0, any free one, may repeat):
    the second would fail at bind and blame another program. StackError naming both options."""
    seen: dict[int, tuple[str, str]] = {}
    for option, attribute, what in PORT_OPTIONS:
        value = getattr(args, attribute, None)
        if not value:
            continue
        if value in seen:
            first, first_what = seen[value]
            raise stack.StackError(
                f"{first} and {option} are both {value}, and {first_what} and {what} need a port each; give "
                "different ports (e.g. `marquee run --port 8001 --site-port 8081`, or `make run PORT=8001 "
                "SITE_PORT=8081`), or 0 for any free one"
            )
        seen[value] = (option, what)


# host[:port] as a URL's authority, without user info: a DNS name or IPv4 address, or an IPv6 one in brackets.
PUBLIC_HOST = re.compile(r"(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?)(?::([0-9]{1,5}))?")


def check_public_host(args: argparse.Namespace) -> None:
    """Refuse, before anything starts, a --public-host that is not host[:port]: it is put as it is into every link
    the API sends and into /openapi.json's servers, so `--public-host 'http://x'` or a port past 65535 made links no
    client could follow. StackError saying what the option takes."""
    value = getattr(args, "public_host", None)
    if value is None:
        return
    match = PUBLIC_HOST.fullmatch(value)
    if match is None or (match.group(1) is not None and not 1 <= int(match.group(1)) <= 65535):
        raise stack.StackError(
            f"--public-host {value!r} is not host[:port]: give the name and port clients use, without a scheme or "
            "a path (e.g. `--public-host api.example.com:8000`); a port is 1 to 65535"
        )


def serve_until_stopped(
    factories: list[Callable[[], Service | None]],
    *,
    banner: Callable[[list[Service]], None],
    log: Callable[[str], None],
) -> int:
    """Make and start each service in order (a factory runs only once those before it serve, so it can use what
    they set in the RunContext; None means nothing to run), print the banner, wait for Ctrl-C or SIGTERM, then
    stop the started services in reverse order. A service that fails to start stops those already started and
    makes the exit status 1."""
    started: list[Service] = []
    stopping = threading.Event()
    previous = signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    status = 0
    try:
        for factory in factories:
            service = factory()
            if service is None:
                continue
            try:
                service.start()
            except Exception as error:
                log(f"{service.name} did not start: {error}")
                with contextlib.suppress(Exception):
                    service.stop()
                status = 1
                break
            started.append(service)
        else:
            banner(started)
            while not stopping.wait(0.5):
                pass
    except KeyboardInterrupt:
        pass
    finally:
        if started:
            log("\nstopping")
        for service in reversed(started):
            try:
                service.stop()
            except Exception as error:  # stop the rest all the same
                log(f"{service.name} did not stop cleanly: {error}")
                status = 1
        signal.signal(signal.SIGTERM, previous)
    return status
