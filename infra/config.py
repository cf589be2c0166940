"""Stage settings: one validated StageConfig per synth, read from cdk.json context."""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, get_args

from aws_cdk import RemovalPolicy
from aws_cdk import aws_logs as logs
from constructs import Node

if TYPE_CHECKING:
    from kidstory.config.settings import Settings

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_STAGE = "dev"

Removal = Literal["destroy", "retain"]
# The providers this version has; the functions refuse any other name at start-up too.
TextProviderName = Literal["offline", "openai", "anthropic", "ollama", "bedrock"]
ImageProviderName = Literal["offline", "openai", "bedrock"]
VideoProviderName = Literal["offline", "bedrock"]
# Who checks ideas (the API) and story pages (WriteStory) besides the offline word list.
ModerationProviderName = Literal["offline", "openai", "bedrock", "ollama"]
LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR"]

# Bedrock: what the story writer calls when the stage names no model or Region. The same as
# kidstory's own defaults (a test keeps them equal): the stack grants exactly this model.
DEFAULT_BEDROCK_TEXT_MODEL = "us.amazon.nova-2-lite-v1:0"
DEFAULT_BEDROCK_REGION = "us-east-1"
# The same for pictures and clips (Stability AI Stable Image Core, Luma AI Ray2), served in
# US West (Oregon).
DEFAULT_BEDROCK_IMAGE_MODEL = "stability.stable-image-core-v1:1"
DEFAULT_BEDROCK_VIDEO_MODEL = "luma.ray-v2:0"
DEFAULT_BEDROCK_MEDIA_REGION = "us-west-2"
# A cross-Region inference profile id is a model id behind a geography ("us." of
# "us.amazon.nova-2-lite-v1:0"), and is called from a Region of that geography.
_PROFILE_SOURCE_REGIONS: dict[str, tuple[str, ...]] = {
    "us.": ("us-east-", "us-west-"),
    "us-gov.": ("us-gov-",),
    "eu.": ("eu-",),
    "apac.": ("ap-",),
    "jp.": ("ap-northeast-",),
    "au.": ("ap-southeast-",),
    "ca.": ("ca-",),
    "global.": ("",),
}
# Providers whose API key the story writer reads from an SSM SecureString parameter.
KEYED_TEXT_PROVIDERS = ("openai", "anthropic")
# Ollama takes a key only behind a gateway that asks for one: the parameter is optional.
OPTIONAL_KEY_TEXT_PROVIDERS = ("ollama",)
_BASE_URL_PROVIDERS = ("openai", "anthropic", "ollama")
# Matched whole (fullmatch). No `*` or `?` anywhere: these ids end up in IAM resource ARNs.
_SSM_PARAMETER_NAME = re.compile(r"(/[A-Za-z0-9_.\-]+)+|[A-Za-z0-9_.\-]+")
_BEDROCK_MODEL_ID = re.compile(r"[a-z0-9][A-Za-z0-9._\-]*(:[A-Za-z0-9._\-]+)*")
_REGION = re.compile(r"[a-z]{2}(-gov)?-[a-z]+-\d+")
_URL = re.compile(r"https?://[^\s/]+\S*")
# A guardrail's id, or its ARN (it ends up in an IAM resource: no wildcards).
_GUARDRAIL_ID = re.compile(r"[a-z0-9]+")
_GUARDRAIL_ARN = re.compile(
    r"arn:aws(-[a-z]+)*:bedrock:(?P<region>[a-z]{2}(-gov)?-[a-z]+-\d+):\d{12}:guardrail/[a-z0-9]+"
)
_GUARDRAIL_VERSION = re.compile(r"DRAFT|[1-9][0-9]{0,7}")

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


class StageConfigError(ValueError):
    """The cdk.json context does not describe a usable stage."""


