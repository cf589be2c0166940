"""StageConfig: everything that differs between the local, dev and prod stacks, read from
cdk.json's flat keys (and `-c name=value`) and composed of one settings model per provider."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Literal, Self, get_args

from aws_cdk import RemovalPolicy
from aws_cdk import aws_logs as logs
from constructs import Node
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from infra.config.errors import StageConfigError, stage_problems
from infra.config.media import ImageProvider, VideoProvider
from infra.config.moderation import ModerationProvider, OllamaModeration, OpenAIModeration
from infra.config.narration import NarrationProvider
from infra.config.text import OllamaText, OpenAIText, TextProvider
from kidstory.config.errors import SettingsError
from kidstory.config.settings import Settings

DEFAULT_STAGE = "dev"
LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR"]

# CloudWatch Logs accepts only these retention periods.
_LOG_RETENTION: dict[int, logs.RetentionDays] = {
    1: logs.RetentionDays.ONE_DAY,
    3: logs.RetentionDays.THREE_DAYS,
    5: logs.RetentionDays.FIVE_DAYS,
    7: logs.RetentionDays.ONE_WEEK,
    14: logs.RetentionDays.TWO_WEEKS,
    30: logs.RetentionDays.ONE_MONTH,
    60: logs.RetentionDays.TWO_MONTHS,
    90: logs.RetentionDays.THREE_MONTHS,
    120: logs.RetentionDays.FOUR_MONTHS,
    150: logs.RetentionDays.FIVE_MONTHS,
    180: logs.RetentionDays.SIX_MONTHS,
    365: logs.RetentionDays.ONE_YEAR,
    400: logs.RetentionDays.THIRTEEN_MONTHS,
    545: logs.RetentionDays.EIGHTEEN_MONTHS,
    731: logs.RetentionDays.TWO_YEARS,
    1096: logs.RetentionDays.THREE_YEARS,
    1827: logs.RetentionDays.FIVE_YEARS,
    2192: logs.RetentionDays.SIX_YEARS,
    2557: logs.RetentionDays.SEVEN_YEARS,
    2922: logs.RetentionDays.EIGHT_YEARS,
    3288: logs.RetentionDays.NINE_YEARS,
    3653: logs.RetentionDays.TEN_YEARS,
}

# Runtime settings a stage may tune through function_settings: limits and timings that need no
# infrastructure of their own. PROVIDER_TIMEOUT_SECONDS may only go down: the functions' timeouts
# are sized for redraws at its default.
TUNABLE_SETTINGS = (
    "PROVIDER_TIMEOUT_SECONDS",
    "PROVIDER_REPAIR_ATTEMPTS",
    "VIDEO_POLL_SECONDS",
    "MEDIA_LINK_SECONDS",
    "WEBHOOK_RETRY_DELAYS",
    "MODERATION_TIMEOUT_SECONDS",
    "OPENAI_MODERATION_THRESHOLD",
    "PENDING_GRACE_SECONDS",
    "PENDING_MAX_AGE_SECONDS",
    "PRICES",
)
LONGEST_PROVIDER_TIMEOUT_SECONDS = 60

# Each kind of provider: the StageConfig field holding its settings, and the key choosing it.
PROVIDER_SELECTORS = {
    "text": "llm_provider",
    "images": "image_provider",
    "video": "video_provider",
    "moderation": "moderation_provider",
    "narration": "narration_provider",
}
_NUMBERS = (
    "media_max_concurrency",
    "video_max_checks",
    "retry_interval_seconds",
    "retry_max_attempts",
    "log_retention_days",
    "retention_days",
    "api_throttle_rate",
    "api_throttle_burst",
    "max_request_size_mb",
    "rate_limit_per_minute",
    "daily_quota",
    "provider_concurrency",
)


def _environment(settings: Mapping[str, Any] | None) -> dict[str, str]:
    return {
        name: str(value).lower() if isinstance(value, bool) else str(value)
        for name, value in (settings or {}).items()
    }


def _runtime_settings(environment: Mapping[str, str]) -> Settings:
    return Settings.from_environ({"TABLE_NAME": "check", "MEDIA_BUCKET": "check", **environment})


class StageConfig(BaseModel):
    """Everything that differs between the local, dev and prod stacks."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    stage: str
    media_max_concurrency: int = Field(gt=0)
    video_max_checks: int = Field(gt=0)
    retry_interval_seconds: int = Field(gt=0)
    retry_max_attempts: int = Field(gt=0)
    log_retention_days: int
    retention_days: int | None = Field(gt=0)
    removal: Literal["destroy", "retain"]
    api_throttle_rate: int | float = Field(gt=0)
    api_throttle_burst: int = Field(gt=0)
    api_key: str
    max_request_size_mb: int | float = Field(gt=0)
    require_api_key: bool = True
    rate_limit_per_minute: int = Field(default=100, gt=0)
    daily_quota: int = Field(default=2000, gt=0)
    log_level: LogLevel = "INFO"
    provider_concurrency: int | None = Field(default=None, gt=0)
    """Reserved concurrency of each function that calls a provider (WriteStory, GenerateImage,
    StartVideo, CheckVideo, NarratePage): the most of each running at once over all executions,
    held for them in the account's pool. null: none reserved, they share the account's pool
    (docs/deploy-risks.md, Concurrency)."""
    function_settings: dict[str, Any] | None = None
    """Runtime settings given to every function, by variable name, from TUNABLE_SETTINGS
    (docs/configuration.md, Stage settings); validated at synth as the functions would read them."""
    # The providers (docs/configuration.md), each from its own keys of cdk.json.
    text: TextProvider
    images: ImageProvider
    video: VideoProvider
    moderation: ModerationProvider
    """Moderation of ideas (the API), story pages (WriteStory), pictures and clip frames, on
    top of the offline moderator, which always runs (docs/configuration.md, Moderation)."""
    narration: NarrationProvider
    """Who reads narrated stories aloud: polly, or offline (eSpeak NG in the function)."""

    @field_validator(*_NUMBERS, mode="before")
    @classmethod
    def _not_a_bool(cls, value: Any, info: Any) -> Any:
        if isinstance(value, bool):
            raise ValueError(f"{info.field_name} must be a number, not {value!r}")
        return value

    @field_validator("log_retention_days")
    @classmethod
    def _kept_by_cloudwatch(cls, days: int) -> int:
        if days not in _LOG_RETENTION:
            allowed = ", ".join(str(kept) for kept in _LOG_RETENTION)
            raise ValueError(f"log_retention_days must be one of {allowed}")
        return days

    @field_validator("function_settings", mode="before")
    @classmethod
    def _from_json(cls, value: Any) -> Any:
        """`-c function_settings='{"NAME": "value"}'`"""
        if not isinstance(value, str):
            return value
        try:
            parsed = json.loads(value)
        except json.JSONDecodeError:
            parsed = None
        if not isinstance(parsed, dict):
            raise ValueError(f"function_settings={value!r} is not a JSON object")
        return parsed

    @field_validator("function_settings")
    @classmethod
    def _as_the_functions_read_them(cls, given: dict[str, Any] | None) -> dict[str, Any] | None:
        unknown = sorted(set(given or {}) - set(TUNABLE_SETTINGS))
        if unknown:
            raise ValueError(
                f"function_settings: {', '.join(unknown)} cannot be set here (these can: "
                f"{', '.join(TUNABLE_SETTINGS)})"
            )
        try:
            settings = _runtime_settings(_environment(given))
        except SettingsError as error:
            raise ValueError(f"function_settings: {error}") from None
        if settings.provider_timeout_seconds > LONGEST_PROVIDER_TIMEOUT_SECONDS:
            raise ValueError(
                "function_settings: PROVIDER_TIMEOUT_SECONDS must be at most "
                f"{LONGEST_PROVIDER_TIMEOUT_SECONDS}: the functions' timeouts are sized for it"
            )
        return given

    @model_validator(mode="after")
    def _fits_together(self) -> Self:
        problems = []
        if self.stage == "prod" and self.removal != "retain":
            problems.append(
                'removal must be "retain" for prod: stories and media outlive the stack'
            )
        concurrency = self.provider_concurrency
        if concurrency is not None and self.media_max_concurrency > concurrency:
            problems.append(
                f"media_max_concurrency ({self.media_max_concurrency}) must be at most "
                f"provider_concurrency ({concurrency}): one story's media would be throttled by "
                "its own functions' reserved concurrency"
            )
        problems += self._moderation_problems()
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def _moderation_problems(self) -> list[str]:
        """Moderation shares what the story writer and the picture function use."""
        moderation, text = self.moderation, self.text
        if isinstance(moderation, OllamaModeration) and not isinstance(text, OllamaText):
            return [
                "moderation_provider ollama needs llm_provider ollama: moderation asks the story "
                "writer's Ollama (provider_base_url) for its safety model"
            ]
        if not isinstance(moderation, OpenAIModeration):
            return []
        problems = []
        own, key = moderation.own_key_parameter, moderation.key_parameter(text)
        if (
            own
            and isinstance(text, OpenAIText)
            and text.key_parameter
            and own != text.key_parameter
        ):
            problems.append(
                "moderation_key_parameter must be provider_key_parameter (or be left out) "
                "when llm_provider is openai: the story writer reads one OpenAI key"
            )
        if key is None:
            problems.append(
                "moderation_key_parameter is required when moderation_provider is openai: the "
                "name of the SSM SecureString parameter holding the OpenAI API key (e.g. "
                f"/kidstory/{self.stage}/openai-api-key); with llm_provider openai, "
                "provider_key_parameter is used"
            )
        image_key = self.images.key_parameter
        if image_key and key and key != image_key:
            problems.append(
                f"the OpenAI key parameter of moderation ({key}) must be image_key_parameter "
                f"({image_key}) when image_provider is openai: the picture function reads one "
                "OpenAI key, to draw pictures and to have them moderated"
            )
        return problems

    @property
    def stack_name(self) -> str:
        return f"KidStory-{self.stage}"

    @property
    def removal_policy(self) -> RemovalPolicy:
        return RemovalPolicy.DESTROY if self.removal == "destroy" else RemovalPolicy.RETAIN

    @property
    def log_retention(self) -> logs.RetentionDays:
        return _LOG_RETENTION[self.log_retention_days]

    @property
    def function_environment(self) -> dict[str, str]:
        """The stage's function_settings as environment variables."""
        return _environment(self.function_settings)

    @property
    def runtime_settings(self) -> Settings:
        """The functions' settings as this stage gives them (function_settings over defaults)."""
        return _runtime_settings(self.function_environment)

    @property
    def openai_gateway(self) -> str | None:
        """Where every OpenAI call of the stage goes (pictures and moderation too): the story
        writer's `provider_base_url`, when the writer is openai."""
        return self.text.base_url if isinstance(self.text, OpenAIText) else None

    @property
    def text_provider_environment(self) -> dict[str, str]:
        return self.text.environment()

    @property
    def image_provider_environment(self) -> dict[str, str]:
        return self.images.environment(self.openai_gateway)

    @property
    def video_provider_environment(self) -> dict[str, str]:
        return self.video.environment()

    @property
    def narration_environment(self) -> dict[str, str]:
        return self.narration.environment()

    @property
    def moderation_environment(self) -> dict[str, str]:
        """What the API and the story writer need for the stage's moderation (never a key)."""
        return self.moderation.environment(self.text)

    @property
    def moderation_key_parameter(self) -> str | None:
        """The parameter holding the key moderation reads, if any."""
        return self.moderation.key_parameter(self.text)

    @property
    def picture_moderation_environment(self) -> dict[str, str]:
        """What the picture function needs to show every picture to the moderation provider;
        none when that reads no pictures (offline, where a picture's check is structural, and
        ollama, whose safety model reads text only)."""
        return self.moderation_environment if self.moderation.reads_pictures else {}

    @property
    def clip_moderation_environment(self) -> dict[str, str]:
        """What CheckVideo needs to show frames of every provider-made clip to the moderation
        provider; none when clips are offline (a pan over the page's already-checked picture)."""
        return {} if self.video.provider == "offline" else self.picture_moderation_environment

    @classmethod
    def from_mapping(cls, stage: str, values: Mapping[str, Any]) -> StageConfig:
        """Builds a stage from cdk.json's flat keys: each provider's keys go to the model its
        `*_provider` key chooses (a null key is one left out)."""
        data: dict[str, Any] = {"stage": stage}
        chosen: dict[str, dict[str, Any]] = {kind: {} for kind in PROVIDER_SELECTORS}
        chosen["moderation"]["moderation_provider"] = "offline"
        chosen["narration"]["narration_provider"] = "offline"
        for key, value in values.items():
            kind = _PROVIDER_KEYS.get(key)
            if kind is None:
                data[key] = value
            elif value is not None:
                chosen[kind][key] = value
        try:
            return cls.model_validate({**data, **chosen}, context={"stage": stage})
        except ValidationError as error:
            problems = stage_problems(error, PROVIDER_SELECTORS)
            raise StageConfigError(f"stage {stage!r}: " + "; ".join(problems)) from None

    @classmethod
    def from_context(cls, node: Node) -> StageConfig:
        """The stage named by context `stage` (default dev), from context `stages`.

        Any setting can be overridden by a context value of the same name
        (`-c media_max_concurrency=3`); CLI values arrive as strings, read as cdk.json's would
        be ("null" or an empty value: left out).
        """
        stage = node.try_get_context("stage") or DEFAULT_STAGE
        stages = node.try_get_context("stages")
        if not isinstance(stages, Mapping) or not stages:
            raise StageConfigError(
                'context "stages" is missing: run from the project root so cdk.json is read, '
                "or pass the stages as context"
            )
        if stage not in stages:
            raise StageConfigError(
                f"unknown stage {stage!r}; cdk.json defines {', '.join(sorted(stages))}"
            )
        values = dict(stages[stage])
        for key in SETTING_KEYS:
            override = node.try_get_context(key)
            if override is not None:
                values[key] = _command_line_value(key, override)
        return cls.from_mapping(stage, values)


def _aliases(kind: Any) -> set[str]:
    """Every cdk.json key of a kind of provider (the union of its models' aliases)."""
    union, _ = get_args(kind)
    return {
        field.alias or name
        for model in get_args(union)
        for name, field in model.model_fields.items()
    }


_PROVIDER_KEYS: dict[str, str] = {
    key: kind
    for kind, union in (
        ("text", TextProvider),
        ("images", ImageProvider),
        ("video", VideoProvider),
        ("moderation", ModerationProvider),
        ("narration", NarrationProvider),
    )
    for key in _aliases(union)
}
SETTING_KEYS = sorted(
    (set(StageConfig.model_fields) - {"stage", *PROVIDER_SELECTORS}) | set(_PROVIDER_KEYS)
)
_OPTIONAL_KEYS = {*_PROVIDER_KEYS, "retention_days", "provider_concurrency", "function_settings"}


def _command_line_value(key: str, value: Any) -> Any:
    """ "null" (or "none") leaves a setting out, as does an empty value of an optional one."""
    if isinstance(value, str) and (
        value.lower() in ("null", "none") or (value == "" and key in _OPTIONAL_KEYS)
    ):
        return None
    return value
