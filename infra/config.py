"""Stage settings: one validated StageConfig per synth, read from cdk.json context."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, get_args

from aws_cdk import RemovalPolicy
from aws_cdk import aws_logs as logs
from constructs import Node

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_STAGE = "dev"

Removal = Literal["destroy", "retain"]
# The providers this version has; the functions refuse any other name at start-up too.
ProviderName = Literal["offline"]
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


class StageConfigError(ValueError):
    """The cdk.json context does not describe a usable stage."""


@dataclass(frozen=True)
class StageConfig:
    """Everything that differs between the local, dev and prod stacks."""

    stage: str
    media_max_concurrency: int
    llm_provider: ProviderName
    image_provider: ProviderName
    video_provider: ProviderName
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

    def __post_init__(self) -> None:
        problems = [
            *_type_problems(self),
            *_range_problems(self),
        ]
        if problems:
            raise StageConfigError(f"stage {self.stage!r}: " + "; ".join(problems))

    @property
    def stack_name(self) -> str:
        return f"KidStory-{self.stage}"

    @property
    def removal_policy(self) -> RemovalPolicy:
        return RemovalPolicy.DESTROY if self.removal == "destroy" else RemovalPolicy.RETAIN

    @property
    def log_retention(self) -> logs.RetentionDays:
        return _LOG_RETENTION[self.log_retention_days]

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
    except ValueError:
        raise StageConfigError(f"context {name}={value!r} is not a number") from None
    return value


def _type_problems(config: StageConfig) -> list[str]:
    expected: dict[str, tuple[type, ...]] = {
        "int": (int,),
        "float": (int, float),
        "str": (str,),
        "int | None": (int, type(None)),
    }
    problems = []
    for field in dataclasses.fields(config):
        value = getattr(config, field.name)
        annotation = str(field.type)
        allowed = _LITERALS.get(annotation)
        if allowed is not None:
            if value not in allowed:
                problems.append(f"{field.name} must be one of {', '.join(allowed)}, not {value!r}")
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
    if config.log_retention_days not in _LOG_RETENTION:
        allowed = ", ".join(str(days) for days in _LOG_RETENTION)
        problems.append(f"log_retention_days must be one of {allowed}")
    if config.stage == "prod" and config.removal != "retain":
        problems.append('removal must be "retain" for prod: stories and media outlive the stack')
    return problems


_LITERALS: dict[str, tuple[str, ...]] = {
    "Removal": get_args(Removal),
    "ProviderName": get_args(ProviderName),
    "LogLevel": get_args(LogLevel),
}
