"""The API behind API Gateway (Mangum): on API Gateway's own domain it is served under the
stage's path, and its interactive docs must load their schema from there."""

from __future__ import annotations

import importlib
from typing import Any

import pytest

STAGE_HOST = "a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com"


class Context:
    function_name = "ApiFunction"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:eu-west-1:123456789012:function:ApiFunction"
    aws_request_id = "request-1"

    def get_remaining_time_in_millis(self) -> int:
        return 29_000


def rest_event(path: str, host: str, stage: str = "dev") -> dict[str, Any]:
    """What API Gateway (REST, proxy integration) sends: the path without the stage."""
    return {
        "resource": "/{proxy+}",
        "path": path,
        "httpMethod": "GET",
        "headers": {"Host": host, "X-Forwarded-Proto": "https", "X-Forwarded-Port": "443"},
        "multiValueHeaders": {"Host": [host]},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": {"proxy": path.lstrip("/")},
        "stageVariables": None,
        "requestContext": {
            "resourcePath": "/{proxy+}",
            "httpMethod": "GET",
            "path": f"/{stage}{path}",
            "stage": stage,
            "domainName": host,
            "requestId": "r-1",
            "identity": {"sourceIp": "203.0.113.9"},
        },
        "body": None,
        "isBase64Encoded": False,
    }


@pytest.fixture
def handler(monkeypatch: pytest.MonkeyPatch, event_loop_sockets: None) -> Any:
    for name, value in {"TABLE_NAME": "t", "MEDIA_BUCKET": "b", "STATE_MACHINE_ARN": "arn"}.items():
        monkeypatch.setenv(name, value)  # what the deployed app reads at its import
    return importlib.import_module("api.handler").handler


def test_the_docs_load_their_schema_under_the_stage_path(handler: Any) -> None:
    answer = handler(rest_event("/docs", STAGE_HOST), Context())

    assert answer["statusCode"] == 200
    assert "'/dev/openapi.json'" in answer["body"]


def test_behind_a_custom_domain_there_is_no_stage_path(handler: Any) -> None:
    answer = handler(rest_event("/docs", "stories.example.org"), Context())

    assert "'/openapi.json'" in answer["body"]


def test_routes_still_match_under_the_stage(handler: Any) -> None:
    answer = handler(rest_event("/health", STAGE_HOST), Context())

    assert answer["statusCode"] == 200 and '"healthy"' in answer["body"]
