"""Bad requests get clear answers with the right status codes, never a server error."""

from __future__ import annotations

import http.client
import json
import socket
import urllib.error
import urllib.request

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


def _raw_request(base_url: str, head: bytes, body: bytes) -> tuple[int, bytes]:
    """Sends bytes exactly as written (framing a client library would not produce); the status
    and the body of the answer."""
    host, port = base_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as connection:
        connection.sendall(head + body)
        connection.shutdown(socket.SHUT_WR)
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    status_line, _, rest = answer.partition(b"\r\n")
    return int(status_line.split()[1]), rest.partition(b"\r\n\r\n")[2]


def test_content_length_with_transfer_encoding_gets_400_and_makes_no_job(
    base_url: str, client: ApiClient
) -> None:
    before = client.http.get("/api/v1/stories").json()["total"]
    body = json.dumps(VALID).encode()
    chunked = b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)
    head = (
        b"POST /api/v1/stories/generate HTTP/1.1\r\nHost: api\r\n"
        b"Authorization: " + client.http.headers["Authorization"].encode() + b"\r\n"
        b"Content-Type: application/json\r\nContent-Length: 10\r\n"
        b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    )

    status, answer = _raw_request(base_url, head, chunked)

    assert status == 400
    assert b"Transfer-Encoding" in answer
    assert client.http.get("/api/v1/stories").json()["total"] == before


def test_an_oversized_body_from_a_plain_client_gets_the_413_not_a_reset(
    base_url: str, client: ApiClient
) -> None:
    """Python's urllib sends the whole body before it reads the answer: the server reads (and
    drops) the rest of the body, so the client reads the 413 instead of a reset connection."""
    request = urllib.request.Request(
        f"{base_url}/api/v1/stories/generate",
        data=b'{"prompt": "' + b"a" * (12 * 1024 * 1024) + b'"}',
        headers={
            "Content-Type": "application/json",
            "Authorization": client.http.headers["Authorization"],
        },
        method="POST",
    )

    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=30)

    assert refused.value.code == 413
    assert "1 MB" in json.loads(refused.value.read())["detail"]


@pytest.mark.parametrize("encoding", ["utf-16", "utf-32", "latin-1"])
def test_a_json_body_that_is_not_utf8_gets_400(client: ApiClient, encoding: str) -> None:
    body = json.dumps(VALID | {"prompt": "Ein Bär backt Brot"}, ensure_ascii=False)

    response = client.http.post(
        "/api/v1/stories/generate",
        content=body.encode(encoding),
        headers={"Content-Type": "application/json"},
    )

    assert response.status_code == 400
    assert response.json() == {"detail": "There was an error parsing the body"}
