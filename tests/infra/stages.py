"""The stages of cdk.json synthesized as `cdk synth -c stage=<name>` gives them (bundling skipped,
AwsSolutions checks on), for tests of what one stage deploys."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aws_cdk as cdk
from aws_cdk.assertions import Template

from app import build
from infra.config import project_context


def synthesize_stage(stage: str, outdir: Path, **overrides: Any) -> dict[str, Any]:
    """The template of `stage`, with context `overrides` (`-c name=value`)."""
    context = {**project_context(), "stage": stage, "aws:cdk:bundling-stacks": [], **overrides}
    app = cdk.App(outdir=str(outdir), context=context)
    stack = build(app)
    app.synth()  # AwsSolutions checks: an unacknowledged finding raises here
    return Template.from_stack(stack).to_json()
