"""Provider API keys kept in SSM Parameter Store, read once at cold start (and the API's media
signing key, read at its first use with `read_key_parameter`).

In AWS the stack never puts a key in a function's environment: for `LLM_PROVIDER=openai` (and
for `IMAGE_PROVIDER=openai`, in the picture function, and `MODERATION_PROVIDER=openai`, in the
API, the story writer and the picture function) it sets `OPENAI_API_KEY_PARAMETER` to the
name of an SSM SecureString parameter (`ANTHROPIC_...` for anthropic) and lets the function read
exactly that parameter. `with_provider_keys` reads it into the mapping the settings are built
from, so `Settings` stays one model validated once. A key given directly (`OPENAI_API_KEY`, as
locally from a `.env` file) wins, and no call is made.
"""

from __future__ import annotations

from collections.abc import Mapping

from kidstory.config.errors import SettingsError

# The variable holding each keyed provider's API key; `<it>_PARAMETER` names its parameter.
KEY_VARIABLES = {
    "openai": "OPENAI_API_KEY",
    "anthropic": "ANTHROPIC_API_KEY",
    "ollama": "OLLAMA_API_KEY",  # optional: for a gateway in front of Ollama that asks for one
}
# The same for the picture provider (`IMAGE_PROVIDER`): only openai takes a key.
IMAGE_KEY_VARIABLES = {"openai": "OPENAI_API_KEY"}
# And for moderation (`MODERATION_PROVIDER`, in the API, the story writer and the picture
# function): openai's.
MODERATION_KEY_VARIABLES = {"openai": "OPENAI_API_KEY"}
# Powertools keeps a value this long; settings are read once per process anyway, so a rotated
# key reaches new instances at once and running ones at their next cold start.
KEY_CACHE_SECONDS = 900


def parameter_variable(key_variable: str) -> str:
    """`OPENAI_API_KEY` -> `OPENAI_API_KEY_PARAMETER`."""
    return f"{key_variable}_PARAMETER"


def with_provider_keys(
    environ: Mapping[str, str], *, max_age: int = KEY_CACHE_SECONDS
) -> Mapping[str, str]:
    """`environ`, with the API key of the chosen text or picture provider read from its SSM
    parameter when the key itself is not set. Only then is the Powertools parameters utility
    imported.

    Raises SettingsError naming the variable and the parameter when it cannot be read.
    """
    needed = {
        KEY_VARIABLES.get(environ.get("LLM_PROVIDER", "")),
        IMAGE_KEY_VARIABLES.get(environ.get("IMAGE_PROVIDER", "")),
        MODERATION_KEY_VARIABLES.get(environ.get("MODERATION_PROVIDER", "")),
    }
    found: dict[str, str] = {}
    for key_variable in sorted(variable for variable in needed if variable):
        if environ.get(key_variable, "").strip():
            continue
        variable = parameter_variable(key_variable)
        name = environ.get(variable, "").strip()
        if name:  # without it, the settings name the missing key
            found[key_variable] = _read_key(variable, name, max_age)
    return {**environ, **found} if found else environ


def read_key_parameter(variable: str, name: str, max_age: int = KEY_CACHE_SECONDS) -> str:
    """The value of the SecureString parameter `name`, named by the setting `variable`; raises
    SettingsError naming both when it cannot be read."""
    return _read_key(variable, name, max_age)


def _read_key(variable: str, name: str, max_age: int) -> str:
    from aws_lambda_powertools.utilities.parameters import GetParameterError, get_parameter
    from botocore.exceptions import BotoCoreError

    try:
        value = get_parameter(name, decrypt=True, max_age=max_age)
    except (GetParameterError, BotoCoreError) as error:  # BotoCoreError: no Region, no credentials
        raise SettingsError(
            f"invalid configuration: {variable}: the SSM parameter {name!r} could not be read "
            f"({error})"
        ) from None
    if not value.strip():
        raise SettingsError(
            f"invalid configuration: {variable}: the SSM parameter {name!r} is empty"
        )
    return value.strip()
