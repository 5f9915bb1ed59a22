"""template.yaml against the code: every HTTP route declared as API Gateway needs it (GET with HEAD, ANY for
405s), gateway responses that agree with movie_common.problems, environment variables that something reads, and
every deployable wired everywhere it must be."""

from __future__ import annotations

import importlib
import json
import re
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from movie_common.problems import PROBLEM_TYPE_BASE, problem_table
from movie_web.middleware import EXPOSED_HEADERS
from movie_web.problems import _flat_routes

REPO = Path(__file__).resolve().parents[1]


class _Tag:
    def __init__(self, tag: str, value: Any) -> None:
        self.tag, self.value = tag, value


class _Loader(yaml.SafeLoader):
    pass


def _construct(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> _Tag:
    if isinstance(node, yaml.ScalarNode):
        return _Tag(suffix, loader.construct_scalar(node))
    if isinstance(node, yaml.SequenceNode):
        return _Tag(suffix, loader.construct_sequence(node, deep=True))
    return _Tag(suffix, loader.construct_mapping(node, deep=True))  # type: ignore[arg-type]


_Loader.add_multi_constructor("!", _construct)
TEMPLATE: dict[str, Any] = yaml.load((REPO / "template.yaml").read_text(), Loader=_Loader)  # noqa: S506
RESOURCES: dict[str, Any] = TEMPLATE["Resources"]
FUNCTIONS = {name: r["Properties"] for name, r in RESOURCES.items() if r["Type"] == "AWS::Serverless::Function"}
API = next(r["Properties"] for r in RESOURCES.values() if r["Type"] == "AWS::Serverless::Api")
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())


def _api_events(props: dict[str, Any]) -> list[dict[str, Any]]:
    return [e["Properties"] for e in (props.get("Events") or {}).values() if e["Type"] == "Api"]


def _auth(event: dict[str, Any]) -> tuple[str, bool]:
    auth = event.get("Auth") or {}
    default = API["Auth"]
    return str(auth.get("Authorizer", default.get("DefaultAuthorizer"))), bool(
        auth.get("ApiKeyRequired", default.get("ApiKeyRequired", False))
    )


HTTP_FUNCTIONS = sorted(name for name, props in FUNCTIONS.items() if _api_events(props))


def _greedy_prefix(path: str) -> str | None:
    """`/admin/` for `/admin/{proxy+}`: a greedy resource forwards every path under it, with every method."""
    return path[: -len("{proxy+}")] if path.endswith("/{proxy+}") else None


@pytest.mark.parametrize("function", HTTP_FUNCTIONS)
def test_every_route_of_the_app_is_declared_with_head_and_any(function: str) -> None:
    """Each route is declared (GET with HEAD, and ANY so the function answers 405), or lies under a greedy
    `ANY {prefix}/{proxy+}` with no authorizer and no key, which forwards every method of every path under it (the
    admin API: per-route events would overflow Lambda's 20 KB resource policy, and the function checks sessions)."""
    props = FUNCTIONS[function]
    module = importlib.import_module(props["Handler"].rpartition(".")[0])
    app = module.app  # convention: an HTTP function's handler module exposes its FastAPI app as `app`
    app_routes = {(m, r.path) for r in _flat_routes(app.routes) for m in (r.methods or set())}
    events = _api_events(props)
    greedy = [e for e in events if _greedy_prefix(e["Path"])]
    for event in greedy:
        assert str(event["Method"]).upper() == "ANY" and _auth(event) == ("NONE", False), event["Path"]
    prefixes = [_greedy_prefix(e["Path"]) or "" for e in greedy]
    uncovered = {r for r in app_routes if r[0] != "HEAD" and not any(r[1].startswith(p) for p in prefixes)}
    declared = {(str(e["Method"]).upper(), e["Path"]): e for e in events if not _greedy_prefix(e["Path"])}
    assert {key for key in declared if key[0] not in ("HEAD", "ANY")} == uncovered
    for path in {p for _, p in declared}:
        any_event = declared.get(("ANY", path))
        assert any_event is not None, f"{path}: no ANY event, so a wrong method is a 404 at the gateway, not a 405"
        assert _auth(any_event) == ("NONE", False), f"{path}: ANY must reach the function to answer 405"
        if ("GET", path) in declared:
            head = declared.get(("HEAD", path))
            assert head is not None, f"{path}: GET without HEAD"
            assert _auth(head) == _auth(declared[("GET", path)]), f"{path}: HEAD must be authorised like GET"