@dataclass(frozen=True)
class StageConfig:
    """Everything that differs between the local, dev and prod stacks."""

    stage: str
    media_max_concurrency: int
    llm_provider: TextProviderName
    image_provider: ImageProviderName
    video_provider: VideoProviderName
    video_max_checks: int
    retry_interval_seconds: int
    retry_max_attempts: int
    log_retention_days: int
    retention_days: int | None
    removal: Removal
    api_throttle_rate: float
    api_throttle_burst: int
    api_key: str
    max_request_size_mb: float
    require_api_key: bool = True
    rate_limit_per_minute: int = 100
    daily_quota: int = 2000
    log_level: LogLevel = "INFO"
    # The text provider's model, endpoint, key and Region (docs/configuration.md, Providers of
    # story text). Ignored when llm_provider is offline, so `-c llm_provider=offline` switches any
    # stage to offline output.
    text_model: str | None = None
    provider_base_url: str | None = None
    provider_key_parameter: str | None = None
    """Name of the SSM SecureString parameter holding the openai or anthropic API key; the key
    itself never enters the template."""
    bedrock_region: str | None = None
    # The picture and clip providers' models, key and Regions, ignored when they are offline.
    image_model: str | None = None
    image_key_parameter: str | None = None
    """Name of the SSM SecureString parameter holding the OpenAI API key for pictures."""
    image_region: str | None = None
    video_model: str | None = None
    video_region: str | None = None
    # Moderation of ideas (the API) and story pages (WriteStory), on top of the offline
    # moderator, which always runs (docs/configuration.md, Moderation). offline ignores the
    # settings below.
    moderation_provider: ModerationProviderName = "offline"
    moderation_model: str | None = None
    """The OpenAI moderation model (default omni-moderation-latest), or with ollama the safety
    model Ollama serves (default llama-guard3:1b)."""
    moderation_key_parameter: str | None = None
    """Name of the SSM SecureString parameter holding the OpenAI API key for moderation; when
    llm_provider is openai too, the story writer's (provider_key_parameter, the default)."""
    guardrail_id: str | None = None
    """The Bedrock guardrail's id or ARN (moderation_provider bedrock)."""
    guardrail_version: str | None = None
    """Its version: a number, or DRAFT (the default)."""
    guardrail_region: str | None = None
    """Its Region when guardrail_id is an id; default: the stack's Region."""
    provider_concurrency: int | None = None
    """Reserved concurrency of each function that calls a provider (WriteStory, GenerateImage,
    StartVideo, CheckVideo): the most of each running at once over all executions, held for
    them in the account's pool. null: none reserved, they share the account's pool
    (docs/deploy-risks.md, Concurrency)."""
    function_settings: dict[str, Any] | None = None
    """Runtime settings given to every function, by variable name, from TUNABLE_SETTINGS
    (docs/configuration.md, Stage settings); validated at synth as the functions would read
    them."""

    def __post_init__(self) -> None:
        problems = [
            *_type_problems(self),
            *_range_problems(self),
        ]
        if not problems:
            problems = (
                _text_provider_problems(self)
                + _media_provider_problems(self)
                + _moderation_problems(self)
                + _function_settings_problems(self)
            )
        if problems:
            raise StageConfigError(f"stage {self.stage!r}: " + "; ".join(problems))

    @property
    def function_environment(self) -> dict[str, str]:
        """The stage's function_settings as environment variables."""
        return {
            name: str(value).lower() if isinstance(value, bool) else str(value)
            for name, value in (self.function_settings or {}).items()
        }

    @property
    def runtime_settings(self) -> Settings:
        """The functions' settings as this stage gives them (function_settings over defaults)."""
        from kidstory.config.settings import Settings

        return Settings.from_environ(
            {"TABLE_NAME": "check", "MEDIA_BUCKET": "check", **self.function_environment}
        )

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
    def bedrock_model(self) -> str:
        """The Bedrock model or cross-Region inference profile the story writer calls."""
        return self.text_model or DEFAULT_BEDROCK_TEXT_MODEL

    @property
    def bedrock_source_region(self) -> str:
        """The Region the story writer calls Bedrock in."""
        return self.bedrock_region or DEFAULT_BEDROCK_REGION

    @property
    def text_provider_environment(self) -> dict[str, str]:
        """The variables the story writer needs for `llm_provider`: ids, endpoints and the name
        of the key's parameter, never a key."""
        provider = self.llm_provider
        environment: dict[str, str] = {"LLM_PROVIDER": provider}
        if provider == "offline":
            return environment
        prefix = provider.upper()
        if provider == "bedrock":
            environment["BEDROCK_TEXT_MODEL"] = self.bedrock_model
            environment["BEDROCK_REGION"] = self.bedrock_source_region
            return environment
        if self.text_model:
            environment[f"{prefix}_TEXT_MODEL"] = self.text_model
        if self.provider_base_url:
            environment[f"{prefix}_BASE_URL"] = self.provider_base_url
        if self.provider_key_parameter:
            environment[f"{prefix}_API_KEY_PARAMETER"] = self.provider_key_parameter
        return environment

    @property
    def bedrock_image_model(self) -> str:
        """The Bedrock picture model (or inference profile) the picture function calls."""
        return self.image_model or DEFAULT_BEDROCK_IMAGE_MODEL

    @property
    def image_source_region(self) -> str:
        return self.image_region or DEFAULT_BEDROCK_MEDIA_REGION

    @property
    def bedrock_video_model(self) -> str:
        """The Bedrock clip model (or inference profile) the clip functions call."""
        return self.video_model or DEFAULT_BEDROCK_VIDEO_MODEL

    @property
    def video_source_region(self) -> str:
        return self.video_region or DEFAULT_BEDROCK_MEDIA_REGION

    @property
    def openai_gateway(self) -> str | None:
        """Where every OpenAI call of the stage goes (pictures and moderation too): the story
        writer's `provider_base_url`, when the writer is openai."""
        return self.provider_base_url if self.llm_provider == "openai" else None

    @property
    def image_provider_environment(self) -> dict[str, str]:
        """The variables the picture function needs for `image_provider` (never a key)."""
        environment: dict[str, str] = {"IMAGE_PROVIDER": self.image_provider}
        if self.image_provider == "openai":
            if self.image_model:
                environment["OPENAI_IMAGE_MODEL"] = self.image_model
            if self.image_key_parameter:
                environment["OPENAI_API_KEY_PARAMETER"] = self.image_key_parameter
            if self.openai_gateway:
                environment["OPENAI_BASE_URL"] = self.openai_gateway
        if self.image_provider == "bedrock":
            environment["BEDROCK_IMAGE_MODEL"] = self.bedrock_image_model
            environment["BEDROCK_IMAGE_REGION"] = self.image_source_region
        return environment

    @property
    def video_provider_environment(self) -> dict[str, str]:
        """The variables the clip functions need for `video_provider`."""
        environment: dict[str, str] = {"VIDEO_PROVIDER": self.video_provider}
        if self.video_provider == "bedrock":
            environment["BEDROCK_VIDEO_MODEL"] = self.bedrock_video_model
            environment["BEDROCK_VIDEO_REGION"] = self.video_source_region
        return environment

    @property
    def moderation_openai_key_parameter(self) -> str | None:
        """The parameter holding the OpenAI key that moderation uses."""
        if self.moderation_key_parameter:
            return self.moderation_key_parameter
        return self.provider_key_parameter if self.llm_provider == "openai" else None

    @property
    def guardrail_arn_region(self) -> str | None:
        """The Region named by guardrail_id when it is an ARN."""
        found = _GUARDRAIL_ARN.fullmatch(self.guardrail_id or "")
        return found.group("region") if found else None

    @property
    def moderation_environment(self) -> dict[str, str]:
        """The variables the API and the story writer need for `moderation_provider` (never a
        key). OpenAI moderation goes where the stage's OpenAI calls go (provider_base_url)."""
        environment: dict[str, str] = {"MODERATION_PROVIDER": self.moderation_provider}
        if self.moderation_provider == "openai":
            if self.moderation_model:
                environment["OPENAI_MODERATION_MODEL"] = self.moderation_model
            if self.openai_gateway:
                environment["OPENAI_BASE_URL"] = self.openai_gateway
            parameter = self.moderation_openai_key_parameter
            if parameter:
                environment["OPENAI_API_KEY_PARAMETER"] = parameter
        if self.moderation_provider == "ollama":  # the story writer's Ollama (and its key)
            if self.moderation_model:
                environment["OLLAMA_MODERATION_MODEL"] = self.moderation_model
            if self.provider_base_url:
                environment["OLLAMA_BASE_URL"] = self.provider_base_url
            if self.provider_key_parameter:
                environment["OLLAMA_API_KEY_PARAMETER"] = self.provider_key_parameter
        if self.moderation_provider == "bedrock" and self.guardrail_id:
            environment["BEDROCK_GUARDRAIL_ID"] = self.guardrail_id
            environment["BEDROCK_GUARDRAIL_VERSION"] = self.guardrail_version or "DRAFT"
            if self.guardrail_region:
                environment["BEDROCK_GUARDRAIL_REGION"] = self.guardrail_region
        return environment

    @property
    def picture_moderation_environment(self) -> dict[str, str]:
        """The variables the picture function needs to show every picture to
        `moderation_provider` (those of moderation_environment); none when it is offline, where
        a picture's check is structural and needs nothing, and for ollama, whose safety model
        reads text only (pictures get the structural check alone)."""
        if self.moderation_provider in ("offline", "ollama"):
            return {}
        return self.moderation_environment

    @property
    def clip_moderation_environment(self) -> dict[str, str]:
        """The variables CheckVideo needs to show frames of every provider-made clip to
        `moderation_provider` (those of picture_moderation_environment); none when clips are
        offline (a pan over the page's already-checked picture: not looked at again) or when
        moderation is offline (nothing would look at the frames)."""
        if self.video_provider == "offline":
            return {}
        return self.picture_moderation_environment

    @classmethod
    def from_mapping(cls, stage: str, values: Mapping[str, Any]) -> StageConfig:
        """Builds a stage from its settings, rejecting missing and unknown names."""
        names = {field.name for field in dataclasses.fields(cls)} - {"stage"}
        required = {
            field.name
            for field in dataclasses.fields(cls)
            if field.name != "stage" and field.default is dataclasses.MISSING
        }
        missing = sorted(required - values.keys())
        unknown = sorted(values.keys() - names)
        if missing or unknown:
            details = []
            if missing:
                details.append(f"missing {', '.join(missing)}")
            if unknown:
                details.append(f"unknown {', '.join(unknown)}")
            raise StageConfigError(f"stage {stage!r}: " + "; ".join(details))
        return cls(stage=stage, **values)

    @classmethod
    def from_context(cls, node: Node) -> StageConfig:
        """The stage named by context `stage` (default dev), from context `stages`.

        Any setting can be overridden by a context value of the same name
        (`-c media_max_concurrency=3`); CLI values arrive as strings and are converted.
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
        for field in dataclasses.fields(cls):
            override = node.try_get_context(field.name)
            if field.name != "stage" and override is not None:
                values[field.name] = _converted(field.name, str(field.type), override)
        return cls.from_mapping(stage, values)


def project_context() -> dict[str, Any]:
    """The context block of cdk.json, so `python3 app.py` sees what the CDK CLI would."""
    return json.loads((PROJECT_ROOT / "cdk.json").read_text())["context"]


def _converted(name: str, annotation: str, value: Any) -> Any:
    if not isinstance(value, str):
        return value
    try:
        if annotation == "int":
            return int(value)
        if annotation == "float":
            return float(value)
        if annotation == "int | None":
            return None if value.lower() in ("", "none", "null") else int(value)
        if annotation == "str | None":
            return None if value.lower() in ("", "null") else value
        if annotation == "dict[str, Any] | None":  # -c function_settings='{"NAME": "value"}'
            return None if value.lower() in ("", "null") else json.loads(value)
    except json.JSONDecodeError:
        raise StageConfigError(f"context {name}={value!r} is not a JSON object") from None
    except ValueError:
        raise StageConfigError(f"context {name}={value!r} is not a number") from None
    return value


def inference_profile_geography(model_id: str) -> str | None:
    """The geography prefix of a cross-Region inference profile id ("us."), None for a model."""
    return next((prefix for prefix in _PROFILE_SOURCE_REGIONS if model_id.startswith(prefix)), None)


def foundation_model_id(model_id: str) -> str:
    """The model behind a Bedrock model or inference profile id: "amazon.nova-2-lite-v1:0"."""
    geography = inference_profile_geography(model_id)
    return model_id[len(geography) :] if geography else model_id


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
)
LONGEST_PROVIDER_TIMEOUT_SECONDS = 60


def _function_settings_problems(config: StageConfig) -> list[str]:
    given = config.function_settings or {}
    unknown = sorted(set(given) - set(TUNABLE_SETTINGS))
    if unknown:
        return [
            f"function_settings: {', '.join(unknown)} cannot be set here (these can: "
            f"{', '.join(TUNABLE_SETTINGS)})"
        ]
    from kidstory.config.errors import SettingsError
    from kidstory.config.settings import Settings

    try:
        settings = Settings.from_environ(
            {"TABLE_NAME": "check", "MEDIA_BUCKET": "check", **config.function_environment}
        )
    except SettingsError as error:
        return [f"function_settings: {error}"]
    if settings.provider_timeout_seconds > LONGEST_PROVIDER_TIMEOUT_SECONDS:
        return [
            "function_settings: PROVIDER_TIMEOUT_SECONDS must be at most "
            f"{LONGEST_PROVIDER_TIMEOUT_SECONDS}: the functions' timeouts are sized for it"
        ]
    return []


def _type_problems(config: StageConfig) -> list[str]:
    expected: dict[str, tuple[type, ...]] = {
        "int": (int,),
        "float": (int, float),
        "str": (str,),
        "int | None": (int, type(None)),
        "str | None": (str, type(None)),
    }
    problems = []
    for field in dataclasses.fields(config):
        value = getattr(config, field.name)
        annotation = str(field.type)
        allowed = _LITERALS.get(annotation)
        if allowed is not None:
            if value not in allowed:
                problems.append(f"{field.name} must be one of {', '.join(allowed)}, not {value!r}")
        elif annotation == "dict[str, Any] | None":
            if value is not None and not isinstance(value, dict):
                problems.append(f"{field.name} must be a mapping of names to values or null")
        elif annotation == "bool":
            if not isinstance(value, bool):
                problems.append(f"{field.name} must be true or false, not {value!r}")
        elif isinstance(value, bool) or not isinstance(value, expected[annotation]):
            problems.append(f"{field.name} must be {annotation}, not {value!r}")
    return problems


def _range_problems(config: StageConfig) -> list[str]:
    problems = []
    positive = (
        "media_max_concurrency",
        "video_max_checks",
        "retry_interval_seconds",
        "retry_max_attempts",
        "api_throttle_rate",
        "api_throttle_burst",
        "max_request_size_mb",
        "rate_limit_per_minute",
        "daily_quota",
    )
    for name in positive:
        value = getattr(config, name)
        if isinstance(value, (int, float)) and not isinstance(value, bool) and value <= 0:
            problems.append(f"{name} must be greater than 0, not {value}")
    if config.retention_days is not None and not (
        isinstance(config.retention_days, int) and config.retention_days > 0
    ):
        problems.append("retention_days must be a positive number of days or null")
    concurrency = config.provider_concurrency
    if concurrency is not None and not isinstance(concurrency, bool) and concurrency <= 0:
        problems.append("provider_concurrency must be greater than 0, or null")
    elif (
        isinstance(concurrency, int)
        and isinstance(config.media_max_concurrency, int)
        and config.media_max_concurrency > concurrency
    ):
        problems.append(
            f"media_max_concurrency ({config.media_max_concurrency}) must be at most "
            f"provider_concurrency ({concurrency}): one story's media would be throttled by its "
            "own functions' reserved concurrency"
        )
    if config.log_retention_days not in _LOG_RETENTION:
        allowed = ", ".join(str(days) for days in _LOG_RETENTION)
        problems.append(f"log_retention_days must be one of {allowed}")
    if config.stage == "prod" and config.removal != "retain":
        problems.append('removal must be "retain" for prod: stories and media outlive the stack')
    return problems


def _text_provider_problems(config: StageConfig) -> list[str]:
    """The text provider's settings fit it; every other provider's are refused by name."""
    provider = config.llm_provider
    if provider == "offline":
        return []
    problems = []
    if config.text_model is not None and not config.text_model.strip():
        problems.append("text_model must not be blank (leave it out for the default model)")

    key = config.provider_key_parameter
    example = f"/kidstory/{config.stage}/{provider}-api-key"
    if provider in KEYED_TEXT_PROVIDERS:
        if not key:
            problems.append(
                f"provider_key_parameter is required when llm_provider is {provider}: the name "
                f"of the SSM SecureString parameter holding the API key (e.g. {example})"
            )
        else:
            problems.extend(_parameter_name_problems("provider_key_parameter", key, example))
    elif key and provider in OPTIONAL_KEY_TEXT_PROVIDERS:
        problems.extend(_parameter_name_problems("provider_key_parameter", key, example))
    elif key:
        problems.append(f"provider_key_parameter does not apply to llm_provider {provider}")

    url = config.provider_base_url
    if provider in _BASE_URL_PROVIDERS:
        if url and not _URL.fullmatch(url):
            problems.append(f"provider_base_url must be an http(s) URL, not {url!r}")
        if provider == "ollama" and not url:
            problems.append(
                "provider_base_url is required when llm_provider is ollama: the URL of an Ollama "
                "server the function can reach (localhost would be the function itself)"
            )
    elif url:
        problems.append(f"provider_base_url does not apply to llm_provider {provider}")

    region = config.bedrock_region
    if provider != "bedrock":
        if region:
            problems.append(f"bedrock_region does not apply to llm_provider {provider}")
        return problems
    return problems + _bedrock_model_problems(
        BedrockCall(
            model_setting="text_model",
            model=config.bedrock_model,
            example="amazon.nova-pro-v1:0",
            region_setting="bedrock_region",
            region=region,
            source_region=config.bedrock_source_region,
        )
    )


def _media_provider_problems(config: StageConfig) -> list[str]:
    """The picture and clip providers' settings fit them; offline ignores them all, so
    `-c image_provider=offline` switches any stage back."""
    problems = []
    image = config.image_provider
    if image != "offline" and config.image_model is not None and not config.image_model.strip():
        problems.append("image_model must not be blank (leave it out for the default model)")
    if image == "openai":
        key = config.image_key_parameter
        example = f"/kidstory/{config.stage}/openai-api-key"
        if not key:
            problems.append(
                "image_key_parameter is required when image_provider is openai: the name of the "
                f"SSM SecureString parameter holding the OpenAI API key (e.g. {example})"
            )
        else:
            problems.extend(_parameter_name_problems("image_key_parameter", key, example))
        if config.image_region:
            problems.append("image_region does not apply to image_provider openai")
    if image == "bedrock":
        if config.image_key_parameter:
            problems.append("image_key_parameter does not apply to image_provider bedrock")
        problems.extend(
            _bedrock_model_problems(
                BedrockCall(
                    model_setting="image_model",
                    model=config.bedrock_image_model,
                    example=DEFAULT_BEDROCK_IMAGE_MODEL,
                    region_setting="image_region",
                    region=config.image_region,
                    source_region=config.image_source_region,
                    family=("stability.", "Stability AI Stable Image"),
                )
            )
        )
    if config.video_provider == "bedrock":
        if config.video_model is not None and not config.video_model.strip():
            problems.append("video_model must not be blank (leave it out for the default model)")
        problems.extend(
            _bedrock_model_problems(
                BedrockCall(
                    model_setting="video_model",
                    model=config.bedrock_video_model,
                    example=DEFAULT_BEDROCK_VIDEO_MODEL,
                    region_setting="video_region",
                    region=config.video_region,
                    source_region=config.video_source_region,
                    family=("luma.", "Luma AI Ray"),
                )
            )
        )
    return problems


def _moderation_problems(config: StageConfig) -> list[str]:
    """The moderation settings fit the provider; offline ignores them all, so
    `-c moderation_provider=offline` switches any stage back to the word list alone."""
    provider = config.moderation_provider
    if provider == "offline":
        return []
    problems = []
    guardrail_settings = ("guardrail_id", "guardrail_version", "guardrail_region")
    if provider == "ollama":
        for setting in (*guardrail_settings, "moderation_key_parameter"):
            if getattr(config, setting) is not None:
                problems.append(f"{setting} does not apply to moderation_provider ollama")
        if config.llm_provider != "ollama":
            problems.append(
                "moderation_provider ollama needs llm_provider ollama: moderation asks the story "
                "writer's Ollama (provider_base_url) for its safety model"
            )
        if config.moderation_model is not None and not config.moderation_model.strip():
            problems.append("moderation_model must not be blank (leave it out for llama-guard3:1b)")
        return problems
    openai_settings = ("moderation_model", "moderation_key_parameter")
    for setting in guardrail_settings if provider == "openai" else openai_settings:
        if getattr(config, setting) is not None:
            problems.append(f"{setting} does not apply to moderation_provider {provider}")
    if provider == "openai":
        if config.moderation_model is not None and not config.moderation_model.strip():
            problems.append(
                "moderation_model must not be blank (leave it out for omni-moderation-latest)"
            )
        key = config.moderation_key_parameter
        example = f"/kidstory/{config.stage}/openai-api-key"
        if key:
            problems.extend(_parameter_name_problems("moderation_key_parameter", key, example))
            text_key = config.provider_key_parameter
            if config.llm_provider == "openai" and text_key and key != text_key:
                problems.append(
                    "moderation_key_parameter must be provider_key_parameter (or be left out) "
                    "when llm_provider is openai: the story writer reads one OpenAI key"
                )
        elif config.moderation_openai_key_parameter is None:
            problems.append(
                "moderation_key_parameter is required when moderation_provider is openai: the "
                "name of the SSM SecureString parameter holding the OpenAI API key (e.g. "
                f"{example}); with llm_provider openai, provider_key_parameter is used"
            )
        moderation_key = config.moderation_openai_key_parameter
        image_key = config.image_key_parameter if config.image_provider == "openai" else None
        if image_key and moderation_key and moderation_key != image_key:
            problems.append(
                f"the OpenAI key parameter of moderation ({moderation_key}) must be "
                f"image_key_parameter ({image_key}) when image_provider is openai: the picture "
                "function reads one OpenAI key, to draw pictures and to have them moderated"
            )
        return problems
    guardrail, region = config.guardrail_id, config.guardrail_region
    if not guardrail:
        problems.append(
            "guardrail_id is required when moderation_provider is bedrock: the id (or ARN) of "
            "the Bedrock guardrail to apply, e.g. abcd1234efgh"
        )
    elif not (_GUARDRAIL_ID.fullmatch(guardrail) or _GUARDRAIL_ARN.fullmatch(guardrail)):
        problems.append(
            "guardrail_id must be a guardrail id (lower-case letters and digits) or its ARN "
            f"(arn:aws:bedrock:<region>:<account>:guardrail/<id>), not {guardrail!r}"
        )
    version = config.guardrail_version
    if version is not None and not _GUARDRAIL_VERSION.fullmatch(version):
        problems.append(f"guardrail_version must be a version number or DRAFT, not {version!r}")
    if region is not None and not _REGION.fullmatch(region):
        problems.append(f"guardrail_region must be an AWS Region such as us-east-1, not {region!r}")
    arn_region = config.guardrail_arn_region
    if region and arn_region and region != arn_region:
        problems.append(
            f"guardrail_region {region} is not the Region of the guardrail ARN ({arn_region}); "
            "leave it out"
        )
    return problems


def _parameter_name_problems(setting: str, name: str, example: str) -> list[str]:
    if not _SSM_PARAMETER_NAME.fullmatch(name) or len(name) > 1011:
        return [
            f"{setting} must be an SSM parameter name such as {example} "
            f"(letters, digits, _ . - in /-separated levels; a name, not an ARN), not {name!r}"
        ]
    if name.lstrip("/").lower().startswith(("aws", "ssm")):
        return [
            f'{setting} {name!r}: names beginning with "aws" or "ssm" are reserved by Parameter '
            "Store"
        ]
    return []


@dataclass(frozen=True)
class BedrockCall:
    """A Bedrock model a function calls, as a stage sets it."""

    model_setting: str
    model: str
    example: str
    region_setting: str
    region: str | None
    source_region: str
    family: tuple[str, str] | None = None
    """The model id prefix the provider speaks to ("stability."), and its name."""


def _bedrock_model_problems(call: BedrockCall) -> list[str]:
    """A model id (no ARN, no wildcard: it goes into an IAM resource), of the family the
    provider speaks to, called from a Region its inference profile (if any) serves."""
    problems = []
    region, model = call.region, call.model
    if region is not None and not _REGION.fullmatch(region):
        problems.append(
            f"{call.region_setting} must be an AWS Region such as us-east-1, not {region!r}"
        )
    if not _BEDROCK_MODEL_ID.fullmatch(model):
        problems.append(
            f"{call.model_setting} for bedrock must be a model id ({call.example}) or a "
            f"cross-Region inference profile id (us.amazon.nova-2-lite-v1:0), not {model!r}"
        )
        return problems
    if call.family and not foundation_model_id(model).startswith(call.family[0]):
        prefix, name = call.family
        problems.append(
            f"{call.model_setting} {model} is not a {name} model ({prefix}*), the only ones the "
            "bedrock provider speaks to"
        )
    geography = inference_profile_geography(model)
    source = call.source_region
    if geography and not source.startswith(_PROFILE_SOURCE_REGIONS[geography]):
        problems.append(
            f"{call.region_setting} {source} cannot call the inference profile {model}: a "
            f'"{geography}" profile is called from a Region of its geography; set '
            f"{call.region_setting} to one, or choose the profile of this Region's geography"
        )
    return problems


_LITERALS: dict[str, tuple[str, ...]] = {
    "Removal": get_args(Removal),
    "TextProviderName": get_args(TextProviderName),
    "ImageProviderName": get_args(ImageProviderName),
    "VideoProviderName": get_args(VideoProviderName),
    "ModerationProviderName": get_args(ModerationProviderName),
    "LogLevel": get_args(LogLevel),
}
