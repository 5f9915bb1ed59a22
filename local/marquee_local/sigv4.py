"""AWS Signature Version 4 checks for the one-machine stack's AWS stand-ins (marquee_local.local_aws): S3's presigned
POST policies, presigned (query-string) URLs and signed request headers, verified against the stack's own
credentials as AWS verifies them. botocore computes the canonical requests and signatures; only the policy rules of
a POST upload (S3's conditions) are checked here."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import unquote, urlsplit

from botocore.auth import S3SigV4QueryAuth, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

ALGORITHM = "AWS4-HMAC-SHA256"
AMZ_DATE = "%Y%m%dT%H%M%SZ"
MAX_CLOCK_SKEW = timedelta(minutes=15)  # S3 and EventBridge refuse requests signed further away than this


@dataclass(frozen=True)
class LocalCredentials:
    """The access key the stack's functions sign with and its stand-ins accept (made anew by each `marquee run`)."""

    access_key_id: str
    secret_access_key: str

    @classmethod
    def generate(cls) -> LocalCredentials:
        return cls("AKIAMARQUEELOCAL" + secrets.token_hex(2).upper(), secrets.token_urlsafe(30))

    def __repr__(self) -> str:  # the secret never reaches a log line
        return f"LocalCredentials(access_key_id={self.access_key_id!r}, secret_access_key=<set>)"


class SignatureError(Exception):
    """A request the real service would refuse: `code` is AWS's error code (AccessDenied, SignatureDoesNotMatch,
    InvalidAccessKeyId, ...), `status` the HTTP status it answers with."""

    def __init__(self, code: str, message: str, status: int = 403) -> None:
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


@dataclass(frozen=True)
class Scope:
    """The credential scope of a signature: `<access key>/<yyyymmdd>/<region>/<service>/aws4_request`."""

    access_key_id: str
    date: str
    region: str
    service: str


def parse_scope(credential: str, *, service: str, credentials: LocalCredentials) -> Scope:
    """Check a credential string against the stack's key and the expected service; SignatureError otherwise."""
    parts = credential.split("/")
    if len(parts) != 5 or parts[4] != "aws4_request":
        raise SignatureError("AuthorizationQueryParametersError", f"Malformed credential {credential!r}.", 400)
    scope = Scope(*parts[:4])
    if scope.access_key_id != credentials.access_key_id:
        raise SignatureError("InvalidAccessKeyId", "The AWS access key id you provided does not exist in our records.")
    if scope.service != service:
        raise SignatureError("SignatureDoesNotMatch", f"The credential is for {scope.service}, not {service}.")
    return scope


def _timestamp(amz_date: str) -> datetime:
    try:
        return datetime.strptime(amz_date, AMZ_DATE).replace(tzinfo=UTC)
    except ValueError:
        raise SignatureError("AccessDenied", f"Malformed X-Amz-Date {amz_date!r}.", 400) from None


def _auth(credentials: LocalCredentials, scope: Scope, *, query: bool = False, expires: int = 3600) -> SigV4Auth:
    creds = Credentials(credentials.access_key_id, credentials.secret_access_key)
    if query:
        return S3SigV4QueryAuth(creds, scope.service, scope.region, expires=expires)
    return SigV4Auth(creds, scope.service, scope.region)


def _signature_of(auth: SigV4Auth, string_to_sign: str, amz_date: str) -> str:
    request = AWSRequest()
    request.context["timestamp"] = amz_date
    return str(auth.signature(string_to_sign, request))


def _same(expected: str, given: str) -> None:
    if not hmac.compare_digest(expected.encode(), given.encode()):
        raise SignatureError(
            "SignatureDoesNotMatch",
            "The request signature we calculated does not match the signature you provided.",
        )


# ---------------------------------------------------------------------------------------------------- POST policy


@dataclass(frozen=True)
class PostUpload:
    """A presigned POST that passed: the object key (with `${filename}` filled in) and its user metadata."""

    key: str
    metadata: dict[str, str]