def _render(template: str, values: dict[str, str]) -> dict[str, Any]:
    def lookup(match: re.Match[str]) -> str:
        return values[match.group(1)]

    rendered: dict[str, Any] = json.loads(re.sub(r"\$context\.([A-Za-z0-9_.]*[A-Za-z0-9_])", lookup, template))
    return rendered


@pytest.mark.parametrize("kind", sorted(API["GatewayResponses"]))
def test_gateway_responses_agree_with_the_problem_table_and_are_json_for_any_path(kind: str) -> None:
    spec = API["GatewayResponses"][kind]
    template = spec["ResponseTemplates"]["application/json"]
    table = problem_table()
    deny_codes = ["malformed_api_key", "invalid_api_key", "key_suspended", "key_revoked", "key_expired"]
    deny_codes += ["repeated_api_key_header", "conflicting_api_keys"]
    for code in deny_codes if "$context.authorizer.code" in template else [None]:
        values = {
            "requestId": "c0ffee00-0000-4000-8000-000000000000",
            "error.messageString": json.dumps('Invalid request body "x"'),
            "error.responseType": kind,
            "path": '/nope"x\\',  # must not appear: a raw client path would break the JSON
        }
        if code is not None:
            values |= {"authorizer.code": code, "authorizer.title": table[code][1], "authorizer.detail": "d"}
        body = _render(template, values)
        assert "$context.path" not in template
        status, title = table[body["code"]]
        assert body["type"] == PROBLEM_TYPE_BASE + body["code"]
        assert body["title"] == title
        if "StatusCode" in spec:
            assert int(spec["StatusCode"]) == status == body["status"]
        assert body["request_id"] == values["requestId"]


@pytest.mark.parametrize("kind", sorted(k for k, v in API["GatewayResponses"].items() if "StatusCode" in v))
def test_gateway_responses_have_every_field_the_openapi_problem_schema_requires(kind: str) -> None:
    """The API's /openapi.json declares the Problem schema for its 401, 403, 429 and 504 answers, which API Gateway
    sends from these templates: a client validating against the document must not find a required field missing.
    (The two defaults, which keep whatever status API Gateway chose, answer statuses the document does not list.)"""
    from movie_api.handler import app

    problem = app.openapi()["components"]["schemas"]["Problem"]
    template = API["GatewayResponses"][kind]["ResponseTemplates"]["application/json"]
    body = json.loads(re.sub(r"\$context\.[A-Za-z0-9_.]*[A-Za-z0-9_]", "x", template))
    assert set(problem["required"]) <= set(body), kind
    assert set(body) <= set(problem["properties"]), kind


@pytest.mark.parametrize("kind", sorted(API["GatewayResponses"]))
def test_gateway_responses_expose_the_headers_the_functions_expose(kind: str) -> None:
    """Browser code reads a response's headers only if it exposes them: API Gateway's own answers (the authorizer's
    401 and 403 among them) must expose exactly what the functions' responses do."""
    headers = API["GatewayResponses"][kind]["ResponseParameters"]["Headers"]
    assert headers["Access-Control-Expose-Headers"] == f"'{EXPOSED_HEADERS}'"
    assert "Access-Control-Allow-Origin" in headers


def test_every_refusal_the_authorizer_denies_with_is_a_403_like_the_gateways() -> None:
    table = problem_table()
    for code in ("malformed_api_key", "invalid_api_key", "key_suspended", "key_revoked", "key_expired"):
        assert table[code][0] == 403
    assert table["repeated_api_key_header"][0] == table["conflicting_api_keys"][0] == 403


# Variables read by a library rather than by our code, and the package that reads them.
_LIBRARY_VARIABLES = {"POWERTOOLS_LOG_LEVEL": "aws_lambda_powertools"}


def _sources(*folders: Path) -> str:
    return "\n".join(p.read_text() for folder in folders for p in folder.rglob("*.py"))


@pytest.mark.parametrize("function", sorted(FUNCTIONS))
def test_every_environment_variable_is_read_by_something(function: str) -> None:
    props = FUNCTIONS[function]
    variables = {
        **TEMPLATE["Globals"]["Function"]["Environment"]["Variables"],
        **((props.get("Environment") or {}).get("Variables") or {}),
    }
    code = _sources(REPO / props["CodeUri"], REPO / "layers/common/src", REPO / "layers/web/src")
    for name in variables:
        if name in _LIBRARY_VARIABLES:
            package = importlib.import_module(_LIBRARY_VARIABLES[name])
            assert name in _sources(Path(package.__file__ or "").parent), name
        else:
            assert f'"{name}"' in code, f"{function}: nothing reads {name}"


