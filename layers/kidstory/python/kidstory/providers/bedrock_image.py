"""Pictures from a Stability AI Stable Image model on Amazon Bedrock (InvokeModel).

Request and response bodies are Stability's (Bedrock user guide, "Stable Image Core request and
response" and "Stable Image Ultra request and response"):

    request  {"prompt", "negative_prompt", "aspect_ratio", "seed", "output_format"}
    response {"seeds": [...], "finish_reasons": [null | "Filter reason: ..." | "Inference
              error"], "images": ["<base64>"]}

Every picture of a story is drawn with the same seed, derived from its character sheet and art
style, so the pages share a look as far as a seed can make them. No API key: the function's
role needs bedrock:InvokeModel on the model (docs/configuration.md, Pictures and clips).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from kidstory import usage
from kidstory.providers.base import GeneratedMedia, MediaSpec
from kidstory.providers.bedrock_media import looks_filtered, media_error
from kidstory.providers.bedrock_text import bedrock_client
from kidstory.providers.errors import ContentRefused, ProviderError, ProviderUnavailable

if TYPE_CHECKING:
    from kidstory.config.settings import Settings

# Square, like the OpenAI picture and the clip that animates it.
ASPECT_RATIO = "1:1"
CONTENT_TYPE = "image/png"
# What a children's picture must never show, and what spoils a picture book page.
NEGATIVE_PROMPT = "text, letters, words, watermark, signature, scary, violent, blood, gore"
_SEEDS = 4_294_967_295  # Stability's seeds run from 0 to 4294967295; 0 means a random one


def story_seed(spec: MediaSpec) -> int:
    """One seed per character sheet and art style: the same for every page of a story."""
    sheet = spec.character
    text = "\n".join((sheet.name, sheet.species, sheet.look, spec.art_style))
    return 1 + int.from_bytes(hashlib.sha256(text.encode()).digest()[:8]) % _SEEDS


class BedrockImageProvider:
    name = "bedrock"

    def __init__(self, model: str, *, client: Any) -> None:
        self.model = model
        self._client = client

    @classmethod
    def from_settings(cls, settings: Settings) -> BedrockImageProvider:
        client = bedrock_client(
            settings.bedrock_image_region, timeout_seconds=settings.provider_timeout_seconds
        )
        return cls(settings.bedrock_image_model, client=client)

    def generate_image(self, spec: MediaSpec) -> GeneratedMedia:
        body = {
            "prompt": spec.prompt,
            "negative_prompt": NEGATIVE_PROMPT,
            "aspect_ratio": ASPECT_RATIO,
            "seed": story_seed(spec),
            "output_format": "png",
        }
        try:
            response = self._client.invoke_model(
                modelId=self.model,
                body=json.dumps(body),
                contentType="application/json",
                accept="application/json",
            )
            answer = json.loads(response["body"].read())
        except (ClientError, BotoCoreError) as error:
            raise media_error(error) from error
        except ValueError as error:
            raise ProviderError(f"Bedrock {self.model} answered with something not JSON") from error
        usage.report(self.name, self.model, usage.PICTURES, 1, f"{ASPECT_RATIO} png")
        for reason in answer.get("finish_reasons") or []:
            if reason and looks_filtered(reason):
                raise ContentRefused(f"Bedrock {self.model} refused the picture ({reason})")
            if reason:
                raise ProviderUnavailable(f"Bedrock {self.model} could not draw it ({reason})")
        images = answer.get("images") or []
        if not images:
            raise ProviderError(f"Bedrock {self.model} answered without a picture")
        try:
            picture = base64.b64decode(images[0], validate=True)
        except (binascii.Error, ValueError) as error:
            raise ProviderError(f"Bedrock {self.model} sent a picture not in base64") from error
        return GeneratedMedia(content=picture, content_type=CONTENT_TYPE)
