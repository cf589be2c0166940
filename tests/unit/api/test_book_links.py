"""On AWS a book never passes through API Gateway or Lambda (6 MB at most): the API answers
with a redirect to a CloudFront URL signed for that one file, as it does for media."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from kidstory.access import Caller
from kidstory.media_links import new_signing_key
from tests.unit.api.test_api_moderation import api_settings

STORY = "6a0e8400-e29b-41d4-a716-446655440001"


class Library:
    """The story library as far as books go: the caller's story has its books."""

    def book_key(self, story_id: str, caller: Caller, name: str) -> tuple[str, str]:
        return f"stories/{story_id}/{name}", "Milo and the Moon"


@pytest.fixture
def http(event_loop_sockets: None) -> TestClient:
    private_key, _ = new_signing_key()
    settings = api_settings(
        MEDIA_BASE_URL="https://d111.cloudfront.net",
        MEDIA_SIGNING_KEY_ID="K2JCJMDEHXQW5F",
        MEDIA_SIGNING_KEY=private_key,
    )
    app = create_app(settings, library=Library())  # type: ignore[arg-type]
    return TestClient(app, follow_redirects=False)


@pytest.mark.parametrize(
    ("path", "key"),
    [
        ("book.epub", "book.epub"),
        ("book.pdf", "book.pdf"),
        ("book.pdf?variant=screen", "book-screen.pdf"),
    ],
)
def test_a_book_is_a_redirect_to_its_signed_cdn_link(http: TestClient, path: str, key: str) -> None:
    answer = http.get(f"/api/v1/stories/{STORY}/{path}")

    assert answer.status_code == 307
    assert answer.headers["cache-control"] == "no-store"
    link = urlsplit(answer.headers["location"])
    assert (link.scheme, link.netloc) == ("https", "d111.cloudfront.net")
    assert link.path == f"/stories/{STORY}/{key}"
    signed = parse_qs(link.query)
    assert set(signed) == {"Expires", "Signature", "Key-Pair-Id"}
    assert signed["Key-Pair-Id"] == ["K2JCJMDEHXQW5F"]
    assert answer.content == b""
