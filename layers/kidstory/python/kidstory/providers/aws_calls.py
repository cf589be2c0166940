"""What the providers on AWS (Bedrock, Polly) share: a botocore client with a total deadline,
and how a botocore error maps to ours (throttling, outages and timeouts are retryable)."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, ConnectTimeoutError, ReadTimeoutError

from kidstory.providers.errors import (
    ProviderError,
    ProviderThrottled,
    ProviderTimeout,
    ProviderUnavailable,
)
from kidstory.providers.structured_text import retry_after_seconds

CONNECT_TIMEOUT_SECONDS = 10


def aws_client(service: str, region: str | None, *, timeout_seconds: float, attempts: int) -> Any:
    """A client of `service` that gives up after `timeout_seconds` a try and makes at most
    `attempts` tries by itself: the state machine retries beyond that with its own back-off."""
    return boto3.client(
        service,
        region_name=region or None,
        config=Config(
            connect_timeout=min(CONNECT_TIMEOUT_SECONDS, timeout_seconds),
            read_timeout=timeout_seconds,
            retries={"mode": "standard", "total_max_attempts": attempts},
        ),
    )


def aws_error(
    service: str,
    error: ClientError | BotoCoreError,
    *,
    throttled: Collection[str],
    unavailable: Collection[str],
    timed_out: Collection[str] = (),
) -> ProviderError:
    """Our error for a botocore error of `service` (named in the message): the error codes
    given, or a 429 or a 5xx, are retryable; anything else is not."""
    if isinstance(error, ReadTimeoutError | ConnectTimeoutError):
        return ProviderTimeout(f"{service} did not answer in time: {error}")
    if not isinstance(error, ClientError):
        return ProviderUnavailable(f"{service} could not be reached: {error}")
    details = error.response.get("Error", {})
    metadata = error.response.get("ResponseMetadata", {})
    code = details.get("Code", "")
    status = metadata.get("HTTPStatusCode", 0)
    message = f"{service} {code or status}: {details.get('Message', '')}"
    if code in throttled or status == 429:
        headers = metadata.get("HTTPHeaders", {})
        return ProviderThrottled(message, retry_after_seconds=retry_after_seconds(headers))
    if code in timed_out:
        return ProviderTimeout(message)
    if code in unavailable or status >= 500:
        return ProviderUnavailable(message)
    return ProviderError(message)
