"""The one error of configuration: the environment does not describe a usable service."""


class SettingsError(RuntimeError):
    """The environment does not describe a usable configuration."""
