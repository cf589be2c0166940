"""Pictures from an OpenAI GPT image model, through the Images API (`images.generate`).

GPT image models always answer in base64 (`b64_json`); the legacy `response_format` parameter is
unsupported for them (openai SDK, ImageGenerateParams), so it is not sent. They take no seed:
the character sheet and art style in every prompt keep the hero the same from page to page.
"""

from __future__ import annotations

import base64
import binascii
from typing import TYPE_CHECKING, Final

import openai

from kidstory import usage
from kidstory.providers.base import GeneratedMedia, MediaSpec
from kidstory.providers.errors import ProviderError
from kidstory.providers.openai_text import openai_client_for, provider_error

if TYPE_CHECKING:
    from kidstory.config.settings import Settings

# Square, like the Bedrock picture and the clip that animates it; one of the sizes every GPT
# image model makes. Medium quality keeps a picture within the provider timeout.
SIZE: Final = "1024x1024"
QUALITY: Final = "medium"
CONTENT_TYPE = "image/png"


class OpenAIImageProvider:
    name = "openai"

    def __init__(self, model: str, *, client: openai.OpenAI, timeout_seconds: float) -> None:
        self.model = model
        self._client = client
        self._timeout = timeout_seconds

    @classmethod
    def from_settings(cls, settings: Settings) -> OpenAIImageProvider:
        return cls(
            settings.openai_image_model,
            client=openai_client_for(settings),
            timeout_seconds=settings.provider_timeout_seconds,
        )

    def generate_image(self, spec: MediaSpec) -> GeneratedMedia:
        try:
            response = self._client.images.generate(
                model=self.model,
                prompt=spec.prompt,
                n=1,
                size=SIZE,
                quality=QUALITY,
                output_format="png",
                moderation="auto",
                timeout=self._timeout,
            )
        except openai.OpenAIError as error:
            raise provider_error(error, "OpenAI") from error
        usage.report(self.name, self.model, usage.PICTURES, 1, f"{SIZE} {QUALITY}")
        encoded = response.data[0].b64_json if response.data else None
        if not encoded:
            raise ProviderError(f"OpenAI {self.model} answered without a picture")
        try:
            picture = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError) as error:
            raise ProviderError(f"OpenAI {self.model} sent a picture not in base64") from error
        return GeneratedMedia(content=picture, content_type=CONTENT_TYPE)
