"""Signed links to a story's media: CloudFront's on AWS, the API's own media endpoints locally."""

from __future__ import annotations

from functools import cached_property

from fastapi import Request

from api import PREFIX
from kidstory.config.settings import Settings
from kidstory.library import MediaUrls
from kidstory.media_links import ApiLinks, CloudFrontLinks
from kidstory.models import Asset, AssetKind

MEDIA_PREFIX = {AssetKind.IMAGE: "images", AssetKind.VIDEO: "videos", AssetKind.AUDIO: "audio"}


class MediaAccess:
    """Signed media links for a story's owner, and whether a link still allows a file (see
    kidstory.media_links)."""

    def __init__(self, settings: Settings) -> None:
        secret = settings.media_link_secret
        self.settings = settings
        self.api_links = ApiLinks(
            secret.get_secret_value().encode() if secret else None, settings.media_link_seconds
        )

    @cached_property
    def cdn_links(self) -> CloudFrontLinks | None:
        """CloudFront signed URLs, when the stage has a signing key (made at first use, the
        private key read from SSM then)."""
        settings = self.settings
        if not (settings.media_base_url and settings.media_signing_key_id):
            return None
        key = settings.media_signing_key
        if key is not None:
            private_key = key.get_secret_value()
        else:  # read now, not at cold start: most requests sign nothing
            from kidstory.config.secrets import read_key_parameter

            private_key = read_key_parameter(
                "MEDIA_SIGNING_KEY_PARAMETER", settings.media_signing_key_parameter or ""
            )
        return CloudFrontLinks(
            settings.media_base_url,
            settings.media_signing_key_id,
            private_key,
            settings.media_link_seconds,
        )

    def cdn_url(self, key: str) -> str:
        links = self.cdn_links
        base = (self.settings.media_base_url or "").rstrip("/")
        return links.url(key) if links else f"{base}/{key}"

    def urls(self, request: Request) -> MediaUrls:
        """Where the owner fetches an asset: CloudFront on AWS, the API's media endpoints
        locally; signed either way."""
        if self.settings.media_base_url:
            return lambda asset: self.cdn_url(asset.media_key())
        api_base = str(request.base_url).rstrip("/") + PREFIX

        def url(asset: Asset) -> str:
            key = asset.media_key()
            return f"{api_base}/{MEDIA_PREFIX[asset.kind]}/{key}?{self.api_links.query(key)}"

        return url

    def signed(self, key: str, expires: str | None, signature: str | None) -> bool:
        """A signed link for `key` that has not expired."""
        return self.api_links.allows(key, expires, signature)
