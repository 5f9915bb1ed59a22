"""EventBridge on one machine (served by `marquee run`'s AWS stand-in, marquee_local.local_aws): PutEvents on the
default bus, each event matched against the template's EventBridgeRule patterns (moto's implementation of
EventBridge's pattern language) and delivered to the matching rule's function through LocalLambdas, as EventBridge
invokes a Lambda target: asynchronously, with the event as a rule target receives it (built by
marquee_local.events.eventbridge_event). Requests are checked for a valid SigV4 signature (marquee_local.sigv4)."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from marquee_local import events
from marquee_local.sigv4 import LocalCredentials, SignatureError, verify_signed_request
from marquee_local.template import Template

JSON_TYPE = "application/x-amz-json-1.1"
DEFAULT_BUS = "default"
MAX_ENTRIES = 10  # PutEvents takes 1 to 10 entries
MAX_ENTRY_BYTES = 256 * 1024  # and at most 256 KB per request


@dataclass(frozen=True)
class Rule:
    """An EventBridgeRule event of a function in the template: its name (`<Function><Event>`), bus, pattern and
    target function."""

    name: str
    bus: str
    pattern: dict[str, Any]
    function: str

    def matches(self, event: Mapping[str, Any]) -> bool:
        from moto.events.models import EventPattern

        message: Any = dict(event)  # moto types it as its own TypedDict of the same shape
        return bool(EventPattern.load(json.dumps(self.pattern)).matches_event(message))


def template_rules(template: Template) -> list[Rule]:
    """Every `Type: EventBridgeRule` (or CloudWatchEvent) event with a Pattern, as the rule SAM would create."""
    rules = []
    for function in template.functions.values():
        for name, spec in function.events.items():
            if spec.get("Type") not in ("EventBridgeRule", "CloudWatchEvent"):
                continue
            props = spec.get("Properties") or {}
            pattern = props.get("Pattern")
            if isinstance(pattern, dict):
                bus = str(props.get("EventBusName") or DEFAULT_BUS)
                rules.append(Rule(f"{function.name}{name}", bus, pattern, function.name))
    return rules


def _bus_name(value: Any) -> str:
    """EventBusName as PutEvents takes it: a name or an ARN (`arn:aws:events:<region>:<account>:event-bus/<name>`)."""
    text = str(value or DEFAULT_BUS)
    return text.rsplit("event-bus/", 1)[-1] if text.startswith("arn:") else text


class LocalEventBridge:
    """PutEvents for the stack's functions. `deliver(function, event)` invokes a target (blocking; it is called on a
    thread of its own per delivery, so PutEvents answers at once, as EventBridge does); `report` gets a line per
    event and per delivery."""

    def __init__(
        self,
        rules: list[Rule],
        deliver: Callable[[str, dict[str, Any]], Any],
        *,
        credentials: LocalCredentials,
        report: Callable[[str], None] = print,
    ) -> None:
        self.rules = rules
        self.deliver = deliver
        self.credentials = credentials
        self.report = report
        self.buses = {DEFAULT_BUS} | {rule.bus for rule in rules}

    async def __call__(self, request: Request) -> Response:
        body = await request.body()
        target = request.headers.get("x-amz-target", "")
        try:
            verify_signed_request(
                request.method,
                str(request.url),
                dict(request.headers),
                body,
                service="events",
                credentials=self.credentials,
            )
        except SignatureError as error:
            return _error(error.code, error.message, error.status)
        if target != "AWSEvents.PutEvents":
            operation = target.rsplit(".", 1)[-1] or "(none)"
            return _error(
                "UnknownOperationException", f"The one-machine EventBridge serves PutEvents only, not {operation}."
            )
        if len(body) > MAX_ENTRY_BYTES:
            return _error("ValidationException", "Total size of the entries in the request is over the limit.")
        try:
            entries = json.loads(body or b"{}").get("Entries")
        except (ValueError, AttributeError):
            return _error("SerializationException", "The request body is not valid JSON.")
        if not isinstance(entries, list) or not 1 <= len(entries) <= MAX_ENTRIES:
            return _error("ValidationException", f"Entries must hold 1 to {MAX_ENTRIES} entries.")
        results = [self.put(entry) for entry in entries]
        failed = sum(1 for result in results if "ErrorCode" in result)
        return JSONResponse({"FailedEntryCount": failed, "Entries": results}, media_type=JSON_TYPE)

    def put(self, entry: Any) -> dict[str, str]:
        """One PutEvents entry: its result entry ({"EventId"} or {"ErrorCode", "ErrorMessage"}), and the deliveries
        of the event to every rule it matches."""
        if not isinstance(entry, dict):
            return {"ErrorCode": "InvalidArgument", "ErrorMessage": "An entry must be an object."}
        for name in ("Source", "DetailType", "Detail"):
            if not isinstance(entry.get(name), str) or not entry[name]:
                return {
                    "ErrorCode": "InvalidArgument",
                    "ErrorMessage": f"Parameter {name} is not valid. Reason: {name} is a required argument.",
                }
        try:
            detail = json.loads(entry["Detail"])
        except ValueError:
            detail = None
        if not isinstance(detail, dict):
            return {"ErrorCode": "MalformedDetail", "ErrorMessage": "Detail is malformed."}
        bus = _bus_name(entry.get("EventBusName"))
        if bus not in self.buses:
            return {"ErrorCode": "InvalidArgument", "ErrorMessage": f"Event bus {bus} does not exist."}
        event = events.eventbridge_event(
            entry["Source"],
            entry["DetailType"],
            detail,
            resources=[str(r) for r in entry.get("Resources") or []],
            time=_time(entry.get("Time")),
            event_id=str(uuid.uuid4()),
        )
        matched = [rule for rule in self.rules if rule.bus == bus and rule.matches(event)]
        names = ", ".join(f"{rule.name} -> {rule.function}" for rule in matched) or "no rule"
        self.report(f"EventBridge: {entry['Source']} / {entry['DetailType']} on {bus}: {names}")
        for rule in matched:
            threading.Thread(
                target=self._deliver, args=(rule, event), name=f"eventbridge-{rule.name}", daemon=True
            ).start()
        return {"EventId": event["id"]}

    def _deliver(self, rule: Rule, event: dict[str, Any]) -> None:
        try:
            result = self.deliver(rule.function, event)
        except Exception as error:  # an asynchronous target's failure never reaches the caller, as in AWS
            self.report(f"EventBridge: {rule.name} -> {rule.function} failed: {type(error).__name__}: {error}")
            return
        self.report(f"EventBridge: {rule.name} -> {rule.function}: {_summary(result)}")


def _time(value: Any) -> datetime | None:
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, UTC)
    if isinstance(value, str) and value:
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    return None


def _summary(result: Any) -> str:
    if not isinstance(result, dict):
        return "done"
    titles = result.get("titles") or {}
    parts = [str(result.get("status", "done"))]
    if titles:
        parts.append(f"{titles.get('new', 0)} new, {titles.get('updated', 0)} updated")
    if result.get("message"):
        parts.append(str(result["message"]))
    return "; ".join(parts)


def _error(code: str, message: str, status: int = 400) -> Response:
    return JSONResponse({"__type": code, "message": message}, status_code=status, media_type=JSON_TYPE)