def verify_post(
    fields: Mapping[str, str],
    *,
    bucket: str,
    file_name: str,
    size: int,
    credentials: LocalCredentials,
    now: datetime | None = None,
) -> PostUpload:
    """Check a browser's presigned POST as S3 does: the policy's signature, its expiration, every condition (exact
    values, `starts-with`, `content-length-range` against `size` bytes), and that every form field but the policy,
    the signature, the file and `x-ignore-*` is covered by a condition. `fields` are the form's text fields.
    SignatureError (AccessDenied, SignatureDoesNotMatch, EntityTooLarge, ...) otherwise."""
    lowered = {name.lower(): value for name, value in fields.items()}
    for required in ("policy", "x-amz-algorithm", "x-amz-credential", "x-amz-date", "x-amz-signature", "key"):
        if required not in lowered:
            raise SignatureError("InvalidArgument", f"Bucket POST must contain a field named '{required}'.", 400)
    if lowered["x-amz-algorithm"] != ALGORITHM:
        raise SignatureError("InvalidArgument", f"Only {ALGORITHM} is supported.", 400)
    scope = parse_scope(lowered["x-amz-credential"], service="s3", credentials=credentials)
    policy_b64 = lowered["policy"]
    auth = _auth(credentials, scope)
    _same(_signature_of(auth, policy_b64, lowered["x-amz-date"]), lowered["x-amz-signature"])
    try:
        policy = json.loads(base64.b64decode(policy_b64, validate=True))
        expiration = datetime.fromisoformat(str(policy["expiration"]).replace("Z", "+00:00"))
        conditions = list(policy["conditions"])
    except (ValueError, KeyError, TypeError):
        raise SignatureError("InvalidPolicyDocument", "Invalid Policy: the policy is not valid JSON.", 400) from None
    if expiration <= (now or datetime.now(UTC)):
        raise SignatureError("AccessDenied", "Invalid according to Policy: Policy expired.")
    values = {**lowered, "bucket": bucket, "key": lowered["key"].replace("${filename}", file_name)}
    covered = {"bucket"}
    for condition in conditions:
        covered.add(_check_condition(condition, values, size))
    ignored = {"policy", "x-amz-signature", "file"}
    for name in lowered:
        if name not in covered and name not in ignored and not name.startswith("x-ignore-"):
            raise SignatureError("AccessDenied", f"Invalid according to Policy: Extra input fields: {name}")
    metadata = {name[len("x-amz-meta-") :]: value for name, value in lowered.items() if name.startswith("x-amz-meta-")}
    return PostUpload(values["key"], metadata)


def _check_condition(condition: Any, values: Mapping[str, str], size: int) -> str:
    """Check one policy condition; returns the field it covers (`content-length-range` covers none)."""
    if isinstance(condition, dict) and len(condition) == 1:
        ((name, expected),) = condition.items()
        operator, field = "eq", str(name).lower()
    elif isinstance(condition, list) and len(condition) == 3:
        operator, subject, expected = str(condition[0]).lower(), condition[1], condition[2]
        if operator == "content-length-range":
            if not int(subject) <= size <= int(expected):
                code = "EntityTooLarge" if size > int(expected) else "EntityTooSmall"
                raise SignatureError(code, f"Your proposed upload of {size} bytes is outside the policy's range.", 400)
            return ""
        field = str(subject).lstrip("$").lower()
    else:
        raise SignatureError("InvalidPolicyDocument", f"Invalid Policy: condition {condition!r} is malformed.", 400)
    actual = values.get(field)
    if actual is None:
        raise SignatureError("AccessDenied", f"Invalid according to Policy: Policy Condition failed: {condition}")
    if operator == "eq":
        ok = actual == str(expected)
    elif operator == "starts-with":
        ok = actual.startswith(str(expected))
    else:
        raise SignatureError("InvalidPolicyDocument", f"Invalid Policy: unknown operator {operator!r}.", 400)
    if not ok:
        raise SignatureError("AccessDenied", f"Invalid according to Policy: Policy Condition failed: {condition}")
    return field


# ---------------------------------------------------------------------------------------------------- presigned GET


