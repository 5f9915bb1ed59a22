"""The event toolkit (marquee_local.events): every events/*.json file is exactly what it builds, and what it builds
reads correctly through Powertools' data classes, which is how the functions read their events."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent, EventBridgeEvent, S3Event
from aws_lambda_powertools.utilities.data_classes.api_gateway_authorizer_event import (
    APIGatewayAuthorizerRequestEvent,
    APIGatewayAuthorizerTokenEvent,
)

from marquee_local import events

REPO = Path(__file__).resolve().parents[1]
WHEN = datetime(2026, 11, 30, 3, 0, 0, 123000, tzinfo=UTC)


@pytest.mark.parametrize("path", events.event_files(REPO), ids=lambda p: str(p.relative_to(REPO)))
def test_each_event_file_is_what_the_toolkit_builds(path: Path) -> None:
    event = json.loads(path.read_text(encoding="utf-8"))
    assert events.rebuild(event) == event, f"regenerate with: .venv/bin/python -m marquee_local.events ({path})"


def test_every_function_has_event_files() -> None:
    functions = {p.name for p in (REPO / "functions").iterdir() if (p / "src").is_dir()}
    with_events = {p.parents[1].name for p in events.event_files(REPO)}
    assert functions <= with_events, functions - with_events


def test_s3_keys_are_encoded_as_s3_sends_them_and_only_object_key_decodes() -> None:
    stored = "uploads/incoming/top movies+extras 2026.csv"
    event = events.s3_object_created_event(
        "marquee-uploads", stored, size=2048, etag="9b2cf535f27731c974343645a3985328"
    )
    record = event["Records"][0]
    assert record["s3"]["object"]["key"] == "uploads/incoming/top+movies%2Bextras+2026.csv"
    parsed = S3Event(event)
    assert parsed.object_key == stored  # Powertools decodes (unquote_plus): use this one
    assert next(parsed.records).s3.get_object.key == "uploads/incoming/top+movies%2Bextras+2026.csv"  # the trap


def test_s3_object_created_reads_through_powertools() -> None:
    event = events.s3_object_created_event(
        "marquee-uploads",
        "a.csv",
        size=10,
        etag="abc",
        version_id="3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY",
        sequencer="0055AED6DCD90281E5",
        event_name="ObjectCreated:CompleteMultipartUpload",
        time=WHEN,
    )
    parsed = S3Event(event)
    record = next(parsed.records)
    assert parsed.bucket_name == "marquee-uploads" and record.event_name == "ObjectCreated:CompleteMultipartUpload"
    assert record.s3.get_object.size == 10 and record.s3.get_object.etag == "abc"
    assert record.s3.get_object.version_id == "3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY"
    assert record.s3.get_object.sequencer == "0055AED6DCD90281E5"
    assert record.event_time == "2026-11-30T03:00:00.123Z" and record.event_source == "aws:s3"
    with pytest.raises(ValueError, match="ObjectCreated"):
        events.s3_object_created_event("b", "k", size=1, etag="e", event_name="ObjectRemoved:Delete")


def test_scheduled_event_reads_through_powertools() -> None:
    parsed = EventBridgeEvent(events.scheduled_event("marquee-nightly-sync", time=WHEN))
    assert parsed.detail_type == "Scheduled Event" and parsed.source == "aws.events"
    assert parsed.resources == ["arn:aws:events:us-east-1:123456789012:rule/marquee-nightly-sync"]
    assert parsed.time == "2026-11-30T03:00:00Z" and parsed.detail == {}


def test_rest_event_reads_through_powertools() -> None:
    event = events.rest_proxy_event(
        "get",
        "/movies/12%2F3",
        resource="/movies/{id}",
        query="title=star%20w&genre=a&genre=b",
        headers=[("X-API-KEY", "k"), ("Host", "client.example"), ("Accept", "a"), ("Accept", "b")],
        authorizer={"principalId": "key:1", "plan": "pro"},
        time=WHEN,
    )
    parsed = APIGatewayProxyEvent(event)
    assert parsed.http_method == "GET" and parsed.path == "/movies/12%2F3" and parsed.resource == "/movies/{id}"
    assert parsed.path_parameters == {"id": "12/3"}  # path parameters are decoded once, the path is not
    assert parsed.query_string_parameters == {"title": "star w", "genre": "b"}
    assert parsed.multi_value_query_string_parameters == {"title": ["star w"], "genre": ["a", "b"]}
    assert parsed.headers["Host"] == "1234567890.execute-api.us-east-1.amazonaws.com"  # the API's, not the client's
    assert parsed.multi_value_headers["Accept"] == ["a", "b"]
    assert parsed.request_context.authorizer.raw_event == {"principalId": "key:1", "plan": "pro"}
    assert parsed.request_context.stage == "prod" and parsed.request_context.path == "/prod/movies/12%2F3"
    assert parsed.request_context.request_time_epoch == int(WHEN.timestamp() * 1000)


def test_binary_bodies_travel_base64() -> None:
    event = events.rest_proxy_event("POST", "/upload", body=b"\xff\x00")
    assert event["isBase64Encoded"] is True
    assert event["body"] == "/wA="
    text = events.rest_proxy_event("POST", "/upload", body=b'{"a": 1}')
    assert text["isBase64Encoded"] is False and text["body"] == '{"a": 1}'


def test_authorizer_events_carry_the_method_arn() -> None:
    proxy = events.rest_proxy_event("GET", "/movies/1", resource="/movies/{id}", headers={"X-API-KEY": "k"})
    request = APIGatewayAuthorizerRequestEvent(events.authorizer_request_event(proxy))
    arn = request.parsed_arn
    assert (arn.api_id, arn.stage, arn.http_method, arn.resource) == ("1234567890", "prod", "GET", "movies/1")
    assert request.headers["X-API-KEY"] == "k" and request.get_type == "REQUEST"
    assert "authorizer" not in request.request_context.raw_event
    token = APIGatewayAuthorizerTokenEvent(events.authorizer_token_event(proxy, "Bearer t"))
    assert token.authorization_token == "Bearer t" and token.parsed_arn.resource == "movies/1"


@pytest.mark.parametrize(
    ("resource", "path", "expected"),
    [
        ("/movies/{id}", "/movies/7", {"id": "7"}),
        ("/movies/{id}", "/movies/7/", {"id": "7"}),
        ("/movies/{id}", "/movies/a%2Fb", {"id": "a/b"}),
        ("/movies/{id}", "/movies/1%252Fsimilar", {"id": "1%2Fsimilar"}),
        ("/movies/{id}", "/movies/1/similar", None),
        ("/movies/{id}", "/movies/", None),
        ("/files/{proxy+}", "/files/a/b%20c", {"proxy": "a/b c"}),
        ("/", "/", {}),
        ("/health", "/health", {}),
        ("/health", "/healthz", None),
    ],
)
def test_match_resource(resource: str, path: str, expected: dict[str, str] | None) -> None:
    assert events.match_resource(resource, path) == expected


def test_adjust_keeps_the_shape_and_changes_only_what_it_is_told() -> None:
    base = events.rest_proxy_event(
        "GET", "/movies/1", resource="/movies/{id}", headers={"x-api-key": "old", "Accept": "a"}, time=WHEN
    )
    changed = events.adjust(base, key="new", path_params={"id": "42"}, headers={"If-None-Match": '"e"'})
    assert changed["headers"]["X-API-KEY"] == "new" and "x-api-key" not in changed["headers"]
    assert changed["path"] == "/movies/42" and changed["pathParameters"] == {"id": "42"}
    assert changed["requestContext"]["path"] == "/prod/movies/42" and changed["headers"]["Accept"] == "a"
    assert events.rebuild(changed) == changed
    dropped = events.adjust(base, key=None)
    assert "X-API-KEY" not in dropped["headers"] and "x-api-key" not in dropped["multiValueHeaders"]
    s3 = events.adjust(events.s3_object_created_event("b", "a.csv", size=1, etag="e", time=WHEN), key="x y.csv")
    assert S3Event(s3).object_key == "x y.csv" and s3["Records"][0]["s3"]["object"]["key"] == "x+y.csv"
    with pytest.raises(ValueError, match="do not apply"):
        events.adjust(base, bucket="b")


def test_custom_resource_requests_carry_what_cloudformation_sends() -> None:
    token = "arn:aws:lambda:us-east-1:123456789012:function:MigrationFunction"
    update = events.custom_resource_event(
        "Update",
        logical_id="DatabaseMigrations",
        resource_type="Custom::DatabaseMigrations",
        properties={"LayerVersion": "arn:layer:8"},
        old_properties={"LayerVersion": "arn:layer:7"},
        physical_resource_id="marquee-migrations",
        service_token=token,
    )
    assert update["ResourceProperties"] == {"ServiceToken": token, "LayerVersion": "arn:layer:8"}
    assert update["OldResourceProperties"]["LayerVersion"] == "arn:layer:7"
    assert update["PhysicalResourceId"] == "marquee-migrations" and update["ResponseURL"].startswith("https://")
    assert events.rebuild(update) == update
    with pytest.raises(ValueError, match="PhysicalResourceId"):
        events.custom_resource_event(
            "Delete", logical_id="X", resource_type="Custom::X", properties={}, service_token=token
        )
