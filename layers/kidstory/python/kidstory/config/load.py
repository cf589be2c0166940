"""The process's settings, read once: the environment, with provider keys kept in SSM."""

from __future__ import annotations

import os
from functools import cache

from kidstory.config.secrets import with_provider_keys
from kidstory.config.settings import Settings


@cache
def get_settings() -> Settings:
    """The process's settings, read at first use (a Lambda cold start) and kept. A provider key
    kept in SSM (`OPENAI_API_KEY_PARAMETER`, ...) is read into them here."""
    return Settings.from_environ(with_provider_keys(os.environ))