def _function_folders() -> list[Path]:
    return sorted(p for p in (REPO / "functions").iterdir() if (p / "src").is_dir())


def test_every_deployable_is_wired_everywhere() -> None:
    """A function folder or layer that the template, the package list, pytest, mypy or ruff misses is a deployable
    that ships untested, untyped or not at all."""
    setuptools_where = PYPROJECT["tool"]["setuptools"]["packages"]["find"]["where"]
    pytest_options = PYPROJECT["tool"]["pytest"]["ini_options"]
    mypy = PYPROJECT["tool"]["mypy"]
    first_party = PYPROJECT["tool"]["ruff"]["lint"]["isort"]["known-first-party"]
    code_uris = {props["CodeUri"] for props in FUNCTIONS.values()}
    layer_uris = {
        r["Properties"]["ContentUri"] for r in RESOURCES.values() if r["Type"] == "AWS::Serverless::LayerVersion"
    }
    folders = [*_function_folders(), *sorted((REPO / "layers").iterdir())]
    assert {f"functions/{p.name}/src" for p in _function_folders()} == code_uris
    assert {f"layers/{p.name}/src" for p in (REPO / "layers").iterdir()} == layer_uris
    for folder in folders:
        src = f"{folder.relative_to(REPO)}/src"
        [package] = [p.name for p in (folder / "src").iterdir() if p.is_dir() and p.name.startswith("movie_")]
        assert (folder / "src" / "requirements.txt").is_file(), src
        assert (folder / "src" / package / "py.typed").is_file(), src
        assert src in setuptools_where and src in pytest_options["pythonpath"], src
        assert src in mypy["mypy_path"].split(":") and src in mypy["files"], src
        assert package in first_party, package
        if (folder / "tests").is_dir():
            assert f"{folder.relative_to(REPO)}/tests" in pytest_options["testpaths"], folder


def test_every_handler_in_the_template_imports() -> None:
    for name, props in FUNCTIONS.items():
        module, _, attribute = props["Handler"].rpartition(".")
        assert callable(getattr(importlib.import_module(module), attribute)), name


def _requirements(path: Path) -> set[str]:
    names = set()
    for line in path.read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            names.add(re.split(r"[\[=<>~ ]", line, maxsplit=1)[0].lower())
    return names


def test_no_distribution_is_listed_in_both_a_layer_and_a_function() -> None:
    layers = set().union(*(_requirements(p) for p in (REPO / "layers").glob("*/src/requirements.txt")))
    for folder in _function_folders():
        both = _requirements(folder / "src" / "requirements.txt") & layers
        assert not both, f"{folder.name} also lists {both}, which a layer ships"


def test_per_key_flood_protection_is_an_optional_waf_rate_rule_on_the_key_headers() -> None:
    params = TEMPLATE["Parameters"]
    assert params["KeyFloodLimit"]["Default"] == 0  # off unless asked for
    assert set(params["KeyFloodWindowSeconds"]["AllowedValues"]) == {60, 120, 300, 600}
    condition = TEMPLATE["Conditions"]["KeyFloodProtection"]
    assert condition.tag == "Not" and condition.value[0].tag == "Equals"
    acl = RESOURCES["KeyFloodWebAcl"]
    association = RESOURCES["KeyFloodWebAclAssociation"]
    assert acl["Type"] == "AWS::WAFv2::WebACL" and association["Type"] == "AWS::WAFv2::WebACLAssociation"
    assert acl["Condition"] == association["Condition"] == "KeyFloodProtection"
    assert acl["Properties"]["Scope"] == "REGIONAL"
    headers = set()
    for rule in acl["Properties"]["Rules"]:
        statement = rule["Statement"]["RateBasedStatement"]
        assert statement["Limit"].value == "KeyFloodLimit"
        assert statement["EvaluationWindowSec"].value == "KeyFloodWindowSeconds"
        assert statement["AggregateKeyType"] == "CUSTOM_KEYS"
        [custom_key] = statement["CustomKeys"]
        headers.add(custom_key["Header"]["Name"])
        response = rule["Action"]["Block"]["CustomResponse"]
        assert response["ResponseCode"] == 429
        body = acl["Properties"]["CustomResponseBodies"][response["CustomResponseBodyKey"]]
        assert json.loads(body["Content"])["code"] == "rate_limited"
        # A browser reads the 429 (and its Retry-After) only if it carries the CORS headers the gateway's own do.
        sent = {h["Name"]: h["Value"] for h in response["ResponseHeaders"]}
        assert sent["Access-Control-Expose-Headers"] == EXPOSED_HEADERS
        origin = API["GatewayResponses"]["THROTTLED"]["ResponseParameters"]["Headers"]["Access-Control-Allow-Origin"]
        assert json.dumps(sent["Access-Control-Allow-Origin"], default=vars) == json.dumps(
            origin.value[1]["Origin"], default=vars
        )
    assert headers == {"x-api-key", "authorization"}  # every way a key is sent (movie_common.access.read_key)
    # Associated with the API's stage: the ARN ends in the stage of MarqueeApi.
    arn = association["Properties"]["ResourceArn"]
    assert arn.tag == "Join" and "/restapis/${MarqueeApi}/stages/" in arn.value[1][0].value
    assert arn.value[1][1].value == "MarqueeApi.Stage"


