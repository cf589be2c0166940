"""Errors that providers raise. The class name is the error name the state machine sees, so the
Retry lists in the workflow name the retryable ones (docs/architecture.md)."""

from __future__ import annotations


class ProviderError(Exception):
    """A provider could not do the work, and trying again will not help."""

    retryable = False


class ContentRefused(ProviderError):
    """The provider refused the content (a safety or content-policy block)."""


class ProviderThrottled(ProviderError):
    """The provider asked us to slow down."""

    retryable = True

    def __init__(self, message: str, *, retry_after_seconds: float | None = None) -> None:
        super().__init__(message)
        self.retry_after_seconds = retry_after_seconds


class ProviderUnavailable(ProviderError):
    """The provider failed on its side (a 5xx or a dropped connection)."""

    retryable = True


class ProviderTimeout(ProviderError):
    """The provider did not answer in time."""

    retryable = True


class VideoTimedOut(ProviderError):
    """A video was still not ready after the configured number of checks."""


class VoiceNotAvailable(ProviderError):
    """No voice of the provider reads the language asked for, or the voice asked for does not
    exist: settings or the story's language must change, so trying again will not help."""
