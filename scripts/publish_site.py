"""Publish the portal (site/ plus the npm-built vendor files) to the stack's site bucket, write /config.js with the
stack's API URL, and invalidate the CloudFront cache: `make publish-site STACK=<stack name>` after `sam deploy`."""

from __future__ import annotations

import argparse
import json
import mimetypes
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3

SITE = Path(__file__).resolve().parents[1] / "site"
# Build inputs and local-only files never go to the bucket.
SKIPPED_PARTS = {"node_modules"}
SKIPPED_NAMES = {"package.json", "package-lock.json", "config.js", ".built"}
# HTML and config.js change with each deploy; vendor files and assets are cached by CloudFront's policy.
NO_CACHE = "no-cache"


def site_files(root: Path = SITE) -> Iterator[tuple[Path, str]]:
    """(file, bucket key) for every file of the site, vendor/ included (run `make site` first)."""
    if not (root / "vendor" / ".built").exists():
        raise SystemExit("site/vendor is not built: run `make site` first")
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        if path.is_file() and not SKIPPED_PARTS & set(relative.parts) and path.name not in SKIPPED_NAMES:
            yield path, relative.as_posix()


def config_js(api_url: str) -> str:
    """What the pages read before anything else: `window.MARQUEE_CONFIG = {apiBase}` (no trailing slash)."""
    return "window.MARQUEE_CONFIG = " + json.dumps({"apiBase": api_url.rstrip("/")}) + ";\n"


def stack_outputs(cloudformation: Any, stack: str) -> dict[str, str]:
    described = cloudformation.describe_stacks(StackName=stack)["Stacks"][0]
    return {o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs", [])}


def publish(*, s3: Any, cloudfront: Any | None, bucket: str, api_url: str, distribution_id: str | None) -> list[str]:
    """Upload every site file with its content type, then config.js; invalidate `/*`. Returns the keys written."""
    written = []
    for path, key in site_files():
        content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        extra = {"ContentType": content_type}
        if key.endswith(".html"):
            extra["CacheControl"] = NO_CACHE
        s3.upload_file(str(path), bucket, key, ExtraArgs=extra)
        written.append(key)
    s3.put_object(
        Bucket=bucket,
        Key="config.js",
        Body=config_js(api_url).encode(),
        ContentType="text/javascript",
        CacheControl=NO_CACHE,
    )
    written.append("config.js")
    if cloudfront is not None and distribution_id:
        cloudfront.create_invalidation(
            DistributionId=distribution_id,
            InvalidationBatch={"Paths": {"Quantity": 1, "Items": ["/*"]}, "CallerReference": str(time.time_ns())},
        )
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--stack", required=True, help="the CloudFormation stack that sam deploy created")
    parser.add_argument("--region", default=None)
    args = parser.parse_args(argv)
    session = boto3.session.Session(region_name=args.region)
    outputs = stack_outputs(session.client("cloudformation"), args.stack)
    written = publish(
        s3=session.client("s3"),
        cloudfront=session.client("cloudfront"),
        bucket=outputs["SiteBucketName"],
        api_url=outputs["ApiUrl"],
        distribution_id=outputs.get("SiteDistributionId"),
    )
    print(f"published {len(written)} files; the portal is at {outputs.get('SiteUrl')}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
