"""Checks of the ids a stage puts into IAM resources and calls: SSM parameter names, Bedrock
model and inference profile ids, Regions, guardrails."""

from __future__ import annotations

import re
from dataclasses import dataclass

# Matched whole (fullmatch). No `*` or `?` anywhere: these ids end up in IAM resource ARNs.
_SSM_PARAMETER_NAME = re.compile(r"(/[A-Za-z0-9_.\-]+)+|[A-Za-z0-9_.\-]+")
_BEDROCK_MODEL_ID = re.compile(r"[a-z0-9][A-Za-z0-9._\-]*(:[A-Za-z0-9._\-]+)*")
REGION = re.compile(r"[a-z]{2}(-gov)?-[a-z]+-\d+")
URL = re.compile(r"https?://[^\s/]+\S*")
# A guardrail's id, or its ARN (it ends up in an IAM resource: no wildcards).
GUARDRAIL_ID = re.compile(r"[a-z0-9]+")
GUARDRAIL_ARN = re.compile(
    r"arn:aws(-[a-z]+)*:bedrock:(?P<region>[a-z]{2}(-gov)?-[a-z]+-\d+):\d{12}:guardrail/[a-z0-9]+"
)
GUARDRAIL_VERSION = re.compile(r"DRAFT|[1-9][0-9]{0,7}")
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


def inference_profile_geography(model_id: str) -> str | None:
    """The geography prefix of a cross-Region inference profile id ("us."), None for a model."""
    return next((prefix for prefix in _PROFILE_SOURCE_REGIONS if model_id.startswith(prefix)), None)


def foundation_model_id(model_id: str) -> str:
    """The model behind a Bedrock model or inference profile id: "amazon.nova-2-lite-v1:0"."""
    geography = inference_profile_geography(model_id)
    return model_id[len(geography) :] if geography else model_id


def parameter_name_problems(setting: str, name: str, example: str) -> list[str]:
    """An SSM parameter name (not an ARN, no wildcard, not reserved)."""
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


def required_key_problems(
    setting: str, name: str | None, needed_by: str, example: str
) -> list[str]:
    """A parameter that `needed_by` cannot do without, named as SSM would take it."""
    if not name:
        return [
            f"{setting} is required when {needed_by}: the name of the SSM SecureString parameter "
            f"holding the API key (e.g. {example})"
        ]
    return parameter_name_problems(setting, name, example)


def blank_model_problems(
    setting: str, model: str | None, default: str = "the default model"
) -> list[str]:
    if model is not None and not model.strip():
        return [f"{setting} must not be blank (leave it out for {default})"]
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


def bedrock_model_problems(call: BedrockCall) -> list[str]:
    """A model id (no ARN, no wildcard: it goes into an IAM resource), of the family the
    provider speaks to, called from a Region its inference profile (if any) serves."""
    problems = []
    region, model = call.region, call.model
    if region is not None and not REGION.fullmatch(region):
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
