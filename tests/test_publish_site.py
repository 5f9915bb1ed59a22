"""Publishing the portal to S3 (moto): every page and vendor file with its content type, build inputs left out,
/config.js with the stack's API URL, and a CloudFront invalidation."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from marquee_local.site_server import SITE_DIR
from scripts.publish_site import publish


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket="marquee-site")
        cloudfront = boto3.client("cloudfront", region_name="us-east-1")
        distribution = cloudfront.create_distribution(
            DistributionConfig={
                "CallerReference": "test",
                "Comment": "site",
                "Enabled": True,
                "Origins": {
                    "Quantity": 1,
                    "Items": [
                        {
                            "Id": "site",
                            "DomainName": "marquee-site.s3.amazonaws.com",
                            "S3OriginConfig": {"OriginAccessIdentity": ""},
                        }
                    ],
                },
                "DefaultCacheBehavior": {"TargetOriginId": "site", "ViewerProtocolPolicy": "redirect-to-https"},
            }
        )["Distribution"]["Id"]
        yield {"s3": s3, "cloudfront": cloudfront, "distribution": distribution}


@pytest.mark.slow
def test_publish_uploads_the_site_and_its_config(aws: dict[str, Any]) -> None:
    if not (SITE_DIR / "vendor" / ".built").exists():
        pytest.fail("run `make site` first (make test does)")
    written = publish(
        s3=aws["s3"],
        cloudfront=aws["cloudfront"],
        bucket="marquee-site",
        api_url="https://abc123.execute-api.us-east-1.amazonaws.com/prod/",
        distribution_id=aws["distribution"],
    )
    keys = {o["Key"] for o in aws["s3"].list_objects_v2(Bucket="marquee-site")["Contents"]}
    assert set(written) == keys
    assert {"index.html", "signup.html", "dashboard.html", "assets/app.js", "config.js"} <= keys
    assert "vendor/swagger-ui/swagger-ui-bundle.js" in keys and "vendor/chart.js/chart.umd.js" in keys
    assert not any(k.startswith("node_modules/") or k.startswith("package") for k in keys)
    config = aws["s3"].get_object(Bucket="marquee-site", Key="config.js")
    assert (
        config["Body"].read()
        == b'window.MARQUEE_CONFIG = {"apiBase": "https://abc123.execute-api.us-east-1.amazonaws.com/prod"};\n'
    )
    assert config["ContentType"] == "text/javascript"
    page = aws["s3"].head_object(Bucket="marquee-site", Key="dashboard.html")
    assert page["ContentType"] == "text/html" and page["CacheControl"] == "no-cache"
    assert aws["s3"].head_object(Bucket="marquee-site", Key="assets/app.css")["ContentType"] == "text/css"
    invalidations = aws["cloudfront"].list_invalidations(DistributionId=aws["distribution"])
    assert invalidations["InvalidationList"]["Quantity"] == 1
