"""Bad requests get clear answers with the right status codes, never a server error."""

from __future__ import annotations

import http.client

import pytest

from tests.e2e.conftest import ApiClient

VALID = {"prompt": "A kind dragon bakes bread", "age_group": "6-8", "num_illustrations": 1}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"prompt": None}, "prompt"),
        ({"prompt": "   "}, "prompt"),
        ({"prompt": "\u200b\u200b\u200b"}, "prompt"),  # zero-width spaces only
        ({"prompt": "\u3164 \u200d"}, "prompt"),  # a filler that draws nothing, a joiner
        ({"prompt": "x" * 2001}, "prompt"),
        ({"age_group": "2-4"}, "age_group"),
        ({"num_illustrations": 0}, "num_illustrations"),
        ({"num_illustrations": 11}, "num_illustrations"),
        ({"num_illustrations": "many"}, "num_illustrations"),
        ({"generate_images": "perhaps"}, "generate_images"),
        ({"webhook_url": "not a url"}, "webhook_url"),
        ({"webhook_url": "https://hooks.example/" + "a" * 2100}, "webhook_url"),  # over 2048
    ],
)
def test_invalid_requests_get_422_naming_the_field(
    client: ApiClient, change: dict, field: str
) -> None:
    body = {key: value for key, value in (VALID | change).items() if value is not None}

    response = client.generate(**body)

    assert response.status_code == 422
    assert any(issue["loc"][-1] == field for issue in response.json()["detail"])


def test_a_body_that_is_not_json_gets_422(client: ApiClient) -> None:
    response = client.http.post(
        "/api/v1/stories/generate",
        content=b"{not json",
        headers={"Content-Type": "application/json"},
    )

    assert response.status_code == 422


def test_requests_without_the_key_get_401(base_url: str) -> None:
    for key in (None, "wrong-key"):
        anonymous = ApiClient(base_url, key=key)
        assert anonymous.generate(**VALID).status_code == 401
        listed = anonymous.http.get("/api/v1/stories")
        assert listed.status_code == 401
        assert listed.headers["www-authenticate"] == "Bearer"


def test_health_and_docs_need_no_key(base_url: str) -> None:
    anonymous = ApiClient(base_url, key=None)

    assert anonymous.http.get("/health").json()["status"] == "healthy"
    assert anonymous.http.get("/docs").status_code == 200
    assert anonymous.http.get("/redoc").status_code == 200
    paths = anonymous.http.get("/openapi.json").json()["paths"]
    assert "/api/v1/stories/generate" in paths


def test_unknown_ids_get_404(client: ApiClient) -> None:
    unknown = "00000000-0000-0000-0000-000000000000"

    assert client.http.get(f"/api/v1/stories/jobs/{unknown}").status_code == 404
    assert client.story(unknown).status_code == 404
    assert client.http.get(f"/api/v1/stories/images/stories/{unknown}/x.png").status_code == 404


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/stories/images/../../etc/passwd",
        "/api/v1/stories/images/stories/../../secret.png",
        "/api/v1/stories/images/stories/%2e%2e/%2e%2e/secret.png",
        "/api/v1/stories/videos/..%2f..%2fsecret.mp4",
        "/api/v1/stories/images/stories/x/..%2f..%2f..%2fsecret.png",
        "/api/v1/stories/images/other/place.png",
        "/api/v1/stories/images//etc/passwd",
    ],
)
def test_media_paths_outside_the_stories_are_refused(base_url: str, path: str) -> None:
    # sent as written: an HTTP client library would tidy the dots away before sending
    host, port = base_url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    connection.request("GET", path)
    response = connection.getresponse()

    assert response.status == 404
    assert b"secret" not in response.read()


def test_bodies_over_the_limit_get_413(client: ApiClient) -> None:
    oversized = b'{"prompt": "' + b"a" * (1024 * 1024 + 10) + b'"}'

    declared = client.http.post(
        "/api/v1/stories/generate",
        content=oversized,
        headers={"Content-Type": "application/json"},
    )

    assert declared.status_code == 413
    assert "1 MB" in declared.json()["detail"]


def test_chunked_bodies_over_the_limit_get_413(client: ApiClient) -> None:
    def chunks():  # no Content-Length: the body arrives in chunks
        for _ in range(20):
            yield b"a" * (64 * 1024)

    response = client.http.post(
        "/api/v1/stories/generate",
        content=chunks(),
        headers={"Content-Type": "application/json"},
    )

    assert response.status_code == 413


def test_an_unsuitable_idea_is_refused_with_a_reason_and_costs_nothing(
    client: ApiClient,
) -> None:
    response = client.generate(**VALID | {"prompt": "A pirate story with lots of blood and guns"})

    assert response.status_code == 422
    [issue] = response.json()["detail"]
    assert issue["loc"] == ["body", "prompt"] and issue["type"] == "content_policy"
    assert 'It mentions violence ("blood")' in issue["msg"]


def test_a_webhook_url_that_would_be_refused_is_refused_at_once(client: ApiClient) -> None:
    # the local stack allows http and private addresses; names that do not resolve are refused
    response = client.generate(**VALID | {"webhook_url": "https://no-such-host.invalid/hook"})

    assert response.status_code == 422
    [issue] = response.json()["detail"]
    assert issue["loc"] == ["body", "webhook_url"]
    assert "cannot resolve no-such-host.invalid" in issue["msg"]
