"""Links to a story's pictures and clips that only its owner is given.

Media is private to the API key that asked for the story. The story response carries signed
links that expire: locally the API's own media endpoints check an HMAC signature (`ApiLinks`);
on AWS the links point at CloudFront, which checks a CloudFront signed URL made with the stage's
key pair (`CloudFrontLinks`, signed by botocore's CloudFrontSigner). A link is a capability: its
holder may fetch that one file until it expires, so the owner can hand it to a browser's `<img>`
tag. Without a signature, the media endpoints serve only the owner's bearer key (seed clients
that build media paths themselves).

Expiry times are rounded up to the hour, so a story read twice within the hour gives the same
links and browsers and CloudFront can cache them.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import math
import secrets
import time
from collections.abc import Callable
from datetime import UTC, datetime

# Links last at least this long, and at most an hour longer.
ROUND_TO_SECONDS = 3600

Clock = Callable[[], float]


def expiry(lifetime_seconds: int, now: float) -> int:
    """When a link made at `now` stops working: `lifetime_seconds` on, rounded up to the hour."""
    return math.ceil((now + lifetime_seconds) / ROUND_TO_SECONDS) * ROUND_TO_SECONDS


class ApiLinks:
    """Signed links to the API's own media endpoints: `?expires=<epoch>&signature=<hmac>`,
    the signature binding the object key and the expiry."""

    def __init__(
        self, secret: bytes | None, lifetime_seconds: int, clock: Clock | None = None
    ) -> None:
        # Without a configured secret, one per process: links last as long as the process.
        self._secret = secret or secrets.token_bytes(32)
        self._lifetime = lifetime_seconds
        self._clock = clock or (lambda: time.time())

    def query(self, key: str) -> str:
        """The query string that lets its holder fetch `key`."""
        expires = expiry(self._lifetime, self._clock())
        return f"expires={expires}&signature={self._signature(key, expires)}"

    def allows(self, key: str, expires: str | None, signature: str | None) -> bool:
        """Whether `signature` was made here for `key` and has not expired."""
        if not expires or not signature or not (expires.isascii() and expires.isdigit()):
            return False
        if int(expires) <= self._clock():
            return False
        expected = self._signature(key, int(expires))
        return hmac.compare_digest(signature.encode(), expected.encode())

    def _signature(self, key: str, expires: int) -> str:
        digest = hmac.new(self._secret, f"{key}\n{expires}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


class CloudFrontLinks:
    """CloudFront signed URLs (canned policy) for the media distribution, whose default
    behaviour trusts only the stage's key group."""

    def __init__(
        self,
        base_url: str,
        key_pair_id: str,
        private_key_pem: str,
        lifetime_seconds: int,
        clock: Clock | None = None,
    ) -> None:
        from botocore.signers import CloudFrontSigner
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import padding, rsa

        private_key = serialization.load_pem_private_key(private_key_pem.encode(), password=None)
        if not isinstance(private_key, rsa.RSAPrivateKey):
            raise ValueError("the media signing key is not an RSA private key")

        def sign(message: bytes) -> bytes:  # what CloudFront verifies: RSA, PKCS#1 v1.5, SHA-1
            return private_key.sign(message, padding.PKCS1v15(), hashes.SHA1())

        self._base = base_url.rstrip("/")
        self._signer = CloudFrontSigner(key_pair_id, sign)
        self._lifetime = lifetime_seconds
        self._clock = clock or (lambda: time.time())

    def url(self, key: str) -> str:
        expires = datetime.fromtimestamp(expiry(self._lifetime, self._clock()), tz=UTC)
        url: str = self._signer.generate_presigned_url(
            f"{self._base}/{key}", date_less_than=expires
        )
        return url


def new_signing_key() -> tuple[str, str]:
    """A new RSA key pair for CloudFront signed URLs: (private key PEM, public key PEM), in the
    formats CloudFront and `CloudFrontLinks` read (PKCS#8 and SubjectPublicKeyInfo)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private_pem = private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    return private_pem, public_key_of(private_pem)


def public_key_of(private_key_pem: str) -> str:
    """The public key (SubjectPublicKeyInfo PEM) of a private key."""
    from cryptography.hazmat.primitives import serialization

    private_key = serialization.load_pem_private_key(private_key_pem.encode(), password=None)
    return (
        private_key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