def test_every_route_that_needs_no_key_has_a_gateway_throttle_of_its_own() -> None:
    # Keyed routes are bounded by their usage plan; the portal's and the admin's routes need no key, so without a
    # throttle of their own a flood of sign-ups or logins reached Lambda and PostgreSQL at any rate (tenth tester).
    settings = RESOURCES["MarqueeApi"]["Properties"]["MethodSettings"]
    throttled = {
        entry["ResourcePath"]: (entry["ThrottlingRateLimit"].value, entry["ThrottlingBurstLimit"].value)
        for entry in settings
        if "ThrottlingRateLimit" in entry
    }
    expected = {
        "AuthFunction": ("PortalRateLimit", "PortalBurstLimit"),
        "AdminFunction": ("AdminRateLimit", "AdminBurstLimit"),
    }
    for function, limits in expected.items():
        events = RESOURCES[function]["Properties"]["Events"].values()
        paths = {event["Properties"]["Path"] for event in events if event["Type"] == "Api"}
        assert paths
        for path in paths:
            assert throttled.get("/" + path.replace("/", "~1")) == limits, path  # CloudFormation: / as ~1
    assert all(entry["MetricsEnabled"] for entry in settings)
    for name in ("PortalRateLimit", "PortalBurstLimit", "AdminRateLimit", "AdminBurstLimit"):
        assert TEMPLATE["Parameters"][name]["Type"] == "Number" and TEMPLATE["Parameters"][name]["MinValue"] == 1


# Methods a request can reach an ANY method with (OPTIONS is the CORS preflight's own mock method, no function).
_SENT_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")


def test_every_method_a_request_reaches_a_function_with_without_a_key_is_throttled_at_the_gateway() -> None:
    """Whatever reaches a function without a key meets no usage plan: unthrottled, anyone could send the account's
    whole API Gateway rate (10,000/s) to it, spending Lambda's account-wide concurrency (the authorizer and every
    other function starve) and, for /health, one PostgreSQL connection per new environment. That held for the API's
    /health, /openapi.json and /docs routes and for the ANY twin (405) of every keyed route (eighteenth tester).
    API Gateway keys an ANY method's settings by the method sent, so each such method needs a setting of its own
    (or the path a "*" one); a "*" on a keyed path would cap the keyed GET of every tier together."""
    throttled = {
        (entry["ResourcePath"], entry["HttpMethod"])
        for entry in API["MethodSettings"]
        if "ThrottlingRateLimit" in entry and "ThrottlingBurstLimit" in entry
    }
    unthrottled = []
    for function in HTTP_FUNCTIONS:
        events = _api_events(FUNCTIONS[function])
        declared = {(str(e["Method"]).upper(), e["Path"]) for e in events}
        for event in events:
            if _auth(event) != ("NONE", False):
                continue
            method, path = str(event["Method"]).upper(), event["Path"]
            methods = [m for m in _SENT_METHODS if (m, path) not in declared] if method == "ANY" else [method]
            resource = "/" + path.replace("/", "~1")
            unthrottled += [(m, path) for m in methods if not {(resource, m), (resource, "*")} & throttled]
    assert not unthrottled, f"reach a function without a key and without a gateway throttle: {unthrottled}"
    resources = {"/" + e["Path"].replace("/", "~1") for f in HTTP_FUNCTIONS for e in _api_events(FUNCTIONS[f])}
    for entry in API["MethodSettings"]:  # a misspelt path or method is a setting that throttles nothing
        assert entry["ResourcePath"] in resources | {"/*"}, entry["ResourcePath"]
        assert entry["HttpMethod"] in (*_SENT_METHODS, "*"), entry["HttpMethod"]
    keyed_get = {(e["Path"]) for f in HTTP_FUNCTIONS for e in _api_events(FUNCTIONS[f]) if _auth(e)[1]}
    for path in keyed_get:
        assert ("/" + path.replace("/", "~1"), "*") not in throttled, f"{path}: caps every tier's GET"
    for name in ("PublicRateLimit", "PublicBurstLimit"):
        assert TEMPLATE["Parameters"][name]["Type"] == "Number" and TEMPLATE["Parameters"][name]["MinValue"] == 1


