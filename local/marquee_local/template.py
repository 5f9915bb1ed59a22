"""Reads what the local gateway needs from template.yaml: routes, their functions, the authorizer, CORS and
gateway responses. CloudFormation tags are resolved only as far as local values allow (!Ref, !Sub of
parameters); anything else reads as None."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml


@dataclass(frozen=True)
class RouteSpec:
    function: str  # logical id of the function
    handler: str  # module.attribute of its entry point
    path: str  # e.g. /movies/{id}
    method: str  # upper case
    authorized: bool


@dataclass(frozen=True)
class GatewayResponse:
    status: int | None
    headers: dict[str, str]
    template: str


@dataclass(frozen=True)
class ApiSpec:
    routes: list[RouteSpec]
    authorizer_handler: str | None
    gateway_responses: dict[str, GatewayResponse]
    cors: dict[str, str] = field(default_factory=dict)
    function_env: dict[str, dict[str, str]] = field(default_factory=dict)


class _Tag:
    def __init__(self, tag: str, value: Any) -> None:
        self.tag, self.value = tag, value


class _TemplateLoader(yaml.SafeLoader):
    pass


def _construct_tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> _Tag:
    if isinstance(node, yaml.ScalarNode):
        return _Tag(suffix, loader.construct_scalar(node))
    if isinstance(node, yaml.SequenceNode):
        return _Tag(suffix, loader.construct_sequence(node, deep=True))
    return _Tag(suffix, loader.construct_mapping(node, deep=True))  # type: ignore[arg-type]


_TemplateLoader.add_multi_constructor("!", _construct_tag)


def _resolve(value: Any, parameters: dict[str, str]) -> Any:
    if isinstance(value, _Tag):
        if value.tag == "Ref" and isinstance(value.value, str):
            return parameters.get(value.value)
        if value.tag == "Sub" and isinstance(value.value, str):
            missing = False

            def substitute(match: re.Match[str]) -> str:
                nonlocal missing
                if match.group(1) in parameters:
                    return parameters[match.group(1)]
                missing = True
                return ""

            text = re.sub(r"\$\{([A-Za-z0-9:.]+)\}", substitute, value.value)
            return None if missing else text
        return None
    if isinstance(value, dict):
        return {k: _resolve(v, parameters) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve(v, parameters) for v in value]
    return value


def _unquote(value: str | None) -> str | None:
    """Gateway header values are quoted static strings: "'application/problem+json'"."""
    if value is None:
        return None
    return value[1:-1] if len(value) >= 2 and value[0] == value[-1] == "'" else value


def load_api_spec(template_path: Path, parameters: dict[str, str]) -> ApiSpec:
    document = yaml.load(template_path.read_text(), Loader=_TemplateLoader)  # noqa: S506 - SafeLoader subclass
    defaults = {
        name: str(spec.get("Default"))
        for name, spec in (document.get("Parameters") or {}).items()
        if spec.get("Default") is not None
    }
    resources: dict[str, Any] = _resolve(document.get("Resources", {}), {**defaults, **parameters})
    apis = {name: r for name, r in resources.items() if r.get("Type") == "AWS::Serverless::Api"}
    if len(apis) != 1:
        raise ValueError(f"expected one AWS::Serverless::Api in {template_path}, found {sorted(apis)}")
    api = next(iter(apis.values()))["Properties"]
    auth = api.get("Auth") or {}
    default_authorizer = auth.get("DefaultAuthorizer")
    authorizer_handler = None
    if default_authorizer:
        authorizer_fn = (auth.get("Authorizers") or {})[default_authorizer].get("FunctionArn")
        # FunctionArn is !GetAtt <Function>.Arn, unresolvable locally: find the function by the authorizer name.
        candidates = [n for n in resources if n.startswith(default_authorizer) and n.endswith("Function")]
        name = candidates[0] if candidates else authorizer_fn
        authorizer_handler = resources[name]["Properties"]["Handler"]

    routes: list[RouteSpec] = []
    function_env: dict[str, dict[str, str]] = {}
    for name, resource in resources.items():
        if resource.get("Type") != "AWS::Serverless::Function":
            continue
        props = resource.get("Properties") or {}
        function_env[name] = {
            k: str(v) for k, v in ((props.get("Environment") or {}).get("Variables") or {}).items() if v is not None
        }
        for event in (props.get("Events") or {}).values():
            if event.get("Type") != "Api":
                continue
            event_props = event["Properties"]
            event_auth = (event_props.get("Auth") or {}).get("Authorizer", default_authorizer)
            routes.append(
                RouteSpec(
                    function=name,
                    handler=props["Handler"],
                    path=event_props["Path"],
                    method=str(event_props["Method"]).upper(),
                    authorized=bool(event_auth) and event_auth != "NONE",
                )
            )
    responses = {
        kind: GatewayResponse(
            status=int(spec["StatusCode"]) if spec.get("StatusCode") else None,
            headers={
                k: v
                for k, raw in ((spec.get("ResponseParameters") or {}).get("Headers") or {}).items()
                if (v := _unquote(raw)) is not None
            },
            template=(spec.get("ResponseTemplates") or {}).get("application/json", ""),
        )
        for kind, spec in (api.get("GatewayResponses") or {}).items()
    }
    cors = {k: v for k, raw in (api.get("Cors") or {}).items() if (v := _unquote(str(raw))) is not None}
    return ApiSpec(routes, authorizer_handler, responses, cors, function_env)
