"""Settings: one validated model per process, read from the environment once."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    model_validator,
)

from kidstory.config.errors import SettingsError
from kidstory.config.models import ModelUnusable, bare_model_id, check_usable, default_model
from kidstory.config.prices import DEFAULT_PRICES, PriceTable

ProviderName = Literal["offline", "openai", "anthropic", "ollama", "bedrock"]
ImageProviderName = Literal["offline", "openai", "bedrock"]
# "openai" is accepted only to be refused by name: OpenAI's video API (Sora) has been shut down.
VideoProviderName = Literal["offline", "bedrock", "openai"]
# Stable Image and Luma Ray2 are served on Bedrock in US West (Oregon).
DEFAULT_BEDROCK_MEDIA_REGION = "us-west-2"
# Who reads a narrated story aloud: Amazon Polly, or eSpeak NG in the process (offline).
NarrationProviderName = Literal["offline", "polly"]
# Polly gives word speech marks with these engines only (not the generative one).
PollyEngine = Literal["neural", "standard"]
# Who checks ideas and story pages besides the offline moderation (which always runs).
ModerationProviderName = Literal["offline", "openai", "bedrock", "ollama"]
DEFAULT_OPENAI_MODERATION_MODEL = "omni-moderation-latest"
# Llama Guard 3 (1B), served by Ollama: text only (kidstory.providers.ollama_moderation).
DEFAULT_OLLAMA_MODERATION_MODEL = "llama-guard3:1b"
# A guardrail's id, or its ARN (bedrock-runtime's own pattern, without the empty string).
_GUARDRAIL_IDENTIFIER = (
    r"^([a-z0-9]+|arn:aws(-[^:]+)?:bedrock:[a-z0-9-]{1,20}:[0-9]{12}:guardrail/[a-z0-9]+)$"
)


# API Gateway hands Lambda a request body base64-encoded (4/3 of its size) inside an event that
# must fit Lambda's 6 MB synchronous payload: 4 MiB of body is 5.6 MB encoded, leaving room for
# the headers and the rest of the event.
LAMBDA_BODY_LIMIT_BYTES = 4 * 1024 * 1024


class Settings(BaseModel):
    """Every setting of the service; each field is read from the upper-case environment variable."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    table_name: str = Field(min_length=1, description="DynamoDB table of jobs, stories and assets")
    media_bucket: str = Field(min_length=1, description="S3 bucket holding images and videos")
    story_retention_days: int | None = Field(
        default=None, ge=1, description="Jobs and stories expire this long after they were made"
    )
    state_machine_arn: str | None = Field(default=None, description="StoryWorkflow ARN (API)")
    event_bus_name: str | None = Field(default=None, description="Bus for story events")
    media_base_url: str | None = Field(
        default=None,
        description="Public base URL of the media (CloudFront); unset: the API serves it",
    )
    media_link_seconds: int = Field(
        default=86_400,
        ge=300,
        le=7 * 86_400,
        description="How long a signed media link works (rounded up to the hour)",
    )
    media_link_secret: SecretStr | None = Field(
        default=None,
        description="Signs the API's media links; unset: a new secret per process",
    )
    media_signing_key_id: str | None = Field(
        default=None, description="CloudFront public key id that media links are signed for"
    )
    media_signing_key: SecretStr | None = Field(
        default=None, description="The private key (PEM) of MEDIA_SIGNING_KEY_ID"
    )
    media_signing_key_parameter: str | None = Field(
        default=None,
        description="SSM SecureString holding MEDIA_SIGNING_KEY, read when first needed",
    )
    api_key: str = Field(default="", description="Bearer key clients must send; empty: no auth")
    require_api_key: bool = Field(
        default=False, description="Refuse requests without a valid key even if API_KEY is empty"
    )
    rate_limit_per_minute: int = Field(
        default=100, ge=1, description="Cost units one caller may spend per minute"
    )
    daily_quota: int = Field(
        default=2000, ge=1, description="Cost units one caller may spend a day"
    )
    max_request_size_mb: float = Field(
        default=4,
        gt=0,
        description="Largest request body; above 4 the limit is 4 (what Lambda can be given)",
    )
    cors_origins: str = Field(default="", description='Comma-separated origins, or "*"')
    llm_provider: ProviderName = "offline"
    image_provider: ImageProviderName = "offline"
    video_provider: VideoProviderName = "offline"
    openai_api_key: SecretStr | None = Field(default=None, description="Needed by openai")
    openai_base_url: str | None = Field(default=None, description="Gateway or proxy for OpenAI")
    openai_text_model: str = Field(default=default_model("openai", "text"), min_length=1)
    anthropic_api_key: SecretStr | None = Field(default=None, description="Needed by anthropic")
    anthropic_base_url: str | None = Field(default=None, description="Gateway for Anthropic")
    anthropic_text_model: str = Field(default=default_model("anthropic", "text"), min_length=1)
    ollama_base_url: str = Field(default="http://localhost:11434", min_length=1)
    ollama_api_key: SecretStr | None = Field(
        default=None, description="Bearer key for a gateway in front of Ollama (Ollama needs none)"
    )
    ollama_text_model: str = Field(default=default_model("ollama", "text"), min_length=1)
    bedrock_text_model: str = Field(default=default_model("bedrock", "text"), min_length=1)
    bedrock_region: str = Field(
        default="us-east-1", min_length=1, description="Region of Bedrock runtime calls"
    )
    openai_image_model: str = Field(default=default_model("openai", "image"), min_length=1)
    bedrock_image_model: str = Field(default=default_model("bedrock", "image"), min_length=1)
    bedrock_image_region: str = Field(
        default=DEFAULT_BEDROCK_MEDIA_REGION, min_length=1, description="Region of picture calls"
    )
    bedrock_video_model: str = Field(default=default_model("bedrock", "video"), min_length=1)
    bedrock_video_region: str = Field(
        default=DEFAULT_BEDROCK_MEDIA_REGION, min_length=1, description="Region of clip calls"
    )
    narration_provider: NarrationProviderName = Field(
        default="offline", description="Reads narrated stories aloud (polly or offline)"
    )
    polly_engine: PollyEngine = Field(
        default="neural", description="Amazon Polly's engine for NARRATION_PROVIDER=polly"
    )
    polly_region: str | None = Field(
        default=None, min_length=1, description="Region of Polly calls; unset: the function's own"
    )
    prices: str | None = Field(
        default=None,
        description="The stage's prices (JSON, docs/cost.md), over the built-in ones",
    )
    video_poll_seconds: int = Field(
        default=30, ge=0, le=3600, description="Seconds between checks of a clip being made"
    )
    moderation_provider: ModerationProviderName = Field(
        default="offline",
        description="Checks ideas and story pages besides the offline moderation (always on)",
    )
    ollama_moderation_model: str = Field(
        default=DEFAULT_OLLAMA_MODERATION_MODEL,
        min_length=1,
        description="The safety model Ollama serves for MODERATION_PROVIDER=ollama (at "
        "OLLAMA_BASE_URL): one that answers as Llama Guard 3 does",
    )
    openai_moderation_model: str = Field(default=DEFAULT_OPENAI_MODERATION_MODEL, min_length=1)
    openai_moderation_threshold: float | None = Field(
        default=None,
        gt=0,
        le=1,
        description="Also refuse text any category of which scores this or more (stricter "
        "than OpenAI's own flag); unset: OpenAI's flag only",
    )
    bedrock_guardrail_id: str | None = Field(
        default=None,
        pattern=_GUARDRAIL_IDENTIFIER,
        description="Guardrail (id or ARN) applied when MODERATION_PROVIDER=bedrock",
    )
    bedrock_guardrail_version: str = Field(
        default="DRAFT", pattern=r"^([1-9][0-9]{0,7}|DRAFT)$", description="Its version"
    )
    bedrock_guardrail_region: str | None = Field(
        default=None,
        min_length=1,
        description="Region of the guardrail (given by its ARN); unset: the function's own",
    )
    moderation_timeout_seconds: float = Field(
        default=10,
        gt=0,
        le=25,
        description="Longest wait for one moderation answer (the API answers within API "
        "Gateway's 29 s, so an outage is a 503, not a gateway timeout)",
    )
    provider_timeout_seconds: float = Field(
        default=60, gt=0, description="Longest wait for one answer from a provider"
    )
    provider_repair_attempts: int = Field(
        default=1, ge=0, le=2, description="Times an unusable model answer is asked for again"
    )
    webhook_allow_private_targets: bool = Field(
        default=False, description="Deliver webhooks to private addresses (local runs only)"
    )
    webhook_retry_delays: str = Field(
        default="60,300,1800,7200,21600",
        pattern=r"^\d+(,\d+)*$",
        description="Seconds before each next webhook try (SQS allows up to 43200)",
    )
    pending_grace_seconds: int = Field(
        default=120,
        ge=30,
        le=3600,
        description="The sweeper starts the workflow of a job still pending this long after it "
        "was made (longer than the API takes to start it: 29 s at most)",
    )
    pending_max_age_seconds: int = Field(
        default=86_400,
        ge=600,
        description="The sweeper fails (and announces) a job still pending this long after it "
        "was made, instead of starting it",
    )
    video_max_checks: int = Field(default=60, ge=1)
    offline_text_seconds: float = Field(default=0, ge=0, description="Simulated story latency")
    offline_image_seconds: float = Field(default=0, ge=0, description="Simulated image latency")
    offline_video_seconds: float = Field(default=0, ge=0, description="Simulated video latency")

    @classmethod
    def from_environ(cls, environ: Mapping[str, str], *, today: date | None = None) -> Settings:
        """The settings `environ` describes, with its models checked against the registry's
        lifecycle as of `today` (the UTC date now, when not given)."""
        names = {name.upper(): name for name in cls.model_fields}
        values = {names[key]: value for key, value in environ.items() if key in names}
        try:
            return cls.model_validate(values, context={"today": today})
        except ValidationError as error:
            problems = "; ".join(
                f"{str(issue['loc'][0]).upper()}: {issue['msg']}" for issue in error.errors()
            )
            raise SettingsError(f"invalid configuration: {problems}") from None

    def require_state_machine_arn(self) -> str:
        if not self.state_machine_arn:
            raise SettingsError("invalid configuration: STATE_MACHINE_ARN: Field required")
        return self.state_machine_arn

    def webhook_retry_delay(self, tries_so_far: int) -> int:
        delays = [int(delay) for delay in self.webhook_retry_delays.split(",")]
        return min(delays[min(max(tries_so_far, 1), len(delays)) - 1], 43_200)

    def require_event_bus_name(self) -> str:
        if not self.event_bus_name:
            raise SettingsError("invalid configuration: EVENT_BUS_NAME: Field required")
        return self.event_bus_name

    @property
    def auth_required(self) -> bool:
        return bool(self.api_key) or self.require_api_key

    @property
    def max_request_bytes(self) -> int:
        """MAX_REQUEST_SIZE_MB, at most what Lambda can be given (LAMBDA_BODY_LIMIT_BYTES)."""
        return min(int(self.max_request_size_mb * 1024 * 1024), LAMBDA_BODY_LIMIT_BYTES)

    @property
    def cors_origin_list(self) -> list[str]:
        return [origin.strip() for origin in self.cors_origins.split(",") if origin.strip()]

    @property
    def price_table(self) -> PriceTable:
        """The built-in prices with the stage's PRICES over them."""
        return DEFAULT_PRICES.merged(self.prices)

    @model_validator(mode="after")
    def _prices_are_readable(self) -> Settings:
        self.price_table  # noqa: B018  raises SettingsError, naming PRICES
        return self

    @property
    def text_model(self) -> tuple[str, str] | None:
        """The story writer's model: (the variable that sets it, its id); None when offline."""
        models = {
            "openai": self.openai_text_model,
            "anthropic": self.anthropic_text_model,
            "ollama": self.ollama_text_model,
            "bedrock": self.bedrock_text_model,
        }
        if self.llm_provider not in models:
            return None
        return f"{self.llm_provider.upper()}_TEXT_MODEL", models[self.llm_provider]

    @property
    def media_models(self) -> dict[str, tuple[str, Literal["image", "video"]]]:
        """The picture and clip models in use: variable -> (model id, what it makes)."""
        models: dict[str, tuple[str, Literal["image", "video"]]] = {}
        if self.image_provider == "openai":
            models["OPENAI_IMAGE_MODEL"] = (self.openai_image_model, "image")
        if self.image_provider == "bedrock":
            models["BEDROCK_IMAGE_MODEL"] = (self.bedrock_image_model, "image")
        if self.video_provider == "bedrock":
            models["BEDROCK_VIDEO_MODEL"] = (self.bedrock_video_model, "video")
        return models

    @property
    def configured_models(self) -> dict[str, str]:
        """Every model id in use, by the variable that sets it."""
        models = dict([self.text_model]) if self.text_model else {}
        return models | {variable: model for variable, (model, _) in self.media_models.items()}

    @model_validator(mode="after")
    def _text_provider_is_usable(self, info: ValidationInfo) -> Settings:
        """The chosen text provider has its key, and its model is not retired."""
        keys = {"openai": self.openai_api_key, "anthropic": self.anthropic_api_key}
        if self.llm_provider in keys:
            key = keys[self.llm_provider]
            if key is None or not key.get_secret_value().strip():
                variable = f"{self.llm_provider.upper()}_API_KEY"
                raise SettingsError(
                    f"invalid configuration: {variable}: "
                    f"required when LLM_PROVIDER={self.llm_provider} "
                    f"(or {variable}_PARAMETER, the SSM parameter holding it)"
                )
        if self.text_model:
            variable, model_id = self.text_model
            try:
                check_usable(model_id, "text", _today(info))
            except ModelUnusable as problem:
                raise SettingsError(f"invalid configuration: {variable}: {problem}") from None
        return self

    @property
    def guardrail_region(self) -> str | None:
        """The Region of the guardrail: the one in its ARN, else BEDROCK_GUARDRAIL_REGION, else
        None: the process's own (AWS_REGION in Lambda)."""
        guardrail = self.bedrock_guardrail_id or ""
        if guardrail.startswith("arn:"):
            return guardrail.split(":")[3]
        return self.bedrock_guardrail_region

    @model_validator(mode="after")
    def _moderation_is_usable(self) -> Settings:
        """The chosen moderation has what it needs: OpenAI's key, or a guardrail."""
        if self.moderation_provider == "openai" and (
            self.openai_api_key is None or not self.openai_api_key.get_secret_value().strip()
        ):
            raise SettingsError(
                "invalid configuration: OPENAI_API_KEY: required when MODERATION_PROVIDER=openai "
                "(or OPENAI_API_KEY_PARAMETER, the SSM parameter holding it)"
            )
        if self.moderation_provider == "bedrock" and not self.bedrock_guardrail_id:
            raise SettingsError(
                "invalid configuration: BEDROCK_GUARDRAIL_ID: required when "
                "MODERATION_PROVIDER=bedrock (the id or ARN of the guardrail to apply, with "
                "BEDROCK_GUARDRAIL_VERSION)"
            )
        guardrail = self.bedrock_guardrail_id or ""
        region = self.bedrock_guardrail_region
        if guardrail.startswith("arn:") and region and region != guardrail.split(":")[3]:
            raise SettingsError(
                f"invalid configuration: BEDROCK_GUARDRAIL_REGION: {region} is not the Region of "
                f"the guardrail {guardrail}"
            )
        return self

    @model_validator(mode="after")
    def _media_providers_are_usable(self, info: ValidationInfo) -> Settings:
        """The picture and clip providers have their key, and their models are not retired."""
        today = _today(info)
        if self.video_provider == "openai":
            try:  # OpenAI's only video models, the Sora family, are retired
                check_usable("sora-2", "video", today)
            except ModelUnusable as problem:
                raise SettingsError(
                    f"invalid configuration: VIDEO_PROVIDER: openai makes clips with Sora, and "
                    f"{problem}; set VIDEO_PROVIDER=bedrock"
                ) from None
        if self.image_provider == "openai" and (
            self.openai_api_key is None or not self.openai_api_key.get_secret_value().strip()
        ):
            raise SettingsError(
                "invalid configuration: OPENAI_API_KEY: required when IMAGE_PROVIDER=openai "
                "(or OPENAI_API_KEY_PARAMETER, the SSM parameter holding it)"
            )
        for variable, (model_id, capability) in self.media_models.items():
            try:
                check_usable(model_id, capability, today)
            except ModelUnusable as problem:
                raise SettingsError(f"invalid configuration: {variable}: {problem}") from None
            family = _BEDROCK_MEDIA_FAMILIES.get(variable)
            if family and not bare_model_id(model_id).startswith(family[0]):
                raise SettingsError(
                    f"invalid configuration: {variable}: {model_id} is not one of the models the "
                    f"bedrock provider speaks to ({family[1]})"
                )
        return self

    @model_validator(mode="after")
    def _pending_ages_are_ordered(self) -> Settings:
        if self.pending_max_age_seconds <= self.pending_grace_seconds:
            raise SettingsError(
                "invalid configuration: PENDING_MAX_AGE_SECONDS: must be longer than "
                f"PENDING_GRACE_SECONDS ({self.pending_grace_seconds})"
            )
        return self

    @model_validator(mode="after")
    def _media_signing_is_complete(self) -> Settings:
        """CloudFront links need the key pair's id and its private key (or the parameter that
        holds it), both or neither."""
        key = self.media_signing_key
        has_key = (key is not None and bool(key.get_secret_value().strip())) or bool(
            self.media_signing_key_parameter
        )
        if bool(self.media_signing_key_id) != has_key:
            missing = "MEDIA_SIGNING_KEY" if self.media_signing_key_id else "MEDIA_SIGNING_KEY_ID"
            raise SettingsError(
                f"invalid configuration: {missing}: MEDIA_SIGNING_KEY_ID and MEDIA_SIGNING_KEY "
                "(or MEDIA_SIGNING_KEY_PARAMETER, the SSM parameter holding it) go together"
            )
        return self


def _today(info: ValidationInfo) -> date:
    """The date models are checked against: the one the caller gave, else today (UTC)."""
    given = (info.context or {}).get("today")
    return given if isinstance(given, date) else datetime.now(UTC).date()


# The request body of Bedrock picture and clip models is the model maker's own: the providers
# speak Stability AI's (Stable Image) and Luma AI's (Ray2).
_BEDROCK_MEDIA_FAMILIES = {
    "BEDROCK_IMAGE_MODEL": ("stability.", "Stability AI Stable Image models, stability.*"),
    "BEDROCK_VIDEO_MODEL": ("luma.", "Luma AI Ray models, luma.*"),
}