# Functions with no event of their own: what stands in for them on one machine, and why that is the same code.
_LOCAL_COUNTERPARTS = {
    "KeyAuthorizerFunction": "the local gateway calls each route's authorizer from the template's Auth",
    "MigrationFunction": "marquee run migrates with movie_common.migrations.migrate, the custom resource's work",
    "AdminSetupFunction": "marquee create-admin makes the first admin with the setup's service",
}


def test_every_function_runs_in_the_local_stack() -> None:
    """A function the one-machine stack never runs is one whose bugs only show deployed: HTTP functions are served
    by the local gateway (tests/test_gateway.py checks their routes), each S3 or Schedule event has a service of
    `marquee run` invoking that function, and the rest name their local counterpart."""
    from marquee_local import cli

    invoked_by_service = {
        getattr(module, "FUNCTION", None) for module in cli._modules(cli.SERVICE_MODULES) if hasattr(module, "service")
    }
    authorizers = {a["FunctionArn"].value.split(".")[0] for a in API["Auth"]["Authorizers"].values()}
    for name, props in FUNCTIONS.items():
        kinds = {event["Type"] for event in (props.get("Events") or {}).values()}
        if "Api" in kinds:
            continue
        if kinds & {"S3", "Schedule", "ScheduleV2", "EventBridgeRule"}:
            assert name in invoked_by_service, f"{name}: no service of marquee run invokes it"
            continue
        assert name in _LOCAL_COUNTERPARTS, f"{name}: not served, not invoked, no local counterpart named"
    assert authorizers <= set(_LOCAL_COUNTERPARTS)
    assert set(_LOCAL_COUNTERPARTS) <= set(FUNCTIONS), "a counterpart for a function the template no longer has"


def _statements(props: dict[str, Any]) -> list[dict[str, Any]]:
    """The inline statements of a function's Policies (SAM policy templates are checked apart)."""
    found: list[dict[str, Any]] = []
    for policy in props.get("Policies") or []:
        if isinstance(policy, dict) and "Statement" in policy:
            found.extend(policy["Statement"])
    return found


def _text(value: Any) -> str:
    """A Resource as written: a plain string, or the string of its !Sub (first item of the long form)."""
    if isinstance(value, _Tag):
        inner = value.value
        return str(inner[0] if isinstance(inner, list) else inner)
    return str(value)


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


# The S3 object prefixes each function may touch, and with which actions (README, "Deploying with SAM").
_S3_GRANTS = {
    "AdminFunction": {
        ("${ExportBucket.Arn}/exports/*", frozenset({"s3:PutObject", "s3:GetObject", "s3:AbortMultipartUpload"})),
        ("${UploadsBucket.Arn}/incoming/*", frozenset({"s3:PutObject"})),
        ("${UploadsBucket.Arn}/reports/*", frozenset({"s3:GetObject"})),
    },
    "IngestFunction": {
        (
            "arn:${AWS::Partition}:s3:::marquee-uploads-${StackUuid}/incoming/*",
            frozenset({"s3:GetObject", "s3:GetObjectVersion"}),
        ),
        ("arn:${AWS::Partition}:s3:::marquee-uploads-${StackUuid}/reports/*", frozenset({"s3:PutObject"})),
    },
}
# Secrets each function may read (SAM's AWSSecretsManagerGetSecretValuePolicy, one secret each).
_SECRETS = {
    "ApiFunction": {"DatabaseSecretArn"},
    "KeyAuthorizerFunction": {"DatabaseSecretArn"},
    "AuthFunction": {"DatabaseSecretArn", "SessionSecret"},
    "AdminFunction": {"DatabaseSecretArn", "SessionSecret"},
    "AdminSetupFunction": {"DatabaseSecretArn", "FirstAdminPasswordSecret"},
    "UsageRollupFunction": {"DatabaseSecretArn"},
    "MigrationFunction": {"DatabaseSecretArn"},
    "SyncFunction": {"DatabaseSecretArn", "TmdbApiTokenSecretArn"},
    "IngestFunction": {"DatabaseSecretArn"},
}