def verify_presigned_url(
    method: str, url: str, host: str, *, credentials: LocalCredentials, now: datetime | None = None
) -> None:
    """Check an S3 presigned URL (SigV4 in the query string, `X-Amz-SignedHeaders=host`) as the request arrived:
    `url` with its raw, still-encoded path and query, `host` its Host header. SignatureError when it is unsigned,
    expired, or its signature does not match."""
    parts = urlsplit(url)
    pairs = [p.split("=", 1) for p in parts.query.split("&") if p]
    given = {name: value for name, value, *_ in ((*p, "") for p in pairs)}
    if "X-Amz-Signature" not in given:
        raise SignatureError("AccessDenied", "Access Denied (the URL is not signed).")
    credential = unquote(given.get("X-Amz-Credential", ""))
    amz_date = given.get("X-Amz-Date", "")
    scope = parse_scope(credential, service="s3", credentials=credentials)
    try:
        expires = int(given.get("X-Amz-Expires", ""))
    except ValueError:
        raise SignatureError("AuthorizationQueryParametersError", "X-Amz-Expires must be a number.", 400) from None
    signed_at = _timestamp(amz_date)
    if not 1 <= expires <= 7 * 24 * 3600:
        raise SignatureError("AuthorizationQueryParametersError", "X-Amz-Expires must be 1 to 604800 seconds.", 400)
    if (now or datetime.now(UTC)) > signed_at + timedelta(seconds=expires):
        raise SignatureError("AccessDenied", "Request has expired")
    if unquote(given.get("X-Amz-SignedHeaders", "")) != "host":
        raise SignatureError("AccessDenied", "Only the host header may be signed in this URL.")
    unsigned = "&".join(p for p in parts.query.split("&") if not p.startswith("X-Amz-Signature="))
    request = AWSRequest(method=method, url=parts._replace(query=unsigned).geturl(), headers={"host": host})
    request.context["timestamp"] = amz_date
    auth = _auth(credentials, scope, query=True, expires=expires)
    canonical = auth.canonical_request(request)
    _same(_signature_of(auth, auth.string_to_sign(request, canonical), amz_date), given["X-Amz-Signature"])


# ---------------------------------------------------------------------------------------------------- signed headers


def verify_signed_request(
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes,
    *,
    service: str,
    credentials: LocalCredentials,
    now: datetime | None = None,
) -> Scope:
    """Check a request signed in its Authorization header (what boto3 sends to EventBridge): the signed headers as
    they arrived (`headers`, any case), the body's SHA-256, a clock within 15 minutes. Returns its scope;
    SignatureError otherwise."""
    lowered = {name.lower(): value for name, value in headers.items()}
    authorization = lowered.get("authorization", "")
    if not authorization.startswith(ALGORITHM + " "):
        raise SignatureError("MissingAuthenticationTokenException", "Missing Authentication Token", 400)
    fields = dict(part.strip().split("=", 1) for part in authorization[len(ALGORITHM) + 1 :].split(",") if "=" in part)
    scope = parse_scope(fields.get("Credential", ""), service=service, credentials=credentials)
    amz_date = lowered.get("x-amz-date", "")
    signed_at = _timestamp(amz_date)
    if abs((now or datetime.now(UTC)) - signed_at) > MAX_CLOCK_SKEW:
        raise SignatureError("InvalidSignatureException", "Signature expired: the request time is too skewed.", 400)
    signed = [name for name in fields.get("SignedHeaders", "").split(";") if name]
    if "host" not in signed:
        raise SignatureError("InvalidSignatureException", "The host header must be signed.", 400)
    missing = [name for name in signed if name not in lowered]
    if missing:
        raise SignatureError("InvalidSignatureException", f"Signed headers missing: {', '.join(missing)}.", 400)
    request = AWSRequest(method=method, url=url, headers={name: lowered[name] for name in signed}, data=body)
    request.context["timestamp"] = amz_date
    request.context["payload_signing_enabled"] = True
    auth = _auth(credentials, scope)
    if lowered.get("x-amz-content-sha256") not in (None, hashlib.sha256(body).hexdigest(), "UNSIGNED-PAYLOAD"):
        raise SignatureError("InvalidSignatureException", "The body does not match its x-amz-content-sha256.", 400)
    canonical = auth.canonical_request(request)
    _same(_signature_of(auth, auth.string_to_sign(request, canonical), amz_date), fields.get("Signature", ""))
    return scope
