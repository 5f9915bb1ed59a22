"""Reads template.yaml for the one-machine stack: functions (handler, code, layers, environment, timeout, events)
and the REST API (routes of every function, authorizers, API keys, CORS, gateway responses), with SAM's Globals
merged and CloudFormation intrinsics resolved to local stand-ins.

Stand-ins: parameters take their overrides or defaults; `!Ref` of a function is its logical id, of a bucket its
BucketName or a local name, of anything else its logical id; `!GetAtt X.Arn` is an ARN in the local account
(123456789012, us-east-1); AWS::StackId holds a fixed local stack UUID. What cannot be known locally (a parameter
without default, `!ImportValue`) resolves to None, and an environment variable whose value is None is left out.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from marquee_local.events import ACCOUNT_ID, REGION

STACK_NAME = "marquee-local"
STACK_ID = f"arn:aws:cloudformation:{REGION}:{ACCOUNT_ID}:stack/{STACK_NAME}/4c0a1e2b-0000-4000-8000-00000000c0de"
IMPLICIT_API = "ServerlessRestApi"
PSEUDO = {
    "AWS::Region": REGION,
    "AWS::AccountId": ACCOUNT_ID,
    "AWS::StackName": STACK_NAME,
    "AWS::StackId": STACK_ID,
    "AWS::Partition": "aws",
    "AWS::URLSuffix": "amazonaws.com",
    "AWS::NotificationARNs": [],
}


class _NoValue:
    """AWS::NoValue: the property is removed."""


NO_VALUE = _NoValue()


@dataclass(frozen=True)
class FunctionSpec:
    """One AWS::Serverless::Function, Globals merged. `environment` holds the resolvable variables only."""

    name: str  # logical id
    handler: str  # module.attribute of the entry point
    code_uri: Path
    layers: tuple[Path, ...]  # ContentUri of the template's own layers, in order
    environment: dict[str, str]
    unresolved: tuple[str, ...]  # variables the template declares whose value cannot be known locally
    timeout_seconds: float
    memory_mb: int
    events: dict[str, dict[str, Any]]  # event name -> {"Type": ..., "Properties": {...}}, resolved


@dataclass(frozen=True)
class AuthorizerSpec:
    """A Lambda authorizer of the API (SAM's Auth.Authorizers entry)."""

    name: str
    function: str  # logical id of its function
    payload_type: str  # REQUEST | TOKEN
    identity_headers: tuple[str, ...] = ()  # REQUEST: all must be present; TOKEN: the one token header
    identity_query: tuple[str, ...] = ()
    validation_expression: str | None = None  # TOKEN only
    ttl_seconds: int = 300  # ReauthorizeEvery; 0 = no caching


@dataclass(frozen=True)
class RouteSpec:
    function: str  # logical id of the function
    handler: str  # module.attribute of its entry point
    path: str  # resource template, e.g. /movies/{id}
    method: str  # upper case; ANY for x-amazon-apigateway-any-method
    authorizer: str | None = None  # name in ApiSpec.authorizers; None = open
    api_key_required: bool = False

    @property
    def authorized(self) -> bool:
        return self.authorizer is not None


@dataclass(frozen=True)
class GatewayResponse:
    status: int | None
    headers: dict[str, str]
    template: str


@dataclass(frozen=True)
class CorsSpec:
    """SAM's Cors property, values unquoted. `methods` None = the methods of each path (SAM computes them)."""

    origin: str
    methods: str | None = None
    headers: str | None = None
    max_age: str | None = None
    credentials: bool = False
    with_authorizer: bool = True  # AddDefaultAuthorizerToCorsPreflight
    with_api_key: bool = True  # AddApiKeyRequiredToCorsPreflight


@dataclass(frozen=True)
class ApiSpec:
    name: str
    stage: str
    routes: list[RouteSpec]
    authorizers: dict[str, AuthorizerSpec]
    gateway_responses: dict[str, GatewayResponse]
    cors: CorsSpec | None
    api_key_source: str  # HEADER | AUTHORIZER
    api_keys: frozenset[str]  # values of enabled API keys in usage plans of this API
    default_authorizer: str | None
    functions: dict[str, FunctionSpec] = field(default_factory=dict)


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


def _normalise(value: Any) -> Any:
    """Long-form intrinsics ({"Fn::Sub": ...}, {"Ref": ...}) as the short-form tags."""
    if isinstance(value, dict):
        if len(value) == 1:
            ((key, inner),) = value.items()
            if key == "Ref":
                return _Tag("Ref", _normalise(inner))
            if isinstance(key, str) and key.startswith("Fn::"):
                return _Tag(key[4:], _normalise(inner))
        return {k: _normalise(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_normalise(v) for v in value]
    if isinstance(value, _Tag):
        return _Tag(value.tag, _normalise(value.value))
    return value


class Resolver:
    """Resolves CloudFormation intrinsics against parameters, pseudo parameters, conditions and local stand-ins."""

    def __init__(self, document: Mapping[str, Any], parameters: Mapping[str, str], stand_ins: Mapping[str, str]):
        self.resources: dict[str, Any] = document.get("Resources") or {}
        self.mappings: dict[str, Any] = document.get("Mappings") or {}
        self.conditions: dict[str, Any] = document.get("Conditions") or {}
        self.stand_ins = dict(stand_ins)
        self.parameters: dict[str, Any] = {}
        for name, spec in (document.get("Parameters") or {}).items():
            raw = parameters.get(name, spec.get("Default"))
            if raw is None:
                continue
            text = str(raw)
            self.parameters[name] = (
                [part.strip() for part in text.split(",")] if spec.get("Type") == "CommaDelimitedList" else text
            )
        self._condition_values: dict[str, bool] = {}

    def ref(self, name: str) -> Any:
        if name == "AWS::NoValue":
            return NO_VALUE
        if name in PSEUDO:
            return PSEUDO[name]
        if name in self.parameters:
            return self.parameters[name]
        if name in self.stand_ins:
            return self.stand_ins[name]
        logical, _, attribute = name.partition(".")
        resource = self.resources.get(logical)
        if resource is None:
            return None
        kind = resource.get("Type", "")
        if attribute == "Stage" and kind == "AWS::Serverless::Api":
            return self.resolve((resource.get("Properties") or {}).get("StageName"))
        if kind == "AWS::S3::Bucket":
            bucket = self.resolve((resource.get("Properties") or {}).get("BucketName"))
            return bucket if isinstance(bucket, str) else f"{STACK_NAME}-{logical.lower()}"
        return logical

    def get_att(self, logical: str, attribute: str) -> Any:
        if logical in self.stand_ins and attribute == "Arn":
            return self.stand_ins[logical]
        resource = self.resources.get(logical)
        if resource is None:
            return None
        kind = resource.get("Type", "")
        if attribute != "Arn":
            return f"{logical}.{attribute}"
        if kind in {"AWS::Serverless::Function", "AWS::Lambda::Function"}:
            return f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{logical}"
        if kind == "AWS::S3::Bucket":
            return f"arn:aws:s3:::{self.ref(logical)}"
        return f"arn:aws:local:{REGION}:{ACCOUNT_ID}:{logical}"

    def condition(self, name: str) -> bool:
        if name not in self._condition_values:
            self._condition_values[name] = bool(self.resolve(self.conditions.get(name, False)))
        return self._condition_values[name]

    def _sub(self, text: str, variables: Mapping[str, Any]) -> str | None:
        out: list[str] = []
        position = 0
        while True:
            start = text.find("${", position)
            if start < 0:
                out.append(text[position:])
                return "".join(out)
            end = text.find("}", start)
            if end < 0:
                out.append(text[position:])
                return "".join(out)
            out.append(text[position:start])
            name = text[start + 2 : end]
            position = end + 1
            if name.startswith("!"):
                out.append("${" + name[1:] + "}")
                continue
            if name in variables:
                value = self.resolve(variables[name])
            elif "." in name and name.split(".", 1)[0] in self.resources:
                value = self.get_att(*name.split(".", 1))
            else:
                value = self.ref(name)
            if value is None or value is NO_VALUE:
                return None
            out.append(str(value))

    def resolve(self, value: Any) -> Any:
        """The local value of a template fragment: dicts and lists resolved deeply, NO_VALUE entries removed."""
        if isinstance(value, dict):
            resolved = {k: self.resolve(v) for k, v in value.items()}
            return {k: v for k, v in resolved.items() if v is not NO_VALUE}
        if isinstance(value, list):
            return [r for r in (self.resolve(v) for v in value) if r is not NO_VALUE]
        if not isinstance(value, _Tag):
            return value
        tag, arg = value.tag, value.value
        if tag == "Ref":
            return self.ref(str(self.resolve(arg)))
        if tag == "GetAtt":
            target = arg.split(".", 1) if isinstance(arg, str) else [str(self.resolve(a)) for a in arg]
            return self.get_att(target[0], target[1]) if len(target) == 2 else None
        if tag == "Sub":
            if isinstance(arg, list):
                template, variables = arg[0], arg[1] if len(arg) > 1 else {}
            else:
                template, variables = arg, {}
            return self._sub(str(template), variables)
        if tag == "Join":
            delimiter, items = arg
            parts = self.resolve(items)
            if not isinstance(parts, list) or any(p is None for p in parts):
                return None
            return str(delimiter).join(str(p) for p in parts)
        if tag == "Select":
            index, items = self.resolve(arg[0]), self.resolve(arg[1])
            return items[int(index)] if isinstance(items, list) and items is not None else None
        if tag == "Split":
            delimiter, text = arg[0], self.resolve(arg[1])
            return None if text is None else str(text).split(str(delimiter))
        if tag == "If":
            name, when_true, when_false = arg
            return self.resolve(when_true if self.condition(str(name)) else when_false)
        if tag == "Equals":
            left, right = (self.resolve(a) for a in arg)
            return left == right
        if tag == "Not":
            return not self.resolve(arg[0])
        if tag == "And":
            return all(self.resolve(a) for a in arg)
        if tag == "Or":
            return any(self.resolve(a) for a in arg)
        if tag == "Condition":
            return self.condition(str(arg))
        if tag == "FindInMap":
            names = [self.resolve(a) for a in arg]
            found: Any = self.mappings
            for name in names:
                found = found.get(name) if isinstance(found, dict) else None
            return found
        if tag == "Base64":
            text = self.resolve(arg)
            return None if text is None else base64.b64encode(str(text).encode()).decode()
        if tag == "GetAZs":
            return [f"{REGION}a", f"{REGION}b"]
        return None  # ImportValue, Cidr, Transform...: not knowable locally


def _merge(globals_: Any, own: Any) -> Any:
    """SAM's Globals rule: maps merge (the resource wins), lists concatenate (globals first), scalars override."""
    if isinstance(globals_, dict) and isinstance(own, dict):
        merged = dict(globals_)
        for key, value in own.items():
            merged[key] = _merge(globals_[key], value) if key in globals_ else value
        return merged
    if isinstance(globals_, list) and isinstance(own, list):
        return globals_ + own
    return own


def _unquote(value: Any) -> str | None:
    """Gateway header values and Cors fields are quoted static strings: "'application/problem+json'"."""
    if value is None:
        return None
    text = str(value)
    return text[1:-1] if len(text) >= 2 and text[0] == text[-1] == "'" else text


@dataclass
class Template:
    """A loaded template: its resolver, resources and functions."""

    path: Path
    document: dict[str, Any]
    resolver: Resolver
    functions: dict[str, FunctionSpec]

    @property
    def resources(self) -> dict[str, Any]:
        return self.resolver.resources

    def function_for_arn(self, arn: Any) -> str | None:
        """The logical id of a function of this template from its (stand-in) ARN or name."""
        if not isinstance(arn, str):
            return None
        name = arn.rsplit(":function:", 1)[-1].split(":", 1)[0]
        return name if name in self.functions else None


def load_template(
    template_path: Path, parameters: Mapping[str, str] | None = None, *, stand_ins: Mapping[str, str] | None = None
) -> Template:
    """Read and resolve a SAM template. `parameters` override the Parameters' defaults (all values strings)."""
    document = _normalise(yaml.load(template_path.read_text(), Loader=_TemplateLoader))  # noqa: S506 - SafeLoader
    resolver = Resolver(document, parameters or {}, stand_ins or {})
    base = template_path.parent
    function_globals = ((document.get("Globals") or {}).get("Function")) or {}
    functions: dict[str, FunctionSpec] = {}
    for name, resource in resolver.resources.items():
        if resource.get("Type") != "AWS::Serverless::Function":
            continue
        props = resolver.resolve(_merge(function_globals, resource.get("Properties") or {}))
        layers: list[Path] = []
        for layer in props.get("Layers") or []:
            layer_resource = resolver.resources.get(str(layer))
            if layer_resource and layer_resource.get("Type") in {
                "AWS::Serverless::LayerVersion",
                "AWS::Lambda::LayerVersion",
            }:
                content = resolver.resolve((layer_resource.get("Properties") or {}).get("ContentUri"))
                if isinstance(content, str):
                    layers.append((base / content).resolve())
        variables = (props.get("Environment") or {}).get("Variables") or {}
        functions[name] = FunctionSpec(
            name=name,
            handler=str(props["Handler"]),
            code_uri=(base / str(props.get("CodeUri") or ".")).resolve(),
            layers=tuple(layers),
            environment={k: str(v) for k, v in variables.items() if v is not None and not isinstance(v, list | dict)},
            unresolved=tuple(k for k, v in variables.items() if v is None),
            timeout_seconds=float(props.get("Timeout") or 3),
            memory_mb=int(props.get("MemorySize") or 128),
            events=dict(props.get("Events") or {}),
        )
    return Template(template_path, document, resolver, functions)


def _authorizers(template: Template, auth: Mapping[str, Any]) -> dict[str, AuthorizerSpec]:
    found: dict[str, AuthorizerSpec] = {}
    for name, spec in (auth.get("Authorizers") or {}).items():
        function = template.function_for_arn(spec.get("FunctionArn"))
        if function is None:
            raise ValueError(
                f"authorizer {name}: FunctionArn must be !GetAtt <Function>.Arn of a function in this template "
                "(Cognito and external authorizers are not emulated)"
            )
        identity = spec.get("Identity") or {}
        payload = str(spec.get("FunctionPayloadType") or "TOKEN").upper()
        if payload == "TOKEN":
            headers: tuple[str, ...] = (str(identity.get("Header") or "Authorization"),)
            query: tuple[str, ...] = ()
        else:
            headers = tuple(str(h) for h in identity.get("Headers") or [])
            query = tuple(str(q) for q in identity.get("QueryStrings") or [])
        found[name] = AuthorizerSpec(
            name=name,
            function=function,
            payload_type=payload,
            identity_headers=headers,
            identity_query=query,
            validation_expression=identity.get("ValidationExpression"),
            ttl_seconds=int(identity.get("ReauthorizeEvery", 300)),
        )
    return found


def _api_keys(template: Template, api_name: str) -> frozenset[str]:
    """Values of enabled AWS::ApiGateway::ApiKey resources attached (UsagePlanKey) to a usage plan of this API."""
    resources, resolve = template.resources, template.resolver.resolve
    plans = {
        name
        for name, r in resources.items()
        if r.get("Type") == "AWS::ApiGateway::UsagePlan"
        and any(
            resolve(s.get("ApiId")) == api_name for s in resolve((r.get("Properties") or {}).get("ApiStages") or [])
        )
    }
    keys: set[str] = set()
    for resource in resources.values():
        if resource.get("Type") != "AWS::ApiGateway::UsagePlanKey":
            continue
        props = resolve(resource.get("Properties") or {})
        if props.get("UsagePlanId") not in plans:
            continue
        key = resources.get(str(props.get("KeyId")), {})
        key_props = resolve(key.get("Properties") or {})
        if key_props.get("Enabled", True) in {True, "true", "True"} and isinstance(key_props.get("Value"), str):
            keys.add(key_props["Value"])
    return frozenset(keys)


def _cors(raw: Any, auth: Mapping[str, Any]) -> CorsSpec | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raw = {"AllowOrigin": raw}
    return CorsSpec(
        origin=_unquote(raw.get("AllowOrigin")) or "*",
        methods=_unquote(raw.get("AllowMethods")),
        headers=_unquote(raw.get("AllowHeaders")),
        max_age=_unquote(raw.get("MaxAge")),
        credentials=bool(raw.get("AllowCredentials")),
        with_authorizer=bool(auth.get("AddDefaultAuthorizerToCorsPreflight", True)),
        with_api_key=bool(auth.get("AddApiKeyRequiredToCorsPreflight", True)),
    )


def api_spec(template: Template, api: str | None = None) -> ApiSpec:
    """The REST API `api` (logical id; default: the template's only one, explicit or SAM's implicit one) with the
    Api events of every function. ValueError when the choice is ambiguous or an authorizer cannot be emulated."""
    resources, resolve = template.resources, template.resolver.resolve
    explicit = [n for n, r in resources.items() if r.get("Type") == "AWS::Serverless::Api"]
    implicit = any(
        e.get("Type") == "Api" and not (e.get("Properties") or {}).get("RestApiId")
        for f in template.functions.values()
        for e in f.events.values()
    )
    names = explicit + ([IMPLICIT_API] if implicit else [])
    if api is None:
        if len(names) != 1:
            raise ValueError(f"expected one REST API in {template.path}, found {sorted(names)}: name one")
        api = names[0]
    api_globals = ((template.document.get("Globals") or {}).get("Api")) or {}
    own = (resources.get(api) or {}).get("Properties") or {}
    props = resolve(_merge(api_globals, own))
    auth = props.get("Auth") or {}
    authorizers = _authorizers(template, auth)
    default_authorizer = auth.get("DefaultAuthorizer")
    if default_authorizer is not None and default_authorizer not in authorizers:
        raise ValueError(f"DefaultAuthorizer {default_authorizer!r} is not one of {sorted(authorizers)}")
    api_key_default = bool(auth.get("ApiKeyRequired", False))
    routes: list[RouteSpec] = []
    for function in template.functions.values():
        for event_name, event in function.events.items():
            if event.get("Type") != "Api":
                continue
            event_props = event.get("Properties") or {}
            if (event_props.get("RestApiId") or IMPLICIT_API) != api:
                continue
            event_auth = event_props.get("Auth") or {}
            authorizer = event_auth.get("Authorizer", default_authorizer)
            if authorizer == "NONE":
                authorizer = None
            elif authorizer is not None and authorizer not in authorizers:
                raise ValueError(f"{function.name}.{event_name}: authorizer {authorizer!r} cannot be emulated")
            method = str(event_props["Method"]).upper()
            routes.append(
                RouteSpec(
                    function=function.name,
                    handler=function.handler,
                    path=str(event_props["Path"]),
                    method="ANY" if method in {"ANY", "X-AMAZON-APIGATEWAY-ANY-METHOD"} else method,
                    authorizer=authorizer,
                    api_key_required=bool(event_auth.get("ApiKeyRequired", api_key_default)),
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
        for kind, spec in (props.get("GatewayResponses") or {}).items()
    }
    return ApiSpec(
        name=api,
        stage=str(props.get("StageName") or "Prod"),
        routes=routes,
        authorizers=authorizers,
        gateway_responses=responses,
        cors=_cors(props.get("Cors"), auth),
        api_key_source=str(props.get("ApiKeySourceType") or "HEADER").upper(),
        api_keys=_api_keys(template, api),
        default_authorizer=default_authorizer,
        functions=template.functions,
    )


def load_api_spec(
    template_path: Path, parameters: Mapping[str, str] | None = None, *, api: str | None = None
) -> ApiSpec:
    """`api_spec(load_template(template_path, parameters), api)`."""
    return api_spec(load_template(template_path, parameters), api)