@pytest.mark.parametrize("function", sorted(FUNCTIONS))
def test_each_function_may_do_only_what_it_needs(function: str) -> None:
    """Least privilege, function by function: no wildcard action or resource, S3 only on the prefixes and with the
    actions it uses (in the stack's partition), and only its own secrets."""
    props = FUNCTIONS[function]
    s3 = set()
    for statement in _statements(props):
        assert statement["Effect"] == "Allow"
        actions = _listed(statement["Action"])
        assert all("*" not in action for action in actions), (function, actions)
        resources = [_text(r) for r in _listed(statement["Resource"])]
        assert all(r != "*" and not r.endswith(":*") for r in resources), (function, resources)
        if any(action.startswith("s3:") for action in actions):
            assert all(action.startswith("s3:") for action in actions), actions
            s3 |= {(resource, frozenset(actions)) for resource in resources}
    assert s3 == _S3_GRANTS.get(function, set())
    secrets = set()
    for policy in props.get("Policies") or []:
        if isinstance(policy, _Tag):  # !If [condition, policy, NoValue]
            policy = policy.value[1]
        if isinstance(policy, dict) and "AWSSecretsManagerGetSecretValuePolicy" in policy:
            secret = policy["AWSSecretsManagerGetSecretValuePolicy"]["SecretArn"]
            assert isinstance(secret, _Tag) and secret.tag == "Ref"
            secrets.add(secret.value)
        else:
            assert isinstance(policy, dict) and set(policy) == {"Statement"}, policy  # no broad managed policy
    assert secrets == _SECRETS[function]


_BUCKETS = sorted(name for name, r in RESOURCES.items() if r["Type"] == "AWS::S3::Bucket")


