"""Signed media links: the API's own (HMAC) and CloudFront's (RSA, canned policy)."""

from __future__ import annotations

import base64
import json
from urllib.parse import parse_qsl, urlsplit

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from kidstory.media_links import ApiLinks, CloudFrontLinks, expiry, new_signing_key

KEY = "stories/s-1/a-1.png"
NOW = 1_790_000_123.0


def test_links_expire_after_their_lifetime_rounded_up_to_the_hour() -> None:
    assert expiry(86_400, NOW) % 3600 == 0
    assert NOW + 86_400 <= expiry(86_400, NOW) < NOW + 86_400 + 3600
    # read twice within the hour: the same link, so it can be cached
    assert expiry(86_400, NOW) == expiry(86_400, NOW + 60)


def test_an_api_link_opens_its_own_file_until_it_expires() -> None:
    links = ApiLinks(b"secret", 3600, clock=lambda: NOW)
    query = dict(parse_qsl(links.query(KEY)))

    assert links.allows(KEY, query["expires"], query["signature"])
    assert not links.allows("stories/s-1/a-2.png", query["expires"], query["signature"])
    later = ApiLinks(b"secret", 3600, clock=lambda: int(query["expires"]) + 0.0)
    assert not later.allows(KEY, query["expires"], query["signature"])


@pytest.mark.parametrize(
    ("expires", "signature"),
    [
        (None, None),
        ("", "x"),
        ("soon", "x"),
        ("-5", "x"),
        ("99999999999", "x"),
        ("99999999999", "é"),
        ("²", "x"),
        ("٣", "x"),
    ],
)
def test_an_api_link_without_a_valid_signature_opens_nothing(
    expires: str | None, signature: str | None
) -> None:
    assert not ApiLinks(b"secret", 3600, clock=lambda: NOW).allows(KEY, expires, signature)


def test_an_api_link_is_bound_to_its_secret() -> None:
    query = dict(parse_qsl(ApiLinks(b"one", 3600, clock=lambda: NOW).query(KEY)))

    other = ApiLinks(b"two", 3600, clock=lambda: NOW)
    assert not other.allows(KEY, query["expires"], query["signature"])
    # without a configured secret, each process makes its own
    assert not ApiLinks(None, 3600).allows(KEY, query["expires"], query["signature"])


def test_a_new_signing_key_is_in_the_formats_cloudfront_reads() -> None:
    private_pem, public_pem = new_signing_key()

    assert private_pem.startswith("-----BEGIN PRIVATE KEY-----")
    assert public_pem.startswith("-----BEGIN PUBLIC KEY-----")
    key = serialization.load_pem_public_key(public_pem.encode())
    assert isinstance(key, rsa.RSAPublicKey) and key.key_size == 2048


def _cloudfront_base64_decode(value: str) -> bytes:
    return base64.b64decode(value.replace("-", "+").replace("_", "=").replace("~", "/"))


def test_a_cloudfront_link_carries_a_canned_policy_signature_cloudfront_can_verify() -> None:
    private_pem, public_pem = new_signing_key()
    links = CloudFrontLinks(
        "https://d111.cloudfront.net/", "K2JCJMDEHXQW5F", private_pem, 86_400, clock=lambda: NOW
    )

    url = links.url(KEY)

    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == f"https://d111.cloudfront.net/{KEY}"
    query = dict(parse_qsl(parts.query))
    assert query["Key-Pair-Id"] == "K2JCJMDEHXQW5F"
    expires = expiry(86_400, NOW)
    assert query["Expires"] == str(expires)
    # what CloudFront checks: RSA-SHA1 over the canned policy of this URL and expiry
    policy = {
        "Statement": [
            {
                "Resource": f"https://d111.cloudfront.net/{KEY}",
                "Condition": {"DateLessThan": {"AWS:EpochTime": expires}},
            }
        ]
    }
    public_key = serialization.load_pem_public_key(public_pem.encode())
    assert isinstance(public_key, rsa.RSAPublicKey)
    public_key.verify(
        _cloudfront_base64_decode(query["Signature"]),
        json.dumps(policy, separators=(",", ":")).encode(),
        padding.PKCS1v15(),
        hashes.SHA1(),
    )


def test_a_cloudfront_signer_needs_an_rsa_private_key() -> None:
    with pytest.raises(ValueError):
        CloudFrontLinks("https://d111.cloudfront.net", "K1", "not a key", 3600)
