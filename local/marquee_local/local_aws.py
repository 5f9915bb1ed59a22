"""`marquee run`'s stand-ins for the AWS services the functions call with boto3, on one port (like LocalStack's
edge port): S3 for the uploads bucket over $MARQUEE_HOME/uploads (marquee_local.local_s3) and EventBridge's
PutEvents routed by the template's rules (marquee_local.local_eventbridge). The functions reach them through the
SDK's service endpoint variables (AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL_EVENTBRIDGE) with credentials made for
this run, so the admin function's code is the code that runs in AWS: it presigns uploads and report downloads,
and puts "Sync Requested" events, with boto3 either way."""

from __future__ import annotations

import argparse
import os
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

from marquee_local import arguments, stack
from marquee_local.local_eventbridge import LocalEventBridge, template_rules
from marquee_local.local_s3 import LocalS3
from marquee_local.run import RunContext
from marquee_local.server import ServerThread
from marquee_local.sigv4 import LocalCredentials

# Set by before_run for stack.function_overrides (every function's environment) and the portal's CSP.
URL_VARIABLE = "MARQUEE_LOCAL_AWS_URL"
KEY_VARIABLE = "MARQUEE_LOCAL_AWS_ACCESS_KEY_ID"
SECRET_VARIABLE = "MARQUEE_LOCAL_AWS_SECRET_ACCESS_KEY"  # noqa: S105 - a variable name


def function_environment() -> dict[str, str | None]:
    """What every function's environment gets while the stand-ins run (nothing otherwise): the service endpoints
    and this run's credentials (no session token)."""
    url = os.environ.get(URL_VARIABLE)
    if not url:
        return {}
    return {
        "AWS_ENDPOINT_URL_S3": url,
        "AWS_ENDPOINT_URL_EVENTBRIDGE": url,
        "AWS_ACCESS_KEY_ID": os.environ[KEY_VARIABLE],
        "AWS_SECRET_ACCESS_KEY": os.environ[SECRET_VARIABLE],
        "AWS_SESSION_TOKEN": None,
    }


class LocalAwsApp:
    """One ASGI app for both services: requests naming an EventBridge operation (X-Amz-Target: AWSEvents.*) go to
    EventBridge, everything else to S3 (its paths are /<bucket>/<key>)."""

    def __init__(self, s3: LocalS3, eventbridge: LocalEventBridge) -> None:
        self.s3 = s3.app()
        self.eventbridge = eventbridge

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            target = dict(scope.get("headers") or []).get(b"x-amz-target", b"")
            if target.startswith(b"AWSEvents."):
                from starlette.requests import Request

                response = await self.eventbridge(Request(scope, receive))
                await response(scope, receive, send)
                return
        await self.s3(scope, receive, send)


def create_app(run: RunContext, credentials: LocalCredentials) -> ASGIApp:
    """The stand-ins for this stack: S3 over the uploads folder (the portal's origin may upload), EventBridge with
    the template's rules delivering through the stack's LocalLambdas."""
    from movie_common.ingest_uploads import LOCAL_BUCKET

    s3 = LocalS3(
        stack.uploads_root(run.home),
        bucket=LOCAL_BUCKET,
        credentials=credentials,
        cors_origin=os.environ.get("CORS_ALLOW_ORIGIN") or stack.PORTAL_ORIGIN,
        report=run.log,
    )

    def deliver(function: str, event: dict[str, Any]) -> Any:
        # An asynchronous invocation: as long as the function's own timeout (LocalLambdas enforces it).
        return run.lambdas.invoke_threadsafe(function, event)

    eventbridge = LocalEventBridge(
        template_rules(stack.local_template()), deliver, credentials=credentials, report=run.log
    )
    return LocalAwsApp(s3, eventbridge)


class LocalAwsService:
    """The stand-ins' server, bound in before_run (the functions' environments need its URL before the gateway
    starts them) and serving once the gateway runs (EventBridge delivers through its LocalLambdas)."""

    name = "aws stand-ins"

    def __init__(self, run: RunContext, server: ServerThread, credentials: LocalCredentials) -> None:
        self.run = run
        self.server = server
        self.credentials = credentials

    def start(self) -> None:
        self.server.start(create_app(self.run, self.credentials), lifespan="off")

    def stop(self) -> None:
        self.server.stop()

    def describe(self) -> list[str]:
        return [
            f"AWS        http://{self.server.reachable_authority}   "
            "(S3 uploads bucket over the drop folder; EventBridge PutEvents)"
        ]


def add_run_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--aws-host", default="127.0.0.1", help="address of the S3 and EventBridge stand-ins")
    # Any free port by default: nothing outside the stack needs to know it (the functions and the portal are told),
    # and two stacks on one machine never collide.
    parser.add_argument(
        "--aws-port",
        type=arguments.port,
        default=0,
        help="port of the S3 and EventBridge stand-ins (default 0: any free one)",
    )


def before_run(args: argparse.Namespace) -> None:
    """Bind the stand-ins' socket, make this run's credentials, and publish both for the functions' environments."""
    server = ServerThread.bind(
        getattr(args, "aws_host", "127.0.0.1"), getattr(args, "aws_port", 0), name="aws",
        hint="choose another with `marquee run --aws-port 0` (any free port)", host_option="--aws-host",
    )  # fmt: skip
    credentials = LocalCredentials.generate()
    args.aws_server, args.aws_credentials = server, credentials
    os.environ[URL_VARIABLE] = f"http://{server.reachable_authority}"  # 0.0.0.0 is not an address to call
    os.environ[KEY_VARIABLE] = credentials.access_key_id
    os.environ[SECRET_VARIABLE] = credentials.secret_access_key


def service(run: RunContext) -> LocalAwsService:
    if getattr(run.args, "aws_server", None) is None:  # a caller that builds services itself
        before_run(run.args)
    return LocalAwsService(run, run.args.aws_server, run.args.aws_credentials)