@pytest.mark.parametrize("bucket", _BUCKETS)
def test_every_bucket_is_private_encrypted_and_tls_only(bucket: str) -> None:
    props = RESOURCES[bucket]["Properties"]
    assert props["PublicAccessBlockConfiguration"] == dict.fromkeys(
        ("BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets"), True
    )
    [rule] = props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] in ("AES256", "aws:kms")
    assert props["OwnershipControls"]["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}]
    [policy] = [
        r["Properties"]["PolicyDocument"]
        for r in RESOURCES.values()
        if r["Type"] == "AWS::S3::BucketPolicy" and r["Properties"]["Bucket"].value == bucket
    ]
    tls = [
        s
        for s in policy["Statement"]
        if s["Effect"] == "Deny" and s.get("Condition") == {"Bool": {"aws:SecureTransport": "false"}}
    ]
    assert len(tls) == 1 and tls[0]["Principal"] == "*" and tls[0]["Action"] == "s3:*", bucket
    covered = {_text(r) for r in tls[0]["Resource"]}
    assert covered == {f"{bucket}.Arn", f"${{{bucket}.Arn}}/*"}, covered
    assert all(s["Effect"] == "Deny" or s.get("Condition") for s in policy["Statement"]), "an unconditional Allow"


def test_uploads_are_ingested_from_incoming_only_and_expire() -> None:
    props = RESOURCES["UploadsBucket"]["Properties"]
    rules = {rule.get("Prefix"): rule for rule in props["LifecycleConfiguration"]["Rules"]}
    assert rules["incoming/"]["ExpirationInDays"].value == "UploadRetentionDays"
    assert rules["reports/"]["ExpirationInDays"].value == "ReportRetentionDays"
    assert rules[None]["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"] >= 1
    assert "NoncurrentVersionExpiration" in rules[None]  # versioned: an expired upload's old version goes too
    assert rules[None]["ExpiredObjectDeleteMarker"] is True  # and the delete marker left alone after it
    triggers = {
        name: event["Properties"]
        for name, props in FUNCTIONS.items()
        for event in (props.get("Events") or {}).values()
        if event["Type"] == "S3"
    }
    assert list(triggers) == ["IngestFunction"]
    [rule] = triggers["IngestFunction"]["Filter"]["S3Key"]["Rules"]
    assert rule == {"Name": "prefix", "Value": "incoming/"}  # its reports (reports/) never trigger it again


def test_upload_events_the_ingest_could_not_run_are_kept_and_its_concurrency_can_be_bounded() -> None:
    """An S3 event is an asynchronous invocation: one that failed every retry (the database unreachable throughout)
    or outwaited its age was dropped without a trace; it now goes to an encrypted queue, kept 14 days. The jobs that
    run at once can be bounded (each holds a database connection); 0, the default, reserves nothing, since an
    account whose concurrency limit is 10 cannot reserve any."""
    props = FUNCTIONS["IngestFunction"]
    config = props["EventInvokeConfig"]
    assert config["MaximumRetryAttempts"] == 2 and config["MaximumEventAgeInSeconds"] == 21600
    failure = config["DestinationConfig"]["OnFailure"]
    assert failure["Type"] == "SQS"
    assert (failure["Destination"].tag, failure["Destination"].value) == ("GetAtt", "IngestFailedEvents.Arn")
    queue = RESOURCES["IngestFailedEvents"]
    assert queue["Type"] == "AWS::SQS::Queue"
    assert queue["Properties"] == {"MessageRetentionPeriod": 1209600, "SqsManagedSseEnabled": True}
    reserved = props["ReservedConcurrentExecutions"]
    assert reserved.tag == "If" and reserved.value[0] == "LimitIngestConcurrency"
    assert reserved.value[1].value == "IngestReservedConcurrency" and reserved.value[2].value == "AWS::NoValue"
    parameter = TEMPLATE["Parameters"]["IngestReservedConcurrency"]
    assert (parameter["Default"], parameter["MinValue"]) == (0, 0)
    condition = TEMPLATE["Conditions"]["LimitIngestConcurrency"]
    assert condition.tag == "Not" and condition.value[0].value[1] == "0"
    assert TEMPLATE["Outputs"]["IngestFailedEventsQueueUrl"]["Value"].value == "IngestFailedEvents"


@pytest.mark.parametrize("function", sorted(FUNCTIONS))
def test_every_function_has_a_log_group_with_a_retention(function: str) -> None:
    """Lambda's own log group never expires: each function's is declared, with a retention (and the same
    condition as the function, or the stack fails to deploy without it)."""
    group = RESOURCES[f"{function}LogGroup"]
    assert group["Type"] == "AWS::Logs::LogGroup"
    assert group["Properties"]["LogGroupName"].value == f"/aws/lambda/${{{function}}}"
    assert group["Properties"]["RetentionInDays"] >= 1
    assert group.get("Condition") == RESOURCES[function].get("Condition")


def test_parameters_refuse_what_the_functions_would_refuse_at_every_cold_start() -> None:
    """A value the template takes but the code refuses deploys a stack that fails on its first request; a stage
    called "local" deploys one in the one-machine stack's mode (MARQUEE_ENV is the stage)."""
    from movie_common.settings import LOCAL_ENV

    params = TEMPLATE["Parameters"]
    assert TEMPLATE["Globals"]["Function"]["Environment"]["Variables"]["MARQUEE_ENV"].value == "Stage"
    origin = re.compile(params["PortalOrigin"]["AllowedPattern"])
    assert origin.fullmatch("") and origin.fullmatch("https://portal.example.com:8443")
    assert not origin.fullmatch("http://portal.example.com")  # movie_auth.settings: https outside local mode
    assert not origin.fullmatch("https://portal.example.com/path") and not origin.fullmatch("*")
    [assertion] = TEMPLATE["Rules"]["StageIsNotLocalMode"]["Assertions"]
    negated = assertion["Assert"]
    assert negated.tag == "Not" and negated.value[0].tag == "Equals"
    left, right = negated.value[0].value
    assert (left.tag, left.value, right) == ("Ref", "Stage", LOCAL_ENV)


def test_the_authorizer_gives_up_on_the_database_before_its_own_timeout() -> None:
    """Connect plus one statement must end before the Lambda timeout: a stalled database is then the authorizer's
    own error (AUTHORIZER_FAILURE, 503), not an environment killed mid-request."""
    props = FUNCTIONS["KeyAuthorizerFunction"]
    variables = {**TEMPLATE["Globals"]["Function"]["Environment"]["Variables"], **props["Environment"]["Variables"]}
    connect_s = int(variables["DB_CONNECT_TIMEOUT"])
    statement_s = int(variables["DB_STATEMENT_TIMEOUT_MS"]) / 1000
    assert connect_s + statement_s < props.get("Timeout", TEMPLATE["Globals"]["Function"]["Timeout"])


@pytest.mark.slow  # moto's pattern matcher: 2 s to import
def test_the_portals_mail_events_reach_auth_function_and_only_it_may_put_them() -> None:
    """ "Resend confirmation" and "forgot password" put a Portal Mail Requested event for any address; the template's
    rule must bring it back to AuthFunction (its mail handler), and AuthFunction's policy must allow that PutEvents and
    nothing else on the bus."""
    from marquee_local import events
    from marquee_local.local_eventbridge import template_rules
    from marquee_local.stack import local_template
    from movie_common import portal_mail

    entry = portal_mail.mail_requested_entry(portal_mail.MailRequest("password_reset", "jane@gmail.com"))
    event = events.eventbridge_event(entry["Source"], entry["DetailType"], json.loads(entry["Detail"]))
    assert portal_mail.is_portal_mail_event(event) and portal_mail.read_mail_request(event) is not None
    targets = {rule.function for rule in template_rules(local_template()) if rule.matches(event)}
    assert targets == {"AuthFunction"}
    statements = [
        s
        for policy in RESOURCES["AuthFunction"]["Properties"]["Policies"]
        if isinstance(policy, dict) and "Statement" in policy
        for s in policy["Statement"]
        if s["Action"] == "events:PutEvents"
    ]
    [statement] = statements
    assert statement["Condition"]["StringEquals"] == {
        "events:source": entry["Source"],
        "events:detail-type": entry["DetailType"],
    }


def _translate_with_sam() -> dict[str, Any]:
    """The CloudFormation SAM's transform makes of template.yaml (samtranslator from the SAM CLI's tool environment,
    .venv-sam, which `make test` installs), with placeholder code locations; offline."""
    python = REPO / ".venv-sam" / "bin" / "python"
    if not python.is_file():
        pytest.skip("no .venv-sam (make sam-check installs it)")
    script = """
import json, sys
from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse
class Policies:
    def load(self):
        return {}
template = yaml_parse(open(sys.argv[1]).read())
for resource in template["Resources"].values():
    for name in ("CodeUri", "ContentUri"):
        if name in resource.get("Properties", {}):
            resource["Properties"][name] = "s3://bucket/code.zip"
secret = "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbC123"
print(json.dumps(transform(template, {"DatabaseSecretArn": secret}, Policies())))
"""
    done = subprocess.run(
        [str(python), "-c", script, str(REPO / "template.yaml")],
        capture_output=True,
        text=True,
        check=True,
        env={"AWS_DEFAULT_REGION": "us-east-1", "PATH": "/usr/bin:/bin"},
    )
    translated: dict[str, Any] = json.loads(done.stdout)
    return translated


def test_the_api_declares_an_openapi_version_so_sam_deploys_no_extra_stage() -> None:
    """Without OpenApiVersion SAM gives the API's Deployment StageName "Stage": a second stage that serves every
    route at /Stage/... with none of the stage's method throttles (portal, admin, public), usage plans or WAF web ACL,
    and a Stage parameter of "Stage" fails to deploy (aws/serverless-application-model#191)."""
    assert re.fullmatch(r"[23]\.\d+(\.\d+)?", str(API.get("OpenApiVersion", ""))), API.get("OpenApiVersion")


@pytest.mark.slow  # a subprocess that imports samtranslator
def test_sams_transform_makes_exactly_one_stage_the_one_the_usage_plans_and_waf_name() -> None:
    resources = _translate_with_sam()["Resources"]
    stages = [r["Properties"] for r in resources.values() if r["Type"] == "AWS::ApiGateway::Stage"]
    assert [s["StageName"] for s in stages] == [{"Ref": "Stage"}]
    for deployment in (r for r in resources.values() if r["Type"] == "AWS::ApiGateway::Deployment"):
        assert "StageName" not in deployment["Properties"], deployment


@pytest.mark.parametrize("parameter", ["DatabaseSecretArn", "TmdbApiTokenSecretArn"])
def test_secret_parameters_take_only_a_complete_arn_the_policies_can_match(parameter: str) -> None:
    """The functions' policies grant GetSecretValue on exactly the ARN given; IAM matches it against the secret's
    complete ARN (name, hyphen, six random characters), so a partial ARN deploys and every read is AccessDenied."""
    pattern = re.compile(TEMPLATE["Parameters"][parameter]["AllowedPattern"])
    base = "arn:aws:secretsmanager:us-east-1:123456789012:secret:marquee/database"
    assert pattern.fullmatch(base + "-AbC123")
    assert pattern.fullmatch("arn:aws-cn:secretsmanager:cn-north-1:123456789012:secret:db-x-Yz9876")
    assert not pattern.fullmatch(base)  # the partial ARN, name only
    assert not pattern.fullmatch("marquee/database-AbC123")
