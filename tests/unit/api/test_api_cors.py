"""A browser on an allowed origin (the web reader on CloudFront) can read every answer of the
API, refusals included: without CORS headers it would only see "could not reach"."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.deps import story_library
from kidstory.config.settings import Settings

READER = "https://d1234abcd.cloudfront.net"


@pytest.fixture
def client(event_loop_sockets: None) -> TestClient:
    environ = {"TABLE_NAME": "stories", "MEDIA_BUCKET": "media", "STATE_MACHINE_ARN": "arn"}
    settings = Settings.from_environ(environ | {"CORS_ORIGINS": READER, "MAX_REQUEST_SIZE_MB": "1"})
    return TestClient(create_app(settings))


def test_a_body_over_the_limit_is_refused_with_cors_headers(client: TestClient) -> None:
    response = client.post(
        "/api/v1/stories/generate",
        content=b"a" * (1024 * 1024 + 1),
        headers={"Content-Type": "application/json", "Origin": READER},
    )

    assert response.status_code == 413
    assert response.headers["access-control-allow-origin"] == READER


def test_other_origins_are_not_allowed(client: TestClient) -> None:
    response = client.get("/health", headers={"Origin": "https://elsewhere.example"})

    assert response.status_code == 200
    assert "access-control-allow-origin" not in response.headers


def test_an_unexpected_error_is_a_500_with_cors_headers(client: TestClient) -> None:
    def broken() -> object:
        raise RuntimeError("the table is gone")

    client.app.dependency_overrides[story_library] = broken  # type: ignore[attr-defined]

    response = client.get("/api/v1/stories", headers={"Origin": READER})

    assert response.status_code == 500
    assert response.json() == {"detail": "Internal server error"}
    assert response.headers["access-control-allow-origin"] == READER
