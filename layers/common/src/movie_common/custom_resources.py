"""The answer a CloudFormation custom resource owes its stack (MigrationFunction, AdminSetupFunction).

CloudFormation waits up to an hour for it; every outcome, failures included, must be reported. The shape is
CloudFormation's custom resource response object (a JSON PUT to the pre-signed S3 `ResponseURL` of the request).
The `cfnresponse` module AWS documents exists only for inline (ZipFile) code, and Powertools has no sender, so
this is the dozen lines both handlers would otherwise repeat."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Mapping
from typing import Any


def send_response(
    request: Mapping[str, Any],
    *,
    status: str,
    reason: str,
    data: Mapping[str, str],
    physical_resource_id: str,
    log_stream_name: str = "",
    timeout_s: float = 10.0,
) -> None:
    """PUT the response to the request's ResponseURL.

    request: the custom resource event as Lambda received it (its ResponseURL, StackId, RequestId,
    LogicalResourceId and, on Update/Delete, PhysicalResourceId). status: "SUCCESS" or "FAILED". reason: shown in
    the stack's events; empty means "see the log stream". physical_resource_id: used when the request has none (a
    Create); an Update keeps the request's, so CloudFormation never replaces the resource.
    Raises urllib.error.URLError (or OSError) when the URL cannot be reached within timeout_s seconds.
    """
    body = json.dumps(
        {
            "Status": status,
            "Reason": reason or f"See CloudWatch log stream {log_stream_name}",
            "PhysicalResourceId": request.get("PhysicalResourceId") or physical_resource_id,
            "StackId": request["StackId"],
            "RequestId": request["RequestId"],
            "LogicalResourceId": request["LogicalResourceId"],
            "Data": dict(data),
        }
    ).encode()
    put = urllib.request.Request(  # noqa: S310 - the pre-signed S3 URL CloudFormation gave us
        request["ResponseURL"], data=body, method="PUT", headers={"Content-Type": ""}
    )
    with urllib.request.urlopen(put, timeout=timeout_s):  # noqa: S310
        pass
