"""What the Bedrock picture and clip providers share: how their errors map to ours."""

from __future__ import annotations

import re

from botocore.exceptions import BotoCoreError, ClientError

from kidstory.providers.bedrock_text import provider_error
from kidstory.providers.errors import ContentRefused, ProviderError, ProviderThrottled

# Words with which Bedrock and the model makers say that content was blocked.
_FILTERED = re.compile(
    r"filter|content polic|moderat|blocked|safety|guardrail|responsible ai|inappropriate",
    re.IGNORECASE,
)


def looks_filtered(message: str) -> bool:
    """Whether an error or failure message says the content was refused."""
    return bool(_FILTERED.search(message))


def media_error(error: ClientError | BotoCoreError) -> ProviderError:
    """Our error for a Bedrock error on a picture or clip call.

    As for text (throttling, outages and timeouts are retryable), plus: a request refused for
    its content is ContentRefused, and a full quota of running clips (ServiceQuotaExceeded on
    start_async_invoke) is throttling: it clears as running clips finish."""
    if isinstance(error, ClientError):
        details = error.response.get("Error", {})
        code, message = details.get("Code", ""), details.get("Message", "")
        if code == "ValidationException" and looks_filtered(message):
            return ContentRefused(f"Bedrock refused the request: {message}")
        if code == "ServiceQuotaExceededException":
            return ProviderThrottled(f"Bedrock {code}: {message}")
    return provider_error(error)
